// AVX-512 matmul for larger m (encoder, adapter, prefill): y[i, r] = sum_c x[i, c] W[r, c] + b[r].
//
// Compute bound, so the classic packed outer-product form (Goto / BLIS):
//  * K is cut into blocks of <= kKc columns. Per K block, the thread packs x[:, c0:c0+kc] into
//    row tiles of kMr rows laid out [c][kMr] (scalar transposition, m * kc floats, once per
//    block) and, per block of kBlockRows W rows, packs W into panels of kPanel = 32 rows laid out
//    [c][32] fp32 (load 16 rows x 16 columns, widen, 16x16 in-register transpose). Rows past the
//    end of W are zero in the panel; the store masks them out.
//  * Micro-kernel: a kMr x 32 tile of y in 2 * kMr zmm accumulators; per column c it loads the
//    2 panel vectors and broadcasts kMr x values: 2 * kMr FMAs for 2 + kMr loads, no horizontal
//    sums. The x tile (kMr * kc * 4 B = 24 KiB) stays in L1 across the panels of a block; panels
//    stream from the L2-resident W block. Partial sums of later K blocks are added into y.
// Each y[i, r] is one fp32 FMA chain over c per K block, whatever tile or thread it falls in, so
// the result does not depend on the thread count. Error bound as in kernels.h (any order).
#include <cstddef>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__)  // else: not an x86 build, nothing here
#include "kernels/avx512/avx512_util.h"

namespace vrt::kernels::avx512 {
namespace {

constexpr int kMr = 12;          // max x rows per tile (24 accumulators + 2 W + 1 broadcast)
constexpr int kPanel = 32;       // W rows per panel (2 zmm)
constexpr i64 kKc = 512;         // K block (columns): the x tile is 24 KiB, half of L1
constexpr i64 kBlockRows = 128;  // W rows packed per block (multiple of kPanel): 256 KiB, L2
constexpr i64 kPrefetch = 16;    // panel columns prefetched ahead (+3% measured)
// (GCC: the fixed-trip tile loops carry `#pragma GCC unroll` so the accumulators stay in
// registers; without it GCC 12 spilled them in the GEMV-style tiles.)

// In-register transpose: r[k] lane j -> r[j] lane k.
inline void transpose16(__m512 (&r)[16]) {
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

// Packs W[r0:r1, c0:c0+kc] (r1 - r0 <= kPanel) as panel[c * kPanel + j] = W[r0 + j, c0 + c],
// zero for j >= r1 - r0.
template <DType D>
void pack_panel(const WeightView& w, i64 r0, i64 r1, i64 c0, i64 kc, float* panel) {
  for (int half = 0; half < 2; ++half) {
    const i64 rb = r0 + 16 * half;
    const i64 valid = max_i64(0, min_i64(16, r1 - rb));
    for (i64 c = 0; c < kc; c += 16) {
      const i64 nc = min_i64(16, kc - c);
      const __mmask16 k = tail_mask(nc);
      __m512 v[16];
      for (int j = 0; j < 16; ++j) {
        v[j] = j < valid ? load_w_tail<D>(w_row<D>(w.data, rb + j, w.cols), c0 + c, k)
                         : _mm512_setzero_ps();
      }
      transpose16(v);
      float* dst = panel + c * kPanel + 16 * half;
      for (i64 cc = 0; cc < nc; ++cc) _mm512_store_ps(dst + cc * kPanel, v[cc]);
    }
  }
}

// Packs x[i0:i0+mr, c0:c0+kc] as tile[c * mr + i].
void pack_x(const float* x, i64 ldx, i64 mr, i64 c0, i64 kc, float* tile) {
  for (i64 i = 0; i < mr; ++i) {
    const float* xi = x + i * ldx + c0;
    for (i64 c = 0; c < kc; ++c) tile[c * mr + i] = xi[c];
  }
}

// y[i, r0 + j] (+)= sum_c xt[c * MR + i] * panel[c * 32 + j] for j < valid.
template <int MR>
void tile_kernel(const float* xt, const float* panel, i64 kc, float* y, i64 ldy, i64 valid,
                 const float* bias, bool accumulate) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
  for (i64 c = 0; c < kc; ++c) {
    // Prefetch past the panel's end is harmless (prefetches never fault).
    _mm_prefetch(reinterpret_cast<const char*>(panel + (c + kPrefetch) * kPanel), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(panel + (c + kPrefetch) * kPanel + 16), _MM_HINT_T0);
    const __m512 w0 = _mm512_load_ps(panel + c * kPanel);
    const __m512 w1 = _mm512_load_ps(panel + c * kPanel + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 xb = _mm512_set1_ps(xt[c * MR + i]);
      acc0[i] = _mm512_fmadd_ps(xb, w0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(xb, w1, acc1[i]);
    }
  }
  const __mmask16 k0 = tail_mask(min_i64(16, valid));
  const __mmask16 k1 = tail_mask(max_i64(0, valid - 16));
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* yi = y + i * ldy;
    __m512 v0 = acc0[i], v1 = acc1[i];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(k0, yi));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(k1, yi + 16));
    } else if (bias != nullptr) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(k0, bias));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(k1, bias + 16));
    }
    _mm512_mask_storeu_ps(yi, k0, v0);
    _mm512_mask_storeu_ps(yi + 16, k1, v1);
  }
}

