// CPU feature detection for kernel dispatch (../shared/docs/style-anchors.md §7.3).
//
// x86-64: CPUID says what the core implements; XGETBV says whether the OS saves the wider register
// state on context switches (YMM for AVX/AVX2, opmask + ZMM for AVX-512). A feature counts only
// when both agree, so an AVX-512 CPU under an OS or hypervisor that disables it reads as
// AVX2-only. This file alone executes CPUID (and asks Linux for AMX tile permission).
//
// AArch64: Linux reports what the kernel lets user space use in the auxiliary vector
// (getauxval AT_HWCAP / AT_HWCAP2); macOS through sysctl hw.optional.*. Other architectures
// read as no features (the scalar reference table).
#pragma once

#include <string>

namespace vrt::kernels {

struct CpuFeatures {
  bool sse42 = false;
  bool avx = false;  // AVX + OS YMM state
  bool avx2 = false;
  bool fma = false;
  bool avx_vnni = false;  // AVX-VNNI (VEX vpdpbusd on ymm)
  bool f16c = false;
  bool avx512f = false;  // AVX-512 F + OS opmask/ZMM state
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  bool avx512fp16 = false;
  // AMX tiles with int8 products: CPUID, XCR0 tile state, and (Linux) the process's permission
  // to use the tile data state, requested once at detection (arch_prctl ARCH_REQ_XCOMP_PERM).
  bool amx_int8 = false;

  // AArch64 (all false elsewhere).
  bool neon = false;     // Advanced SIMD (HWCAP asimd; ARMv8.0, always there on Linux/macOS)
  bool fphp = false;     // scalar half-precision arithmetic (HWCAP fphp)
  bool asimdhp = false;  // Advanced SIMD half-precision arithmetic (HWCAP asimdhp)
  bool dotprod = false;  // SDOT/UDOT (HWCAP asimddp; ARMv8.2 optional, 8.4 mandatory)
  bool i8mm = false;     // SMMLA/UMMLA/USDOT (HWCAP2 i8mm; ARMv8.6)
  bool bf16 = false;     // BFDOT/BFMMLA/BFCVT (HWCAP2 bf16; ARMv8.6)

  std::string describe() const;  // "avx2 fma f16c avx512f ..." / "neon dotprod i8mm ..." (the usable ones); "none"
};

// Detected once per process (thread-safe).
const CpuFeatures& cpu_features();

}  // namespace vrt::kernels
