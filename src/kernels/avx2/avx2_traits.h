// The AVX2 + FMA + F16C traits of the ISA-generic kernels (../simd/*.h): 8 fp32 lanes per ymm,
// 16 ymm registers. Included only by files built with -mavx2 -mfma -mf16c; internal linkage.
// BF16/F16/F32 weights load as exact fp32 lanes. AVX2 has no 16-bit masked loads, so a weight
// column tail goes through a zero-padded 8-element copy (hence Tail also keeps n).
#pragma once

#if !(defined(__AVX2__) && defined(__FMA__) && defined(__F16C__))
#error "avx2_traits.h needs -mavx2 -mfma -mf16c"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/simd/common.h"

namespace vrt::kernels::avx2 {
namespace {

using simd::i64;
using simd::max_i64;
using simd::min_i64;

inline __m256i tail_mask(i64 n) {  // lanes [0, n) all-ones, n in [0, 8]
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
}

// Lanes 0..3 = the sums of a, b, c, d.
inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

// ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)): kernels.h's 8-lane tree (as hsum4's).
inline float hsum(__m256 v) {
  const __m256 h = _mm256_hadd_ps(v, v);  // [v01 v23 v01 v23 | v45 v67 v45 v67]
  const __m256 h2 = _mm256_hadd_ps(h, h);
  return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(h2), _mm256_extractf128_ps(h2, 1)));
}

inline float hmax(__m256 v) {
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_max_ss(q, _mm_movehdup_ps(q)));
}

inline __m256 pow2i(__m256i n) {  // 2^n for n in [-126, 127]
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
}

struct Avx2 {
  using vf = __m256;
  static constexpr int kLanes = 8;
  struct Tail {  // lanes [0, n), n in [0, 8]
    __m256i k;
    i64 n;
  };

  // Float matmul tiles (simd/gemv.h, simd/gemm.h). GEMV: W rows per tile of MR x rows (MR * NR
  // accumulators + MR x vectors within 16 ymm).
  static constexpr int gemv_nr(int mr) { return mr == 1 ? 8 : mr == 2 ? 4 : mr == 3 ? 3 : 2; }
  static constexpr int kMr = 6;           // GEMM: max x rows per tile (12 accumulators of 16 ymm)
  static constexpr int kPanel = 16;       // GEMM: W rows per panel (2 ymm)
  static constexpr i64 kKc = 512;         // GEMM: K block
  static constexpr i64 kBlockRows = 128;  // GEMM: W rows packed per block
  static void prefetch_panel(const float*) {}  // no software prefetch (not measured faster)

