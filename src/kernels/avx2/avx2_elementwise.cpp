// AVX2 + FMA elementwise kernels (kernels.h): argmax, RMSNorm, exact GELU, SiLU gate; the same
// math as avx512_elementwise.cpp at 8 lanes. exp: n = round(x / ln 2), r = x - n ln 2 (hi/lo),
// Cephes polynomial, and 2^n applied as two factors 2^(n/2) 2^(n - n/2), each a normal float for
// x in the clamped range [-104, 89], so overflow still gives inf and underflow 0 or a subnormal.
// erf: the Eigen/XLA rational approximation on [-4, 4]. Tails (n mod 8) use masked loads/stores.
#include "kernels/kernel_table.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "kernels/avx2/avx2_util.h"

namespace vrt::kernels::avx2 {

namespace {

inline __m256 pow2i(__m256i n) {  // 2^n for n in [-126, 127]
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
}

inline __m256 exp_ps(__m256 x) {
  // Clamp keeps both scale factors normal; NaN passes through max/min as the second operand
  // would not, so restore it at the end.
  const __m256 xc = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(89.0f)), _mm256_set1_ps(-104.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
  p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256 e = _mm256_mul_ps(_mm256_mul_ps(p, pow2i(n1)), pow2i(_mm256_sub_epi32(ni, n1)));
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  return _mm256_blendv_ps(e, x, nan);
}

inline __m256 erf_ps(__m256 x) {
  const __m256 v = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(4.0f)), _mm256_set1_ps(-4.0f));
  const __m256 v2 = _mm256_mul_ps(v, v);
  __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
  p = _mm256_fmadd_ps(p, v2, _mm256_set1_ps(2.77068142495902e-08f));
  p = _mm256_fmadd_ps(p, v2, _mm256_set1_ps(-2.10102402082508e-06f));
  p = _mm256_fmadd_ps(p, v2, _mm256_set1_ps(-5.69250639462346e-05f));
  p = _mm256_fmadd_ps(p, v2, _mm256_set1_ps(-7.34990630326855e-04f));
  p = _mm256_fmadd_ps(p, v2, _mm256_set1_ps(-2.95459980854025e-03f));
  p = _mm256_fmadd_ps(p, v2, _mm256_set1_ps(-1.60960333262415e-02f));
  __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
  q = _mm256_fmadd_ps(q, v2, _mm256_set1_ps(-2.13374055278905e-04f));
  q = _mm256_fmadd_ps(q, v2, _mm256_set1_ps(-1.68282697438203e-03f));
  q = _mm256_fmadd_ps(q, v2, _mm256_set1_ps(-7.37332916720468e-03f));
  q = _mm256_fmadd_ps(q, v2, _mm256_set1_ps(-1.42647390514189e-02f));
  const __m256 e = _mm256_div_ps(_mm256_mul_ps(v, p), q);
  const __m256 clamped =
      _mm256_max_ps(_mm256_min_ps(e, _mm256_set1_ps(1.0f)), _mm256_set1_ps(-1.0f));
  return _mm256_blendv_ps(clamped, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));  // NaN stays NaN
}

inline __m256 gelu_ps(__m256 x) {
  const __m256 e = erf_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x),
                       _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

inline __m256 silu_mul_ps(__m256 g, __m256 u) {
  const __m256 den =
      _mm256_add_ps(_mm256_set1_ps(1.0f), exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g)));
  return _mm256_mul_ps(_mm256_div_ps(g, den), u);
}

inline float hmax(__m256 v) {
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_max_ss(q, _mm_movehdup_ps(q)));
}

}  // namespace

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
  for (i64 row = 0; row < m; ++row) {
    const float* xi = x + row * n;
    float* yi = y + row * n;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    i64 c = 0;
    for (; c + 16 <= n; c += 16) {
      const __m256 a = _mm256_loadu_ps(xi + c), b = _mm256_loadu_ps(xi + c + 8);
      s0 = _mm256_fmadd_ps(a, a, s0);
      s1 = _mm256_fmadd_ps(b, b, s1);
    }
    for (; c < n; c += 8) {
      const __m256 a = _mm256_maskload_ps(xi + c, tail_mask(min_i64(8, n - c)));
      s0 = _mm256_fmadd_ps(a, a, s0);
    }
    const float ss = hsum(_mm256_add_ps(s0, s1));
    const float scale =
        1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(ss / static_cast<float>(n) + eps)));
    const __m256 sv = _mm256_set1_ps(scale);
    for (c = 0; c < n; c += 8) {
      const __m256i k = tail_mask(min_i64(8, n - c));
      const __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_maskload_ps(xi + c, k), sv),
                                     _mm256_maskload_ps(w + c, k));
      _mm256_maskstore_ps(yi + c, k, v);
    }
  }
}

void gelu(float* x, std::int64_t n) {
  i64 i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu_ps(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i k = tail_mask(n - i);
    _mm256_maskstore_ps(x + i, k, gelu_ps(_mm256_maskload_ps(x + i, k)));
  }
}

void silu_mul(const float* g, const float* u, float* out, std::int64_t n) {
  i64 i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, silu_mul_ps(_mm256_loadu_ps(g + i), _mm256_loadu_ps(u + i)));
  }
  if (i < n) {
    const __m256i k = tail_mask(n - i);
    _mm256_maskstore_ps(out + i, k,
                        silu_mul_ps(_mm256_maskload_ps(g + i, k), _mm256_maskload_ps(u + i, k)));
  }
}

}  // namespace vrt::kernels::avx2

#endif
