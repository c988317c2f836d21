// AVX-512 matmul y[i, r] = sum_c x[i, c] * W[r, c] (+ bias[r]) over BF16/F16/F32 weights, fp32
// FMA accumulation (kernels.h). Both operands are contiguous along c, so the tiles are
// dot-product shaped: a tile of MR x rows by NR W rows keeps MR*NR zmm accumulators of 16 lanes
// (lane l holds the terms c = l mod 16), loads MR + NR vectors per 16 columns, and reduces each
// accumulator horizontally once at the end. Column tails use masked loads (zeros add nothing).
//
// Two paths, chosen by m:
//  * GEMV (m <= kGemvMaxM, the decoder step): memory bound. W is converted to fp32 in registers
//    as it streams (bf16 << 16, vcvtph2ps), never stored; 8 W rows at a time for m = 1 (8
//    independent FMA chains and 8 prefetch streams), 4 for m = 2..4.
//  * GEMM (the encoder, prefill): compute bound. A block of kBlockRows W rows x KC columns is
//    converted once into per-thread scratch (f32 weights are used in place) and reused by every
//    6-row x tile; the 6x4 tile does 24 FMAs per 10 loads. KC <= kMaxKc keeps the 6 x rows
//    (24 KiB) in L1 while W tiles stream from the L2-resident block; with several K blocks the
//    partial sums are added into y.
// Summation order differs from ref (16 lanes, K blocks) but the error bound is the same:
// |err| <= cols * 2^-24 * sum_c |x w| to first order.
#include "kernels/kernel_table.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
// GCC 12's AVX-512 headers initialize _mm512_undefined_*() results from themselves, which
// -W(maybe-)uninitialized reports inside inlined intrinsics (GCC bug 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

namespace vrt::kernels {
namespace avx512 {
namespace {

using i64 = std::int64_t;

constexpr i64 kGemvMaxM = 4;
#ifndef VRT_KC
#define VRT_KC 1024
#endif
constexpr i64 kMaxKc = VRT_KC;    // GEMM: columns per K block
#ifndef VRT_MR
#define VRT_MR 6
#endif
constexpr int kMr = VRT_MR;          // GEMM tile: x rows
#ifndef VRT_NR
#define VRT_NR 4
#endif
constexpr int kNr = VRT_NR;          // GEMM tile: W rows
constexpr i64 kBlockRows = 16 * VRT_NR;  // GEMM: W rows converted per block (multiple of kNr)

inline i64 min_i64(i64 a, i64 b) { return a < b ? a : b; }

inline __mmask16 tail_mask(i64 n) {  // lanes [0, n), n in [0, 16]
  return static_cast<__mmask16>((1u << n) - 1u);
}

// 16 weights starting at p (fp32 lanes); masked variants read only the first lanes.
template <DType D>
inline __m512 load_w(const void* p, i64 c) {
  if constexpr (D == DType::f32) {
    return _mm512_loadu_ps(static_cast<const float*>(p) + c);
  } else {
    const __m256i h =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::uint16_t*>(p) + c));
    if constexpr (D == DType::bf16) {
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    } else {
      return _mm512_cvtph_ps(h);
    }
  }
}

template <DType D>
inline __m512 load_w_tail(const void* p, i64 c, __mmask16 k) {
  if constexpr (D == DType::f32) {
    return _mm512_maskz_loadu_ps(k, static_cast<const float*>(p) + c);
  } else {
    const __m256i h = _mm256_maskz_loadu_epi16(k, static_cast<const std::uint16_t*>(p) + c);
    if constexpr (D == DType::bf16) {
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    } else {
      return _mm512_cvtph_ps(h);
    }
  }
}

template <DType D>
inline const void* w_row(const void* base, i64 row, i64 ld) {
  if constexpr (D == DType::f32) {
    return static_cast<const float*>(base) + row * ld;
  } else {
    return static_cast<const std::uint16_t*>(base) + row * ld;
  }
}

// Horizontal sums of four accumulators: lanes 0..3 of the result = sum(a), sum(b), sum(c), sum(d).
inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  // Per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3] style pairs; combine into [a, b, c, d].
  const __m512 abcd = _mm512_add_ps(
      _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))),
      _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))));
  const __m256 h = _mm512_castps512_ps256(
      _mm512_add_ps(abcd, _mm512_shuffle_f32x4(abcd, abcd, _MM_SHUFFLE(1, 0, 3, 2))));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// Sum of the 16 lanes (not _mm512_reduce_add_ps: GCC 12 warns inside it, -Wuninitialized).
inline float hsum(__m512 v) {
  const __m256 h = _mm512_castps512_ps256(
      _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2))));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// Writes the MR x NR tile sums: y[i, r0 + j] = (accumulate ? y : bias-or-0) + acc[i][j].
