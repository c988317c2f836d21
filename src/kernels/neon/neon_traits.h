// The AArch64 Advanced SIMD (NEON) float traits of the ISA-generic kernels (../simd/*.h), 32 q
// registers of 4 fp32 lanes. Included only by files of src/kernels/neon (built through
// vrt_isa_sources); internal linkage.
// * Neon: one q register (4 lanes), what ../simd/quant_tile.h uses.
// * Neon8: a pair of q registers as one 8-lane vector, for the float matmul, elementwise ops and
//   attention: kernels.h's 8-lane sums are then one "register", in the same order as AVX2's
//   (16 pairs, as AVX2's 16 ymm, so the same tile shapes fit).
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

inline float32x4_t sel_lt(float32x4_t a, float32x4_t b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
inline float32x4_t sel_gt(float32x4_t a, float32x4_t b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
inline float32x4_t pow2i(int32x4_t n) {  // 2^n for n in [-126, 127]
  return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n, vdupq_n_s32(127)), 23));
}
inline float32x4_t keep_nan(float32x4_t e, float32x4_t x) { return vbslq_f32(vceqq_f32(x, x), e, x); }

struct Neon8 {
  struct vf {
    float32x4_t lo, hi;  // lanes 0-3, 4-7
  };
  static constexpr int kLanes = 8;
  struct Tail {  // lanes [0, n), n in [0, 8]
    i64 n;
  };

  // Float matmul tiles (simd/gemv.h), as AVX2's (16 pair registers).
  static constexpr int gemv_nr(int mr) { return mr == 1 ? 8 : mr == 2 ? 4 : mr == 3 ? 3 : 2; }
  // GEMM (simd/gemm.h), as AVX2's: 6 x rows by 16 W rows (12 of the 16 pair registers).
  static constexpr int kMr = 6;
  static constexpr int kPanel = 16;
  static constexpr i64 kKc = 512;
  static constexpr i64 kBlockRows = 128;
  static void prefetch_panel(const float*) {}
  // Attention (simd/attention.h), as AVX2's.
  static constexpr int kScoreRows = 4;
  static constexpr int kAccRegs = 12;

