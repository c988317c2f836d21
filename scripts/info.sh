#!/usr/bin/env bash
# The main job on a fresh machine (until transcription lands): set up, find the model, describe it.
#   scripts/info.sh [MODEL] [--json]
# MODEL is a checkpoint directory or a Hugging Face repo id (default
# mistralai/Voxtral-Mini-4B-Realtime-2602), looked up in the local Hugging Face cache and in
# ~/.cache/voxtral-rt/models; when absent it is downloaded with scripts/download-model.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

model="${1:-mistralai/Voxtral-Mini-4B-Realtime-2602}"
shift || true
scripts/setup.sh build
bin=build/bin/voxtral-rt

rc=0
"$bin" info -m "$model" "$@" || rc=$?
if [[ $rc -eq 3 && ! -e "$model" ]]; then
  echo "info: model not found locally; downloading $model" >&2
  scripts/download-model.sh "$model" >/dev/null
  exec "$bin" info -m "$model" "$@"
fi
exit $rc