template <int MR, int NR>
inline void store_tile(__m512 (&acc)[MR][NR], float* y, i64 ldy, i64 r0, const float* bias,
                       bool accumulate) {
  for (int i = 0; i < MR; ++i) {
    float* yi = y + i * ldy + r0;
    int j = 0;
    for (; j + 4 <= NR; j += 4) {
      __m128 s = hsum4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
      if (accumulate) {
        s = _mm_add_ps(s, _mm_loadu_ps(yi + j));
      } else if (bias != nullptr) {
        s = _mm_add_ps(s, _mm_loadu_ps(bias + r0 + j));
      }
      _mm_storeu_ps(yi + j, s);
    }
    for (; j < NR; ++j) {
      const float s = hsum(acc[i][j]);
      if (accumulate) {
        yi[j] += s;
      } else {
        yi[j] = bias != nullptr ? s + bias[r0 + j] : s;
      }
    }
  }
}

// ---- GEMV: MR (= m) x rows, NR W rows converted in registers. ----
template <DType D, int MR, int NR>
void gemv_tile(const MatmulArgs& a, i64 r0) {
  const i64 cols = a.w.cols;
  const void* w[NR];
  for (int j = 0; j < NR; ++j) w[j] = w_row<D>(a.w.data, r0 + j, cols);
  const float* x[MR];
  for (int i = 0; i < MR; ++i) x[i] = a.x + i * a.ldx;
  __m512 acc[MR][NR];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  i64 c = 0;
  for (; c + 16 <= cols; c += 16) {
    __m512 xv[MR];
    for (int i = 0; i < MR; ++i) xv[i] = _mm512_loadu_ps(x[i] + c);
    for (int j = 0; j < NR; ++j) {
      const __m512 wv = load_w<D>(w[j], c);
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm512_fmadd_ps(xv[i], wv, acc[i][j]);
    }
  }
  if (c < cols) {
    const __mmask16 k = tail_mask(cols - c);
    __m512 xv[MR];
    for (int i = 0; i < MR; ++i) xv[i] = _mm512_maskz_loadu_ps(k, x[i] + c);
    for (int j = 0; j < NR; ++j) {
      const __m512 wv = load_w_tail<D>(w[j], c, k);
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm512_fmadd_ps(xv[i], wv, acc[i][j]);
    }
  }
  store_tile<MR, NR>(acc, a.y, a.ldy, r0, a.bias, false);
}

template <DType D, int MR>
void gemv_rows(const MatmulArgs& a, i64 r0, i64 r1) {
  constexpr int kRows = MR == 1 ? 8 : 4;
  i64 r = r0;
  for (; r + kRows <= r1; r += kRows) gemv_tile<D, MR, kRows>(a, r);
  for (; r < r1; ++r) gemv_tile<D, MR, 1>(a, r);
}

template <DType D>
void gemv(const MatmulArgs& a, i64 r0, i64 r1) {
  switch (a.m) {
    case 1: gemv_rows<D, 1>(a, r0, r1); break;
    case 2: gemv_rows<D, 2>(a, r0, r1); break;
    case 3: gemv_rows<D, 3>(a, r0, r1); break;
    default: gemv_rows<D, 4>(a, r0, r1); break;
  }
}

// ---- GEMM: fp32 W block (scratch or in place), MR x NR register tiles. ----

// Converts W[r0:r1, c0:c0+kc] to fp32 rows of stride ld (>= kc).
template <DType D>
void convert_block(const WeightView& w, i64 r0, i64 r1, i64 c0, i64 kc, float* out, i64 ld) {
  const __mmask16 k = tail_mask(kc & 15);
  const i64 full = kc & ~i64{15};
  for (i64 r = r0; r < r1; ++r) {
    const void* src = w_row<D>(w.data, r, w.cols);
    float* dst = out + (r - r0) * ld;
    i64 c = 0;
    for (; c < full; c += 16) _mm512_storeu_ps(dst + c, load_w<D>(src, c0 + c));
    if (c < kc) _mm512_mask_storeu_ps(dst + c, k, load_w_tail<D>(src, c0 + c, k));
  }
}

