"""The fleet of deploy/: deploy/local/run.sh starts 3 `voxtral-rt serve` replicas behind HAProxy
(Debian's haproxy, the real balancer) on loopback, with a tiny synthetic checkpoint; clients speak
vLLM's realtime protocol (Python websockets) and upload with curl. Expected transcripts come from
`voxtral-rt transcribe` of the same clips.

  (a) 12 concurrent sessions on 12 slots (4 per replica) and uploads: every transcript exact;
  (d) with every slot busy, a new session and an upload get 503 at once (after HAProxy tried each);
  (b) SIGTERM to a replica mid-stream: its sessions finish complete, new ones go elsewhere, it exits;
  (c) SIGKILL to a replica mid-stream: its clients see the close at once, the others' sessions stay
      exact, HAProxy marks it down within its check interval.

Figures (times to refuse, drain, detect) are printed as one JSON line (FLEET ...) for docs/DEPLOY.md.
Environment: VRT_BINARY_DIR (build/bin), VRT_SHARED_DATA, VRT_SOURCE_DIR.
"""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import websockets

SOURCE = Path(os.environ.get("VRT_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN = Path(os.environ.get("VRT_BINARY_DIR", SOURCE / "build" / "bin"))
DATA = Path(os.environ.get("VRT_SHARED_DATA", SOURCE.parent / "shared" / "data"))
sys.path.insert(0, str(SOURCE / "tests" / "server"))
import realtime_client as rc  # noqa: E402  (the vLLM-flow client of the server tests)

CLIPS = {"a": DATA / "audio" / "librispeech_dev-clean_8297-275156-0000.wav",  # 3.6 s
         "b": DATA / "audio" / "jfk.wav",  # 11 s
         "c": DATA / "audio" / "night1968_15s_there_are_two_of_them_out_there.wav"}  # 15 s
MODEL_ID = "mistralai/Voxtral-Mini-4B-Realtime-2602"
FIGURES = {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fleet:
    def __init__(self, model, tmp, n=3, max_sessions=4):
        self.port = free_port()
        self.state = tmp / "fleet"
        env = dict(os.environ, VRT_BIN=str(BIN / "voxtral-rt"), VRT_FLEET_DIR=str(self.state))
        self.log = open(tmp / "run.log", "w+")
        self.proc = subprocess.Popen([str(SOURCE / "deploy" / "local" / "run.sh"), "-m", str(model), "-n", str(n),
                                      "--port", str(self.port), "-t", "1", "--",
                                      "--max-sessions", str(max_sessions), "--drain-timeout-s", "40",
                                      "--retry-after-s", "1"],
                                     env=env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("ready "), line + self.run_log()
        self.replicas = {}
        for row in (self.state / "replicas.tsv").read_text().splitlines():
            name, pid, port = row.split("\t")
            self.replicas[name] = (int(pid), int(port))
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}/v1/realtime"

    def run_log(self):
        self.log.seek(0)
        return self.log.read()

    def stat(self):
        """HAProxy's view: {server: status} of the replicas backend, from its stats socket."""
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(self.state / "haproxy.sock"))
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        s.close()
        rows = [r.split(",") for r in data.decode().splitlines() if r.startswith("replicas,replica")]
        return {r[1]: r[17] for r in rows}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    subprocess.run([str(BIN / "voxtral-rt-synth"), "-q", "--config", "tiny", "--vocab-ranks", "400",
                    "--weight-scale", "2", "--seed", "21", "-o", str(d)], check=True, timeout=300)
    return d


@pytest.fixture(scope="module")
def offline(model):
    out = {}
    for k, path in CLIPS.items():
        r = subprocess.run([str(BIN / "voxtral-rt"), "transcribe", "--no-progress", "-t", "1", "-f", "json",
                            "-m", str(model), str(path)], check=True, capture_output=True, timeout=300)
        out[k] = json.loads(r.stdout)["text"]
        assert out[k]
    return out


@pytest.fixture()
def fleet(model, tmp_path):
    f = Fleet(model, tmp_path)
    yield f
    f.stop()
    print(f.run_log())


async def stream(url, clip, pace, start_delay=0.0):
    """One realtime session through the balancer: its transcript, the replica that served it,
    and how it ended."""
    await asyncio.sleep(start_delay)
    r = {"clip": clip, "t_connect": time.monotonic()}
    try:
        ws = await websockets.connect(url, max_size=2**24, open_timeout=10)
    except websockets.InvalidStatusCode as e:
        r.update(status=e.status_code, t_refused=time.monotonic())
        return r
    r["replica"] = ws.response_headers.get("X-Served-By")
    try:
        assert json.loads(await ws.recv())["type"] == "session.created"
        await ws.send(json.dumps({"type": "session.update", "model": MODEL_ID}))
        audio = rc.pcm16(str(CLIPS[clip]))

        async def send():  # paced as live audio; the server may be gone at any moment
            t0 = time.monotonic()
            try:
                await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
                for i, c in enumerate(rc.chunks(audio)):
                    await ws.send(rc.append(c))
                    if pace:
                        await asyncio.sleep(max(0.0, t0 + (i + 1) * len(c) / 32000 / pace - time.monotonic()))
                await ws.send(json.dumps({"type": "input_audio_buffer.commit", "final": True}))
            except (websockets.ConnectionClosed, ConnectionError):
                pass

        sender = asyncio.create_task(send())
        res = {"events": [], "deltas": ""}
        try:
            await rc.collect(ws, res)
        finally:
            await sender
        r.update(text=res["text"], deltas=res["deltas"], errors=res.get("errors", []))
        await ws.close()
    except (websockets.ConnectionClosed, ConnectionError, asyncio.TimeoutError) as e:
        r.update(closed=repr(e), t_closed=time.monotonic())
    return r


def upload(url, clip):
    r = subprocess.run(["curl", "-sS", "--max-time", "60", "-D", "-", "-F", f"file=@{CLIPS[clip]}",
                        url + "/v1/audio/transcriptions"], capture_output=True, timeout=90)
    head, _, body = r.stdout.decode("utf-8", "replace").partition("\r\n\r\n")  # bytes: keep the CRs
    while head.startswith("HTTP/1.1 100"):
        head, _, body = body.partition("\r\n\r\n")
    status = int(head.split()[1]) if head else 0
    return status, head, body


async def in_thread(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def test_sessions_and_uploads_are_exact_and_a_full_fleet_refuses_at_once(fleet, offline):
    async def run():
        clips = ["a", "b", "c"] * 4
        live = [asyncio.create_task(stream(fleet.ws, c, 1.5, 0.05 * i)) for i, c in enumerate(clips)]
        await asyncio.sleep(2.0)  # all 12 connected, every slot busy
        t0 = time.monotonic()
        extra = await stream(fleet.ws, "a", 0)
        refused_after = time.monotonic() - t0
        t0 = time.monotonic()
        up = await in_thread(upload, fleet.url, "a")
        upload_refused_after = time.monotonic() - t0
        return await asyncio.gather(*live), extra, refused_after, up, upload_refused_after

    results, extra, refused_after, up, upload_refused_after = asyncio.run(run())
    for r in results:
        assert r.get("text") == offline[r["clip"]], r
        assert r["deltas"] == r["text"] and not r["errors"], r
    served = [r["replica"] for r in results]
    assert sorted(set(served)) == ["replica1", "replica2", "replica3"]
    assert all(served.count(name) == 4 for name in set(served)), served  # 12 slots, 12 sessions
    assert extra.get("status") == 503, extra
    assert refused_after < 3.0
    status, head, body = up
    assert status == 503 and "retry-after: 1" in head.lower(), (head, body)
    assert upload_refused_after < 3.0
    FIGURES.update(full_session_refused_s=round(refused_after, 3), full_upload_refused_s=round(upload_refused_after, 3))

    # Uploads once there is room: exact, spread over replicas.
    async def uploads():
        return await asyncio.gather(*[in_thread(upload, fleet.url, c) for c in ["a", "b", "c", "a", "b", "c"]])
    for (status, head, body), clip in zip(asyncio.run(uploads()), ["a", "b", "c", "a", "b", "c"]):
        assert status == 200, (head, body)
        assert json.loads(body)["text"] == offline[clip], (head, body)


def test_sigterm_drains_a_replica_and_sigkill_is_detected(fleet, offline):
    async def drain_phase():
        live = [asyncio.create_task(stream(fleet.ws, "c", 1.0, 0.05 * i)) for i in range(6)]  # 15 s each
        await asyncio.sleep(3.0)
        victim_pid = fleet.replicas["replica1"][0]
        os.kill(victim_pid, signal.SIGTERM)
        t_term = time.monotonic()
        await asyncio.sleep(0.5)
        # New sessions while replica1 drains: all land elsewhere, exact.
        new = [asyncio.create_task(stream(fleet.ws, "a", 2.0, 0.05 * i)) for i in range(3)]
        results = await asyncio.gather(*live)
        new_results = await asyncio.gather(*new)
        while True:  # replica1 exits by itself once its sessions are done
            try:
                os.kill(victim_pid, 0)
            except ProcessLookupError:
                break
            await asyncio.sleep(0.05)
        return results, new_results, time.monotonic() - t_term

    results, new_results, drained_after = asyncio.run(drain_phase())
    on_victim = [r for r in results if r["replica"] == "replica1"]
    assert on_victim, "no session on the drained replica: the test would prove nothing"
    for r in results:
        assert r.get("text") == offline["c"], r  # the drained replica's sessions included: complete
    for r in new_results:
        assert r["replica"] != "replica1" and r.get("text") == offline["a"], r
    log = (fleet.state / "replica1.log").read_text()
    assert "draining" in log and "stopped" in log, log
    status = fleet.stat()
    assert status["replica1"] != "UP", status
    FIGURES.update(drained_sessions=len(on_victim), drain_exit_after_sigterm_s=round(drained_after, 2))

    async def kill_phase():
        live = [asyncio.create_task(stream(fleet.ws, "c", 1.0, 0.05 * i)) for i in range(6)]
        await asyncio.sleep(3.0)
        os.kill(fleet.replicas["replica2"][0], signal.SIGKILL)
        t_kill = time.monotonic()
        down_after = None
        while time.monotonic() - t_kill < 10:
            if fleet.stat().get("replica2") not in ("UP", None) and fleet.stat()["replica2"].startswith("DOWN"):
                down_after = time.monotonic() - t_kill
                break
            await asyncio.sleep(0.05)
        after = await stream(fleet.ws, "a", 0)
        return await asyncio.gather(*live), t_kill, down_after, after

    results, t_kill, down_after, after = asyncio.run(kill_phase())
    killed = [r for r in results if r["replica"] == "replica2"]
    survivors = [r for r in results if r["replica"] != "replica2"]
    assert killed and survivors, [r["replica"] for r in results]
    close_after = [r["t_closed"] - t_kill for r in killed]
    assert all("closed" in r for r in killed), killed
    assert max(close_after) < 3.0, close_after  # promptly: no hang until a timeout
    for r in survivors:
        assert r["replica"] == "replica3" and r.get("text") == offline["c"], r
    assert down_after is not None and down_after < 3.0, down_after  # inter 1 s x fall 2, or at once on error
    assert after["replica"] == "replica3" and after.get("text") == offline["a"], after
    FIGURES.update(killed_sessions=len(killed), killed_clients_closed_after_s=round(max(close_after), 3),
                   marked_down_after_s=round(down_after, 3), survivor_sessions_exact=len(survivors))
    print("FLEET " + json.dumps(FIGURES))
