// Float matmul for small m (the decoder step, short chunks; m <= 16): y[i, r] = sum_c x[i, c]
// W[r, c] + b[r], written once over an ISA traits class T (see common.h).
//
// Memory bound: every weight byte is read once per call, so the kernel streams W rows and
// converts them to fp32 in registers (never stored). Tile = MR (<= 4) x rows by NR =
// T::gemv_nr(MR) W rows, dot shaped: MR * NR accumulators whose lane l holds the terms c = l mod
// T::kLanes, MR + NR loads per T::kLanes columns, one horizontal sum per accumulator at the end.
// Column tails use masked loads (the zero lanes add nothing). Each output is one FMA chain per
// lane whatever the thread split. Also the exact row conversion (weight_rows_to_f32).
// (GCC: the fixed-trip tile loops carry `#pragma GCC unroll` so the accumulator arrays stay in
// registers; without it GCC 12 spilled them.)
#pragma once

#include "kernels/kernel_table.h"
#include "kernels/simd/common.h"

namespace vrt::kernels::simd {
namespace {

// Writes y[i, r0 + j] = acc[i][j] summed (+ bias[r0 + j]), every output in one order of
// additions whatever the tile: rows of a batch compute bitwise as they would alone.
template <class T, int MR, int NR>
inline void store_sums(typename T::vf (&acc)[MR][NR], float* y, i64 ldy, i64 r0, const float* bias) {
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* yi = y + i * ldy + r0;
    int j = 0;
    for (; j + 4 <= NR; j += 4) T::store_sums4(yi + j, acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3], bias, r0 + j);
    for (; j < NR; ++j) {
      // Summed exactly as store_sums4 sums each of its four: tile shapes change with m (AVX2:
      // 3 and 2 W rows for 3 and 4 x rows), and an output's bits must not.
      float s[4];
      T::store_sums4(s, acc[i][j], acc[i][j], acc[i][j], acc[i][j], nullptr, 0);
      yi[j] = bias != nullptr ? s[0] + bias[r0 + j] : s[0];
    }
  }
}

// Tile: x rows [i0, i0 + MR) by W rows [r0, r0 + NR).
template <class T, DType D, int MR, int NR>
void gemv_tile(const MatmulArgs& a, i64 i0, i64 r0) {
  using vf = typename T::vf;
  constexpr int L = T::kLanes;
  const i64 cols = a.w.cols;
  const void* w[NR];
#pragma GCC unroll 16
  for (int j = 0; j < NR; ++j) w[j] = w_row<D>(a.w.data, r0 + j, cols);
  const float* x[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) x[i] = a.x + (i0 + i) * a.ldx;
  vf acc[MR][NR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) acc[i][j] = T::zero();
  }
  i64 c = 0;
  for (; c + L <= cols; c += L) {
    vf xv[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) xv[i] = T::loadu(x[i] + c);
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) {
      const vf wv = T::template load_w<D>(w[j], c);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) acc[i][j] = T::fma(xv[i], wv, acc[i][j]);
    }
  }
  if (c < cols) {
    const typename T::Tail k = T::tail(cols - c);
    vf xv[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) xv[i] = T::load_tail(x[i] + c, k);
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) {
      const vf wv = T::template load_w_tail<D>(w[j], c, k);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) acc[i][j] = T::fma(xv[i], wv, acc[i][j]);
    }
  }
  store_sums<T, MR, NR>(acc, a.y + i0 * a.ldy, a.ldy, r0, a.bias);
}

template <class T, DType D, int MR>
void gemv_m(const MatmulArgs& a, i64 i0, i64 r0, i64 r1) {
  constexpr int kRows = T::gemv_nr(MR);
  i64 r = r0;
  for (; r + kRows <= r1; r += kRows) gemv_tile<T, D, MR, kRows>(a, i0, r);
  for (; r < r1; ++r) gemv_tile<T, D, MR, 1>(a, i0, r);
}

// m <= 4: one pass over W. m = 5..16: per block of kGroupRows W rows, one pass per group of
// <= 4 x rows; later passes read the block from L2, so W still comes from memory once.
template <class T, DType D>
void gemv(const MatmulArgs& a, i64 r0, i64 r1) {
  constexpr i64 kGroupRows = 16;
  const i64 groups = (a.m + 3) / 4;
  for (i64 rb = r0; rb < r1; rb += (groups == 1 ? r1 - r0 : kGroupRows)) {
    const i64 re = groups == 1 ? r1 : min_i64(r1, rb + kGroupRows);
    for (i64 g = 0; g < groups; ++g) {
      const i64 i0 = g * a.m / groups, mr = (g + 1) * a.m / groups - i0;
      switch (mr) {
        case 1: gemv_m<T, D, 1>(a, i0, rb, re); break;
        case 2: gemv_m<T, D, 2>(a, i0, rb, re); break;
        case 3: gemv_m<T, D, 3>(a, i0, rb, re); break;
        default: gemv_m<T, D, 4>(a, i0, rb, re); break;
      }
    }
  }
}

template <class T>
void gemv_rows(const MatmulArgs& a, i64 r0, i64 r1) {
  switch (a.w.dtype) {
    case DType::bf16: gemv<T, DType::bf16>(a, r0, r1); break;
    case DType::f16: gemv<T, DType::f16>(a, r0, r1); break;
    case DType::f32: gemv<T, DType::f32>(a, r0, r1); break;
  }
}

template <class T, DType D>
void convert(const void* data, i64 first, i64 n, float* out) {
  constexpr int L = T::kLanes;
  i64 c = 0;
  for (; c + L <= n; c += L) T::storeu(out + c, T::template load_w<D>(data, first + c));
  if (c < n) {
    const typename T::Tail k = T::tail(n - c);
    T::store_tail(out + c, k, T::template load_w_tail<D>(data, first + c, k));
  }
}

// Rows [r0, r1) of W as fp32 (exact): one contiguous run of (r1 - r0) * cols elements.
template <class T>
void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out) {
  const i64 first = r0 * w.cols, n = (r1 - r0) * w.cols;
  switch (w.dtype) {
    case DType::bf16: convert<T, DType::bf16>(w.data, first, n, out); break;
    case DType::f16: convert<T, DType::f16>(w.data, first, n, out); break;
    case DType::f32: convert<T, DType::f32>(w.data, first, n, out); break;
  }
}

}  // namespace
}  // namespace vrt::kernels::simd
