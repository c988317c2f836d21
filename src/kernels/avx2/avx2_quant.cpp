// AVX2 (no VNNI) packed-weight kernels: the generic tiles of ../avx512/quant_tile.h on
// QuantTraits256<false> (see avx2_quant.h), the fp32-activation kernels (shared with the
// avx2vnni table) and quantize_acts.
#include "kernels/avx2/avx2_quant.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "kernels/avx512/quant_tile.h"

namespace vrt::kernels::avx2 {

namespace {
using i64 = std::int64_t;

inline std::int32_t hsum_epi32(__m256i v) {
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  q = _mm_add_epi32(q, _mm_unpackhi_epi64(q, q));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 1));
  return _mm_cvtsi128_si32(q);
}

inline float hmax_ps(__m256 v) {  // no NaN lanes
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  q = _mm_max_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}
}  // namespace

void qmatmul_f32_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  quant_simd::qmatmul_f32_rows<QuantTraits256<false>>(a, r0, r1);
}

void qmatmul_int8_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  quant_simd::qmatmul_int8_rows<QuantTraits256<false>>(a, r0, r1);
}

// As avx512::quantize_acts (vmaxps(|x|, acc) skips NaN like fmax; clamp max then min; round to
// nearest even), 8 lanes at a time.
void quantize_acts(const float* x, i64 m, i64 ldx, i64 cols, std::int8_t* a, float* scale,
                   std::int32_t* sums) {
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (i64 i = 0; i < m; ++i) {
    const float* xi = x + i * ldx;
    __m256 mx[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (i64 c = 0; c < cols; c += 32) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) mx[k] = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xi + c + 8 * k), absmask), mx[k]);
    }
    const float amax = hmax_ps(_mm256_max_ps(_mm256_max_ps(mx[0], mx[1]), _mm256_max_ps(mx[2], mx[3])));
    const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    scale[i] = amax / 127.0f;
    const __m256 vinv = _mm256_set1_ps(inv);
    std::int8_t* ai = a + i * cols;
    std::int32_t* si = sums + i * (cols / kActSumCols);
    for (i64 c = 0; c < cols; c += 32) {
      __m256i q[4];
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(xi + c + 8 * k), vinv), lo), hi);
        q[k] = _mm256_cvtps_epi32(v);
      }
      // int32 -> int8 with saturating packs (values are in [-127, 127]); packs work per 128-bit
      // lane, so the dword order is fixed with a permute.
      const __m256i w01 = _mm256_packs_epi32(q[0], q[1]), w23 = _mm256_packs_epi32(q[2], q[3]);
      const __m256i b = _mm256_packs_epi16(w01, w23);
      const __m256i ordered = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(ai + c), ordered);
      si[c / kActSumCols] = hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
    }
  }
}

}  // namespace vrt::kernels::avx2
#endif
