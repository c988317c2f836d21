#!/usr/bin/env bash
# Verification decoding on recorded token statistics: the runtime's own policy, replayed by
# `voxtral-rt bench --replay-only` on greedy token streams (positions per decoder pass for each
# k; with --pass-ms K:MS costs, the expected decode time per position).
#   scripts/verify_sim.sh [--tekken F] [--reference DIR] [--pass-ms 1:60 --pass-ms 4:75 ...] [--json]
# Defaults: the published real tokenizer and golden streams in ../shared/data (this checkout's
# test data, not something the program looks for). Builds voxtral-rt first when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data
args=("$@")
[[ " $* " == *" --tekken "* ]] || args+=(--tekken "$data/tokenizer/tekken_voxtral_mini_4b_realtime_2602.vocab130072.json")
[[ " $* " == *" --reference "* ]] || args+=(--reference "$data/reference")
[[ -x build/bin/voxtral-rt ]] || scripts/setup.sh build >&2
exec build/bin/voxtral-rt bench --replay-only "${args[@]}"
