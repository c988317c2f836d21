// AVX2 + FMA elementwise kernels (kernels.h): argmax here; RMSNorm, exact GELU and the SiLU
// gate are ../simd/elementwise.h on the Avx2 traits (exp with x clamped to [-104, 89] and 2^n as
// two exact factors, see avx2_traits.h). Tails (n mod 8) use masked loads/stores.
#include "kernels/kernel_table.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX2__) && defined(__FMA__) && defined(__F16C__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/avx2/avx2_traits.h"
#include "kernels/simd/elementwise.h"

namespace vrt::kernels::avx2 {

std::int64_t argmax(const float* x, std::int64_t n) {
  const __m256 neg_inf = _mm256_set1_ps(-__builtin_inff());
  __m256 m0 = neg_inf, m1 = neg_inf;
  i64 i = 0;
  // max_ps returns its second operand when either is NaN: NaNs in x never win.
  for (; i + 16 <= n; i += 16) {
    m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
    m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
  }
  float best = hmax(_mm256_max_ps(m0, m1));
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  for (i = 0; i + 8 <= n; i += 8) {
    const int eq =
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), _mm256_set1_ps(best), _CMP_EQ_OQ));
    if (eq != 0) return i + __builtin_ctz(static_cast<unsigned>(eq));
  }
  for (; i < n; ++i) {
    if (x[i] == best) return i;
  }
  return 0;
}

void rms_norm(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps, float* y) {
  simd::rms_norm<Avx2>(x, m, n, w, eps, y);
}

void gelu(float* x, std::int64_t n) { simd::gelu<Avx2>(x, n); }

void silu_mul(const float* g, const float* u, float* out, std::int64_t n) { simd::silu_mul<Avx2>(g, u, out, n); }

}  // namespace vrt::kernels::avx2
