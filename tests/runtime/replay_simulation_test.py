#!/usr/bin/python3
"""Replay's work against an independent simulation of verification decoding.

The policy is re-implemented here from its description (src/runtime/verify.h: row j > 0 of a
pass is fed the majority follower of row j - 1's input so far, [STREAMING_PAD] for a token not
seen yet; rows are accepted in order while the guess feeding the next one was right), and so is
the offline schedule's availability of positions (spec section 8.2 and docs/STREAMING.md: 32
silent tokens, audio fed in pieces of 32 tokens, a token's position exists once 40 samples of
mel look-ahead past it have arrived, the encoder runs in chunks of at most 32 tokens and the
decoder catches up after each; the end pads to a whole token plus delay + 11 tokens). Then:

* `voxtral-rt transcribe --replay` (a tiny synthetic model with the real tokenizer, every k)
  outputs the recording, cycled from the offset, and makes exactly the passes simulated here;
* `voxtral-rt bench --replay-only` (scripts/verify_sim.sh: the positions per pass quoted in
  docs/PERFORMANCE.md) gives the positions per pass simulated here on the golden streams.

  replay_simulation_test.py --bin voxtral-rt --synth voxtral-rt-synth --data ../shared/data
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import unittest
import wave

PAD, EOS = 32, 2  # [STREAMING_PAD], </s> (shared/data/reference/expected_transcripts.json notes)
SPT = 1280        # samples per decoder position (80 ms at 16 kHz)
LEFT_PAD, DELAY = 32, 6  # tekken.json: streaming_n_left_pad_tokens, 480 ms
N_PROMPT = 1 + LEFT_PAD + DELAY
LOOKAHEAD = 40    # the last mel frame's half window (n_fft / 2 = 200) less the hop (160)
CHUNK = 32        # encoder chunk, tokens


class Policy:
    def __init__(self):
        self.next_input = 0
        self.followers = {}  # input token -> [candidate, votes]

    def plan(self, k):
        rows = [self.next_input]
        for _ in range(1, k):
            f = self.followers.get(rows[-1])
            rows.append(f[0] if f else PAD)
        return rows

    def record(self, outcome):
        inp = self.next_input
        self.next_input = PAD if outcome == EOS else outcome
        f = self.followers.setdefault(inp, [self.next_input, 0])
        if f[0] == self.next_input:
            f[1] += 1
        elif f[1] == 0:
            f[0], f[1] = self.next_input, 1
        else:
            f[1] -= 1


def simulate(tokens, k, events):
    """tokens[i]: generated token i (position N_PROMPT - 1 + i); events: the number of positions
    available after each encoder chunk. Returns (positions decoded past the prompt, passes)."""
    p = Policy()
    p.record(tokens[0])
    i, passes = 1, 0
    for avail in events:
        while i < len(tokens) and N_PROMPT - 1 + i < avail:
            rows = p.plan(min(k, avail - (N_PROMPT - 1 + i), len(tokens) - i))
            accepted = 0
            while accepted < len(rows):
                p.record(tokens[i + accepted])
                accepted += 1
                if accepted < len(rows) and p.next_input != rows[accepted]:
                    break
            i += accepted
            passes += 1
    return i - 1, passes


def offline_events(n_samples):
    """Positions available after each encoder chunk of an offline transcription."""
    events, consumed = [], None
    stream = LEFT_PAD * SPT  # the constant prefix: its positions are computed once per model

    def push(samples):
        nonlocal consumed
        avail = (samples - LOOKAHEAD) // SPT
        if consumed is None:
            consumed = avail
            return
        while consumed < avail:
            consumed = min(consumed + CHUNK, avail)
            events.append(consumed)

    push(stream)
    for i in range(0, n_samples, CHUNK * SPT):
        stream += min(CHUNK * SPT, n_samples - i)
        push(stream)
    end = (SPT - stream % SPT) % SPT + (DELAY + 11) * SPT
    while end > 0:  # pushed as pieces of at most 65536 samples of silence
        stream += min(end, 65536)
        end -= min(end, 65536)
        push(stream)
    events.append(stream // SPT)  # the mel's last frame once the stream ends
    return events


def chunked_events(n_tokens):
    """bench --replay-only's model: positions arrive in 32-position chunks counted from 0."""
    last = N_PROMPT - 1 + n_tokens
    return list(range(CHUNK, last + CHUNK, CHUNK))


class ReplayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.tekken = os.path.join(ARGS.data, "tokenizer/tekken_voxtral_mini_4b_realtime_2602.vocab130072.json")
        cls.model = os.path.join(cls.tmp.name, "model")
        subprocess.run([ARGS.synth, "-q", "--config", "tiny", "--seed", "21", "--tekken", cls.tekken, "-o", cls.model],
                       check=True)
        cls.golden = {}
        for f in sorted(glob.glob(os.path.join(ARGS.data, "reference/voxtral_realtime_tokens_*.json"))):
            with open(f) as fh:
                cls.golden[os.path.basename(f)] = json.load(fh)["tokens"]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def transcribe(self, clip, replay, k, offset=0):
        out = subprocess.run([ARGS.bin, "transcribe", "-m", self.model, clip, "--replay", replay, "--verify-tokens",
                              str(k), "--replay-offset", str(offset), "-f", "json"],
                             check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    def test_offline_replay_does_the_simulated_work(self):
        recording = [t for name in sorted(self.golden) for t in self.golden[name]]
        replay = os.path.join(ARGS.data, "reference")
        for clip, offset in (("jfk.wav", 0), ("night1968_15s_there_are_two_of_them_out_there.wav", 150),
                             ("librispeech_dev-clean_8297-275156-0002.wav", 61)):
            path = os.path.join(ARGS.data, "audio", clip)
            with wave.open(path) as w:
                n = w.getnframes() * 16000 // w.getframerate()
            events = offline_events(n)
            for k in (1, 2, 4, 8, 16):
                with self.subTest(clip=clip, k=k):
                    t = self.transcribe(path, replay, k, offset)
                    ids = [tok["id"] for tok in t["tokens"]]
                    self.assertEqual(len(ids), events[-1] - (N_PROMPT - 1))
                    self.assertEqual(ids, [recording[(offset + i) % len(recording)] for i in range(len(ids))])
                    positions, passes = simulate(ids, k, events)
                    self.assertEqual(t["stats"]["decode_steps"], positions)
                    self.assertEqual(t["stats"]["decode_passes"], passes)
                    if k == 1:
                        self.assertEqual(passes, len(ids) - 1)

    def test_verify_sim_positions_per_pass(self):
        out = subprocess.run([ARGS.bin, "bench", "--replay-only", "--json", "--tekken", self.tekken, "--reference",
                              os.path.join(ARGS.data, "reference"), "--verify-k", "2", "4", "8", "16"],
                             check=True, capture_output=True, text=True)
        got = {p["k"]: p["positions_per_pass"] for p in json.loads(out.stdout)["passes"]}
        for k in (1, 2, 4, 8, 16):
            positions = passes = 0
            for tokens in self.golden.values():
                a, b = simulate(tokens, k, chunked_events(len(tokens)))
                positions, passes = positions + a, passes + b
            self.assertAlmostEqual(got[k], positions / passes, places=12, msg=f"k={k}")
        # The figures docs/PERFORMANCE.md and the issue quote.
        self.assertAlmostEqual(got[4], 2.04, places=2)
        self.assertAlmostEqual(got[8], 2.35, places=2)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--synth", required=True)
    ap.add_argument("--data", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest)
