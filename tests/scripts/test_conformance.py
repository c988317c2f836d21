#!/usr/bin/python3
"""Tests of scripts/conformance.py on synthetic data.

    test_conformance.py --bin BUILD/bin/voxtral-rt --synth BUILD/bin/voxtral-rt-synth
                        --data SHARED_DATA --source SOURCE_DIR [unittest args, e.g. -v EngineTest]

LogicTest checks the comparison functions alone. EngineTest writes a tiny synthetic checkpoint,
runs the engine on the three golden clips to make "golden" files in the real schema (so the real
ones are never needed), then runs the script as a user would and checks that it reports exact
matches, a perturbed token at the right step, a truncated stream, a text difference, out-of-tolerance
logits, a different model, and a missing model, each with the right exit status.
Environment variables VRT_BIN, VRT_SYNTH, VRT_SHARED_DATA and VRT_SOURCE_DIR work as the options.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

CLIP_IDS = ["8297-275156-0000", "8297-275156-0001", "8297-275156-0002"]
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
THREADS = "2"
OPTS: argparse.Namespace


def load_module():
    path = os.path.join(OPTS.source, "scripts", "conformance.py")
    spec = importlib.util.spec_from_file_location("conformance", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_npy_f32(path, rows):
    """A minimal float32 [rows, cols] .npy writer (version 1.0), independent of the reader under test."""
    cols = len(rows[0])
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (len(rows), cols)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin-1"))
        for r in rows:
            f.write(struct.pack(f"<{cols}f", *r))


class LogicTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = load_module()

    def test_first_difference(self):
        fd = self.c.first_difference
        self.assertIsNone(fd([1, 2, 3], [1, 2, 3]))
        self.assertEqual(fd([1, 2, 3], [1, 9, 3]), 1)
        self.assertEqual(fd([1, 2, 3], [1, 2]), 2)  # engine stopped early
        self.assertEqual(fd([1, 2], [1, 2, 3]), 2)  # engine ran longer
        self.assertEqual(fd([], [5]), 0)
        self.assertIsNone(fd([], []))

    def test_edit_distance(self):
        ed = self.c.edit_distance
        self.assertEqual(ed([], []), 0)
        self.assertEqual(ed([1, 2, 3], []), 3)
        self.assertEqual(ed(list("kitten"), list("sitting")), 3)
        self.assertEqual(ed([32, 33, 5, 6], [32, 5, 33, 6]), 2)

    def test_compare_tokens(self):
        g = [32, 32, 33, 1500, 1600, 32, 33, 1700]
        r = self.c.compare_tokens(g, list(g))
        self.assertTrue(r["tokens_exact"])
        self.assertEqual((r["positional_accuracy"], r["aligned_accuracy"], r["edit_distance"]), (1.0, 1.0, 0))
        self.assertEqual(r["common_prefix_length"], len(g))
        # A [STREAMING_WORD] one step late: positions shift, the alignment and the text tokens do not.
        e = [32, 32, 32, 33, 1500, 1600, 33, 1700]
        r = self.c.compare_tokens(g, e)
        self.assertFalse(r["tokens_exact"])
        self.assertEqual(r["first_diff_step"], 2)
        self.assertEqual(r["positional_matches"], 4)  # steps 0, 1, 6, 7
        self.assertEqual(r["aligned_matches"], 7)
        self.assertEqual(r["edit_distance"], 2)
        self.assertEqual(r["text_token_edit_distance"], 0)
        self.assertEqual(r["text_tokens_golden"], 3)
        # Truncation.
        r = self.c.compare_tokens(g, g[:5])
        self.assertFalse(r["length_match"])
        self.assertEqual(r["first_diff_step"], 5)
        self.assertEqual(r["positional_matches"], 5)
        self.assertAlmostEqual(r["positional_accuracy"], 5 / 8)

    def test_schedule_and_text(self):
        self.assertEqual(self.c.schedule_length(57280), 56)  # 3.58 s: 45 tokens + 11
        self.assertEqual(self.c.schedule_length(1280), 12)
        self.assertEqual(self.c.schedule_length(1281), 13)
        self.assertIsNone(self.c.schedule_length(None))
        self.assertEqual(self.c.normalize_text(" What are you doing here? He asked."),
                         "What are you doing here? He asked.")

    def test_first_logits(self):
        g = [float(i) for i in range(32)]
        r = self.c.compare_first_logits(g, [x + 0.001 for x in g], 1e-2)
        self.assertTrue(r["within_tolerance"])
        e = list(g)
        e[7] += 0.5
        r = self.c.compare_first_logits(g, e, 1e-2)
        self.assertFalse(r["within_tolerance"])
        self.assertEqual(r["argmax_diff"], 7)
        self.assertAlmostEqual(r["max_abs_diff"], 0.5, places=5)
        self.assertFalse(self.c.compare_first_logits(g, g[:10], 1e-2)["within_tolerance"])  # too few values

    def test_npy_reader(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "l.npy")
            rows = [[r * 100.0 + c + 0.25 for c in range(40)] for r in range(3)]
            write_npy_f32(path, rows)
            self.assertEqual(self.c.read_npy_row_prefix(path, 32), rows[0][:32])
            self.assertEqual(self.c.read_npy_row_prefix(path, 5, row=2), rows[2][:5])
            self.assertEqual(len(self.c.read_npy_row_prefix(path, 100)), 40)
            try:
                import numpy as np
            except ImportError:
                return
            a = (np.arange(3 * 50, dtype=np.float32).reshape(3, 50) - 70.5) / 3
            np.save(path, a)
            self.assertEqual(self.c.read_npy_row_prefix(path, 32, row=1), [float(x) for x in a[1, :32]])

    def test_parse_pieces(self):
        out = "32\t[STREAMING_PAD]\n1010\t\n\n5675\t What\n13\ta\n5\tb\n".encode()
        self.assertEqual(self.c.parse_pieces(out, [32, 1010, 5675, 13, 5]),
                         {32: "[STREAMING_PAD]", 1010: "\n", 5675: " What", 13: "a", 5: "b"})


class EngineTest(unittest.TestCase):
    """The script end to end against a synthetic checkpoint and golden files made from it."""

    runs = 0

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vrt-conformance-test-")
        cls.model = os.path.join(cls.tmp, "model")
        cls.golden_dir = os.path.join(cls.tmp, "golden")
        os.makedirs(cls.golden_dir)
        cls.make_model(cls.model, seed=0)
        cls.golden = {}
        for cid in CLIP_IDS:
            audio = cls.audio(cid)
            dump = os.path.join(cls.tmp, "dump-" + cid)
            out = subprocess.run([OPTS.bin, "transcribe", "-m", cls.model, "-f", "json", "--no-progress",
                                  "-t", THREADS, "--dump", dump, audio],
                                 check=True, stdout=subprocess.PIPE).stdout
            res = json.loads(out)
            first = cls.read_first_row(os.path.join(dump, "logits.npy"), 32)
            # The real golden files' schema: text stored without the engine's leading space.
            cls.golden[cid] = {"text": res["text"].strip(), "tokens": [t["id"] for t in res["tokens"]],
                               "first_logits_32": first, "first_logits_sha256": "not-compared"}
        cls.write_golden(cls.golden_dir, cls.golden)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # helpers ----------------------------------------------------------------------------------

    @classmethod
    def audio(cls, cid):
        return os.path.join(OPTS.data, "audio", f"librispeech_dev-clean_{cid}.wav")

    @classmethod
    def make_model(cls, path, seed):
        cmd = [OPTS.synth, "-o", path, "--config", "tiny", "--weight-scale", "2", "--seed", str(seed), "-q"]
        tekken = os.path.join(OPTS.data, "tokenizer", "tekken_voxtral_mini_4b_realtime_2602.vocab130072.json")
        if os.path.isfile(tekken):
            cmd += ["--tekken", tekken]
        subprocess.run(cmd, check=True)

    @staticmethod
    def read_first_row(path, n):
        # Independent of the reader under test: numpy if present, else parse the v1 header by hand.
        try:
            import numpy as np
            return [float(x) for x in np.load(path)[0, :n]]
        except ImportError:
            with open(path, "rb") as f:
                head = f.read(10)
                hlen = struct.unpack("<H", head[8:10])[0]
                f.read(hlen)
                return list(struct.unpack(f"<{n}f", f.read(4 * n)))

    @staticmethod
    def write_golden(directory, golden):
        os.makedirs(directory, exist_ok=True)
        for cid, g in golden.items():
            with open(os.path.join(directory, f"voxtral_realtime_tokens_{cid}.json"), "w", encoding="utf-8") as f:
                json.dump(g, f, ensure_ascii=False)

    def golden_variant(self, name, edit):
        g = copy.deepcopy(self.golden)
        edit(g)
        d = os.path.join(self.tmp, name)
        self.write_golden(d, g)
        return d

    def run_script(self, *args, model=None, golden_dir=None, stdout_json=False):
        """Runs the script; returns the process (text report on stdout unless stdout_json) and the
        JSON report it wrote with --json-out (None on exit status 2)."""
        EngineTest.runs += 1
        out = os.path.join(self.tmp, f"report-{EngineTest.runs}.json")
        cmd = [PYTHON, os.path.join(OPTS.source, "scripts", "conformance.py"), "--bin", OPTS.bin,
               "--model", model or self.model, "--data", OPTS.data, "--golden-dir", golden_dir or self.golden_dir,
               "--threads", THREADS, "--json-out", out] + (["--json"] if stdout_json else []) + list(args)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        report = None
        if p.returncode in (0, 1):
            with open(out, encoding="utf-8") as f:
                report = json.load(f)
            if stdout_json:
                self.assertEqual(json.loads(p.stdout), report)
        return p, report

    def clip(self, report, cid):
        return next(c for c in report["clips"] if c["id"] == cid)

    # tests ------------------------------------------------------------------------------------

    def test_a_exact_match(self):
        p, rep = self.run_script()
        self.assertEqual(p.returncode, 0, p.stderr)
        s = rep["summary"]
        self.assertEqual((s["clips"], s["matches"], s["token_exact"], s["text_equal"]), (3, 3, 3, 3))
        self.assertEqual(s["positional_accuracy"], 1.0)
        self.assertEqual(s["edit_distance"], 0)
        for cid in CLIP_IDS:
            c = self.clip(rep, cid)
            self.assertTrue(c["match"])
            self.assertIsNone(c["first_diff"])
            self.assertEqual(c["engine_length"], len(self.golden[cid]["tokens"]))
            # The synthetic model never writes EOS, so it runs the whole schedule.
            self.assertEqual(c["engine_length"], c["schedule_length"])
            self.assertIsNone(c["first_logits"])
        self.assertEqual([c["schedule_length"] for c in rep["clips"]], [56, 69, 111])
        self.assertIn("overall: 3/3 clips match", p.stdout)
        self.assertEqual(p.stdout.count(": MATCH\n"), 3)

    def test_b_perturbed_token(self):
        cid, step = CLIP_IDS[1], 10

        def edit(g):
            t = g[cid]["tokens"]
            t[step] = 33 if t[step] != 33 else 32

        d = self.golden_variant("perturbed", edit)
        p, rep = self.run_script(golden_dir=d)
        self.assertEqual(p.returncode, 1, p.stderr)
        s = rep["summary"]
        self.assertEqual((s["matches"], s["token_exact"], s["text_equal"]), (2, 2, 3))
        c = self.clip(rep, cid)
        self.assertFalse(c["match"])
        self.assertFalse(c["tokens_exact"])
        self.assertTrue(c["length_match"])
        self.assertEqual(c["first_diff"]["step"], step)
        golden_id = 33 if self.golden[cid]["tokens"][step] != 33 else 32
        self.assertEqual(c["first_diff"]["golden"]["id"], golden_id)
        self.assertEqual(c["first_diff"]["engine"]["id"], self.golden[cid]["tokens"][step])
        # The engine never wrote the golden control token, so its piece comes from detokenize.
        self.assertEqual(c["first_diff"]["golden"]["piece"], {32: "[STREAMING_PAD]", 33: "[STREAMING_WORD]"}[golden_id])
        self.assertIsInstance(c["first_diff"]["engine"]["piece"], str)
        n = len(self.golden[cid]["tokens"])
        self.assertEqual(c["positional_matches"], n - 1)
        self.assertEqual(c["edit_distance"], 1)
        for other in (CLIP_IDS[0], CLIP_IDS[2]):
            self.assertTrue(self.clip(rep, other)["match"])
        # The human report names the step and both tokens.
        self.assertIn(f"{cid}: DIFFERENT", p.stdout)
        self.assertIn(f"first difference at step {step}: golden {golden_id} ", p.stdout)
        self.assertIn("overall: 2/3 clips match", p.stdout)

    def test_c_truncated_stream(self):
        cid, keep = CLIP_IDS[2], 100

        def edit(g):
            g[cid]["tokens"] = g[cid]["tokens"][:keep]

        p, rep = self.run_script(golden_dir=self.golden_variant("truncated", edit))
        self.assertEqual(p.returncode, 1, p.stderr)
        c = self.clip(rep, cid)
        self.assertFalse(c["match"])
        self.assertFalse(c["length_match"])
        self.assertEqual((c["golden_length"], c["engine_length"]), (keep, len(self.golden[cid]["tokens"])))
        self.assertEqual(c["first_diff"]["step"], keep)
        self.assertIsNone(c["first_diff"]["golden"])  # the golden stream has ended
        self.assertEqual(c["positional_matches"], keep)
        self.assertEqual(rep["summary"]["length_match"], 2)
        self.assertIn("LENGTH MISMATCH", p.stdout)
        self.assertIn("golden (end of stream)", p.stdout)

    def test_text_difference_alone_fails(self):
        cid = CLIP_IDS[0]

        def edit(g):
            g[cid]["text"] += " extra"

        p, rep = self.run_script(golden_dir=self.golden_variant("text", edit))
        self.assertEqual(p.returncode, 1, p.stderr)
        c = self.clip(rep, cid)
        self.assertTrue(c["tokens_exact"])
        self.assertFalse(c["text_equal"])
        self.assertFalse(c["match"])

    def test_first_logits(self):
        cid, idx = CLIP_IDS[2], 5

        def edit(g):
            g[cid]["first_logits_32"][idx] += 0.5

        keep = os.path.join(self.tmp, "kept-dumps")
        p, rep = self.run_script("--dump", keep, golden_dir=self.golden_variant("logits", edit))
        self.assertEqual(p.returncode, 0, p.stderr)  # logits are informational
        for other in CLIP_IDS[:2]:
            fl = self.clip(rep, other)["first_logits"]
            self.assertEqual(fl["compared"], 32)
            self.assertLessEqual(fl["max_abs_diff"], 1e-6)
            self.assertTrue(fl["within_tolerance"])
        fl = self.clip(rep, cid)["first_logits"]
        self.assertFalse(fl["within_tolerance"])
        self.assertEqual(fl["argmax_diff"], idx)
        self.assertAlmostEqual(fl["max_abs_diff"], 0.5, places=4)
        self.assertEqual(rep["summary"]["first_logits_within_tolerance"], 2)
        self.assertEqual(rep["summary"]["matches"], 3)
        for c in CLIP_IDS:
            self.assertTrue(os.path.isfile(os.path.join(keep, c, "logits.npy")))

    def test_different_model_differs(self):
        other = os.path.join(self.tmp, "model-seed1")
        self.make_model(other, seed=1)
        p, rep = self.run_script(model=other, stdout_json=True)
        self.assertEqual(p.returncode, 1, p.stderr)
        s = rep["summary"]
        self.assertEqual((s["matches"], s["token_exact"]), (0, 0))
        self.assertLess(s["positional_accuracy"], 0.5)

    def test_d_missing_model(self):
        p, _ = self.run_script(model=os.path.join(self.tmp, "no-such-model"))
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")
        self.assertIn("not_found", p.stderr)
        self.assertIn("download-model.sh", p.stderr)  # the engine's hint is passed on

    def test_usage_errors(self):
        p, _ = self.run_script(golden_dir=os.path.join(self.tmp, "empty-golden-does-not-exist"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("does not exist", p.stderr)
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty, exist_ok=True)
        p, _ = self.run_script(golden_dir=empty)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no voxtral_realtime_tokens_", p.stderr)
        bad = self.golden_variant("bad", lambda g: g[CLIP_IDS[0]].pop("tokens"))
        p, _ = self.run_script(golden_dir=bad)
        self.assertEqual(p.returncode, 2)
        self.assertIn('"tokens"', p.stderr)
        p = subprocess.run([PYTHON, os.path.join(OPTS.source, "scripts", "conformance.py"), "--bin",
                            os.path.join(self.tmp, "no-such-bin"), "--model", self.model, "--data", OPTS.data,
                            "--golden-dir", self.golden_dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("not an executable", p.stderr)


def main():
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--bin", default=os.environ.get("VRT_BIN"))
    ap.add_argument("--synth", default=os.environ.get("VRT_SYNTH"))
    ap.add_argument("--data", default=os.environ.get("VRT_SHARED_DATA"))
    ap.add_argument("--source", default=os.environ.get("VRT_SOURCE_DIR",
                                                       os.path.dirname(os.path.dirname(os.path.dirname(
                                                           os.path.abspath(__file__))))))
    global OPTS
    OPTS, rest = ap.parse_known_args()
    missing = [k for k in ("bin", "synth", "data") if not getattr(OPTS, k)]
    if missing:
        sys.exit("test_conformance.py: missing " + ", ".join("--" + k for k in missing))
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