using TileFn = void (*)(const float*, const float*, i64, float*, i64, i64, const float*, bool);

template <int MR = kMr>
TileFn tile_for(i64 mr) {
  if constexpr (MR == 1) {
    return tile_kernel<1>;
  } else {
    return mr == MR ? tile_kernel<MR> : tile_for<MR - 1>(mr);
  }
}

template <DType D>
void gemm(const MatmulArgs& a, i64 r0, i64 r1) {
  const i64 cols = a.w.cols;
  const i64 kblocks = (cols + kKc - 1) / kKc;
  const i64 kc_max = (cols + kblocks - 1) / kblocks;  // equal K blocks
  const i64 panels_max = (min_i64(kBlockRows, r1 - r0) + kPanel - 1) / kPanel;
  const i64 wpack_floats = panels_max * kPanel * kc_max;
  float* wpack = detail::thread_scratch(static_cast<std::size_t>(wpack_floats + a.m * kc_max));
  float* xpack = wpack + wpack_floats;  // 64-byte aligned: wpack_floats is a multiple of 32
  // x row tiles of nearly equal height (m = 64: 11,11,11,11,10,10 rather than 12 x 5 + 4), so
  // no tile is too short to keep both FMA ports busy.
  const i64 tiles = (a.m + kMr - 1) / kMr;
  auto tile_begin = [&](i64 t) { return t * a.m / tiles; };
  for (i64 c0 = 0; c0 < cols; c0 += kc_max) {
    const i64 kc = min_i64(kc_max, cols - c0);
    for (i64 t = 0; t < tiles; ++t) {
      const i64 i0 = tile_begin(t);
      pack_x(a.x + i0 * a.ldx, a.ldx, tile_begin(t + 1) - i0, c0, kc, xpack + i0 * kc);
    }
    const bool accumulate = c0 > 0;
    for (i64 rb = r0; rb < r1; rb += kBlockRows) {
      const i64 re = min_i64(r1, rb + kBlockRows);
      for (i64 p = rb; p < re; p += kPanel) {
        pack_panel<D>(a.w, p, min_i64(re, p + kPanel), c0, kc, wpack + (p - rb) * kc);
      }
      for (i64 t = 0; t < tiles; ++t) {
        const i64 i0 = tile_begin(t);
        const TileFn tile = tile_for(tile_begin(t + 1) - i0);
        const float* xt = xpack + i0 * kc;
        float* yt = a.y + i0 * a.ldy;
        for (i64 p = rb; p < re; p += kPanel) {
          tile(xt, wpack + (p - rb) * kc, kc, yt + p, a.ldy, min_i64(kPanel, re - p),
               a.bias != nullptr ? a.bias + p : nullptr, accumulate);
        }
      }
    }
  }
}

}  // namespace

void gemm_rows(const MatmulArgs& a, i64 r0, i64 r1) {
  switch (a.w.dtype) {
    case DType::bf16: gemm<DType::bf16>(a, r0, r1); break;
    case DType::f16: gemm<DType::f16>(a, r0, r1); break;
    case DType::f32: gemm<DType::f32>(a, r0, r1); break;
  }
}

}  // namespace vrt::kernels::avx512

#endif
