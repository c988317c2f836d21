#!/usr/bin/env bash
# The main job on a fresh machine: set up (Debian packages, build), find the model (local
# directory, Hugging Face cache, or download it), and transcribe.
#   scripts/transcribe.sh AUDIO... [voxtral-rt transcribe options]
# The model defaults to mistralai/Voxtral-Mini-4B-Realtime-2602; set VRT_MODEL to a directory or
# another repo id. Options after the audio files go to `voxtral-rt transcribe` (e.g. -f srt,
# --stats, --delay-ms 480, --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -eq 0 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
model="${VRT_MODEL:-mistralai/Voxtral-Mini-4B-Realtime-2602}"
scripts/setup.sh build
bin=build/bin/voxtral-rt

# Relative audio paths are relative to where the user ran the script.
args=()
for a in "$@"; do
  if [[ "$a" != -* && -e "$OLDPWD/$a" && "$a" != /* ]]; then args+=("$OLDPWD/$a"); else args+=("$a"); fi
done

rc=0
"$bin" transcribe -m "$model" "${args[@]}" || rc=$?
if [[ $rc -eq 3 && ! -e "$model" ]] && ! "$bin" info -m "$model" >/dev/null 2>&1; then
  echo "transcribe: model not found locally; downloading $model" >&2
  scripts/download-model.sh "$model" >/dev/null
  exec "$bin" transcribe -m "$model" "${args[@]}"
fi
exit $rc
