#!/usr/bin/python3
"""Real-model conformance: voxtral-rt's greedy token streams vs the published golden streams.

    scripts/conformance.py [--model MODEL] [--bin PATH/voxtral-rt] [--data DIR] [--golden-dir DIR]
                           [--json] [--json-out FILE] [--threads N] [--dump [DIR]] [--logits-tol TOL]

For every golden file DATA/reference/voxtral_realtime_tokens_<ID>.json it transcribes the clip
DATA/audio/librispeech_dev-clean_<ID>.wav (all clips in one engine process, so the model loads once)
and compares the whole generated token stream, control tokens [STREAMING_PAD] (32) and
[STREAMING_WORD] (33) included, with the golden "tokens", and the decoded text with the golden "text".
With --dump the engine runs once per clip (its --dump takes one file) and the first step's first 32
logits are compared with the golden "first_logits_32" (approximate in the golden files; reported, but
they do not change the exit status).

Exit status: 0 every clip matches (token stream and text), 1 some clip differs, 2 usage, data or
engine error (the engine's message, e.g. its model-not-found hint, is passed on).

Standard library only. See docs/CONFORMANCE.md.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import glob
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import wave

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = "mistralai/Voxtral-Mini-4B-Realtime-2602"
GOLDEN_PREFIX = "voxtral_realtime_tokens_"
CLIP_PREFIX = "librispeech_dev-clean_"
SAMPLES_PER_TOKEN = 1280  # 80 ms at 16 kHz
SCHEDULE_EXTRA_TOKENS = 11  # generated = ceil(samples / 1280) + 11 at the default 480 ms delay
FIRST_TEXT_ID = 1000  # ids below are special (control) tokens
EXIT_MATCH, EXIT_DIFFER, EXIT_ERROR = 0, 1, 2


class ConformanceError(Exception):
    """A usage, data or engine error: exit status 2."""


# ----------------------------------------------------------------------------------------------
# Comparison logic (pure functions; tested on synthetic data in tests/scripts/test_conformance.py)


def first_difference(golden: list[int], engine: list[int]) -> int | None:
    """First step where the streams differ (a length difference counts at the shorter length)."""
    for i, (g, e) in enumerate(zip(golden, engine)):
        if g != e:
            return i
    return None if len(golden) == len(engine) else min(len(golden), len(engine))


def edit_distance(a: list, b: list) -> int:
    """Levenshtein distance (substitution, insertion, deletion cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def schedule_length(samples: int | None) -> int | None:
    """Tokens the offline schedule generates for a clip at 480 ms: ceil(samples / 1280) + 11."""
    if samples is None:
        return None
    return math.ceil(samples / SAMPLES_PER_TOKEN) + SCHEDULE_EXTRA_TOKENS


def normalize_text(text: str) -> str:
    """The engine's text starts with the first word's leading space; the golden text is stripped."""
    return text.strip()


def compare_tokens(golden: list[int], engine: list[int]) -> dict:
    """Token-level agreement of one clip. Accuracies are fractions of the golden length."""
    n = len(golden)
    first = first_difference(golden, engine)
    positional = sum(1 for g, e in zip(golden, engine) if g == e)
    sm = difflib.SequenceMatcher(None, golden, engine, autojunk=False)
    aligned = sum(b.size for b in sm.get_matching_blocks())
    dist = edit_distance(golden, engine)
    g_text = [t for t in golden if t >= FIRST_TEXT_ID]
    e_text = [t for t in engine if t >= FIRST_TEXT_ID]
    text_dist = edit_distance(g_text, e_text)
    frac = (lambda k, d: k / d if d else (1.0 if k == 0 else 0.0))
    return {
        "tokens_exact": golden == engine,
        "golden_length": n,
        "engine_length": len(engine),
        "length_match": n == len(engine),
        "first_diff_step": first,
        "common_prefix_length": n if first is None else first,
        "positional_matches": positional,
        "positional_accuracy": frac(positional, n),
        "aligned_matches": aligned,
        "aligned_accuracy": frac(aligned, n),
        "similarity_ratio": sm.ratio(),
        "edit_distance": dist,
        "token_error_rate": frac(dist, n),
        "text_tokens_golden": len(g_text),
        "text_tokens_engine": len(e_text),
        "text_token_edit_distance": text_dist,
        "text_token_error_rate": frac(text_dist, len(g_text)),
    }


def compare_first_logits(golden32: list[float], engine_row: list[float], tol: float) -> dict:
    n = min(len(golden32), len(engine_row))
    if n == 0:
        return {"compared": 0, "max_abs_diff": None, "argmax_diff": None, "tolerance": tol,
                "within_tolerance": False}
    diffs = [abs(float(g) - float(e)) for g, e in zip(golden32[:n], engine_row[:n])]
    worst = max(range(n), key=lambda i: diffs[i])
    return {"compared": n, "max_abs_diff": diffs[worst], "argmax_diff": worst, "tolerance": tol,
            "within_tolerance": diffs[worst] <= tol and n == len(golden32)}


def read_npy_row_prefix(path: str, count: int, row: int = 0) -> list[float]:
    """The first `count` values of row `row` of a C-order little-endian float32 .npy [rows, cols]."""
    with open(path, "rb") as f:
        magic = f.read(8)
        if magic[:6] != b"\x93NUMPY":
            raise ConformanceError(f"{path}: not a .npy file")
        major = magic[6]
        hlen_size = 2 if major == 1 else 4
        (hlen,) = struct.unpack("<H" if hlen_size == 2 else "<I", f.read(hlen_size))
        header = ast.literal_eval(f.read(hlen).decode("latin-1"))
        if header.get("descr") != "<f4" or header.get("fortran_order"):
            raise ConformanceError(f"{path}: expected C-order float32, got {header}")
        shape = tuple(header.get("shape", ()))
        if len(shape) != 2 or row >= shape[0]:
            raise ConformanceError(f"{path}: shape {shape} has no row {row}")
        count = min(count, shape[1])
        f.seek(row * shape[1] * 4, os.SEEK_CUR)
        data = f.read(4 * count)
        if len(data) != 4 * count:
            raise ConformanceError(f"{path}: truncated")
        return list(struct.unpack(f"<{count}f", data))


def wav_samples(path: str) -> int | None:
    """Samples at 16 kHz (None when the file is not a PCM WAV the wave module reads)."""
    try:
        with wave.open(path, "rb") as w:
            n, rate = w.getnframes(), w.getframerate()
    except (wave.Error, EOFError, OSError):
        return None
    return n if rate == 16000 else round(n * 16000 / rate)


def parse_pieces(output: bytes, ids: list[int]) -> dict[int, str]:
    """Parses `voxtral-rt detokenize --pieces` output: "ID<TAB>PIECE\\n" per id, where a piece may
    itself hold newlines, so each entry ends where the next expected "\\nID\\t" begins."""
    pieces: dict[int, str] = {}
    pos = 0
    for k, tid in enumerate(ids):
        head = f"{tid}\t".encode()
        if not output.startswith(head, pos):
            break
        start = pos + len(head)
        if k + 1 < len(ids):
            end = output.find(f"\n{ids[k + 1]}\t".encode(), start)
            if end < 0:
                break
        else:
            end = len(output) - 1 if output.endswith(b"\n") else len(output)
        pieces[tid] = output[start:end].decode("utf-8", errors="replace")
        pos = end + 1
    return pieces


# ----------------------------------------------------------------------------------------------
# Inputs


def default_data_dir() -> str:
    return os.environ.get("VRT_SHARED_DATA") or os.path.normpath(os.path.join(REPO, "..", "shared", "data"))


def default_bin() -> str | None:
    env = os.environ.get("VRT_BIN")
    if env:
        return env
    cand = os.path.join(REPO, "build", "bin", "voxtral-rt")
    if os.access(cand, os.X_OK):
        return cand
    return shutil.which("voxtral-rt")


def load_golden(golden_dir: str, audio_dir: str) -> list[dict]:
    if not os.path.isdir(golden_dir):
        raise ConformanceError(f"golden directory {golden_dir} does not exist (see --data, --golden-dir)")
    files = sorted(glob.glob(os.path.join(golden_dir, GOLDEN_PREFIX + "*.json")))
    if not files:
        raise ConformanceError(f"no {GOLDEN_PREFIX}<ID>.json files in {golden_dir}")
    clips = []
    for path in files:
        cid = os.path.basename(path)[len(GOLDEN_PREFIX):-len(".json")]
        try:
            with open(path, encoding="utf-8") as f:
                g = json.load(f)
        except (OSError, ValueError) as e:
            raise ConformanceError(f"{path}: cannot read golden JSON: {e}") from e
        tokens = g.get("tokens") if isinstance(g, dict) else None
        if not isinstance(tokens, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tokens):
            raise ConformanceError(f"{path}: \"tokens\" must be a list of integer token ids")
        if not isinstance(g.get("text"), str):
            raise ConformanceError(f"{path}: \"text\" must be a string")
        logits = g.get("first_logits_32")
        if logits is not None and not (isinstance(logits, list) and all(isinstance(x, (int, float)) for x in logits)):
            raise ConformanceError(f"{path}: \"first_logits_32\" must be a list of numbers")
        audio = os.path.join(audio_dir, f"{CLIP_PREFIX}{cid}.wav")
        if not os.path.isfile(audio):
            raise ConformanceError(f"{path}: its clip {audio} does not exist")
        clips.append({"id": cid, "golden_file": path, "audio": audio, "golden": g})
    return clips


# ----------------------------------------------------------------------------------------------
# Engine


def run_engine(binary: str, model: str, audios: list[str], threads: int | None,
               dump_dir: str | None = None) -> list[dict]:
    cmd = [binary, "transcribe", "-m", model, "-f", "json", "--no-progress"]
    if threads is not None:
        cmd += ["-t", str(threads)]
    if dump_dir:
        cmd += ["--dump", dump_dir]
    cmd += audios
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        raise ConformanceError(f"cannot run {binary}: {e}") from e
    err = proc.stderr.decode("utf-8", errors="replace").strip()
    if proc.returncode != 0:
        how = f"exit status {proc.returncode}" if proc.returncode > 0 else f"signal {-proc.returncode}"
        raise ConformanceError(f"the engine failed ({how}): {' '.join(cmd)}\n{err}")
    try:
        out = json.loads(proc.stdout.decode("utf-8", errors="replace"))
    except ValueError as e:
        raise ConformanceError(f"the engine's output is not JSON ({e}): {' '.join(cmd)}\n{err}") from e
    if isinstance(out, dict):
        out = [out]
    if not isinstance(out, list) or len(out) != len(audios):
        raise ConformanceError(f"the engine returned {len(out) if isinstance(out, list) else 'no'} results "
                               f"for {len(audios)} files")
    for r, a in zip(out, audios):
        if not isinstance(r, dict) or not isinstance(r.get("tokens"), list) or not isinstance(r.get("text"), str):
            raise ConformanceError(f"the engine's result for {a} lacks \"tokens\" or \"text\"")
    return out


def lookup_pieces(binary: str, model: str, ids: set[int]) -> dict[int, str]:
    """Pieces of token ids the engine did not generate, through `voxtral-rt detokenize --pieces`."""
    if not ids:
        return {}
    order = sorted(ids)
    try:
        proc = subprocess.run([binary, "detokenize", "-m", model, "--pieces"] + [str(i) for i in order],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError:
        return {}
    return parse_pieces(proc.stdout, order) if proc.returncode == 0 else {}


# ----------------------------------------------------------------------------------------------
# Report


def evaluate(clips: list[dict], results: list[dict], pieces: dict[int, str], logits_rows: dict | None,
             tol: float) -> dict:
    reports = []
    for clip, res in zip(clips, results):
        golden = clip["golden"]
        g_ids = list(golden["tokens"])
        e_ids = [int(t["id"]) for t in res["tokens"]]
        cmp = compare_tokens(g_ids, e_ids)
        step = cmp["first_diff_step"]
        first_diff = None
        if step is not None:
            tok = (lambda ids: None if step >= len(ids) else {"id": ids[step], "piece": pieces.get(ids[step])})
            first_diff = {"step": step, "golden": tok(g_ids), "engine": tok(e_ids)}
        g_text, e_text = normalize_text(golden["text"]), normalize_text(res["text"])
        samples = wav_samples(clip["audio"])
        rep = {
            "id": clip["id"],
            "audio": clip["audio"],
            "golden_file": clip["golden_file"],
            "match": cmp["tokens_exact"] and g_text == e_text,
            **cmp,
            "schedule_length": schedule_length(samples),
            "first_diff": first_diff,
            "text_equal": g_text == e_text,
            "golden_text": g_text,
            "engine_text": e_text,
            "engine_tokens": e_ids,
            "first_logits": None,
            "engine_stats": res.get("stats"),
        }
        if logits_rows is not None:
            g32 = golden.get("first_logits_32")
            row = logits_rows.get(clip["id"])
            if g32 is None:
                rep["first_logits"] = {"skipped": "the golden file has no first_logits_32"}
            elif row is None:
                rep["first_logits"] = {"skipped": "the engine dumped no logits"}
            else:
                rep["first_logits"] = compare_first_logits(g32, row, tol)
        reports.append(rep)

    total = sum(r["golden_length"] for r in reports)
    summary = {
        "clips": len(reports),
        "matches": sum(r["match"] for r in reports),
        "token_exact": sum(r["tokens_exact"] for r in reports),
        "text_equal": sum(r["text_equal"] for r in reports),
        "length_match": sum(r["length_match"] for r in reports),
        "golden_tokens": total,
        "engine_tokens": sum(r["engine_length"] for r in reports),
        "positional_matches": sum(r["positional_matches"] for r in reports),
        "aligned_matches": sum(r["aligned_matches"] for r in reports),
        "edit_distance": sum(r["edit_distance"] for r in reports),
        "text_token_edit_distance": sum(r["text_token_edit_distance"] for r in reports),
        "text_tokens_golden": sum(r["text_tokens_golden"] for r in reports),
    }
    summary["positional_accuracy"] = summary["positional_matches"] / total if total else 1.0
    summary["aligned_accuracy"] = summary["aligned_matches"] / total if total else 1.0
    summary["token_error_rate"] = summary["edit_distance"] / total if total else 0.0
    ntext = summary["text_tokens_golden"]
    summary["text_token_error_rate"] = summary["text_token_edit_distance"] / ntext if ntext else 0.0
    compared = [r["first_logits"] for r in reports if r["first_logits"] and "max_abs_diff" in r["first_logits"]]
    if compared:
        summary["first_logits_max_abs_diff"] = max(c["max_abs_diff"] for c in compared if c["max_abs_diff"] is not None)
        summary["first_logits_within_tolerance"] = sum(c["within_tolerance"] for c in compared)
        summary["first_logits_compared"] = len(compared)
    summary["exit_status"] = EXIT_MATCH if summary["matches"] == len(reports) else EXIT_DIFFER
    return {"clips": reports, "summary": summary}


def _tok(t: dict | None) -> str:
    if t is None:
        return "(end of stream)"
    p = t.get("piece")
    return f"{t['id']} {json.dumps(p, ensure_ascii=False)}" if p is not None else str(t["id"])


def print_text(report: dict, header: dict, out=sys.stdout) -> None:
    w = lambda s="": print(s, file=out)
    w(f"voxtral-rt conformance: model {header['model']}")
    w(f"  engine {header['bin']}; golden {header['golden_dir']}")
    for r in report["clips"]:
        w()
        status = "MATCH" if r["match"] else "DIFFERENT"
        w(f"{r['id']}: {status}")
        sched = r["schedule_length"]
        sched_s = "" if sched is None else f"; schedule predicts {sched}"
        w(f"  tokens: {'identical' if r['tokens_exact'] else 'differ'}; "
          f"length {r['engine_length']} generated vs {r['golden_length']} golden"
          f"{'' if r['length_match'] else ' (LENGTH MISMATCH)'}{sched_s}")
        if r["first_diff"]:
            d = r["first_diff"]
            w(f"  first difference at step {d['step']}: golden {_tok(d['golden'])}, engine {_tok(d['engine'])}")
        w(f"  accuracy: positional {r['positional_matches']}/{r['golden_length']} "
          f"({100 * r['positional_accuracy']:.1f}%), aligned {r['aligned_matches']}/{r['golden_length']} "
          f"({100 * r['aligned_accuracy']:.1f}%), similarity {r['similarity_ratio']:.4f}, "
          f"edit distance {r['edit_distance']}; text tokens (ids >= 1000): edit distance "
          f"{r['text_token_edit_distance']} over {r['text_tokens_golden']} golden")
        w(f"  text: {'equal' if r['text_equal'] else 'DIFFERS'}")
        if not r["text_equal"]:
            w(f"    golden: {json.dumps(r['golden_text'], ensure_ascii=False)}")
            w(f"    engine: {json.dumps(r['engine_text'], ensure_ascii=False)}")
        fl = r["first_logits"]
        if fl is not None:
            if "skipped" in fl:
                w(f"  first logits: skipped ({fl['skipped']})")
            else:
                ok = "within" if fl["within_tolerance"] else "OUTSIDE"
                w(f"  first logits [0:{fl['compared']}]: max |diff| {fl['max_abs_diff']:.3g} at id {fl['argmax_diff']} "
                  f"({ok} tolerance {fl['tolerance']:g}; informational)")
    s = report["summary"]
    w()
    w(f"overall: {s['matches']}/{s['clips']} clips match (token streams identical {s['token_exact']}/{s['clips']}, "
      f"texts equal {s['text_equal']}/{s['clips']}, lengths equal {s['length_match']}/{s['clips']})")
    w(f"  tokens: positional {s['positional_matches']}/{s['golden_tokens']} ({100 * s['positional_accuracy']:.2f}%), "
      f"aligned {s['aligned_matches']}/{s['golden_tokens']} ({100 * s['aligned_accuracy']:.2f}%), "
      f"token error rate {100 * s['token_error_rate']:.2f}%, "
      f"text-token error rate {100 * s['text_token_error_rate']:.2f}%")
    if "first_logits_compared" in s:
        w(f"  first logits: max |diff| {s['first_logits_max_abs_diff']:.3g}, "
          f"{s['first_logits_within_tolerance']}/{s['first_logits_compared']} within tolerance")
    w(f"exit status {s['exit_status']}")


# ----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Compare voxtral-rt's greedy token streams with the golden Voxtral Realtime streams.",
        epilog="Exit status: 0 all clips match, 1 some differ, 2 usage/data/engine error. See docs/CONFORMANCE.md.")
    p.add_argument("--model", "-m", default=DEFAULT_MODEL,
                   help=f"checkpoint directory or Hugging Face repo id (default {DEFAULT_MODEL})")
    p.add_argument("--bin", help="the voxtral-rt binary (default: $VRT_BIN, build/bin/voxtral-rt, or PATH)")
    p.add_argument("--data", help="shared data directory (default: $VRT_SHARED_DATA or ../shared/data)")
    p.add_argument("--golden-dir", help="golden JSON directory (default: DATA/reference)")
    p.add_argument("--audio-dir", help="clip directory (default: DATA/audio)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--json-out", metavar="FILE", help="also write the JSON report to FILE")
    p.add_argument("--threads", "-t", type=int, help="engine compute threads (default: all cores)")
    p.add_argument("--dump", nargs="?", const="", metavar="DIR",
                   help="also compare the first step's first 32 logits (runs the engine once per clip; "
                        "keeps the dumps under DIR/<ID> when DIR is given)")
    p.add_argument("--logits-tol", type=float, default=1e-2,
                   help="tolerance of the first-logits comparison (default 1e-2)")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> tuple[dict, dict]:
    data = args.data or default_data_dir()
    golden_dir = args.golden_dir or os.path.join(data, "reference")
    audio_dir = args.audio_dir or os.path.join(data, "audio")
    binary = args.bin or default_bin()
    if not binary:
        raise ConformanceError("voxtral-rt not found: build it (scripts/setup.sh build) or pass --bin PATH")
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise ConformanceError(f"--bin {binary} is not an executable file")
    if args.threads is not None and args.threads < 0:
        raise ConformanceError("--threads must be >= 0")
    clips = load_golden(golden_dir, audio_dir)
    audios = [c["audio"] for c in clips]

    logits_rows = None
    if args.dump is None:
        results = run_engine(binary, args.model, audios, args.threads)
    else:
        results, logits_rows = [], {}
        tmp = None if args.dump else tempfile.TemporaryDirectory(prefix="vrt-conformance-")
        root = args.dump or tmp.name
        try:
            for c in clips:
                d = os.path.join(root, c["id"])
                results += run_engine(binary, args.model, [c["audio"]], args.threads, dump_dir=d)
                lpath = os.path.join(d, "logits.npy")
                if os.path.isfile(lpath):
                    logits_rows[c["id"]] = read_npy_row_prefix(lpath, 32)
        finally:
            if tmp:
                tmp.cleanup()

    pieces: dict[int, str] = {}
    for r in results:
        for t in r["tokens"]:
            if isinstance(t.get("piece"), str):
                pieces.setdefault(int(t["id"]), t["piece"])
    missing = set()
    for c, r in zip(clips, results):
        step = first_difference(c["golden"]["tokens"], [int(t["id"]) for t in r["tokens"]])
        if step is not None and step < len(c["golden"]["tokens"]) and c["golden"]["tokens"][step] not in pieces:
            missing.add(c["golden"]["tokens"][step])
    pieces.update(lookup_pieces(binary, args.model, missing))

    report = evaluate(clips, results, pieces, logits_rows, args.logits_tol)
    header = {"model": args.model, "bin": binary, "golden_dir": golden_dir, "audio_dir": audio_dir}
    return report, header


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report, header = run(args)
    except ConformanceError as e:
        print(f"conformance: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    full = {**header, **report}
    if args.json_out:
        try:
            with open(args.json_out, "w", encoding="utf-8") as f:
                json.dump(full, f, indent=2, ensure_ascii=False)
                f.write("\n")
        except OSError as e:
            print(f"conformance: error: cannot write {args.json_out}: {e}", file=sys.stderr)
            return EXIT_ERROR
    if args.json:
        json.dump(full, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_text(report, header)
    return report["summary"]["exit_status"]


if __name__ == "__main__":
    sys.exit(main())
