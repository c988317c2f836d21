// NEON packed-weight kernels (neon_quant.cpp, neon_quant_dotprod.cpp): the quant traits of the
// generic tiles of ../simd/quant_tile.h (the Neon float traits plus integer dots) and the entry
// points.
//
// A 16-row block is four q registers (rows 0-3, 4-7, 8-11, 12-15); 32-bit lane j of a chunk's
// register holds the 4 (q8) or 8 (q4) columns of one row, the layout SDOT reads. Integer dots,
// all exact, no offset correction for q8 (signed w = u ^ 0x80, kQ8Offset = 0); q4 nibbles
// (0..15) are signed-safe and use the -8 * sum(a) correction:
// * dotprod (ARMv8.2 FEAT_DotProd): SDOT w . a per 32-bit lane.
// * i8mm (FEAT_I8MM, neon_quant_i8mm.cpp, its own tiles for m >= 2): SMMLA on operands zipped
//   from these lanes (2 W rows x 8 columns).
// * plain NEON (ARMv8.0): SMULL / SMULL2 (|w a| <= 16129 fits int16; q4: lo and hi products
//   added in int16, <= 2 * 15 * 127), then pairwise widening adds to the 4 lane sums.
// fp32 weights of column k: the field of u ^ 0x80 (q8) or u ^ 0x88 (q4) sign-extended with a
// left then arithmetic right shift, converted (as avx2_quant.h).
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"

#if defined(__aarch64__)
#include "kernels/neon/neon_traits.h"

namespace vrt::kernels::neon {
namespace {

template <bool Dot>
struct QuantTraits128 : Neon {
  using vi = int32x4_t;
  static constexpr int kQ8Offset = 0;
  static constexpr int kMRMax = 4;
  static constexpr int kNRMax = 2;
  static constexpr std::int64_t kSmallM = 4;
  static constexpr int kMRLarge = 4;
  static constexpr int kNRLarge = 1;
  static int nr_small(std::int64_t m) { return m <= 1 ? 2 : 1; }
  static int nr_small_int8(std::int64_t m) { return nr_small(m); }

  static vi loadb(const std::uint8_t* p) { return vreinterpretq_s32_u8(vld1q_u8(p)); }
  static void storeb(std::uint8_t* p, vi v) { vst1q_u8(p, vreinterpretq_u8_s32(v)); }
  static vi bcast_i32(const void* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return vdupq_n_s32(v);
  }
  static vi lo_nib(vi raw) { return vreinterpretq_s32_u8(vandq_u8(vreinterpretq_u8_s32(raw), vdupq_n_u8(0x0f))); }
  static vi hi_nib(vi raw) { return vreinterpretq_s32_u8(vshrq_n_u8(vreinterpretq_u8_s32(raw), 4)); }

  using W8 = vi;  // signed weights w = u - 128
  static W8 prep8(vi raw) { return vreinterpretq_s32_u8(veorq_u8(vreinterpretq_u8_s32(raw), vdupq_n_u8(0x80))); }

  // acc + the sums of the 4 byte products of each 32-bit lane of w and a (signed x signed).
  static vi dot(vi acc, vi w, vi a) {
    const int8x16_t w8 = vreinterpretq_s8_s32(w), a8 = vreinterpretq_s8_s32(a);
    if constexpr (Dot) {
#if defined(__ARM_FEATURE_DOTPROD)
      return vdotq_s32(acc, w8, a8);
#else
      static_assert(!Dot, "QuantTraits128<true> needs FEAT_DotProd (-march=armv8.2-a+dotprod)");
#endif
    } else {
      const int16x8_t p0 = vmull_s8(vget_low_s8(w8), vget_low_s8(a8));
      const int16x8_t p1 = vmull_high_s8(w8, a8);
      return vaddq_s32(acc, vpaddq_s32(vpaddlq_s16(p0), vpaddlq_s16(p1)));
    }
  }
  static vi dot8(vi acc, const W8& w, vi a) { return dot(acc, w, a); }
  static vi dot4x2(vi acc, vi lo, vi alo, vi hi, vi ahi) {
    if constexpr (Dot) {
      return dot(dot(acc, lo, alo), hi, ahi);
    } else {
      const int8x16_t l = vreinterpretq_s8_s32(lo), al = vreinterpretq_s8_s32(alo);
      const int8x16_t h = vreinterpretq_s8_s32(hi), ah = vreinterpretq_s8_s32(ahi);
      const int16x8_t p0 = vmlal_s8(vmull_s8(vget_low_s8(l), vget_low_s8(al)), vget_low_s8(h), vget_low_s8(ah));
      const int16x8_t p1 = vmlal_high_s8(vmull_high_s8(l, al), h, ah);
      return vaddq_s32(acc, vpaddq_s32(vpaddlq_s16(p0), vpaddlq_s16(p1)));
    }
  }

