#!/usr/bin/env bash
# Concurrent live streams that stay real time, on a synthetic checkpoint (no weights needed).
#   bench/server/run.sh [BUILD_DIR] [tiny|small|full|PATH] [THREADS] [CLIP.wav] [bench_streams.py args...]
# A PATH (an existing model directory or .vxrt) is served as is instead of a fresh synthetic
# model. Environment: VRT_BATCH=0 turns cross-session batched decoding off in the server;
# SERVE_ARGS adds serve options (e.g. "--qlinear 8da4w --qembedding 8w").
#   VRT_BATCH=0 bench/server/run.sh build small 0 CLIP.wav --levels 1,2,4,8
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}; CONFIG=${2:-tiny}; THREADS=${3:-0}
CLIP=${4:-../shared/data/audio/night1968_15s_there_are_two_of_them_out_there.wav}
shift $(( $# < 4 ? $# : 4 ))
tmp=$(mktemp -d); trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
if [ -e "$CONFIG" ]; then
  MODEL=$CONFIG
else
  "$BUILD/bin/voxtral-rt-synth" -q --config "$CONFIG" --weight-scale 2 --seed 21 -o "$tmp/model"
  MODEL=$tmp/model
fi
# shellcheck disable=SC2086
"$BUILD/bin/voxtral-rt" serve -m "$MODEL" --port 0 -t "$THREADS" --max-sessions 256 ${SERVE_ARGS:-} >"$tmp/out" 2>"$tmp/log" &
pid=$!
for _ in $(seq 600); do grep -q listening "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/out")
echo "model: $CONFIG ${SERVE_ARGS:-}, threads $THREADS, batch ${VRT_BATCH:-1}, clip $CLIP" >&2
/usr/bin/python3 bench/server/bench_streams.py --url "http://127.0.0.1:$port" --wav "$CLIP" "$@"