  static vf zero() { return _mm256_setzero_ps(); }
  static vf set1(float v) { return _mm256_set1_ps(v); }
  static vf loadu(const float* p) { return _mm256_loadu_ps(p); }
  static vf load(const float* p) { return _mm256_load_ps(p); }  // 32-byte aligned
  static void storeu(float* p, vf v) { _mm256_storeu_ps(p, v); }
  static void store(float* p, vf v) { _mm256_store_ps(p, v); }
  static vf add(vf a, vf b) { return _mm256_add_ps(a, b); }
  static vf sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
  static vf mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
  static vf div(vf a, vf b) { return _mm256_div_ps(a, b); }
  static vf min(vf a, vf b) { return _mm256_min_ps(a, b); }  // NaN: returns b
  static vf max(vf a, vf b) { return _mm256_max_ps(a, b); }  // NaN: returns b
  static vf abs(vf v) { return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  static vf fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }    // a b + c
  static vf fnma(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a b
  static vf round_nearest(vf v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static float sqrt_ss(float v) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(v))); }
  static float hsum(vf v) { return avx2::hsum(v); }
  static float hmax(vf v) { return avx2::hmax(v); }

  static Tail tail(i64 n) { return Tail{tail_mask(n), n}; }
  static vf load_tail(const float* p, const Tail& t) { return _mm256_maskload_ps(p, t.k); }  // zeros above
  static void store_tail(float* p, const Tail& t, vf v) { _mm256_maskstore_ps(p, t.k, v); }

  static vf load_f16(const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  template <DType D>
  static vf widen(__m128i h) {
    if constexpr (D == DType::bf16) {
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    } else {
      return _mm256_cvtph_ps(h);
    }
  }
  // Weights [c, c + 8) of the row at p, as fp32.
  template <DType D>
  static vf load_w(const void* p, i64 c) {
    if constexpr (D == DType::f32) {
      return _mm256_loadu_ps(static_cast<const float*>(p) + c);
    } else {
      return widen<D>(_mm_loadu_si128(
          reinterpret_cast<const __m128i*>(static_cast<const std::uint16_t*>(p) + c)));
    }
  }
  // Weights [c, c + t.n) (t.n < 8), zeros above.
  template <DType D>
  static vf load_w_tail(const void* p, i64 c, const Tail& t) {
    if constexpr (D == DType::f32) {
      float buf[8] = {};
      std::memcpy(buf, static_cast<const float*>(p) + c, static_cast<std::size_t>(t.n) * 4);
      return _mm256_loadu_ps(buf);
    } else {
      std::uint16_t buf[8] = {};
      std::memcpy(buf, static_cast<const std::uint16_t*>(p) + c, static_cast<std::size_t>(t.n) * 2);
      return widen<D>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(buf)));
    }
  }
  // Weights [c, c + t.n), t.n <= 8 (GEMM packing): the full load when t.n = 8.
  template <DType D>
  static vf load_w_part(const void* p, i64 c, const Tail& t) {
    return t.n == kLanes ? load_w<D>(p, c) : load_w_tail<D>(p, c, t);
  }

  // Attention (simd/attention.h): rows per group of score chains (2 R accumulators + 2 key
  // vectors + a broadcast), value accumulators; the softmax sum's 8 lanes are one register.
  static constexpr int kScoreRows = 4;
  static constexpr int kAccRegs = 12;
  template <bool F16>
  static vf load_kv(const void* base, i64 index) {  // 8 cache values as fp32 (f16: exact)
    if constexpr (F16) {
      return load_f16(static_cast<const std::uint16_t*>(base) + index);
    } else {
      return _mm256_loadu_ps(static_cast<const float*>(base) + index);
    }
  }
  using v8 = __m256;
  static v8 zero8() { return _mm256_setzero_ps(); }
  static v8 add8(v8 acc, vf e) { return _mm256_add_ps(acc, e); }
  static float hsum8(v8 v) { return avx2::hsum(v); }

  // y[0..3] = the sums of a, b, c, d (+ bias[r .. r + 3] when bias != nullptr).
  static void store_sums4(float* y, vf a, vf b, vf c, vf d, const float* bias, i64 r) {
    __m128 s = hsum4(a, b, c, d);
    if (bias != nullptr) s = _mm_add_ps(s, _mm_loadu_ps(bias + r));
    _mm_storeu_ps(y, s);
  }

  // In-register 8x8 transpose: r[k] lane j -> r[j] lane k.
  static void transpose(vf (&r)[8]) {
    __m256 t[8], u[8];
    for (int p = 0; p < 4; ++p) {
      t[2 * p] = _mm256_unpacklo_ps(r[2 * p], r[2 * p + 1]);
      t[2 * p + 1] = _mm256_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    for (int g = 0; g < 2; ++g) {
      const __m256d t0 = _mm256_castps_pd(t[4 * g]), t1 = _mm256_castps_pd(t[4 * g + 1]);
      const __m256d t2 = _mm256_castps_pd(t[4 * g + 2]), t3 = _mm256_castps_pd(t[4 * g + 3]);
      u[4 * g + 0] = _mm256_castpd_ps(_mm256_unpacklo_pd(t0, t2));
      u[4 * g + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(t0, t2));
      u[4 * g + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(t1, t3));
      u[4 * g + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(t1, t3));
    }
    // u[4g + q], 128-bit lane L = rows 4g..4g+3 at column 4L + q.
    for (int q = 0; q < 4; ++q) {
      r[q] = _mm256_permute2f128_ps(u[q], u[4 + q], 0x20);
      r[4 + q] = _mm256_permute2f128_ps(u[q], u[4 + q], 0x31);
    }
  }

  // Elementwise (simd/elementwise.h). exp: x clamped to [-104, 89] and 2^n applied as two
  // factors 2^(n/2) 2^(n - n/2), each a normal float, so overflow still gives inf and underflow
  // 0 or a subnormal; NaN is restored at the end (max/min would replace it).
  static vf exp_clamp(vf x) { return _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(89.0f)), _mm256_set1_ps(-104.0f)); }
  static vf exp_scale(vf p, vf n, vf x) {
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256 e = _mm256_mul_ps(_mm256_mul_ps(p, pow2i(n1)), pow2i(_mm256_sub_epi32(ni, n1)));
    const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    return _mm256_blendv_ps(e, x, nan);
  }
  static vf erf_nan(vf e, vf x) { return _mm256_blendv_ps(e, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)); }  // NaN stays NaN
};

}  // namespace

void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out);  // avx2_matmul.cpp
void gemv_rows(const MatmulArgs& a, i64 r0, i64 r1);                 // avx2_matmul.cpp, m <= 16 (also the AVX-512 tables')
std::int64_t argmax(const float* x, std::int64_t n);                 // avx2_elementwise.cpp
void rms_norm(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps, float* y);  // also AVX-512's
void gelu(float* x, std::int64_t n);
void silu_mul(const float* g, const float* u, float* out, std::int64_t n);
void attend_rows(const AttendRowArgs* rows, int count);              // avx2_attention.cpp

}  // namespace vrt::kernels::avx2
