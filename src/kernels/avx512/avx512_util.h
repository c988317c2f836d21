// Helpers shared by the AVX-512 kernel files (included only by files built with the AVX-512
// flags): tail masks, loading 16 BF16/F16/F32 weights as fp32 lanes, horizontal sums.
// BF16 -> fp32 is a 16-bit left shift of the zero-extended bits; F16 -> fp32 is vcvtph2ps.
// Both are exact, so every path multiplies the checkpoint's exact weight values.
#pragma once

#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__))
#error "avx512_util.h needs -mavx512f -mavx512bw -mavx512dq -mavx512vl"
#endif

// GCC 12's AVX-512 headers initialize _mm512_undefined_*() results from themselves, which
// -W(maybe-)uninitialized reports inside inlined intrinsics (GCC bug 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

#include "kernels/kernel_table.h"

namespace vrt::kernels::avx512 {
namespace {

using i64 = std::int64_t;

inline i64 min_i64(i64 a, i64 b) { return a < b ? a : b; }
inline i64 max_i64(i64 a, i64 b) { return a > b ? a : b; }

inline __mmask16 tail_mask(i64 n) {  // lanes [0, n), n in [0, 16]
  return static_cast<__mmask16>((1u << n) - 1u);
}

template <DType D>
inline const void* w_row(const void* base, i64 row, i64 ld) {
  if constexpr (D == DType::f32) {
    return static_cast<const float*>(base) + row * ld;
  } else {
    return static_cast<const std::uint16_t*>(base) + row * ld;
  }
}

inline __m512 widen_half(__m256i h, DType d) {
  return d == DType::bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16))
                          : _mm512_cvtph_ps(h);
}

// Weights [c, c + 16) of the row at p, as fp32.
template <DType D>
inline __m512 load_w(const void* p, i64 c) {
  if constexpr (D == DType::f32) {
    return _mm512_loadu_ps(static_cast<const float*>(p) + c);
  } else {
    return widen_half(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                          static_cast<const std::uint16_t*>(p) + c)),
                      D);
  }
}

// Same, reading only the lanes in k (the others are 0).
template <DType D>
inline __m512 load_w_tail(const void* p, i64 c, __mmask16 k) {
  if constexpr (D == DType::f32) {
    return _mm512_maskz_loadu_ps(k, static_cast<const float*>(p) + c);
  } else {
    return widen_half(_mm256_maskz_loadu_epi16(k, static_cast<const std::uint16_t*>(p) + c), D);
  }
}

// Lanes 0..3 = the sums of a, b, c, d.
inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  // Per 128-bit lane: ab = [a0+a2, b0+b2, a1+a3, b1+b3]; pairing 64-bit halves gives [a b c d].
  const __m512 abcd = _mm512_add_ps(
      _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))),
      _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))));
  const __m256 h = _mm512_castps512_ps256(
      _mm512_add_ps(abcd, _mm512_shuffle_f32x4(abcd, abcd, _MM_SHUFFLE(1, 0, 3, 2))));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// Sum of the 16 lanes (not _mm512_reduce_add_ps, see the pragma above).
inline float hsum(__m512 v) {
  const __m256 h =
      _mm512_castps512_ps256(_mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2))));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// Horizontal max of 16 lanes (not _mm512_reduce_max_ps: GCC 12 warns inside it).
inline float hmax(__m512 v) {
  const __m256 h =
      _mm512_castps512_ps256(_mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2))));
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_max_ss(q, _mm_movehdup_ps(q)));
}

// exp(x) = 2^n * p(r), n = round(x / ln 2), r = x - n ln 2 (ln 2 split hi/lo), p the Cephes expf
// minimax polynomial (|rel err| ~ 1 ulp); 2^n applied with vscalefps, so overflow gives inf and
// underflow 0 without clamping.
inline __m512 exp_ps(__m512 x) {
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
  p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

}  // namespace

// Entry points of the AVX-512 files (single-threaded, rows [r0, r1) of the output).
void gemv_rows(const MatmulArgs& a, i64 r0, i64 r1);                 // avx512_gemv.cpp, small m
void gemm_rows(const MatmulArgs& a, i64 r0, i64 r1);                 // avx512_gemm.cpp, large m
void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out);  // avx512_gemv.cpp

}  // namespace vrt::kernels::avx512
