#!/usr/bin/python3
"""Realtime test client for `voxtral-rt serve`, following vLLM's example realtime client flow
(session.created -> session.update -> commit -> appends of 4 KB PCM16 -> commit final -> deltas
until transcription.done). Debian's python3-websockets (10.4). Prints one JSON object per line.

  realtime_client.py URL stream WAV... [--utterances N] [--pace X] [--key K] [--model M] [--extra JSON]
  realtime_client.py URL load WAV... --sessions K [--pace X]
  realtime_client.py URL errors WAV
  realtime_client.py URL disconnect WAV
  realtime_client.py URL nonreader WAV [--seconds S]
  realtime_client.py URL halfopen
  realtime_client.py URL slowupgrade
"""
import argparse
import asyncio
import base64
import json
import socket
import sys
import time
import wave

import websockets

MODEL = "mistralai/Voxtral-Mini-4B-Realtime-2602"


def pcm16(path):
    with wave.open(path) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() == 16000, path
        return w.readframes(w.getnframes())


def chunks(data, size=4096):
    return [data[i:i + size] for i in range(0, len(data), size)]


def append(b):
    return json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(b).decode()})


async def connect(args):
    headers = {"Authorization": "Bearer " + args.key} if args.key else None
    return await websockets.connect(args.url, extra_headers=headers, max_size=2**24, open_timeout=10)


async def collect(ws, result):
    """Reads events until transcription.done (or error/close); fills result."""
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
        result["events"].append(msg["type"])
        if msg["type"] == "transcription.delta":
            result["deltas"] += msg["delta"]
            result.setdefault("words", []).extend(msg.get("words", []))
        elif msg["type"] == "transcription.done":
            result["text"] = msg["text"]
            result["usage"] = msg["usage"]
            for k in ("words", "segments"):
                if k in msg:
                    result["done_" + k] = msg[k]
            return result
        elif msg["type"] == "error":
            result.setdefault("errors", []).append(msg)


async def stream_one(ws, audio, pace, extra):
    """One utterance on an open socket, sender and receiver concurrent (as vLLM's example)."""
    result = {"events": [], "deltas": ""}
    t0 = time.monotonic()
    sent = 0.0

    async def send():
        nonlocal sent
        await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
        for c in chunks(audio):
            await ws.send(append(c))
            sent += len(c) / 32000
            if pace:
                await asyncio.sleep(max(0.0, t0 + sent / pace - time.monotonic()))
        await ws.send(json.dumps({"type": "input_audio_buffer.commit", "final": True}))

    sender = asyncio.create_task(send())
    await collect(ws, result)
    try:
        await sender
    except websockets.ConnectionClosed:  # e.g. the server shut down and ended the utterance early
        result["sender_closed"] = True
    result["wall_s"] = time.monotonic() - t0
    result["audio_s"] = len(audio) / 32000
    return result


async def session(args, files, extra=None):
    ws = await connect(args)
    created = json.loads(await ws.recv())
    assert created["type"] == "session.created", created
    upd = {"type": "session.update", "model": args.model}
    upd.update(json.loads(args.extra) if args.extra else {})
    await ws.send(json.dumps(upd))
    out = []
    for f in files:
        for _ in range(args.utterances):
            r = await stream_one(ws, pcm16(f), args.pace, extra)
            r["file"] = f
            r["session"] = created["id"]
            out.append(r)
    try:
        await asyncio.wait_for(ws.recv(), 0.2 if not args.wait_close else 30)
    except asyncio.TimeoutError:
        pass
    except websockets.ConnectionClosed as e:
        out[-1]["close_code"] = e.rcvd.code if e.rcvd else None
        out[-1]["close_reason"] = e.rcvd.reason if e.rcvd else None
    await ws.close()
    return out


async def cmd_stream(args):
    for r in await session(args, args.files):
        print(json.dumps(r))


async def cmd_load(args):
    t0 = time.monotonic()
    results = await asyncio.gather(*[session(args, [args.files[i % len(args.files)]]) for i in range(args.sessions)],
                                   return_exceptions=True)
    for r in results:
        if isinstance(r, Exception):
            print(json.dumps({"exception": repr(r)}))
        else:
            for x in r:
                print(json.dumps(x))
    print(json.dumps({"total_wall_s": time.monotonic() - t0}))


