#!/usr/bin/env python3
"""Verification decoding on real token statistics (the same simulation as `voxtral-rt bench`).

Replays the runtime's guesser (src/runtime/session.cpp: decode_block, guess_after,
learn_follower) on the real model's golden greedy token streams and prints positions per
decoder pass for each k; with --pass-ms "1:C1,2:C2,..." (k-row pass costs, e.g. from
`voxtral-rt bench --json`) also the expected decode time per position.

  scripts/verify_sim.py [--reference ../shared/data/reference] [--chunk 32] [--pass-ms 1:40,2:45,...]
"""
import argparse
import glob
import json
import os

PAD, EOS = 32, 2  # [STREAMING_PAD], </s>


def simulate(tokens, k, n_prompt=39, chunk=32):
    followers = {}  # token -> [candidate, votes] (Boyer-Moore majority vote)

    def learn(t, nxt):
        f = followers.setdefault(t, [nxt, 0])
        if f[0] == nxt:
            f[1] += 1
        elif f[1] == 0:
            f[0], f[1] = nxt, 1
        else:
            f[1] -= 1

    state = {"next": 0}

    def emit(out):
        inp = state["next"]
        state["next"] = PAD if out == EOS else out
        learn(inp, state["next"])

    emit(tokens[0])  # the prefill's token
    i, positions, rows_per_pass = 1, 0, []
    n = len(tokens)
    while i < n:
        pos = n_prompt - 1 + i
        chunk_end = (pos // chunk + 1) * chunk if chunk > 0 else pos + n
        rows = min(k, n - i, chunk_end - pos)
        g = [state["next"]]
        for _ in range(1, rows):
            g.append(followers[g[-1]][0] if g[-1] in followers else PAD)
        acc = 0
        while acc < rows:
            emit(tokens[i + acc])
            acc += 1
            if acc < rows and state["next"] != g[acc]:
                break
        i += acc
        positions += acc
        rows_per_pass.append(rows)
    return positions, rows_per_pass


def cost(c, rows):
    ks = sorted(c)
    if rows in c:
        return c[rows]
    if rows > ks[-1]:
        return c[ks[-1]] * rows / ks[-1]
    hi = next(k for k in ks if k > rows)
    lo = max(k for k in ks if k < rows)
    return c[lo] + (rows - lo) / (hi - lo) * (c[hi] - c[lo])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", default=os.path.join(here, "..", "..", "shared", "data", "reference"))
    ap.add_argument("--chunk", type=int, default=32, help="positions per offline encoder chunk (0: unlimited)")
    ap.add_argument("--prompt", type=int, default=39)
    ap.add_argument("--pass-ms", default="", help="k:ms,... measured k-row pass costs (1 = one step)")
    a = ap.parse_args()
    streams = [json.load(open(f))["tokens"] for f in sorted(glob.glob(os.path.join(a.reference, "voxtral_realtime_tokens_*.json")))]
    c = {int(k): float(v) for k, v in (p.split(":") for p in a.pass_ms.split(",") if p)}
    print(f"{len(streams)} streams, {sum(len(s) for s in streams)} tokens")
    for k in (1, 2, 4, 8, 16):
        pos = passes = 0
        t = 0.0
        for s in streams:
            p, rows = simulate(s, k, a.prompt, a.chunk)
            pos += p
            passes += len(rows)
            if c:
                t += sum(cost(c, r) for r in rows)
        line = f"k={k:2d}  positions/pass {pos / passes:.2f}"
        if c:
            line += f"  expected ms/position {t / pos:.1f}"
        print(line)


if __name__ == "__main__":
    main()
