// AVX2 packed-weight kernels (avx2_quant.cpp, avx2_quant_vnni.cpp): the quant traits of the
// generic tiles of ../simd/quant_tile.h (the Avx2 float traits plus integer dots) and the entry
// points.
//
// A 16-row block is two ymm (rows 0-7, 8-15). Integer dots, all exact:
// * AVX-VNNI: vpdpbusd (VEX), u8 x s8, with the -offset * sum(a) correction preloaded.
// * no VNNI, q4: vpmaddubsw(u, a) (two chunks added in int16: <= 4 * 15 * 127) + vpmaddwd(ones).
// * no VNNI, q8: signed w = u ^ 0x80, vpmaddubsw(|w|, vpsignb(a, w)) (pairs <= 32512), no
//   correction (u x a pairs could saturate int16).
// fp32 weights of column k: sign-extend the field (shift left, arithmetic shift right) of
// u ^ 0x80 (q8) or u ^ 0x88 (q4: each nibble n ^ 8 read as 4-bit two's complement is n - 8)
// and convert. Small tiles: 16 ymm registers.
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "kernels/avx2/avx2_traits.h"

namespace vrt::kernels::avx2 {
namespace {

template <bool Vnni>
struct QuantTraits256 : Avx2 {
  using vi = __m256i;
  static constexpr int kQ8Offset = Vnni ? 128 : 0;
  static constexpr int kMRMax = 4;
  static constexpr int kNRMax = 2;
  static constexpr std::int64_t kSmallM = 4;
  // Up to 16 rows (verification passes, streaming encoder steps) the row tiles split the raw
  // nibbles again from L1 rather than through a scratch panel (m = 5-8: 25-40% faster, no
  // VNNI, vrt_bench_kernels BM_QPass; 2 ymm x 4 rows of accumulators leave no room for more rows).
  static constexpr std::int64_t kUnpackM = 16;
  static constexpr int kMRLarge = 4;
  static constexpr int kNRLarge = 1;
  static int nr_small(std::int64_t m) { return m <= 1 ? 2 : 1; }
  static int nr_small_int8(std::int64_t m) { return nr_small(m); }

  static vi loadb(const std::uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void storeb(std::uint8_t* p, vi v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static vi bcast_i32(const void* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  static vi lo_nib(vi raw) { return _mm256_and_si256(raw, _mm256_set1_epi8(0x0f)); }
  static vi hi_nib(vi raw) { return _mm256_and_si256(_mm256_srli_epi16(raw, 4), _mm256_set1_epi8(0x0f)); }

  struct W8s {
    vi absw, w;
  };
  struct W8v {
    vi u;
  };
  using W8 = typename simd::Pick<Vnni, W8v, W8s>::type;
  static W8 prep8(vi raw) {
    if constexpr (Vnni) {
      return W8v{raw};
    } else {
      const vi w = _mm256_xor_si256(raw, _mm256_set1_epi8(static_cast<char>(0x80)));
      return W8s{_mm256_abs_epi8(w), w};
    }
  }
#if defined(__AVXVNNI__)
  // acc += u . a in place (as avx512_quant.h: GCC 12 copies the intrinsic's accumulator).
  static vi dpbusd(vi acc, vi u, vi a) {
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u), "x"(a));
    return acc;
  }
#endif
  static vi dot8(vi acc, const W8& w, vi a) {
#if defined(__AVXVNNI__)
    if constexpr (Vnni) return dpbusd(acc, w.u, a);
#endif
    if constexpr (!Vnni) {
      const vi p = _mm256_maddubs_epi16(w.absw, _mm256_sign_epi8(a, w.w));
      return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
    }
  }
  static vi dot4x2(vi acc, vi lo, vi alo, vi hi, vi ahi) {
#if defined(__AVXVNNI__)
    if constexpr (Vnni) return dpbusd(dpbusd(acc, lo, alo), hi, ahi);
#endif
    if constexpr (!Vnni) {
      const vi p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, alo), _mm256_maddubs_epi16(hi, ahi));
      return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
    }
  }

  static vf cvt(vi v) { return _mm256_cvtepi32_ps(v); }
  template <int L, int R>
  static vf field(vi w) {
    if constexpr (L == 0) {
      return _mm256_cvtepi32_ps(_mm256_srai_epi32(w, R));
    } else {
      return _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(w, L), R));
    }
  }
  static void cols_q8(vi raw, vf& c0, vf& c1, vf& c2, vf& c3) {
    const vi w = _mm256_xor_si256(raw, _mm256_set1_epi8(static_cast<char>(0x80)));
    c0 = field<24, 24>(w);
    c1 = field<16, 24>(w);
    c2 = field<8, 24>(w);
    c3 = field<0, 24>(w);
  }
  static void cols_q4(vi raw, vf& c0, vf& c1, vf& c2, vf& c3, vf& c4, vf& c5, vf& c6, vf& c7) {
    const vi w = _mm256_xor_si256(raw, _mm256_set1_epi8(static_cast<char>(0x88)));
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
  static vi cvt_i32(vf v) { return _mm256_cvtps_epi32(v); }  // round to nearest even
  static vi add_i32(vi a, vi b) { return _mm256_add_epi32(a, b); }
  static std::int32_t hsum_i32(vi v) {
    __m128i q = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    q = _mm_add_epi32(q, _mm_unpackhi_epi64(q, q));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 1));
    return _mm_cvtsi128_si32(q);
  }
  // The 32 int8 of q[0..3] (values in [-127, 127]) in order: saturating packs work per 128-bit
  // lane, so the dword order is fixed with a permute.
  static void store_i8(std::int8_t* p, const vi (&q)[4]) {
    const __m256i w01 = _mm256_packs_epi32(q[0], q[1]), w23 = _mm256_packs_epi32(q[2], q[3]);
    const __m256i b = _mm256_packs_epi16(w01, w23);
    const __m256i ordered = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), ordered);
  }
};

}  // namespace
}  // namespace vrt::kernels::avx2
#endif

namespace vrt::kernels {
namespace avx2 {
void qmatmul_f32_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);
void qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);
void quantize_acts(const float* x, std::int64_t m, std::int64_t ldx, std::int64_t cols, std::int8_t* a,
                   float* scale, std::int32_t* sums);
}  // namespace avx2
}  // namespace vrt::kernels
