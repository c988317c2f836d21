// AVX-512 elementwise kernels (kernels.h): argmax, RMSNorm, exact GELU, SiLU gate.
//
// exp(x) = 2^n * p(r), n = round(x / ln 2), r = x - n ln 2 (ln 2 split hi/lo), p the Cephes expf
// minimax polynomial (|rel err| ~ 1 ulp); 2^n applied with vscalefps, so overflow gives inf and
// underflow 0 without clamping. erf(x) = x P(x^2) / Q(x^2) on x clamped to [-4, 4] (the rational
// approximation of Eigen / XLA, a few ulp; erf(4) rounds to 1 in fp32). Column tails are
// masked. argmax is two passes (vector max ignoring NaN, then the first index equal to it).
#include "kernels/kernel_table.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#include "kernels/avx512/avx512_util.h"

namespace vrt::kernels::avx512 {

namespace {

inline __m512 erf_ps(__m512 x) {
  const __m512 v = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(4.0f)), _mm512_set1_ps(-4.0f));
  const __m512 v2 = _mm512_mul_ps(v, v);
  __m512 p = _mm512_set1_ps(-2.72614225801306e-10f);
  p = _mm512_fmadd_ps(p, v2, _mm512_set1_ps(2.77068142495902e-08f));
  p = _mm512_fmadd_ps(p, v2, _mm512_set1_ps(-2.10102402082508e-06f));
  p = _mm512_fmadd_ps(p, v2, _mm512_set1_ps(-5.69250639462346e-05f));
  p = _mm512_fmadd_ps(p, v2, _mm512_set1_ps(-7.34990630326855e-04f));
  p = _mm512_fmadd_ps(p, v2, _mm512_set1_ps(-2.95459980854025e-03f));
  p = _mm512_fmadd_ps(p, v2, _mm512_set1_ps(-1.60960333262415e-02f));
  __m512 q = _mm512_set1_ps(-1.45660718464996e-05f);
  q = _mm512_fmadd_ps(q, v2, _mm512_set1_ps(-2.13374055278905e-04f));
  q = _mm512_fmadd_ps(q, v2, _mm512_set1_ps(-1.68282697438203e-03f));
  q = _mm512_fmadd_ps(q, v2, _mm512_set1_ps(-7.37332916720468e-03f));
  q = _mm512_fmadd_ps(q, v2, _mm512_set1_ps(-1.42647390514189e-02f));
  const __m512 e = _mm512_div_ps(_mm512_mul_ps(v, p), q);
  return _mm512_max_ps(_mm512_min_ps(e, _mm512_set1_ps(1.0f)), _mm512_set1_ps(-1.0f));
}

inline __m512 gelu_ps(__m512 x) {
  const __m512 e = erf_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x),
                       _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

inline __m512 silu_mul_ps(__m512 g, __m512 u) {
  const __m512 den =
      _mm512_add_ps(_mm512_set1_ps(1.0f), exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g)));
  return _mm512_mul_ps(_mm512_div_ps(g, den), u);
}

}  // namespace

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

void rms_norm(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps, float* y) {
  for (i64 row = 0; row < m; ++row) {
    const float* xi = x + row * n;
    float* yi = y + row * n;
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    i64 c = 0;
    for (; c + 32 <= n; c += 32) {
      const __m512 a = _mm512_loadu_ps(xi + c);
      const __m512 b = _mm512_loadu_ps(xi + c + 16);
      s0 = _mm512_fmadd_ps(a, a, s0);
      s1 = _mm512_fmadd_ps(b, b, s1);
    }
    for (; c < n; c += 16) {
      const __m512 a = _mm512_maskz_loadu_ps(tail_mask(n - c < 16 ? n - c : 16), xi + c);
      s0 = _mm512_fmadd_ps(a, a, s0);
    }
    const float ss = hsum(_mm512_add_ps(s0, s1));
    const __m128 ms = _mm_set_ss(ss / static_cast<float>(n) + eps);
    const float scale = 1.0f / _mm_cvtss_f32(_mm_sqrt_ss(ms));
    const __m512 sv = _mm512_set1_ps(scale);
    for (c = 0; c < n; c += 16) {
      const __mmask16 k = tail_mask(n - c < 16 ? n - c : 16);
      const __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, xi + c), sv),
                                     _mm512_maskz_loadu_ps(k, w + c));
      _mm512_mask_storeu_ps(yi + c, k, v);
    }
  }
}

void gelu(float* x, std::int64_t n) {
  i64 i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, gelu_ps(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 k = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, k, gelu_ps(_mm512_maskz_loadu_ps(k, x + i)));
  }
}

void silu_mul(const float* g, const float* u, float* out, std::int64_t n) {
  i64 i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(out + i, silu_mul_ps(_mm512_loadu_ps(g + i), _mm512_loadu_ps(u + i)));
  }
  if (i < n) {
    const __mmask16 k = tail_mask(n - i);
    _mm512_mask_storeu_ps(
        out + i, k, silu_mul_ps(_mm512_maskz_loadu_ps(k, g + i), _mm512_maskz_loadu_ps(k, u + i)));
  }
}

}  // namespace vrt::kernels::avx512

#endif
