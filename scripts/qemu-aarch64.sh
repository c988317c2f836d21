#!/usr/bin/env bash
# Runs an arm64 Linux program on this host with qemu-user (Debian qemu-user):
#   scripts/qemu-aarch64.sh [--default-cpu=CPU] PROGRAM [ARGS...]
# The CPU model is $VRT_QEMU_CPU, else --default-cpu, else max (NEON + dotprod + i8mm + bf16 +
# fp16; cortex-a72 is a plain ARMv8.0 NEON core). Libraries, the loader included: the multiarch
# arm64 packages (/lib/ld-linux-aarch64.so.1, /usr/lib/aarch64-linux-gnu). Not qemu's
# -L /usr/aarch64-linux-gnu: that pairs the cross toolchain's loader (libc6-arm64-cross) with
# libc6:arm64's libc.so.6 when their versions differ, and threads then hang in pthread_create.
# The CMake toolchain file (cmake/toolchains/aarch64-linux-gnu.cmake) makes this ctest's
# emulator; the tests that start programs themselves prefix them with it (VRT_EXEC_WRAPPER).
cpu=max
if [[ "${1:-}" == --default-cpu=* ]]; then
  cpu="${1#--default-cpu=}"
  shift
fi
cpu="${VRT_QEMU_CPU:-$cpu}"
exec qemu-aarch64 -cpu "$cpu" "$@"
