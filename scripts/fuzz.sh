#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, in build-fuzz/) and runs each one over its
# checked-in seed corpus and regression inputs for a bounded time; fails on any finding (crash,
# sanitizer report, broken invariant, uncaught exception, timeout, out-of-memory, leak).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   default: 60 s, every target
# Environment:
#   VRT_FUZZ_JOBS   targets run at once (default: the number of CPUs)
#   VRT_FUZZ_ARGS   extra libFuzzer flags for every target (e.g. -seed=1)
#   VRT_SKIP_APT=1  skip installing clang and the libFuzzer runtime
# New inputs the fuzzer finds go to build-fuzz/fuzz-corpus/<target>/ (not the source tree);
# a crashing input is saved under build-fuzz/fuzz-artifacts/<target>/. Add it to
# fuzz/regressions/<target>/ so every ctest run replays it (docs/HARDENING.md).
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-60}"
shift || true
build=build-fuzz
jobs="${VRT_FUZZ_JOBS:-$(nproc)}"

if [[ "${VRT_SKIP_APT:-0}" != 1 ]]; then
  missing=()
  for p in clang libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "fuzz: installing Debian packages: ${missing[*]}" >&2
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
fi

generator=(-G Ninja)
[[ -f "$build/CMakeCache.txt" ]] && generator=()
CC=clang CXX=clang++ cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVRT_FUZZ=ON -DVRT_BUILD_TESTS=OFF -DVRT_BUILD_BENCH=OFF >&2

list="$build/fuzz/targets.txt"
mapfile -t lines < "$list"
targets=()
for l in "${lines[@]}"; do targets+=("${l%% *}"); done
if (($#)); then targets=("$@"); fi
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >&2

# Known leaks inside system libraries (documented in the file), so fuzzing can go on past them.
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
logs="$build/fuzz-logs"
mkdir -p "$logs"

run_one() {  # NAME MAX_LEN [LIBFUZZER FLAGS...]
  local name="$1" max_len="$2"
  shift 2
  local corpus="$build/fuzz-corpus/$name" artifacts="$build/fuzz-artifacts/$name/"
  mkdir -p "$corpus" "$artifacts"
  local inputs=("$corpus" "fuzz/corpus/$name")
  [[ -d "fuzz/regressions/$name" ]] && inputs+=("fuzz/regressions/$name")
  local dict=()
  [[ -f "fuzz/dict/$name.dict" ]] && dict=("-dict=fuzz/dict/$name.dict")
  # -timeout: one input taking 10 s is a hang; the memory caps turn unbounded allocation
  # from input into a finding (hardening.md §5).
  # shellcheck disable=SC2086
  "$build/bin/$name" -max_len="$max_len" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "${dict[@]}" "$@" ${VRT_FUZZ_ARGS:-} "${inputs[@]}" \
    > "$logs/$name.log" 2>&1
}

declare -A pid_of
failed=()
wait_one() {
  local name="$1"
  if wait "${pid_of[$name]}"; then
    local cov
    cov=$(grep -E "^#[0-9]+.*(DONE|cov:)" "$logs/$name.log" | tail -1 | sed 's/^#//')
    local execs
    execs=$(grep -E "^stat::number_of_executed_units" "$logs/$name.log" | awk '{print $2}')
    echo "fuzz: $name ok: ${execs:-?} runs in ${secs} s; last status: ${cov:-?}" >&2
  else
    failed+=("$name")
    echo "fuzz: $name FOUND A PROBLEM (log $logs/$name.log; input in $build/fuzz-artifacts/$name/):" >&2
    grep -E "ERROR|SUMMARY|invariant|runtime error|Test unit written|uncaught|deadly" "$logs/$name.log" \
      | head -20 >&2 || tail -30 "$logs/$name.log" >&2
  fi
}

running=()
for name in "${targets[@]}"; do
  line=$(grep -E "^$name( |$)" "$list") || { echo "fuzz: unknown target $name" >&2; exit 2; }
  read -r _ max_len flags <<< "$line"
  echo "fuzz: running $name for $secs s (max_len $max_len)" >&2
  # shellcheck disable=SC2086
  run_one "$name" "$max_len" $flags &
  pid_of[$name]=$!
  running+=("$name")
  if ((${#running[@]} >= jobs)); then
    wait_one "${running[0]}"
    running=("${running[@]:1}")
  fi
done
for name in "${running[@]}"; do wait_one "$name"; done

if ((${#failed[@]})); then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${secs} s each, no finding" >&2
