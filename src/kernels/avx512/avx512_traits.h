// The AVX-512 (F, BW, DQ, VL) traits of the ISA-generic kernels (../simd/*.h): 16 fp32 lanes
// per zmm, 32 zmm registers, mask-register tails. Included only by files built with the AVX-512
// flags; internal linkage. BF16 -> fp32 is a 16-bit left shift of the zero-extended bits; F16 ->
// fp32 is vcvtph2ps. Both are exact, so every path multiplies the checkpoint's exact weights.
#pragma once

#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__))
#error "avx512_traits.h needs -mavx512f -mavx512bw -mavx512dq -mavx512vl"
#endif

// GCC 12's AVX-512 headers initialize _mm512_undefined_*() results from themselves, which
// -W(maybe-)uninitialized reports inside inlined intrinsics (GCC bug 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

#include "kernels/avx2/avx2_traits.h"  // the 8-lane sums (kernels.h) and the shared AVX2 kernels
#include "kernels/kernel_table.h"
#include "kernels/simd/common.h"

namespace vrt::kernels::avx512 {
namespace {

using simd::i64;
using simd::max_i64;
using simd::min_i64;

inline __mmask16 tail_mask(i64 n) {  // lanes [0, n), n in [0, 16]
  return static_cast<__mmask16>((1u << n) - 1u);
}

inline __m512 widen_half(__m256i h, DType d) {
  return d == DType::bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16))
                          : _mm512_cvtph_ps(h);
}

// Horizontal max of 16 lanes (not _mm512_reduce_max_ps: GCC 12 warns inside it).
inline float hmax(__m512 v) {
  const __m256 h =
      _mm512_castps512_ps256(_mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2))));
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_max_ss(q, _mm_movehdup_ps(q)));
}

struct Avx512 {
  using vf = __m512;
  using Tail = __mmask16;  // lanes [0, n)
  static constexpr int kLanes = 16;

  // Float matmul tiles (simd/gemm.h; the small-m GEMV is the AVX2 one, kernels.h's 8 lanes).
  static constexpr int kMr = 12;          // GEMM: max x rows per tile (24 accumulators + 2 W + 1 broadcast)
  static constexpr int kPanel = 32;       // GEMM: W rows per panel (2 zmm)
  static constexpr i64 kKc = 512;         // GEMM: K block (columns): the x tile is 24 KiB, half of L1
  static constexpr i64 kBlockRows = 128;  // GEMM: W rows packed per block (multiple of kPanel): 256 KiB, L2
  static constexpr i64 kPrefetch = 16;    // GEMM: panel columns prefetched ahead (+3% measured)
  // Prefetch past the panel's end is harmless (prefetches never fault).
  static void prefetch_panel(const float* column) {
    _mm_prefetch(reinterpret_cast<const char*>(column + kPrefetch * kPanel), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(column + kPrefetch * kPanel + 16), _MM_HINT_T0);
  }

