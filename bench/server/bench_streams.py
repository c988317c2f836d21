#!/usr/bin/python3
"""How many concurrent live streams does `voxtral-rt serve` keep real time?

Runs K concurrent realtime sessions (vLLM protocol, python3-websockets), each sending a WAV
paced at real speed in 80 ms appends, for K = 1, 2, 4, ... until a level fails. A level passes
when every transcript arrives and every session's lag stays bounded: the server's
vrt_session_lag_seconds (queued, unprocessed audio), scraped every 0.25 s, never exceeds
--max-lag-s, and transcription.done arrives within --max-final-s of the final commit.

  bench/server/bench_streams.py --url http://127.0.0.1:8000 --wav CLIP.wav [--max-k 64] [--key K]
      [--levels 1,2,4]   (run exactly these K; steps_per_s is the server's decoder steps/s, all streams)

Each level also reports every stream's lag percentiles (p50, p95, max over the 0.25 s samples)
and where the server's time went during the level, from its /metrics counters: the share of
wall time per compute stage (mel, encoder, its attention, decoder passes, their attention, the
rest of the compute thread's rounds, idle), the network threads' CPU time per wall second, and
the tokens decided and rows computed per decoder pass (verification on real speech: `serve --bench --replay`).
(bench/server/run.sh starts a server on a synthetic model and runs this.)
"""
import argparse
import asyncio
import base64
import json
import time
import urllib.request
import wave

import websockets


def pcm16(path):
    with wave.open(path) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() == 16000
        return w.readframes(w.getnframes())


async def one(args, audio, stats, paced=True):
    headers = {"Authorization": "Bearer " + args.key} if args.key else None
    ws_url = args.url.replace("http", "ws", 1) + "/v1/realtime"
    async with websockets.connect(ws_url, extra_headers=headers, max_size=2**24) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "session.update", "model": args.model}))
        step = 2560  # 80 ms of PCM16
        t0 = time.monotonic()
        done = asyncio.get_running_loop().create_future()

        async def reader():
            while True:
                m = json.loads(await ws.recv())
                if m["type"] == "transcription.done":
                    done.set_result(time.monotonic())
                    return
                if m["type"] == "error":
                    done.set_exception(RuntimeError(m["error"]))
                    return

        rt = asyncio.create_task(reader())
        for i in range(0, len(audio), step):
            await ws.send(json.dumps({"type": "input_audio_buffer.append",
                                      "audio": base64.b64encode(audio[i:i + step]).decode()}))
            if paced:
                await asyncio.sleep(max(0.0, t0 + (i + step) / 32000 - time.monotonic()))
        t_commit = time.monotonic()
        await ws.send(json.dumps({"type": "input_audio_buffer.commit", "final": True}))
        t_done = await asyncio.wait_for(done, 600)
        await rt
        stats.append(t_done - t_commit)


def scrape(url, key):
    """Per-session lags {id: s}, decoder steps/s, and the counters of the stage shares."""
    req = urllib.request.Request(url + "/metrics", headers={"Authorization": "Bearer " + key} if key else {})
    text = urllib.request.urlopen(req, timeout=5).read().decode()
    lags, steps, counters = {}, 0.0, {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.rsplit(" ", 1)
        if name.startswith("vrt_session_lag_seconds{"):
            lags[name.split('session="', 1)[1].rsplit('"', 1)[0]] = float(value)
        elif name == "vrt_decoder_steps_per_second":
            steps = float(value)
        elif name.startswith("vrt_stage_seconds_total{"):
            counters[name.split('stage="', 1)[1].split('"', 1)[0]] = float(value)
        elif name in ("vrt_compute_seconds_total", "vrt_io_cpu_seconds_total", "vrt_decoder_passes_total",
                      "vrt_decoder_rows_total", "vrt_decoder_steps_total"):
            counters[name] = float(value)
    return lags, steps, counters


def percentile(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))] if v else 0.0