// Tile: x rows [0, MR) at x (stride ldx), W rows [0, NR) at w (stride ldw), kc columns.
template <int MR, int NR>
void gemm_tile(const float* x, i64 ldx, const float* w, i64 ldw, i64 kc, float* y, i64 ldy,
               i64 r0, const float* bias, bool accumulate) {
  __m512 acc[MR][NR];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  i64 c = 0;
  for (; c + 16 <= kc; c += 16) {
    __m512 wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = _mm512_loadu_ps(w + j * ldw + c);
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_loadu_ps(x + i * ldx + c);
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  if (c < kc) {
    const __mmask16 k = tail_mask(kc - c);
    __m512 wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = _mm512_maskz_loadu_ps(k, w + j * ldw + c);
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_maskz_loadu_ps(k, x + i * ldx + c);
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  store_tile<MR, NR>(acc, y, ldy, r0, bias, accumulate);
}

using GemmTileFn = void (*)(const float*, i64, const float*, i64, i64, float*, i64, i64,
                            const float*, bool);

template <int NR, int MR = kMr>
GemmTileFn gemm_tile_for(i64 mr) {
  if constexpr (MR == 1) {
    return gemm_tile<1, NR>;
  } else {
    return mr == MR ? gemm_tile<MR, NR> : gemm_tile_for<NR, MR - 1>(mr);
  }
}

template <DType D>
void gemm(const MatmulArgs& a, i64 r0, i64 r1) {
  const i64 cols = a.w.cols;
  const i64 kblocks = (cols + kMaxKc - 1) / kMaxKc;
  // Equal K blocks, multiples of 16 (the last one takes the tail).
  const i64 kc_max = ((cols + kblocks - 1) / kblocks + 15) & ~i64{15};
  float* scratch = nullptr;
  if constexpr (D != DType::f32) {
    scratch = detail::thread_scratch(static_cast<std::size_t>(kBlockRows * kc_max));
  }
  for (i64 rb = r0; rb < r1; rb += kBlockRows) {
    const i64 re = min_i64(r1, rb + kBlockRows);
    const i64 rows_full = rb + (re - rb) / kNr * kNr;
    for (i64 c0 = 0; c0 < cols; c0 += kc_max) {
      const i64 kc = min_i64(kc_max, cols - c0);
      const float* wblk = nullptr;
      i64 ldw = 0;
      if constexpr (D == DType::f32) {
        wblk = static_cast<const float*>(a.w.data) + rb * cols + c0;
        ldw = cols;
      } else {
        convert_block<D>(a.w, rb, re, c0, kc, scratch, kc_max);
        wblk = scratch;
        ldw = kc_max;
      }
      const bool accumulate = c0 > 0;
      for (i64 i0 = 0; i0 < a.m; i0 += kMr) {
        const i64 mr = min_i64(kMr, a.m - i0);
        const GemmTileFn tile4 = gemm_tile_for<kNr>(mr);
        const GemmTileFn tile1 = gemm_tile_for<1>(mr);
        const float* xt = a.x + i0 * a.ldx + c0;
        float* yt = a.y + i0 * a.ldy;
        i64 r = rb;
        for (; r < rows_full; r += kNr) {
          tile4(xt, a.ldx, wblk + (r - rb) * ldw, ldw, kc, yt, a.ldy, r, a.bias, accumulate);
        }
        for (; r < re; ++r) {
          tile1(xt, a.ldx, wblk + (r - rb) * ldw, ldw, kc, yt, a.ldy, r, a.bias, accumulate);
        }
      }
    }
  }
}

template <DType D>
void matmul_rows_t(const MatmulArgs& a, i64 r0, i64 r1) {
  if (a.m <= kGemvMaxM) {
    gemv<D>(a, r0, r1);
  } else {
    gemm<D>(a, r0, r1);
  }
}

void matmul_rows(const MatmulArgs& a, i64 r0, i64 r1) {
  switch (a.w.dtype) {
    case DType::bf16: matmul_rows_t<DType::bf16>(a, r0, r1); break;
    case DType::f16: matmul_rows_t<DType::f16>(a, r0, r1); break;
    case DType::f32: matmul_rows_t<DType::f32>(a, r0, r1); break;
  }
}

void rows_to_f32(const WeightView& w, i64 r0, i64 r1, float* out) {
  // Rows [r0, r1) are contiguous: convert them as one row of (r1 - r0) * cols elements.
  const WeightView flat{w.data, w.dtype, w.rows * w.cols, 1};
  const i64 n = (r1 - r0) * w.cols;
  const i64 first = r0 * w.cols;
  switch (w.dtype) {
    case DType::bf16: convert_block<DType::bf16>(flat, 0, 1, first, n, out, n); break;
    case DType::f16: convert_block<DType::f16>(flat, 0, 1, first, n, out, n); break;
    case DType::f32: convert_block<DType::f32>(flat, 0, 1, first, n, out, n); break;
  }
}

}  // namespace
}  // namespace avx512

// Elementwise kernels live in avx512_elementwise.cpp.
namespace avx512 {
std::int64_t argmax(const float* x, std::int64_t n);
void rms_norm(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps,
              float* y);
void gelu(float* x, std::int64_t n);
void silu_mul(const float* g, const float* u, float* out, std::int64_t n);
}  // namespace avx512

const KernelTable& avx512_kernel_table() {
  static const KernelTable table{CpuIsa::avx512,      "avx512",         avx512::matmul_rows,
                                 avx512::rows_to_f32, avx512::argmax,   avx512::rms_norm,
                                 avx512::gelu,        avx512::silu_mul};
  return table;
}

}  // namespace vrt::kernels

#else  // no AVX-512 compiler support for this file: the table exists but is never selectable

namespace vrt::kernels {
const KernelTable& avx512_kernel_table() {
  static const KernelTable table = [] {
    KernelTable t = ref_kernel_table();
    t.isa = CpuIsa::avx512;
    t.name = "avx512";
    return t;
  }();
  return table;
}
}  // namespace vrt::kernels

#endif
