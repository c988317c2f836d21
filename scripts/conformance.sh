#!/usr/bin/env bash
# Real-model conformance in one command: set up (Debian packages, build), find the model (local
# directory, Hugging Face cache, or download it), and compare voxtral-rt's greedy token streams
# with the golden ones (scripts/conformance.py; docs/CONFORMANCE.md).
#   scripts/conformance.sh [conformance.py options, e.g. --json, --dump, --threads 8]
# The model defaults to mistralai/Voxtral-Mini-4B-Realtime-2602; set VRT_MODEL to a directory or
# another repo id. Exit status: 0 all clips match, 1 some differ, 2 usage/data/engine error.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  echo
  exec /usr/bin/python3 "$repo/scripts/conformance.py" --help
fi
model="${VRT_MODEL:-mistralai/Voxtral-Mini-4B-Realtime-2602}"
"$repo/scripts/setup.sh" build >&2  # stdout stays the report's (--json)
bin="$repo/build/bin/voxtral-rt"

if [[ ! -e "$model" ]] && ! "$bin" info -m "$model" >/dev/null 2>&1; then
  echo "conformance: model not found locally; downloading $model" >&2
  "$repo/scripts/download-model.sh" "$model" >/dev/null
fi
exec /usr/bin/python3 "$repo/scripts/conformance.py" --bin "$bin" --model "$model" "$@"
