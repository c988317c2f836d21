// AVX-512 packed-weight kernels (avx512_quant.cpp, avx512_quant_vnni.cpp): the quant traits the
// generic tiles of ../simd/quant_tile.h run on (the Avx512 float traits plus integer dots), and
// the entry points the kernel tables use.
//
// Integer dot products (exact; quant.h sums are integers, so any exact method agrees bitwise):
// * VNNI: vpdpbusd, stored unsigned u (u8) x activation a (s8), then the -offset * sum(a)
//   correction preloaded into the accumulator (from the per-32-column activation sums).
// * no VNNI, q4: vpmaddubsw(u, a) (pairs <= 15 * 127 * 2, two chunks added in int16 stay
//   < 32767) then vpmaddwd with ones; same offset correction.
// * no VNNI, q8: u x a pairs would saturate int16 (255 * 127 * 2), so signed weights w = u ^
//   0x80: vpmaddubsw(|w|, a negated where w < 0) (pairs <= 128 * 127 * 2 = 32512), no correction.
// fp32 weights of one column for the 16 rows of a chunk: q8 sign-extends byte k of w = u ^ 0x80
// (shift left, arithmetic shift right) and converts; q4 looks the nibble up in a 16-entry table
// of float(n - 8) with vpermps (which reads only the low 4 bits of each index).
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#include "kernels/avx512/avx512_traits.h"

#include <cstring>

namespace vrt::kernels::avx512 {
namespace {

template <bool Vnni>
struct QuantTraits512 : Avx512 {
  using vi = __m512i;
  static constexpr int kQ8Offset = Vnni ? 128 : 0;
  static constexpr int kMRMax = 8;
  static constexpr int kNRMax = 4;
  static constexpr std::int64_t kSmallM = 8;  // up to here: one x-row tile, W read once
  static constexpr int kMRLarge = 6;          // 6 x 2 tiles: 12 int32 + 12 fp32 accumulators
  static constexpr int kNRLarge = 2;
  static int nr_small(std::int64_t m) { return m <= 2 ? 4 : (m <= 4 ? 2 : 1); }
  // int8, m = 5..8: 2 blocks per tile so each activation broadcast (a load) feeds 2 vpdpbusd;
  // the fp32 accumulators spill, but are touched only at group ends.
  static int nr_small_int8(std::int64_t m) { return m <= 2 ? 4 : 2; }

  static vi loadb(const std::uint8_t* p) { return _mm512_loadu_si512(p); }
  static void storeb(std::uint8_t* p, vi v) { _mm512_storeu_si512(p, v); }
  static vi bcast_i32(const void* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static vi lo_nib(vi raw) { return _mm512_and_si512(raw, _mm512_set1_epi8(0x0f)); }
  static vi hi_nib(vi raw) { return _mm512_and_si512(_mm512_srli_epi16(raw, 4), _mm512_set1_epi8(0x0f)); }

  struct W8s {
    vi absw;
    __mmask64 neg;
  };
  struct W8v {
    vi u;
  };
  using W8 = typename simd::Pick<Vnni, W8v, W8s>::type;
  static W8 prep8(vi raw) {
    if constexpr (Vnni) {
      return W8v{raw};
    } else {
      const vi w = _mm512_xor_si512(raw, _mm512_set1_epi8(static_cast<char>(0x80)));
      return W8s{_mm512_abs_epi8(w), _mm512_movepi8_mask(w)};
    }
  }
#if defined(__AVX512VNNI__)
  // acc += u . a in place: GCC 12 ties the intrinsic's accumulator badly (two zmm copies per
  // vpdpbusd in the tiles), so the instruction is spelled out.
  static vi dpbusd(vi acc, vi u, vi a) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(a));
    return acc;
  }
#endif
  static vi dot8(vi acc, const W8& w, vi a) {
#if defined(__AVX512VNNI__)
    if constexpr (Vnni) return dpbusd(acc, w.u, a);
#endif
    if constexpr (!Vnni) {
      const vi as = _mm512_mask_sub_epi8(a, w.neg, _mm512_setzero_si512(), a);
      return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(w.absw, as), _mm512_set1_epi16(1)));
    }
  }
  static vi dot4x2(vi acc, vi lo, vi alo, vi hi, vi ahi) {
#if defined(__AVX512VNNI__)
    if constexpr (Vnni) return dpbusd(dpbusd(acc, lo, alo), hi, ahi);
#endif
    if constexpr (!Vnni) {
      const vi p = _mm512_add_epi16(_mm512_maddubs_epi16(lo, alo), _mm512_maddubs_epi16(hi, ahi));
      return _mm512_add_epi32(acc, _mm512_madd_epi16(p, _mm512_set1_epi16(1)));
    }
  }

  static vf cvt(vi v) { return _mm512_cvtepi32_ps(v); }
  static void cols_q8(vi raw, vf& c0, vf& c1, vf& c2, vf& c3) {
    const vi w = _mm512_xor_si512(raw, _mm512_set1_epi8(static_cast<char>(0x80)));
    c0 = _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(w, 24), 24));
    c1 = _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(w, 16), 24));
    c2 = _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(w, 8), 24));
    c3 = _mm512_cvtepi32_ps(_mm512_srai_epi32(w, 24));
  }
  static void cols_q4(vi raw, vf& c0, vf& c1, vf& c2, vf& c3, vf& c4, vf& c5, vf& c6, vf& c7) {
    const vf tab = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
    c0 = _mm512_permutexvar_ps(raw, tab);
    c1 = _mm512_permutexvar_ps(_mm512_srli_epi32(raw, 8), tab);
    c2 = _mm512_permutexvar_ps(_mm512_srli_epi32(raw, 16), tab);
    c3 = _mm512_permutexvar_ps(_mm512_srli_epi32(raw, 24), tab);
    c4 = _mm512_permutexvar_ps(_mm512_srli_epi32(raw, 4), tab);
    c5 = _mm512_permutexvar_ps(_mm512_srli_epi32(raw, 12), tab);
    c6 = _mm512_permutexvar_ps(_mm512_srli_epi32(raw, 20), tab);
    c7 = _mm512_permutexvar_ps(_mm512_srli_epi32(raw, 28), tab);
  }

  // Activation quantization (simd::quantize_acts).
  static vi cvt_i32(vf v) { return _mm512_cvtps_epi32(v); }  // round to nearest even
  static vi add_i32(vi a, vi b) { return _mm512_add_epi32(a, b); }
  static std::int32_t hsum_i32(vi v) {
    __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    q = _mm_add_epi32(q, _mm_unpackhi_epi64(q, q));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 1));
    return _mm_cvtsi128_si32(q);
  }
  static void store_i8(std::int8_t* p, const vi (&q)[2]) {  // values in [-127, 127]
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(q[0]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 16), _mm512_cvtepi32_epi8(q[1]));
  }
};

}  // namespace
}  // namespace vrt::kernels::avx512
#endif

namespace vrt::kernels {
namespace avx512 {
void qmatmul_f32_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);
void qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);
void quantize_acts(const float* x, std::int64_t m, std::int64_t ldx, std::int64_t cols, std::int8_t* a,
                   float* scale, std::int32_t* sums);
}  // namespace avx512
}  // namespace vrt::kernels
