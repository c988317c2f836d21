#!/usr/bin/env bash
# Sets up (Debian packages, build) and runs every test; ctest prints the summary.
#   scripts/test.sh                 Release build in build/
#   scripts/test.sh --sanitize      ASan + UBSan build in build-asan/
# Extra arguments after the options go to ctest (e.g. -L unit, -R Mel).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
cmake_args=()
if [[ "${1:-}" == "--sanitize" ]]; then
  shift
  build=build-asan
  cmake_args=(-DVRT_SANITIZE=ON -DVRT_BUILD_BENCH=OFF)
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  # Memory measurements (label slow) are meaningless under ASan's shadow memory and 10x slower.
  set -- -LE slow "$@"
fi

scripts/setup.sh "$build" "${cmake_args[@]}"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
