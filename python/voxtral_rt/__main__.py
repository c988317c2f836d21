"""python -m voxtral_rt AUDIO...: transcribe files and print the text (or JSON / subtitles)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

from . import DEFAULT_MODEL, Error, Model, Transcription, system_info


def _timestamp(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def _render(path: str, result: Transcription, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({
            "file": path, "text": result.text,
            "segments": [{"text": s.text, "start": s.start, "end": s.end} for s in result.segments],
            "words": [{"text": w.word, "start": w.start, "end": w.end} for w in result.words],
            "tokens": [{"id": t.id, "piece": t.piece.decode("utf-8", "replace"), "special": t.special, "time": t.time}
                       for t in result.tokens],
        }, ensure_ascii=False, indent=2) + "\n"
    if fmt == "srt":
        return "".join(f"{i + 1}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{s.text}\n\n"
                       for i, s in enumerate(result.segments))
    return result.text + "\n"  # as the CLI prints it


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voxtral_rt", description="Transcribe audio files with voxtral-rt.")
    parser.add_argument("audio", nargs="+", help="audio files (WAV, FLAC, Ogg, MP3; any rate)")
    parser.add_argument("-m", "--model", default=os.environ.get("VRT_MODEL", DEFAULT_MODEL),
                        help="checkpoint directory, .vxrt file or Hugging Face repo id (default: $VRT_MODEL or "
                             f"{DEFAULT_MODEL})")
    parser.add_argument("-f", "--format", choices=["txt", "json", "srt"], default="txt")
    parser.add_argument("-t", "--threads", type=int, help="compute threads (default: all cores)")
    parser.add_argument("--delay-ms", type=int, help="transcription delay: 80..1200 in steps of 80, or 2400")
    parser.add_argument("--qlinear", help="decoder linear layers: native|f32|bf16|8w|4w|8da8w|8da4w")
    parser.add_argument("--qlinear-encoder", help="encoder linear layers (default: as --qlinear)")
    parser.add_argument("--kv-cache", choices=["f32", "f16"], default="f32")
    parser.add_argument("--version", action="version", version=system_info())
    args = parser.parse_args(argv)
    try:
        model = Model(args.model, threads=args.threads, qlinear=args.qlinear, qlinear_encoder=args.qlinear_encoder,
                      kv_cache=args.kv_cache)
        for path in args.audio:
            sys.stdout.write(_render(path, model.transcribe(path, delay_ms=args.delay_ms), args.format))
    except Error as e:
        print(f"voxtral_rt: {e.status}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
