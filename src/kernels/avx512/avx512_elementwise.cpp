// AVX-512 elementwise kernels (kernels.h): argmax here, two passes (vector max ignoring NaN,
// then the first index equal to it); exact GELU and the SiLU gate are ../simd/elementwise.h on
// the Avx512 traits (exp's 2^n with vscalefps). Column tails are masked. (RMSNorm is the AVX2
// one: kernels.h's 8-lane sum.)
#include "kernels/kernel_table.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/avx512/avx512_traits.h"
#include "kernels/simd/elementwise.h"

namespace vrt::kernels::avx512 {

std::int64_t argmax(const float* x, std::int64_t n) {
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  __m512 m0 = neg_inf, m1 = neg_inf;
  i64 i = 0;
  // max_ps returns its second operand when either is NaN: NaNs in x never win.
  for (; i + 32 <= n; i += 32) {
    m0 = _mm512_max_ps(_mm512_loadu_ps(x + i), m0);
    m1 = _mm512_max_ps(_mm512_loadu_ps(x + i + 16), m1);
  }
  for (; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i < 16 ? n - i : 16);
    m0 = _mm512_max_ps(_mm512_mask_loadu_ps(neg_inf, k, x + i), m0);
  }
  const float best = hmax(_mm512_max_ps(m0, m1));
  // First index holding the maximum (-inf when x is all -inf/NaN: the first -inf, or 0).
  const __m512 bv = _mm512_set1_ps(best);
  for (i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i < 16 ? n - i : 16);
    const __mmask16 eq =
        _mm512_mask_cmp_ps_mask(k, _mm512_maskz_loadu_ps(k, x + i), bv, _CMP_EQ_OQ);
    if (eq != 0) return i + __builtin_ctz(eq);
  }
  return 0;
}

void gelu(float* x, std::int64_t n) { simd::gelu<Avx512>(x, n); }

void silu_mul(const float* g, const float* u, float* out, std::int64_t n) { simd::silu_mul<Avx512>(g, u, out, n); }

}  // namespace vrt::kernels::avx512
