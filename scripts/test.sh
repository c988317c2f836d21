#!/usr/bin/env bash
# Sets up (Debian packages, build) and runs every test; ctest prints the summary.
#   scripts/test.sh                 Release build in build/
#   scripts/test.sh --sanitize      ASan + UBSan build in build-asan/
#   scripts/test.sh --arch arm64    cross build for 64-bit ARM Linux in build-arm64/ (Debian's
#                                   crossbuild-essential-arm64 and multiarch arm64 -dev packages),
#                                   tests run under qemu-user twice: -cpu max (NEON, dotprod,
#                                   i8mm, bf16, fp16), then -cpu cortex-a72 (plain ARMv8.0 NEON);
#                                   VRT_QEMU_CPUS="max cortex-a72" chooses the cores.
#   scripts/test.sh --arch arm64 --ci
#                                   the part of it that .ci/run runs (docs/ARM64.md): only the
#                                   programs it needs, the kernel tests under both cores, then
#                                   tests/arm64/cross_arch_check.sh against the x86 build in
#                                   build/ (transcribe, packed dumps bitwise, streaming ==
#                                   offline, server round trip under qemu).
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
elif [[ "${1:-}" == "--arch" ]]; then
  arch="${2:-}"
  shift 2 || { echo "test.sh: --arch needs a value (arm64)" >&2; exit 2; }
  if [[ "$arch" != arm64 ]]; then
    echo "test.sh: unknown --arch '$arch' (supported: arm64)" >&2
    exit 2
  fi
  ci=0
  if [[ "${1:-}" == "--ci" ]]; then
    ci=1
    shift
  fi
  # Host tools and the arm64 libraries (multiarch), installed only when missing.
  scripts/setup.sh --packages-only
  ARM_PACKAGES=(crossbuild-essential-arm64 qemu-user libc6:arm64 libstdc++6:arm64
                libsndfile1-dev:arm64 libsoxr-dev:arm64 libpcre2-dev:arm64 libxxhash-dev:arm64
                libboost-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64 libbenchmark-dev:arm64)
  if [[ "${VRT_SKIP_APT:-0}" != 1 ]]; then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    missing=()
    for p in "${ARM_PACKAGES[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
      echo "test.sh: installing Debian packages: ${missing[*]}" >&2
      dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
  fi
  build=build-arm64
  generator=(-G Ninja)
  [[ -f "$build/CMakeCache.txt" ]] && generator=()
  # No microphone (no arm64 libpulse here); the emulator comes from the toolchain file.
  cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" \
        -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DVRT_MIC=OFF \
        -DVRT_BUILD_BENCH="$((ci ? 0 : 1))" >&2
  if ((ci)); then
    [[ -x build/bin/voxtral-rt ]] || { echo "test.sh --arch arm64 --ci: needs the x86 build (scripts/test.sh) in build/" >&2; exit 2; }
    cmake --build "$build" -j"$(nproc)" --target voxtral-rt test_kernels test_kernels_quant >&2
    rc=0
    # The NEON tables' cases (each compares with the reference, run in the same process); not
    # the reference's own cases (the reference against itself, and its accuracy runs natively)
    # nor the x86 tables' (skipped). The ARMv8.0 core runs the tables it has.
    for cpu in ${VRT_QEMU_CPUS:-max cortex-a72}; do
      echo "=== arm64 kernel tests under qemu-aarch64 -cpu $cpu ===" >&2
      filter=(-E '/(ref|avx[a-z0-9]*)( |$)')
      [[ "$cpu" == max ]] || filter=(-R '/neon( |$)|Selection')
      VRT_QEMU_CPU="$cpu" ctest --test-dir "$build" --output-on-failure -j"$(nproc)" -L kernels "${filter[@]}" "$@" || rc=1
    done
    echo "=== arm64 against x86-64: tests/arm64/cross_arch_check.sh ===" >&2
    tests/arm64/cross_arch_check.sh build "$build" "$(sed -n 's/^VRT_SHARED_DATA:PATH=//p' build/CMakeCache.txt)" || rc=1
    exit "$rc"
  fi
  cmake --build "$build" -j"$(nproc)" >&2
  # Not under emulation: labels slow (memory measurements, soaks; native only), qemu_slow and
  # qemu_skip (cannot run there; see tests/CMakeLists.txt), and the test cases named in
  # tests/qemu_exclude.txt (too slow under qemu, or a qemu bug; docs/ARM64.md).
  exclude=$(grep -v '^\s*\(#\|$\)' tests/qemu_exclude.txt | paste -sd'|')
  rc=0
  for cpu in ${VRT_QEMU_CPUS:-max cortex-a72}; do
    echo "=== arm64 tests under qemu-aarch64 -cpu $cpu ===" >&2
    VRT_QEMU_CPU="$cpu" ctest --test-dir "$build" --output-on-failure -j"$(nproc)" \
      -LE 'slow|qemu_skip' ${exclude:+-E "$exclude"} "$@" || rc=1
  done
  exit "$rc"
fi

scripts/setup.sh "$build" "${cmake_args[@]}"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
