#!/usr/bin/env bash
# Concurrent live streams that stay real time, on a synthetic checkpoint (no weights needed).
#   bench/server/run.sh [BUILD_DIR] [tiny|small|full] [THREADS] [CLIP.wav]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}; CONFIG=${2:-tiny}; THREADS=${3:-0}
CLIP=${4:-../shared/data/audio/night1968_15s_there_are_two_of_them_out_there.wav}
tmp=$(mktemp -d); trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$BUILD/bin/voxtral-rt-synth" -q --config "$CONFIG" --weight-scale 2 --seed 21 -o "$tmp/model"
"$BUILD/bin/voxtral-rt" serve -m "$tmp/model" --port 0 -t "$THREADS" --max-sessions 256 >"$tmp/out" 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/out")
echo "model: synthetic $CONFIG, threads $THREADS, clip $CLIP" >&2
/usr/bin/python3 bench/server/bench_streams.py --url "http://127.0.0.1:$port" --wav "$CLIP"
