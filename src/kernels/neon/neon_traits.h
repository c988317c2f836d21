// The AArch64 Advanced SIMD (NEON) float traits of the ISA-generic kernels (../simd/*.h): 4 fp32
// lanes per q register, 32 registers. Included only by files of src/kernels/neon (built through
// vrt_isa_sources); internal linkage. So far the subset that ../simd/quant_tile.h uses.
//
// min / max follow x86's minps / maxps, which the generic kernels are written against: the
// second operand when either is NaN or both are equal (NEON's fmin / fmax would return NaN).
#pragma once

#if !defined(__aarch64__)
#error "neon_traits.h is for AArch64"
#endif
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/simd/common.h"

namespace vrt::kernels::neon {
namespace {

using simd::i64;
using simd::max_i64;
using simd::min_i64;

struct Neon {
  using vf = float32x4_t;
  static constexpr int kLanes = 4;
  struct Tail {  // lanes [0, n), n in [0, 4]
    i64 n;
  };

  static vf zero() { return vdupq_n_f32(0.0f); }
  static vf set1(float v) { return vdupq_n_f32(v); }
  static vf loadu(const float* p) { return vld1q_f32(p); }
  static void storeu(float* p, vf v) { vst1q_f32(p, v); }
  static vf add(vf a, vf b) { return vaddq_f32(a, b); }
  static vf sub(vf a, vf b) { return vsubq_f32(a, b); }
  static vf mul(vf a, vf b) { return vmulq_f32(a, b); }
  static vf min(vf a, vf b) { return vbslq_f32(vcltq_f32(a, b), a, b); }  // NaN: returns b
  static vf max(vf a, vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }  // NaN: returns b
  static vf abs(vf v) { return vabsq_f32(v); }
  static vf fma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }  // a b + c, one rounding
  static float hmax(vf v) { return vmaxvq_f32(v); }  // exact; quantize_acts' maxima hold no NaN

  static Tail tail(i64 n) { return Tail{n}; }
  static vf load_tail(const float* p, const Tail& t) {  // zeros above
    float buf[4] = {};
    std::memcpy(buf, p, static_cast<std::size_t>(t.n) * sizeof(float));
    return vld1q_f32(buf);
  }
  static void store_tail(float* p, const Tail& t, vf v) {
    float buf[4];
    vst1q_f32(buf, v);
    std::memcpy(p, buf, static_cast<std::size_t>(t.n) * sizeof(float));
  }

  // 4 IEEE half values to fp32 (FCVTL: exact, ARMv8.0).
  static vf load_f16(const std::uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
};

}  // namespace
}  // namespace vrt::kernels::neon