def shares(c0, c1, wall):
    """Where the level's wall time went, from two scrapes of the counters."""
    d = {k: c1.get(k, 0.0) - c0.get(k, 0.0) for k in c1}
    enc, enc_att = d.get("encoder", 0.0), d.get("encoder_attention", 0.0)
    dec, dec_att = d.get("decoder", 0.0), d.get("decoder_attention", 0.0)
    compute = d.get("vrt_compute_seconds_total", 0.0)
    staged = d.get("mel", 0.0) + enc + dec
    out = {"mel": d.get("mel", 0.0), "encoder": enc - enc_att, "encoder_attention": enc_att,
           "decoder": dec - dec_att, "decoder_attention": dec_att, "other_compute": max(0.0, compute - staged),
           "idle": max(0.0, wall - compute)}
    r = {k: round(v / wall, 3) for k, v in out.items()}
    r["io_cpu_per_s"] = round(d.get("vrt_io_cpu_seconds_total", 0.0) / wall, 3)
    passes = d.get("vrt_decoder_passes_total", 0.0)
    if passes > 0:
        r["tokens_per_pass"] = round(d.get("vrt_decoder_steps_total", 0.0) / passes, 2)
        r["rows_per_pass"] = round(d.get("vrt_decoder_rows_total", 0.0) / passes, 2)
    return r


async def level(args, k, audio):
    finals, max_lag, max_steps = [], 0.0, 0.0
    samples = {}  # session id -> lag samples
    _, _, c0 = await asyncio.to_thread(scrape, args.url, args.key)
    t0 = time.monotonic()
    tasks = asyncio.gather(*[one(args, audio, finals) for _ in range(k)], return_exceptions=True)
    while not tasks.done():
        lags, steps, _ = await asyncio.to_thread(scrape, args.url, args.key)
        for sid, lag in lags.items():
            samples.setdefault(sid, []).append(lag)
        max_lag, max_steps = max([max_lag] + list(lags.values())), max(max_steps, steps)
        await asyncio.sleep(0.25)
    _, _, c1 = await asyncio.to_thread(scrape, args.url, args.key)
    wall = time.monotonic() - t0
    errors = [r for r in tasks.result() if isinstance(r, Exception)]
    ok = not errors and len(finals) == k and max_lag <= args.max_lag_s and max(finals) <= args.max_final_s
    per_stream = [{"p50": round(percentile(v, 50), 3), "p95": round(percentile(v, 95), 3), "max": round(max(v), 3)}
                  for v in samples.values()]
    return {"k": k, "ok": ok, "max_lag_s": round(max_lag, 3), "max_final_s": round(max(finals, default=-1), 3),
            "steps_per_s": round(max_steps, 1), "lag_s_per_stream": per_stream, "time_shares": shares(c0, c1, wall),
            "errors": [repr(e) for e in errors][:3]}


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--wav", required=True)
    p.add_argument("--model", default="mistralai/Voxtral-Mini-4B-Realtime-2602")
    p.add_argument("--key", default="")
    p.add_argument("--max-k", type=int, default=64)
    p.add_argument("--max-lag-s", type=float, default=1.0)
    p.add_argument("--max-final-s", type=float, default=5.0)
    p.add_argument("--levels", default="", help="comma-separated K values, all run (e.g. 1,2,4); "
                   "default: 1, 2, 4, ... until a level fails")
    p.add_argument("--no-warmup", action="store_true", help="measure the first session's one-time prefix too")
    args = p.parse_args()
    audio = pcm16(args.wav)
    # Warm-up, not reported: the first session of a delay computes the model's constant prefix
    # (spec: 32 tokens of silence + prompt, computed once per model), which live sessions reuse.
    if not args.no_warmup:
        await one(args, audio[:32000], [], paced=False)
    best = 0
    if args.levels:
        for k in (int(x) for x in args.levels.split(",")):
            r = await level(args, k, audio)
            print(json.dumps(r), flush=True)
            if r["ok"]:
                best = max(best, k)
    k = 1
    while not args.levels and k <= args.max_k:
        r = await level(args, k, audio)
        print(json.dumps(r), flush=True)
        if not r["ok"]:
            break
        best = k
        k *= 2
    print(json.dumps({"real_time_streams": best, "audio_s": len(audio) / 32000}))


if __name__ == "__main__":
    asyncio.run(main())
