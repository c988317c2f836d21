// Float matmul for larger m (encoder, adapter, prefill): y[i, r] = sum_c x[i, c] W[r, c] + b[r],
// written once over an ISA traits class T (see common.h).
//
// Compute bound, so the classic packed outer-product form (Goto / BLIS):
//  * K is cut into equal blocks of <= T::kKc columns. Per K block, the thread packs x[:, c0:c0+kc]
//    into row tiles of <= T::kMr rows laid out [c][mr] (scalar transposition, m * kc floats, once
//    per block) and, per block of T::kBlockRows W rows, packs W into panels of T::kPanel = 2
//    vectors of rows laid out [c][kPanel] fp32 (kLanes rows x kLanes columns loaded, widened and
//    transposed in registers). Rows past the end of W are zero in the panel; the store masks
//    them out.
//  * Micro-kernel: an mr x kPanel tile of y in 2 * mr accumulators; per column c it loads the
//    2 panel vectors and broadcasts mr x values: 2 * mr FMAs for 2 + mr loads, no horizontal
//    sums. The x tile stays in L1 across the panels of a block; panels stream from the
//    L2-resident W block. Partial sums of later K blocks are added into y.
// Each y[i, r] is one fp32 FMA chain over c per K block, whatever tile or thread it falls in, so
// the result does not depend on the thread count. Error bound as in kernels.h (any order).
// Note for GCC: x broadcasts are T::set1(value); a broadcast from a pointer made GCC 12 store all
// accumulators to the stack on every iteration (2x slower, AVX2), and the fixed-trip tile loops
// carry `#pragma GCC unroll` so the accumulator arrays stay in registers.
#pragma once

#include <cstddef>

#include "kernels/kernel_table.h"
#include "kernels/simd/common.h"

namespace vrt::kernels::simd {
namespace {

// Packs W[r0:r1, c0:c0+kc] (r1 - r0 <= kPanel) as panel[c * kPanel + j] = W[r0 + j, c0 + c],
// zero for j >= r1 - r0.
template <class T, DType D>
void pack_panel(const WeightView& w, i64 r0, i64 r1, i64 c0, i64 kc, float* panel) {
  using vf = typename T::vf;
  constexpr int L = T::kLanes;
  for (int half = 0; half < T::kPanel / L; ++half) {
    const i64 rb = r0 + L * half;
    const i64 valid = max_i64(0, min_i64(L, r1 - rb));
    for (i64 c = 0; c < kc; c += L) {
      const i64 nc = min_i64(L, kc - c);
      const typename T::Tail k = T::tail(nc);
      vf v[L];
      for (int j = 0; j < L; ++j) {
        v[j] = j < valid ? T::template load_w_part<D>(w_row<D>(w.data, rb + j, w.cols), c0 + c, k)
                         : T::zero();
      }
      T::transpose(v);
      float* dst = panel + c * T::kPanel + L * half;
      for (i64 cc = 0; cc < nc; ++cc) T::store(dst + cc * T::kPanel, v[cc]);
    }
  }
}

// Packs x[i0:i0+mr, c0:c0+kc] as tile[c * mr + i].
inline void pack_x(const float* x, i64 ldx, i64 mr, i64 c0, i64 kc, float* tile) {
  for (i64 i = 0; i < mr; ++i) {
    const float* xi = x + i * ldx + c0;
    for (i64 c = 0; c < kc; ++c) tile[c * mr + i] = xi[c];
  }
}

// y[i, r0 + j] (+)= sum_c xt[c * MR + i] * panel[c * kPanel + j] for j < valid.
template <class T, int MR>
void tile_kernel(const float* xt, const float* panel, i64 kc, float* y, i64 ldy, i64 valid,
                 const float* bias, bool accumulate) {
  using vf = typename T::vf;
  constexpr int L = T::kLanes;
  constexpr int kPanel = T::kPanel;
  static_assert(kPanel == 2 * L, "a panel is two vectors of W rows");
  vf acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    acc0[i] = T::zero();
    acc1[i] = T::zero();
  }
  for (i64 c = 0; c < kc; ++c) {
    T::prefetch_panel(panel + c * kPanel);
    const vf w0 = T::load(panel + c * kPanel);
    const vf w1 = T::load(panel + c * kPanel + L);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const vf xb = T::set1(xt[c * MR + i]);
      acc0[i] = T::fma(xb, w0, acc0[i]);
      acc1[i] = T::fma(xb, w1, acc1[i]);
    }
  }
  const typename T::Tail k0 = T::tail(min_i64(L, valid));
  const typename T::Tail k1 = T::tail(max_i64(0, valid - L));
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* yi = y + i * ldy;
    vf v0 = acc0[i], v1 = acc1[i];
    if (accumulate) {
      v0 = T::add(v0, T::load_tail(yi, k0));
      v1 = T::add(v1, T::load_tail(yi + L, k1));
    } else if (bias != nullptr) {
      v0 = T::add(v0, T::load_tail(bias, k0));
      v1 = T::add(v1, T::load_tail(bias + L, k1));
    }
    T::store_tail(yi, k0, v0);
    T::store_tail(yi + L, k1, v1);
  }
}

using TileFn = void (*)(const float*, const float*, i64, float*, i64, i64, const float*, bool);

template <class T, int MR = T::kMr>
TileFn tile_for(i64 mr) {
  if constexpr (MR == 1) {
    return tile_kernel<T, 1>;
  } else {
    return mr == MR ? tile_kernel<T, MR> : tile_for<T, MR - 1>(mr);
  }
}

template <class T, DType D>
void gemm(const MatmulArgs& a, i64 r0, i64 r1) {
  constexpr int kMr = T::kMr, kPanel = T::kPanel;
  constexpr i64 kKc = T::kKc, kBlockRows = T::kBlockRows;
  const i64 cols = a.w.cols;
  const i64 kblocks = (cols + kKc - 1) / kKc;
  const i64 kc_max = (cols + kblocks - 1) / kblocks;  // equal K blocks
  const i64 panels_max = (min_i64(kBlockRows, r1 - r0) + kPanel - 1) / kPanel;
  const i64 wpack_floats = panels_max * kPanel * kc_max;
  float* wpack = detail::thread_scratch(static_cast<std::size_t>(wpack_floats + a.m * kc_max));
  float* xpack = wpack + wpack_floats;  // aligned: wpack_floats is a multiple of kPanel
  // x row tiles of nearly equal height (AVX-512, m = 64: 11,11,11,11,10,10 rather than 12 x 5 +
  // 4), so no tile is too short to keep both FMA ports busy.
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
        pack_panel<T, D>(a.w, p, min_i64(re, p + kPanel), c0, kc, wpack + (p - rb) * kc);
      }
      for (i64 t = 0; t < tiles; ++t) {
        const i64 i0 = tile_begin(t);
        const TileFn tile = tile_for<T>(tile_begin(t + 1) - i0);
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

template <class T>
void gemm_rows(const MatmulArgs& a, i64 r0, i64 r1) {
  switch (a.w.dtype) {
    case DType::bf16: gemm<T, DType::bf16>(a, r0, r1); break;
    case DType::f16: gemm<T, DType::f16>(a, r0, r1); break;
    case DType::f32: gemm<T, DType::f32>(a, r0, r1); break;
  }
}

}  // namespace
}  // namespace vrt::kernels::simd
