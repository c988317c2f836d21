# Cross build for 64-bit ARM Linux on a Debian host (scripts/test.sh --arch arm64):
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# Compilers: Debian's crossbuild-essential-arm64 (aarch64-linux-gnu-gcc/g++). Libraries: the
# multiarch arm64 -dev packages (dpkg --add-architecture arm64), which install into
# /usr/lib/aarch64-linux-gnu beside the host's and share /usr/include; no separate sysroot.
# Programs built here (tests, gtest discovery, tools run by ctest) run under qemu-aarch64 from
# qemu-user: CPU model from VRT_QEMU_CPU (cache variable, else the environment variable of the
# same name at configure time; default max: NEON, dotprod, i8mm, bf16, fp16). cortex-a72 is a
# plain ARMv8.0 NEON core. The emulator is scripts/qemu-aarch64.sh, where $VRT_QEMU_CPU at run
# time overrides the configured CPU (so one build is tested on several cores).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Multiarch: look for the target's libraries and CMake package files under
# /usr/lib/aarch64-linux-gnu (CMAKE_LIBRARY_ARCHITECTURE) and the architecture-independent
# ones (headers, nlohmann_json, CLI11) under /usr; never the host's x86-64 libraries.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake /usr/lib/x86_64-linux-gnu/pkgconfig)

# pkg-config: only the arm64 .pc files (and the architecture-independent ones).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# The emulator ctest and gtest discovery put in front of every program built here.
if(NOT DEFINED VRT_QEMU_CPU)
  if(DEFINED ENV{VRT_QEMU_CPU} AND NOT "$ENV{VRT_QEMU_CPU}" STREQUAL "")
    set(VRT_QEMU_CPU "$ENV{VRT_QEMU_CPU}")
  else()
    set(VRT_QEMU_CPU max)
  endif()
endif()
set(VRT_QEMU_CPU "${VRT_QEMU_CPU}" CACHE STRING "qemu-aarch64 -cpu for running arm64 programs (max, cortex-a72, ...)")
get_filename_component(_vrt_toolchain_root "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(CMAKE_CROSSCOMPILING_EMULATOR "${_vrt_toolchain_root}/scripts/qemu-aarch64.sh;--default-cpu=${VRT_QEMU_CPU}")