async def cmd_errors(args):
    """Hostile events, each answered by an error event; then the session still transcribes."""
    ws = await connect(args)
    json.loads(await ws.recv())
    codes = []

    async def expect_error(payload, binary=False):
        await ws.send(payload if binary else payload)
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        codes.append(msg.get("code") if msg["type"] == "error" else msg["type"])

    await expect_error(json.dumps({"type": "input_audio_buffer.commit"}))             # model_not_validated
    await expect_error(json.dumps({"type": "session.update", "model": "no/such"}))     # model_not_found
    await expect_error("{not json")                                                  # invalid_json
    await expect_error(json.dumps({"type": "conversation.item.create"}))             # unknown_event
    await expect_error(json.dumps({"no_type": 1}))                                   # invalid_event
    await expect_error(json.dumps({"type": "input_audio_buffer.append", "audio": "!!!!"}))  # invalid_audio
    await expect_error(json.dumps({"type": "input_audio_buffer.append", "audio": "AA=="}))  # odd byte count
    await expect_error(json.dumps({"type": "input_audio_buffer.append", "audio": ""}))      # empty
    await expect_error(b"\x00\x01binary", binary=True)                                      # invalid_event
    await expect_error(json.dumps({"type": "session.update", "model": args.model, "delay_ms": 123}))  # invalid_event
    print(json.dumps({"codes": codes}))
    await ws.send(json.dumps({"type": "session.update", "model": args.model}))
    msg = json.loads(await ws.recv())
    assert msg["type"] == "session.updated", msg
    r = await stream_one(ws, pcm16(args.files[0]), 0, None)
    print(json.dumps(r))
    # An oversized message closes the socket with 1009; the server goes on serving others.
    try:
        await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": "A" * (3 << 20)}))
        await asyncio.wait_for(ws.recv(), 10)
        print(json.dumps({"oversize": "not closed"}))
    except websockets.ConnectionClosed as e:
        print(json.dumps({"oversize_close_code": e.rcvd.code if e.rcvd else None}))


async def cmd_disconnect(args):
    """Sends part of the audio, then drops the TCP connection without a close frame."""
    ws = await connect(args)
    json.loads(await ws.recv())
    await ws.send(json.dumps({"type": "session.update", "model": args.model}))
    audio = pcm16(args.files[0])
    for c in chunks(audio[: len(audio) // 2]):
        await ws.send(append(c))
    ws.transport.abort()  # RST, no close handshake
    print(json.dumps({"aborted": True}))


async def cmd_nonreader(args):
    """Streams utterances and never reads, until the server closes it (its outbound cap, or its
    idle timeout while reads are paused for backpressure) or --seconds pass. How soon the cap
    is reached depends on compute speed (the kernel's send buffer absorbs the first ~128 KiB of
    events), so the bound is generous and the result reports when it happened."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = args.url.split("//")[1].split("/")[0].split(":")
    sock.connect((host, int(port)))
    ws = await websockets.connect(args.url, sock=sock, max_queue=1, read_limit=1024, max_size=2**24,
                                  extra_headers={"Authorization": "Bearer " + args.key} if args.key else None)
    await ws.send(json.dumps({"type": "session.update", "model": args.model}))
    audio = pcm16(args.files[0])
    closed = False
    t0 = time.monotonic()
    deadline = t0 + args.seconds
    try:
        # A send that blocks is the server pausing reads for backpressure: wait (up to the bound).
        while time.monotonic() < deadline:
            for c in chunks(audio):
                await asyncio.wait_for(ws.send(append(c)), max(0.1, deadline - time.monotonic()))
            await asyncio.wait_for(ws.send(json.dumps({"type": "input_audio_buffer.commit", "final": True})),
                                   max(0.1, deadline - time.monotonic()))
    except (websockets.ConnectionClosed, ConnectionError):
        closed = True
    except asyncio.TimeoutError:
        pass
    print(json.dumps({"closed_by_server": closed, "after_s": time.monotonic() - t0}))


def read_until_closed(s, timeout):
    """Everything the server sends until it closes (or `timeout` s of silence)."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (socket.timeout, ConnectionError):
        pass
    return data


def cmd_halfopen(args):
    """A completed handshake, then silence (no pongs): the idle timeout must drop it."""
    host, port = args.url.split("//")[1].split("/")[0].split(":")
    s = socket.create_connection((host, int(port)))
    key = base64.b64encode(b"0123456789abcdef").decode()
    auth = "Authorization: Bearer %s\r\n" % args.key if args.key else ""
    s.sendall(("GET /v1/realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n" % (key, auth)).encode())
    t0 = time.monotonic()
    data = read_until_closed(s, 30)
    print(json.dumps({"switched": data.startswith(b"HTTP/1.1 101"), "closed_after_s": time.monotonic() - t0}))


def cmd_slowupgrade(args):
    """An upgrade request that never ends (headers without the closing blank line, then
    silence): the request timeout must close the connection without a reply."""
    host, port = args.url.split("//")[1].split("/")[0].split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /v1/realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
    t0 = time.monotonic()
    data = read_until_closed(s, 60)
    print(json.dumps({"reply": data.decode("latin-1"), "closed_after_s": time.monotonic() - t0}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("cmd")
    p.add_argument("files", nargs="*")
    p.add_argument("--utterances", type=int, default=1)
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument("--pace", type=float, default=0.0, help="x real time; 0 = as fast as possible")
    p.add_argument("--key", default="")
    p.add_argument("--model", default=MODEL)
    p.add_argument("--seconds", type=float, default=20, help="nonreader: how long to wait for the server to close")
    p.add_argument("--wait-close", action="store_true", help="after the last done, wait for the server's close")
    p.add_argument("--extra", default="", help="extra session.update fields (JSON)")
    args = p.parse_args()
    if args.cmd == "halfopen":
        return cmd_halfopen(args)
    if args.cmd == "slowupgrade":
        return cmd_slowupgrade(args)
    asyncio.run({"stream": cmd_stream, "load": cmd_load, "errors": cmd_errors, "disconnect": cmd_disconnect,
                 "nonreader": cmd_nonreader}[args.cmd](args))


if __name__ == "__main__":
    main()
