#!/usr/bin/python3
"""Server soak: several realtime sessions for many rounds at an accelerated pace, with speech,
silence, an empty commit and hostile events in one session, and one client killed mid-stream
per round; every transcript must equal the first round's, and the server's resident memory
must not grow (least-squares slope over the rounds after warm-up).

  soak.py VOXTRAL_RT MODEL_DIR WAV [--rounds N] [--sessions K] [--pace X] [--max-slope-mb R]
Prints one JSON summary line; exit 1 on a wrong transcript or a slope above the bound.
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realtime_client as rc  # noqa: E402
import websockets  # noqa: E402


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


async def open_session(url):
    ws = await websockets.connect(url, max_size=2**24, open_timeout=10)
    created = json.loads(await ws.recv())
    assert created["type"] == "session.created", created
    await ws.send(json.dumps({"type": "session.update", "model": rc.MODEL}))
    return ws


async def talker(url, speech, silence, pace):
    """Two utterances on one socket: speech, then silence."""
    ws = await open_session(url)
    a = await rc.stream_one(ws, speech, pace, None)
    b = await rc.stream_one(ws, silence, pace, None)
    await ws.close()
    return [a.get("text"), b.get("text")]


async def troublemaker(url, speech, pace):
    """An empty commit, hostile events, then a normal utterance: the others must not notice."""
    ws = await open_session(url)
    await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
    await ws.send(json.dumps({"type": "input_audio_buffer.commit", "final": True}))  # empty utterance
    empty = await rc.collect(ws, {"events": [], "deltas": ""})  # its transcription.done
    codes = []
    for payload in ["{not json", json.dumps({"type": "no.such.event"}),
                    json.dumps({"type": "input_audio_buffer.append", "audio": "@@@"})]:
        await ws.send(payload)
    deadline = time.monotonic() + 10
    while len(codes) < 3 and time.monotonic() < deadline:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg["type"] == "error":
            codes.append(msg.get("code"))
    r = await rc.stream_one(ws, speech, pace, None)
    await ws.close()
    return {"codes": codes, "text": r.get("text"), "empty_done": "text" in empty}


async def killed(url, speech):
    """Streams half the speech and drops the TCP connection without a close frame."""
    ws = await open_session(url)
    await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
    for c in rc.chunks(speech[: len(speech) // 2]):
        await ws.send(rc.append(c))
    ws.transport.abort()


async def round_(url, speech, silence, sessions, pace):
    tasks = [talker(url, speech, silence, pace) for _ in range(sessions)]
    tasks += [troublemaker(url, speech, pace), killed(url, speech)]
    return await asyncio.gather(*tasks)


def slope(ys):
    n = len(ys)
    xs = range(n)
    mx, my = (n - 1) / 2, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("model")
    p.add_argument("wav")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--sessions", type=int, default=4)
    p.add_argument("--pace", type=float, default=20.0)
    p.add_argument("--max-slope-mb", type=float, default=0.2, help="per round, after warm-up")
    a = p.parse_args()
    speech = rc.pcm16(a.wav)
    silence = bytes(32000 * 3)
    server = subprocess.Popen([a.binary, "serve", "-m", a.model, "--port", "0", "-t", "1",
                               "--max-sessions", str(a.sessions + 2), "--idle-timeout-s", "5"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        port = int(line.strip().rsplit(":", 1)[1])
        url = f"ws://127.0.0.1:{port}/v1/realtime"
        rss, wrong, first = [], [], None
        t0 = time.monotonic()
        for r in range(a.rounds):
            out = asyncio.run(round_(url, speech, silence, a.sessions, a.pace))
            talks, trouble = out[: a.sessions], out[a.sessions]
            texts = [t for pair in talks for t in pair] + [trouble["text"]]
            if first is None:
                first = texts[0]
            want = [first, texts[1]] * a.sessions + [first]
            if texts != want or len(trouble["codes"]) != 3 or not trouble["empty_done"] or first is None:
                wrong.append({"round": r, "texts": texts, "codes": trouble["codes"]})
            time.sleep(0.2)  # the killed session is freed on the compute thread
            rss.append(rss_mb(server.pid))
        warm = min(5, len(rss) // 3)
        s = slope(rss[warm:])
        summary = {"rounds": a.rounds, "sessions_per_round": a.sessions + 2, "pace": a.pace,
                   "audio_s": a.rounds * (a.sessions * (len(speech) + len(silence)) + len(speech)) / 32000,
                   "wall_s": round(time.monotonic() - t0, 1), "rss_mb_first": round(rss[0], 1),
                   "rss_mb_after_warmup": round(rss[warm], 1), "rss_mb_last": round(rss[-1], 1),
                   "slope_mb_per_round": round(s, 4), "wrong": wrong[:3], "server_alive": server.poll() is None}
        print(json.dumps(summary))
        ok = not wrong and s <= a.max_slope_mb and server.poll() is None
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