  static vf zero() { return _mm512_setzero_ps(); }
  static vf set1(float v) { return _mm512_set1_ps(v); }
  static vf loadu(const float* p) { return _mm512_loadu_ps(p); }
  static vf load(const float* p) { return _mm512_load_ps(p); }  // 64-byte aligned
  static void storeu(float* p, vf v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, vf v) { _mm512_store_ps(p, v); }
  static vf add(vf a, vf b) { return _mm512_add_ps(a, b); }
  static vf sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
  static vf mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
  static vf div(vf a, vf b) { return _mm512_div_ps(a, b); }
  static vf min(vf a, vf b) { return _mm512_min_ps(a, b); }  // NaN: returns b
  static vf max(vf a, vf b) { return _mm512_max_ps(a, b); }  // NaN: returns b
  static vf abs(vf v) { return _mm512_abs_ps(v); }
  static vf fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }    // a b + c
  static vf fnma(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a b
  static vf round_nearest(vf v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static float sqrt_ss(float v) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(v))); }
  static float hmax(vf v) { return avx512::hmax(v); }

  static Tail tail(i64 n) { return tail_mask(n); }
  static vf load_tail(const float* p, Tail k) { return _mm512_maskz_loadu_ps(k, p); }  // zeros above
  static void store_tail(float* p, Tail k, vf v) { _mm512_mask_storeu_ps(p, k, v); }

  static vf load_f16(const std::uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  // Weights [c, c + 16) of the row at p, as fp32.
  template <DType D>
  static vf load_w(const void* p, i64 c) {
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
  static vf load_w_tail(const void* p, i64 c, Tail k) {
    if constexpr (D == DType::f32) {
      return _mm512_maskz_loadu_ps(k, static_cast<const float*>(p) + c);
    } else {
      return widen_half(_mm256_maskz_loadu_epi16(k, static_cast<const std::uint16_t*>(p) + c), D);
    }
  }
  template <DType D>
  static vf load_w_part(const void* p, i64 c, Tail k) {  // GEMM packing: always masked
    return load_w_tail<D>(p, c, k);
  }

  // In-register 16x16 transpose: r[k] lane j -> r[j] lane k.
  static void transpose(vf (&r)[16]) {
    __m512 t[16];
    for (int p = 0; p < 8; ++p) {
      t[2 * p] = _mm512_unpacklo_ps(r[2 * p], r[2 * p + 1]);
      t[2 * p + 1] = _mm512_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    // u[4g + q], 128-bit lane L = rows 4g..4g+3 at column 4L + q.
    __m512 u[16];
    for (int g = 0; g < 4; ++g) {
      const __m512d t0 = _mm512_castps_pd(t[4 * g]), t1 = _mm512_castps_pd(t[4 * g + 1]);
      const __m512d t2 = _mm512_castps_pd(t[4 * g + 2]), t3 = _mm512_castps_pd(t[4 * g + 3]);
      u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
      u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
      u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
      u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    // Column 4L + q = lane L of u[q], u[4 + q], u[8 + q], u[12 + q]: a 4x4 transpose of lanes.
    for (int q = 0; q < 4; ++q) {
      const __m512 s0 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x44);
      const __m512 s1 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x44);
      const __m512 s2 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xEE);
      const __m512 s3 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xEE);
      r[q] = _mm512_shuffle_f32x4(s0, s1, 0x88);
      r[4 + q] = _mm512_shuffle_f32x4(s0, s1, 0xDD);
      r[8 + q] = _mm512_shuffle_f32x4(s2, s3, 0x88);
      r[12 + q] = _mm512_shuffle_f32x4(s2, s3, 0xDD);
    }
  }

  // Attention (simd/attention.h): rows per group of score chains, value accumulators (of 32
  // zmm); the softmax sum's 8 lanes are a ymm, a 16-lane vector added as its halves in order.
  static constexpr int kScoreRows = 8;
  static constexpr int kAccRegs = 16;
  template <bool F16>
  static vf load_kv(const void* base, i64 index) {  // 16 cache values as fp32 (f16: exact)
    if constexpr (F16) {
      return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::uint16_t*>(base) + index)));
    } else {
      return _mm512_loadu_ps(static_cast<const float*>(base) + index);
    }
  }
  using v8 = __m256;
  static v8 zero8() { return _mm256_setzero_ps(); }
  static v8 add8(v8 acc, vf e) {
    return _mm256_add_ps(_mm256_add_ps(acc, _mm512_castps512_ps256(e)), _mm512_extractf32x8_ps(e, 1));
  }
  static float hsum8(v8 v) { return avx2::hsum(v); }  // kernels.h's tree

  // Elementwise (simd/elementwise.h). exp: 2^n applied with vscalefps, so overflow gives inf
  // and underflow 0 without clamping. erf: no NaN fix-up (min/max turn NaN into 1; gelu(NaN)
  // is still NaN through the x factor).
  static vf exp_clamp(vf x) { return x; }
  static vf exp_scale(vf p, vf n, vf) { return _mm512_scalef_ps(p, n); }
  static vf erf_nan(vf e, vf) { return e; }
};

}  // namespace

// Entry points of the AVX-512 files (single-threaded, rows [r0, r1) of the output).
void gemm_rows(const MatmulArgs& a, i64 r0, i64 r1);                 // avx512_gemm.cpp, large m
void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out);  // avx512_convert.cpp

}  // namespace vrt::kernels::avx512
