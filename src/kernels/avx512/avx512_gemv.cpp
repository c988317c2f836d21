// AVX-512 matmul for small m (the decoder step, short chunks; m <= 16): y[i, r] = sum_c x[i, c]
// W[r, c] + b[r].
//
// Memory bound: every weight byte is read once per call, so the kernel streams W rows and
// converts them to fp32 in registers (never stored). Tile = MR x rows (= m) by NR W rows, dot
// shaped: MR*NR zmm accumulators whose lane l holds the terms c = l mod 16, MR + NR loads per
// 16 columns, one horizontal sum per accumulator at the end. m = 1 takes 8 W rows at a time
// (8 independent FMA chains, 8 sequential streams for the prefetchers); m = 2..4 take 4.
// Column tails use masked loads (the zero lanes add nothing). Also the exact row conversion
// weight_rows_to_f32.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__)  // else: not an x86 build, nothing here
#include "kernels/avx512/avx512_util.h"

namespace vrt::kernels::avx512 {
namespace {

// Writes y[i, r0 + j] = acc[i][j] summed (+ bias[r0 + j]).
template <int MR, int NR>
inline void store_sums(__m512 (&acc)[MR][NR], float* y, i64 ldy, i64 r0, const float* bias) {
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* yi = y + i * ldy + r0;
    int j = 0;
    for (; j + 4 <= NR; j += 4) {
      __m128 s = hsum4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
      if (bias != nullptr) s = _mm_add_ps(s, _mm_loadu_ps(bias + r0 + j));
      _mm_storeu_ps(yi + j, s);
    }
    for (; j < NR; ++j) {
      const float s = hsum(acc[i][j]);
      yi[j] = bias != nullptr ? s + bias[r0 + j] : s;
    }
  }
}

// Tile: x rows [i0, i0 + MR) by W rows [r0, r0 + NR).
template <DType D, int MR, int NR>
void gemv_tile(const MatmulArgs& a, i64 i0, i64 r0) {
  const i64 cols = a.w.cols;
  const void* w[NR];
#pragma GCC unroll 16
  for (int j = 0; j < NR; ++j) w[j] = w_row<D>(a.w.data, r0 + j, cols);
  const float* x[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) x[i] = a.x + (i0 + i) * a.ldx;
  __m512 acc[MR][NR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  i64 c = 0;
  for (; c + 16 <= cols; c += 16) {
    __m512 xv[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) xv[i] = _mm512_loadu_ps(x[i] + c);
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) {
      const __m512 wv = load_w<D>(w[j], c);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm512_fmadd_ps(xv[i], wv, acc[i][j]);
    }
  }
  if (c < cols) {
    const __mmask16 k = tail_mask(cols - c);
    __m512 xv[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) xv[i] = _mm512_maskz_loadu_ps(k, x[i] + c);
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) {
      const __m512 wv = load_w_tail<D>(w[j], c, k);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm512_fmadd_ps(xv[i], wv, acc[i][j]);
    }
  }
  store_sums<MR, NR>(acc, a.y + i0 * a.ldy, a.ldy, r0, a.bias);
}

template <DType D, int MR>
void gemv_m(const MatmulArgs& a, i64 i0, i64 r0, i64 r1) {
  constexpr int kRows = MR == 1 ? 8 : 4;
  i64 r = r0;
  for (; r + kRows <= r1; r += kRows) gemv_tile<D, MR, kRows>(a, i0, r);
  for (; r < r1; ++r) gemv_tile<D, MR, 1>(a, i0, r);
}

// m <= 4: one pass over W. m = 5..16: per block of kGroupRows W rows, one pass per group of
// <= 4 x rows; later passes read the block from L2, so W still comes from memory once.
template <DType D>
void gemv(const MatmulArgs& a, i64 r0, i64 r1) {
  constexpr i64 kGroupRows = 16;
  const i64 groups = (a.m + 3) / 4;
  for (i64 rb = r0; rb < r1; rb += (groups == 1 ? r1 - r0 : kGroupRows)) {
    const i64 re = groups == 1 ? r1 : min_i64(r1, rb + kGroupRows);
    for (i64 g = 0; g < groups; ++g) {
      const i64 i0 = g * a.m / groups, mr = (g + 1) * a.m / groups - i0;
      switch (mr) {
        case 1: gemv_m<D, 1>(a, i0, rb, re); break;
        case 2: gemv_m<D, 2>(a, i0, rb, re); break;
        case 3: gemv_m<D, 3>(a, i0, rb, re); break;
        default: gemv_m<D, 4>(a, i0, rb, re); break;
      }
    }
  }
}

template <DType D>
void convert(const void* data, i64 first, i64 n, float* out) {
  i64 c = 0;
  for (; c + 16 <= n; c += 16) _mm512_storeu_ps(out + c, load_w<D>(data, first + c));
  if (c < n) {
    const __mmask16 k = tail_mask(n - c);
    _mm512_mask_storeu_ps(out + c, k, load_w_tail<D>(data, first + c, k));
  }
}

}  // namespace

void gemv_rows(const MatmulArgs& a, i64 r0, i64 r1) {
  switch (a.w.dtype) {
    case DType::bf16: gemv<DType::bf16>(a, r0, r1); break;
    case DType::f16: gemv<DType::f16>(a, r0, r1); break;
    case DType::f32: gemv<DType::f32>(a, r0, r1); break;
  }
}

void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out) {
  // Rows [r0, r1) are contiguous: one run of (r1 - r0) * cols elements.
  const i64 first = r0 * w.cols, n = (r1 - r0) * w.cols;
  switch (w.dtype) {
    case DType::bf16: convert<DType::bf16>(w.data, first, n, out); break;
    case DType::f16: convert<DType::f16>(w.data, first, n, out); break;
    case DType::f32: convert<DType::f32>(w.data, first, n, out); break;
  }
}

}  // namespace vrt::kernels::avx512

#endif
