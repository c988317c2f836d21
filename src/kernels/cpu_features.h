// CPU feature detection for kernel dispatch (../shared/docs/style-anchors.md §7.3).
//
// CPUID says what the core implements; XGETBV says whether the OS saves the wider register
// state on context switches (YMM for AVX/AVX2, opmask + ZMM for AVX-512). A feature counts only
// when both agree, so an AVX-512 CPU under an OS or hypervisor that disables it reads as
// AVX2-only. This file alone executes CPUID (and asks Linux for AMX tile permission).
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

  std::string describe() const;  // "avx2 fma f16c avx512f ..." (the usable ones)
};

// Detected once per process (thread-safe).
const CpuFeatures& cpu_features();

}  // namespace vrt::kernels
