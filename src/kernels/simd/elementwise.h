// Elementwise kernels (kernels.h: RMSNorm, exact GELU, SiLU gate) and the vector exp / erf,
// written once over an ISA traits class T (see common.h); argmax stays per ISA.
//
// exp(x) = 2^n * p(r), n = round(x / ln 2), r = x - n ln 2 (ln 2 split hi/lo), p the Cephes expf
// minimax polynomial (|rel err| ~ 1 ulp); T::exp_clamp / T::exp_scale bound x and apply 2^n
// (vscalefps on AVX-512, two exact factors on AVX2). erf(x) = x P(x^2) / Q(x^2) on x clamped to
// [-4, 4] (the rational approximation of Eigen / XLA, a few ulp; erf(4) rounds to 1 in fp32).
// Column tails are masked.
#pragma once

#include "kernels/simd/common.h"

namespace vrt::kernels::simd {
namespace {

template <class T>
inline typename T::vf exp_ps(typename T::vf x) {
  using vf = typename T::vf;
  const vf xc = T::exp_clamp(x);
  const vf n = T::round_nearest(T::mul(xc, T::set1(1.44269504088896341f)));
  vf r = T::fnma(n, T::set1(0.693359375f), xc);
  r = T::fnma(n, T::set1(-2.12194440e-4f), r);
  vf p = T::set1(1.9875691500e-4f);
  p = T::fma(p, r, T::set1(1.3981999507e-3f));
  p = T::fma(p, r, T::set1(8.3334519073e-3f));
  p = T::fma(p, r, T::set1(4.1665795894e-2f));
  p = T::fma(p, r, T::set1(1.6666665459e-1f));
  p = T::fma(p, r, T::set1(5.0000001201e-1f));
  p = T::fma(p, T::mul(r, r), r);
  p = T::add(p, T::set1(1.0f));
  return T::exp_scale(p, n, x);
}

template <class T>
inline typename T::vf erf_ps(typename T::vf x) {
  using vf = typename T::vf;
  const vf v = T::max(T::min(x, T::set1(4.0f)), T::set1(-4.0f));
  const vf v2 = T::mul(v, v);
  vf p = T::set1(-2.72614225801306e-10f);
  p = T::fma(p, v2, T::set1(2.77068142495902e-08f));
  p = T::fma(p, v2, T::set1(-2.10102402082508e-06f));
  p = T::fma(p, v2, T::set1(-5.69250639462346e-05f));
  p = T::fma(p, v2, T::set1(-7.34990630326855e-04f));
  p = T::fma(p, v2, T::set1(-2.95459980854025e-03f));
  p = T::fma(p, v2, T::set1(-1.60960333262415e-02f));
  vf q = T::set1(-1.45660718464996e-05f);
  q = T::fma(q, v2, T::set1(-2.13374055278905e-04f));
  q = T::fma(q, v2, T::set1(-1.68282697438203e-03f));
  q = T::fma(q, v2, T::set1(-7.37332916720468e-03f));
  q = T::fma(q, v2, T::set1(-1.42647390514189e-02f));
  const vf e = T::div(T::mul(v, p), q);
  return T::erf_nan(T::max(T::min(e, T::set1(1.0f)), T::set1(-1.0f)), x);
}

template <class T>
inline typename T::vf gelu_ps(typename T::vf x) {
  const typename T::vf e = erf_ps<T>(T::mul(x, T::set1(0.70710678118654752f)));
  return T::mul(T::mul(T::set1(0.5f), x), T::add(T::set1(1.0f), e));
}

template <class T>
inline typename T::vf silu_mul_ps(typename T::vf g, typename T::vf u) {
  const typename T::vf den = T::add(T::set1(1.0f), exp_ps<T>(T::sub(T::zero(), g)));
  return T::mul(T::div(g, den), u);
}

// The sum of squares as kernels.h's 8-lane dot (T::hsum is that order's tree); T has 8 lanes
// (the AVX-512 table uses the AVX2 instance).
template <class T>
void rms_norm(const float* x, i64 m, i64 n, const float* w, float eps, float* y) {
  using vf = typename T::vf;
  constexpr int L = T::kLanes;
  static_assert(L == 8, "rms_norm: kernels.h's 8-lane sum");
  for (i64 row = 0; row < m; ++row) {
    const float* xi = x + row * n;
    float* yi = y + row * n;
    vf s = T::zero();
    i64 c = 0;
    for (; c + L <= n; c += L) {
      const vf a = T::loadu(xi + c);
      s = T::fma(a, a, s);
    }
    if (c < n) {
      const vf a = T::load_tail(xi + c, T::tail(n - c));
      s = T::fma(a, a, s);
    }
    const float ss = T::hsum(s);
    const float scale = 1.0f / T::sqrt_ss(ss / static_cast<float>(n) + eps);
    const vf sv = T::set1(scale);
    for (c = 0; c < n; c += L) {
      const typename T::Tail k = T::tail(min_i64(L, n - c));
      const vf v = T::mul(T::mul(T::load_tail(xi + c, k), sv), T::load_tail(w + c, k));
      T::store_tail(yi + c, k, v);
    }
  }
}

template <class T>
void gelu(float* x, i64 n) {
  constexpr int L = T::kLanes;
  i64 i = 0;
  for (; i + L <= n; i += L) T::storeu(x + i, gelu_ps<T>(T::loadu(x + i)));
  if (i < n) {
    const typename T::Tail k = T::tail(n - i);
    T::store_tail(x + i, k, gelu_ps<T>(T::load_tail(x + i, k)));
  }
}

template <class T>
void silu_mul(const float* g, const float* u, float* out, i64 n) {
  constexpr int L = T::kLanes;
  i64 i = 0;
  for (; i + L <= n; i += L) T::storeu(out + i, silu_mul_ps<T>(T::loadu(g + i), T::loadu(u + i)));
  if (i < n) {
    const typename T::Tail k = T::tail(n - i);
    T::store_tail(out + i, k, silu_mul_ps<T>(T::load_tail(g + i, k), T::load_tail(u + i, k)));
  }
}

}  // namespace
}  // namespace vrt::kernels::simd
