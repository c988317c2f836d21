// AVX-512 (no VNNI) packed-weight kernels: the generic tiles of quant_tile.h on
// QuantTraits512<false> (vpmaddubsw + vpmaddwd int8 dot, see avx512_quant.h), the fp32-activation
// kernels (shared by the avx512vnni table: they do not use integer dots), and quantize_acts.
#include "kernels/avx512/avx512_quant.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#include "kernels/avx512/quant_tile.h"

namespace vrt::kernels::avx512 {

namespace {
using i64 = std::int64_t;

inline std::int32_t hsum_epi32(__m512i v) {
  __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  q = _mm_add_epi32(q, _mm_unpackhi_epi64(q, q));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 1));
  return _mm_cvtsi128_si32(q);
}

inline float hmax_ps(__m512 v) {  // no NaN lanes
  __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  q = _mm_max_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}
}  // namespace

void qmatmul_f32_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  quant_simd::qmatmul_f32_rows<QuantTraits512<false>>(a, r0, r1);
}

void qmatmul_int8_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  quant_simd::qmatmul_int8_rows<QuantTraits512<false>>(a, r0, r1);
}

// quant.h's activation quantization. amax: vmaxps(|x|, acc) returns acc when |x| is NaN, as
// fmax ignores NaN (max is exact, so the order does not matter). The clamp is max(v, -127)
// first (NaN -> -127), then min; vcvtps2dq rounds to nearest even like nearbyint.
void quantize_acts(const float* x, i64 m, i64 ldx, i64 cols, std::int8_t* a, float* scale,
                   std::int32_t* sums) {
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (i64 i = 0; i < m; ++i) {
    const float* xi = x + i * ldx;
    __m512 m0 = _mm512_setzero_ps(), m1 = m0;
    for (i64 c = 0; c < cols; c += 32) {
      m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(xi + c)), m0);
      m1 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(xi + c + 16)), m1);
    }
    const float amax = hmax_ps(_mm512_max_ps(m0, m1));
    const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    scale[i] = amax / 127.0f;
    const __m512 vinv = _mm512_set1_ps(inv);
    std::int8_t* ai = a + i * cols;
    std::int32_t* si = sums + i * (cols / kActSumCols);
    for (i64 c = 0; c < cols; c += 32) {
      const __m512 v0 = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_loadu_ps(xi + c), vinv), lo), hi);
      const __m512 v1 = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_loadu_ps(xi + c + 16), vinv), lo), hi);
      const __m512i q0 = _mm512_cvtps_epi32(v0), q1 = _mm512_cvtps_epi32(v1);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(ai + c), _mm512_cvtepi32_epi8(q0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(ai + c + 16), _mm512_cvtepi32_epi8(q1));
      si[c / kActSumCols] = hsum_epi32(_mm512_add_epi32(q0, q1));
    }
  }
}

}  // namespace vrt::kernels::avx512
#endif
