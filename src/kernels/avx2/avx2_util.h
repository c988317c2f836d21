// Helpers shared by the AVX2 kernel files (built with -mavx2 -mfma -mf16c only): loading 8
// BF16/F16/F32 weights as fp32 lanes (exact widening), tails, horizontal sums. AVX2 has no
// 16-bit masked loads, so column tails go through a zero-padded 8-element copy.
#pragma once

#if !(defined(__AVX2__) && defined(__FMA__) && defined(__F16C__))
#error "avx2_util.h needs -mavx2 -mfma -mf16c"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"

namespace vrt::kernels::avx2 {
namespace {

using i64 = std::int64_t;

inline i64 min_i64(i64 a, i64 b) { return a < b ? a : b; }
inline i64 max_i64(i64 a, i64 b) { return a > b ? a : b; }

template <DType D>
inline const void* w_row(const void* base, i64 row, i64 ld) {
  if constexpr (D == DType::f32) {
    return static_cast<const float*>(base) + row * ld;
  } else {
    return static_cast<const std::uint16_t*>(base) + row * ld;
  }
}

template <DType D>
inline __m256 widen(__m128i h) {
  if constexpr (D == DType::bf16) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  } else {
    return _mm256_cvtph_ps(h);
  }
}

// Weights [c, c + 8) of the row at p, as fp32.
template <DType D>
inline __m256 load_w(const void* p, i64 c) {
  if constexpr (D == DType::f32) {
    return _mm256_loadu_ps(static_cast<const float*>(p) + c);
  } else {
    return widen<D>(_mm_loadu_si128(
        reinterpret_cast<const __m128i*>(static_cast<const std::uint16_t*>(p) + c)));
  }
}

// Weights [c, c + n) (n < 8), zeros above.
template <DType D>
inline __m256 load_w_tail(const void* p, i64 c, i64 n) {
  if constexpr (D == DType::f32) {
    float buf[8] = {};
    std::memcpy(buf, static_cast<const float*>(p) + c, static_cast<std::size_t>(n) * 4);
    return _mm256_loadu_ps(buf);
  } else {
    std::uint16_t buf[8] = {};
    std::memcpy(buf, static_cast<const std::uint16_t*>(p) + c, static_cast<std::size_t>(n) * 2);
    return widen<D>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(buf)));
  }
}

inline __m256i tail_mask(i64 n) {  // lanes [0, n) all-ones, n in [0, 8]
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
}

// Lanes 0..3 = the sums of a, b, c, d.
inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

inline float hsum(__m256 v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

}  // namespace

void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out);  // avx2_matmul.cpp
std::int64_t argmax(const float* x, std::int64_t n);                 // avx2_elementwise.cpp
void rms_norm(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps, float* y);
void gelu(float* x, std::int64_t n);
void silu_mul(const float* g, const float* u, float* out, std::int64_t n);

}  // namespace vrt::kernels::avx2
