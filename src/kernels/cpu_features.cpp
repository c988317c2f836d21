// CPU feature probing (see cpu_features.h).
// x86-64: CPUID + XGETBV. Leaf 1: SSE4.2, FMA, F16C, AVX, OSXSAVE;
// leaf 7 subleaf 0: AVX2, AVX-512 F/DQ/BW/VL/VNNI/FP16, AMX-TILE/INT8; leaf 7 subleaf 1: AVX-VNNI, AVX512_BF16.
// XCR0 bits: 1-2 = SSE/YMM state, 5-7 = opmask/ZMM_Hi256/Hi16_ZMM state, 17-18 = AMX tiles.
// AArch64 Linux: getauxval(AT_HWCAP / AT_HWCAP2) bits (arch/arm64/include/uapi/asm/hwcap.h);
// AArch64 macOS: sysctlbyname("hw.optional.*") (untested here: no macOS machine).
#include "kernels/cpu_features.h"

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define VRT_X86 1
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#include <sys/types.h>
#endif

namespace vrt::kernels {

namespace {

#ifdef VRT_X86
std::uint64_t read_xcr0() {
  std::uint32_t eax = 0, edx = 0;
  // xgetbv with ecx = 0; spelled as bytes so no -mxsave flag is needed.
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return (std::uint64_t{edx} << 32) | eax;
}

bool bit(unsigned v, int b) { return ((v >> b) & 1u) != 0; }

// Linux keeps the 8 KiB AMX tile data state off until a process asks for it; without the
// permission the first tile instruction faults. Other OSes: not used.
bool request_amx_permission() {
#if defined(__linux__) && defined(__x86_64__)
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0, &a, &b, &c, &d) == 0) return f;
  const unsigned max_leaf = a;
  __cpuid(1, a, b, c, d);
  f.sse42 = bit(c, 20);
  const bool osxsave = bit(c, 27);
  const bool cpu_avx = bit(c, 28);
  const bool cpu_fma = bit(c, 12);
  const bool cpu_f16c = bit(c, 29);
  const std::uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;
  const bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;
  f.avx = cpu_avx && os_ymm;
  f.fma = f.avx && cpu_fma;
  f.f16c = f.avx && cpu_f16c;
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = f.avx && bit(b, 5);
    f.avx512f = os_zmm && bit(b, 16);
    f.avx512dq = f.avx512f && bit(b, 17);
    f.avx512bw = f.avx512f && bit(b, 30);
    f.avx512vl = f.avx512f && bit(b, 31);
    f.avx512vnni = f.avx512f && bit(c, 11);
    f.avx512fp16 = f.avx512f && bit(d, 23);
    // EDX 24 AMX-TILE, 25 AMX-INT8; XCR0 17-18 XTILECFG / XTILEDATA.
    const bool os_tiles = (xcr0 & 0x60000) == 0x60000;
    f.amx_int8 = f.avx512f && bit(d, 24) && bit(d, 25) && os_tiles && request_amx_permission();
    const unsigned max_sub = a;
    if (max_sub >= 1) {
      __cpuid_count(7, 1, a, b, c, d);
      f.avx_vnni = f.avx2 && bit(a, 4);
      f.avx512bf16 = f.avx512f && bit(a, 5);
    }
  }
  return f;
}
#elif defined(__aarch64__) && defined(__linux__)
// The kernel's hwcap bits (stable ABI; spelled here so older libc headers need not have them).
constexpr unsigned long kHwcapFphp = 1ul << 9;
constexpr unsigned long kHwcapAsimd = 1ul << 1;
constexpr unsigned long kHwcapAsimdhp = 1ul << 10;
constexpr unsigned long kHwcapAsimddp = 1ul << 20;
constexpr unsigned long kHwcap2I8mm = 1ul << 13;
constexpr unsigned long kHwcap2Bf16 = 1ul << 14;

CpuFeatures detect() {
  CpuFeatures f;
  const unsigned long hw = getauxval(AT_HWCAP);
  const unsigned long hw2 = getauxval(AT_HWCAP2);
  f.neon = (hw & kHwcapAsimd) != 0;
  f.fphp = (hw & kHwcapFphp) != 0;
  f.asimdhp = f.neon && (hw & kHwcapAsimdhp) != 0;
  f.dotprod = f.neon && (hw & kHwcapAsimddp) != 0;
  f.i8mm = f.neon && (hw2 & kHwcap2I8mm) != 0;
  f.bf16 = f.neon && (hw2 & kHwcap2Bf16) != 0;
  return f;
}
#elif defined(__aarch64__) && defined(__APPLE__)
bool sysctl_flag(const char* name) {
  int value = 0;
  size_t size = sizeof value;
  return sysctlbyname(name, &value, &size, nullptr, 0) == 0 && value != 0;
}

CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;  // every Apple arm64 core
  f.fphp = f.asimdhp = sysctl_flag("hw.optional.arm.FEAT_FP16") || sysctl_flag("hw.optional.neon_fp16");
  f.dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd");
  f.i8mm = sysctl_flag("hw.optional.arm.FEAT_I8MM");
  f.bf16 = sysctl_flag("hw.optional.arm.FEAT_BF16");
  return f;
}
#else
CpuFeatures detect() { return CpuFeatures{}; }
#endif

}  // namespace

std::string CpuFeatures::describe() const {
  std::string s;
  auto add = [&s](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(sse42, "sse4.2");
  add(avx, "avx");
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx_vnni, "avx_vnni");
  add(avx512f, "avx512f");
  add(avx512dq, "avx512dq");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512vnni, "avx512vnni");
  add(avx512bf16, "avx512bf16");
  add(avx512fp16, "avx512fp16");
  add(amx_int8, "amx_int8");
  add(neon, "neon");
  add(fphp, "fphp");
  add(asimdhp, "asimdhp");
  add(dotprod, "dotprod");
  add(i8mm, "i8mm");
  add(bf16, "bf16");
  return s.empty() ? std::string("none") : s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace vrt::kernels