  static vf zero() { return {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)}; }
  static vf set1(float v) { return {vdupq_n_f32(v), vdupq_n_f32(v)}; }
  static vf loadu(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
  static void storeu(float* p, vf v) {
    vst1q_f32(p, v.lo);
    vst1q_f32(p + 4, v.hi);
  }
  static vf load(const float* p) { return loadu(p); }  // (aligned: no faster on AArch64)
  static void store(float* p, vf v) { storeu(p, v); }
  static vf add(vf a, vf b) { return {vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi)}; }
  static vf sub(vf a, vf b) { return {vsubq_f32(a.lo, b.lo), vsubq_f32(a.hi, b.hi)}; }
  static vf mul(vf a, vf b) { return {vmulq_f32(a.lo, b.lo), vmulq_f32(a.hi, b.hi)}; }
  static vf div(vf a, vf b) { return {vdivq_f32(a.lo, b.lo), vdivq_f32(a.hi, b.hi)}; }
  static vf min(vf a, vf b) { return {sel_lt(a.lo, b.lo), sel_lt(a.hi, b.hi)}; }  // NaN: returns b
  static vf max(vf a, vf b) { return {sel_gt(a.lo, b.lo), sel_gt(a.hi, b.hi)}; }  // NaN: returns b
  static vf fma(vf a, vf b, vf c) { return {vfmaq_f32(c.lo, a.lo, b.lo), vfmaq_f32(c.hi, a.hi, b.hi)}; }   // a b + c
  static vf fnma(vf a, vf b, vf c) { return {vfmsq_f32(c.lo, a.lo, b.lo), vfmsq_f32(c.hi, a.hi, b.hi)}; }  // c - a b
  static vf round_nearest(vf v) { return {vrndnq_f32(v.lo), vrndnq_f32(v.hi)}; }  // ties to even
  static float sqrt_ss(float v) { return vget_lane_f32(vsqrt_f32(vdup_n_f32(v)), 0); }
  // ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)): kernels.h's tree.
  static float hsum(vf v) {
    const float32x4_t p = vpaddq_f32(v.lo, v.hi);  // [l01 l23 l45 l67]
    const float32x4_t q = vpaddq_f32(p, p);        // [l0123 l4567 ..]
    return vgetq_lane_f32(q, 0) + vgetq_lane_f32(q, 1);
  }
  static float hmax(vf v) { return vmaxvq_f32(sel_gt(v.lo, v.hi)); }  // exact without NaN

  static Tail tail(i64 n) { return Tail{n}; }
  static vf load_tail(const float* p, const Tail& t) {  // zeros above
    float buf[8] = {};
    std::memcpy(buf, p, static_cast<std::size_t>(t.n) * sizeof(float));
    return loadu(buf);
  }
  static void store_tail(float* p, const Tail& t, vf v) {
    float buf[8];
    storeu(buf, v);
    std::memcpy(p, buf, static_cast<std::size_t>(t.n) * sizeof(float));
  }

  // 8 halves (IEEE f16 or bfloat16 bits) to fp32, exact.
  template <DType D>
  static vf widen(uint16x8_t h) {
    if constexpr (D == DType::bf16) {
      return {vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)), vreinterpretq_f32_u32(vshll_high_n_u16(h, 16))};
    } else {
      const float16x8_t f = vreinterpretq_f16_u16(h);
      return {vcvt_f32_f16(vget_low_f16(f)), vcvt_high_f32_f16(f)};
    }
  }
  // Weights [c, c + 8) of the row at p, as fp32.
  template <DType D>
  static vf load_w(const void* p, i64 c) {
    if constexpr (D == DType::f32) {
      return loadu(static_cast<const float*>(p) + c);
    } else {
      return widen<D>(vld1q_u16(static_cast<const std::uint16_t*>(p) + c));
    }
  }
  // Weights [c, c + t.n) (t.n < 8), zeros above.
  template <DType D>
  static vf load_w_tail(const void* p, i64 c, const Tail& t) {
    if constexpr (D == DType::f32) {
      return load_tail(static_cast<const float*>(p) + c, t);
    } else {
      std::uint16_t buf[8] = {};
      std::memcpy(buf, static_cast<const std::uint16_t*>(p) + c, static_cast<std::size_t>(t.n) * 2);
      return widen<D>(vld1q_u16(buf));
    }
  }
  // Weights [c, c + t.n), t.n <= 8 (GEMM packing): the full load when t.n = 8.
  template <DType D>
  static vf load_w_part(const void* p, i64 c, const Tail& t) {
    return t.n == kLanes ? load_w<D>(p, c) : load_w_tail<D>(p, c, t);
  }
  // In-register 8x8 transpose (r[k] lane j -> r[j] lane k): four 4x4 transposes of q registers.
  static void transpose4(float32x4_t& a0, float32x4_t& a1, float32x4_t& a2, float32x4_t& a3) {
    const float32x4_t t0 = vtrn1q_f32(a0, a1), t1 = vtrn2q_f32(a0, a1);  // [a00 a10 a02 a12], [a01 a11 a03 a13]
    const float32x4_t t2 = vtrn1q_f32(a2, a3), t3 = vtrn2q_f32(a2, a3);
    const auto d = [](float32x4_t v) { return vreinterpretq_f64_f32(v); };
    a0 = vreinterpretq_f32_f64(vtrn1q_f64(d(t0), d(t2)));
    a1 = vreinterpretq_f32_f64(vtrn1q_f64(d(t1), d(t3)));
    a2 = vreinterpretq_f32_f64(vtrn2q_f64(d(t0), d(t2)));
    a3 = vreinterpretq_f32_f64(vtrn2q_f64(d(t1), d(t3)));
  }
  static void transpose(vf (&r)[8]) {
    transpose4(r[0].lo, r[1].lo, r[2].lo, r[3].lo);  // rows 0-3, columns 0-3
    transpose4(r[0].hi, r[1].hi, r[2].hi, r[3].hi);  // rows 0-3, columns 4-7
    transpose4(r[4].lo, r[5].lo, r[6].lo, r[7].lo);  // rows 4-7, columns 0-3
    transpose4(r[4].hi, r[5].hi, r[6].hi, r[7].hi);  // rows 4-7, columns 4-7
    // Now r[k].lo (k < 4) = column k of rows 0-3, r[k].hi = column 4 + k of rows 0-3, and r[4 + k]
    // likewise for rows 4-7: column j's rows 4-7 move next to its rows 0-3.
    for (int k = 0; k < 4; ++k) {
      const float32x4_t top_hi = r[k].hi;  // column 4 + k, rows 0-3
      r[k].hi = r[4 + k].lo;               // column k, rows 4-7
      r[4 + k].lo = top_hi;
    }
  }

  // y[0..3] = the sums of a, b, c, d (kernels.h's tree) (+ bias[r .. r + 3] when not null).
  static void store_sums4(float* y, vf a, vf b, vf c, vf d, const float* bias, i64 r) {
    const float32x4_t ab = vpaddq_f32(vpaddq_f32(a.lo, a.hi), vpaddq_f32(b.lo, b.hi));  // [a0123 a4567 b0123 b4567]
    const float32x4_t cd = vpaddq_f32(vpaddq_f32(c.lo, c.hi), vpaddq_f32(d.lo, d.hi));
    float32x4_t s = vpaddq_f32(ab, cd);
    if (bias != nullptr) s = vaddq_f32(s, vld1q_f32(bias + r));
    vst1q_f32(y, s);
  }

  // Attention (simd/attention.h): 8 cache values as fp32 (f16: exact); the softmax sum is one
  // 8-lane vector.
  template <bool F16>
  static vf load_kv(const void* base, i64 index) {
    if constexpr (F16) {
      return widen<DType::f16>(vld1q_u16(static_cast<const std::uint16_t*>(base) + index));
    } else {
      return loadu(static_cast<const float*>(base) + index);
    }
  }
  using v8 = vf;
  static v8 zero8() { return zero(); }
  static v8 add8(v8 acc, vf e) { return add(acc, e); }
  static float hsum8(v8 v) { return hsum(v); }

  // Elementwise (simd/elementwise.h), as AVX2's: exp with x clamped to [-104, 89] and 2^n as two
  // exact factors; NaN restored at the end.
  static vf exp_clamp(vf x) { return max(min(x, set1(89.0f)), set1(-104.0f)); }
  static float32x4_t exp_scale4(float32x4_t p, float32x4_t n, float32x4_t x) {
    const int32x4_t ni = vcvtq_s32_f32(n);  // n is an integer
    const int32x4_t n1 = vshrq_n_s32(ni, 1);
    return keep_nan(vmulq_f32(vmulq_f32(p, pow2i(n1)), pow2i(vsubq_s32(ni, n1))), x);
  }
  static vf exp_scale(vf p, vf n, vf x) { return {exp_scale4(p.lo, n.lo, x.lo), exp_scale4(p.hi, n.hi, x.hi)}; }
  static vf erf_nan(vf e, vf x) { return {keep_nan(e.lo, x.lo), keep_nan(e.hi, x.hi)}; }
};

}  // namespace
}  // namespace vrt::kernels::neon