  static vf cvt(vi v) { return vcvtq_f32_s32(v); }  // round to nearest even, as cvtdq2ps
  template <int L, int R>
  static vf field(vi w) {
    if constexpr (L == 0) {
      return vcvtq_f32_s32(vshrq_n_s32(w, R));
    } else {
      return vcvtq_f32_s32(vshrq_n_s32(vshlq_n_s32(w, L), R));
    }
  }
  static void cols_q8(vi raw, vf& c0, vf& c1, vf& c2, vf& c3) {
    const vi w = vreinterpretq_s32_u8(veorq_u8(vreinterpretq_u8_s32(raw), vdupq_n_u8(0x80)));
    c0 = field<24, 24>(w);
    c1 = field<16, 24>(w);
    c2 = field<8, 24>(w);
    c3 = field<0, 24>(w);
  }
  static void cols_q4(vi raw, vf& c0, vf& c1, vf& c2, vf& c3, vf& c4, vf& c5, vf& c6, vf& c7) {
    const vi w = vreinterpretq_s32_u8(veorq_u8(vreinterpretq_u8_s32(raw), vdupq_n_u8(0x88)));
    c0 = field<28, 28>(w);
    c1 = field<20, 28>(w);
    c2 = field<12, 28>(w);
    c3 = field<4, 28>(w);
    c4 = field<24, 28>(w);
    c5 = field<16, 28>(w);
    c6 = field<8, 28>(w);
    c7 = field<0, 28>(w);
  }

  // Activation quantization (simd::quantize_acts).
  static vi cvt_i32(vf v) { return vcvtnq_s32_f32(v); }  // round to nearest even
  static vi add_i32(vi a, vi b) { return vaddq_s32(a, b); }
  static std::int32_t hsum_i32(vi v) { return vaddvq_s32(v); }
  // The 32 int8 of q[0..7] (values in [-127, 127]) in order.
  static void store_i8(std::int8_t* p, const vi (&q)[8]) {
    for (int k = 0; k < 8; k += 4) {
      const int16x8_t a = vcombine_s16(vmovn_s32(q[k]), vmovn_s32(q[k + 1]));
      const int16x8_t b = vcombine_s16(vmovn_s32(q[k + 2]), vmovn_s32(q[k + 3]));
      vst1q_s8(p + 4 * k, vcombine_s8(vmovn_s16(a), vmovn_s16(b)));
    }
  }
};

}  // namespace
}  // namespace vrt::kernels::neon
#endif

namespace vrt::kernels {
namespace neon {
void qmatmul_f32_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);
void qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);
void quantize_acts(const float* x, std::int64_t m, std::int64_t ldx, std::int64_t cols, std::int8_t* a,
                   float* scale, std::int32_t* sums);
// The float kernels (neon_elementwise.cpp, neon_attention.cpp; the table: neon_matmul.cpp).
std::int64_t argmax(const float* x, std::int64_t n);
void rms_norm(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps, float* y);
void gelu(float* x, std::int64_t n);
void silu_mul(const float* g, const float* u, float* out, std::int64_t n);
void attend_rows(const AttendRowArgs* rows, int count);
}  // namespace neon
}  // namespace vrt::kernels
