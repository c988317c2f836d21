// AVX2 + FMA matmul y[i, r] = sum_c x[i, c] W[r, c] + b[r] over BF16/F16/F32 weights (fp32
// accumulation), and the AVX2 kernel table. Same two shapes as the AVX-512 path, at 8 lanes and
// with 16 ymm registers:
//  * m <= kGemvMaxM (decoder step, short chunks): W rows stream once and are widened in
//    registers; dot-shaped tiles of MR (<= 4) x rows by NR W rows (m = 1: 8 rows, m = 2: 4,
//    m = 3: 3, m = 4: 2), lane l holding the terms c = l mod 8, one horizontal sum at the end.
//    m = 5..16 run <= 4-row groups per 16-row W block (later groups hit L2).
//  * larger m (encoder, prefill): packed outer product. Per K block of <= kKc columns, x is
//    packed as [c][mr] row tiles and W as [c][16] panels (8x8 in-register transposes); the 6 x 16
//    micro-kernel keeps 12 accumulators, loads 2 panel vectors and broadcasts 6 x values per c.
// Each output is one FMA chain per lane/K block whatever the thread split, so results do not
// depend on the thread count. Error bound as in kernels.h. Note for GCC: x broadcasts are
// written _mm256_set1_ps(value); _mm256_broadcast_ss(pointer) made GCC 12 store all 12
// accumulators to the stack on every iteration (2x slower), and the fixed-trip tile loops carry
// `#pragma GCC unroll` so the accumulator arrays stay in registers.
#include "kernels/kernel_table.h"
#include "kernels/avx2/avx2_quant.h"
#include "kernels/ref/ref_quant.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <cstddef>

#include "kernels/avx2/avx2_util.h"

namespace vrt::kernels {
namespace avx2 {
namespace {

constexpr i64 kGemvMaxM = 16;
constexpr int kMr = 6;           // GEMM: max x rows per tile (12 accumulators of 16 ymm)
constexpr int kPanel = 16;       // GEMM: W rows per panel (2 ymm)
constexpr i64 kKc = 512;         // GEMM: K block
constexpr i64 kBlockRows = 128;  // GEMM: W rows packed per block

// ---- GEMV-style tiles ----

template <DType D, int MR, int NR>
void gemv_tile(const MatmulArgs& a, i64 i0, i64 r0) {
  const i64 cols = a.w.cols;
  const void* w[NR];
#pragma GCC unroll 16
  for (int j = 0; j < NR; ++j) w[j] = w_row<D>(a.w.data, r0 + j, cols);
  const float* x[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) x[i] = a.x + (i0 + i) * a.ldx;
  __m256 acc[MR][NR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  i64 c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m256 xv[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) xv[i] = _mm256_loadu_ps(x[i] + c);
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) {
      const __m256 wv = load_w<D>(w[j], c);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
    }
  }
  if (c < cols) {
    const __m256i k = tail_mask(cols - c);
    __m256 xv[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) xv[i] = _mm256_maskload_ps(x[i] + c, k);
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) {
      const __m256 wv = load_w_tail<D>(w[j], c, cols - c);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* yi = a.y + (i0 + i) * a.ldy + r0;
    int j = 0;
    for (; j + 4 <= NR; j += 4) {
      __m128 s = hsum4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
      if (a.bias != nullptr) s = _mm_add_ps(s, _mm_loadu_ps(a.bias + r0 + j));
      _mm_storeu_ps(yi + j, s);
    }
    for (; j < NR; ++j) {
      const float s = hsum(acc[i][j]);
      yi[j] = a.bias != nullptr ? s + a.bias[r0 + j] : s;
    }
  }
}

template <DType D, int MR>
void gemv_m(const MatmulArgs& a, i64 i0, i64 r0, i64 r1) {
  constexpr int kRows = MR == 1 ? 8 : MR == 2 ? 4 : MR == 3 ? 3 : 2;
  i64 r = r0;
  for (; r + kRows <= r1; r += kRows) gemv_tile<D, MR, kRows>(a, i0, r);
  for (; r < r1; ++r) gemv_tile<D, MR, 1>(a, i0, r);
}

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

// ---- Packed GEMM ----

inline void transpose8(__m256 (&r)[8]) {
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

// panel[c * kPanel + j] = W[r0 + j, c0 + c] for c < kc, zero for j >= r1 - r0.
template <DType D>
void pack_panel(const WeightView& w, i64 r0, i64 r1, i64 c0, i64 kc, float* panel) {
  for (int half = 0; half < kPanel / 8; ++half) {
    const i64 rb = r0 + 8 * half;
    const i64 valid = max_i64(0, min_i64(8, r1 - rb));
    for (i64 c = 0; c < kc; c += 8) {
      const i64 nc = min_i64(8, kc - c);
      __m256 v[8];
      for (int j = 0; j < 8; ++j) {
        const void* row = j < valid ? w_row<D>(w.data, rb + j, w.cols) : nullptr;
        v[j] = row == nullptr ? _mm256_setzero_ps()
               : nc == 8      ? load_w<D>(row, c0 + c)
                              : load_w_tail<D>(row, c0 + c, nc);
      }
      transpose8(v);
      float* dst = panel + c * kPanel + 8 * half;
      for (i64 cc = 0; cc < nc; ++cc) _mm256_store_ps(dst + cc * kPanel, v[cc]);
    }
  }
}

void pack_x(const float* x, i64 ldx, i64 mr, i64 c0, i64 kc, float* tile) {
  for (i64 i = 0; i < mr; ++i) {
    for (i64 c = 0; c < kc; ++c) tile[c * mr + i] = x[i * ldx + c0 + c];
  }
}

template <int MR>
void tile_kernel(const float* xt, const float* panel, i64 kc, float* y, i64 ldy, i64 valid,
                 const float* bias, bool accumulate) {
  __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    acc0[i] = _mm256_setzero_ps();
    acc1[i] = _mm256_setzero_ps();
  }
  for (i64 c = 0; c < kc; ++c) {
    const __m256 w0 = _mm256_load_ps(panel + c * kPanel);
    const __m256 w1 = _mm256_load_ps(panel + c * kPanel + 8);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m256 xb = _mm256_set1_ps(xt[c * MR + i]);
      acc0[i] = _mm256_fmadd_ps(xb, w0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(xb, w1, acc1[i]);
    }
  }
  const __m256i k0 = tail_mask(min_i64(8, valid));
  const __m256i k1 = tail_mask(max_i64(0, valid - 8));
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* yi = y + i * ldy;
    __m256 v0 = acc0[i], v1 = acc1[i];
    if (accumulate) {
      v0 = _mm256_add_ps(v0, _mm256_maskload_ps(yi, k0));
      v1 = _mm256_add_ps(v1, _mm256_maskload_ps(yi + 8, k1));
    } else if (bias != nullptr) {
      v0 = _mm256_add_ps(v0, _mm256_maskload_ps(bias, k0));
      v1 = _mm256_add_ps(v1, _mm256_maskload_ps(bias + 8, k1));
    }
    _mm256_maskstore_ps(yi, k0, v0);
    _mm256_maskstore_ps(yi + 8, k1, v1);
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
  const i64 kc_max = (cols + kblocks - 1) / kblocks;
  const i64 panels_max = (min_i64(kBlockRows, r1 - r0) + kPanel - 1) / kPanel;
  const i64 wpack_floats = panels_max * kPanel * kc_max;  // multiple of 16: xpack stays aligned
  float* wpack = detail::thread_scratch(static_cast<std::size_t>(wpack_floats + a.m * kc_max));
  float* xpack = wpack + wpack_floats;
  const i64 tiles = (a.m + kMr - 1) / kMr;
  auto tile_begin = [&](i64 t) { return t * a.m / tiles; };
  for (i64 c0 = 0; c0 < cols; c0 += kc_max) {
    const i64 kc = min_i64(kc_max, cols - c0);
    for (i64 t = 0; t < tiles; ++t) {
      const i64 i0 = tile_begin(t);
      pack_x(a.x + i0 * a.ldx, a.ldx, tile_begin(t + 1) - i0, c0, kc, xpack + i0 * kc);
    }
    for (i64 rb = r0; rb < r1; rb += kBlockRows) {
      const i64 re = min_i64(r1, rb + kBlockRows);
      for (i64 p = rb; p < re; p += kPanel) {
        pack_panel<D>(a.w, p, min_i64(re, p + kPanel), c0, kc, wpack + (p - rb) * kc);
      }
      for (i64 t = 0; t < tiles; ++t) {
        const i64 i0 = tile_begin(t);
        const TileFn tile = tile_for(tile_begin(t + 1) - i0);
        for (i64 p = rb; p < re; p += kPanel) {
          tile(xpack + i0 * kc, wpack + (p - rb) * kc, kc, a.y + i0 * a.ldy + p, a.ldy,
               min_i64(kPanel, re - p), a.bias != nullptr ? a.bias + p : nullptr, c0 > 0);
        }
      }
    }
  }
}

template <DType D>
void convert(const void* data, i64 first, i64 n, float* out) {
  i64 c = 0;
  for (; c + 8 <= n; c += 8) _mm256_storeu_ps(out + c, load_w<D>(data, first + c));
  if (c < n) _mm256_maskstore_ps(out + c, tail_mask(n - c), load_w_tail<D>(data, first + c, n - c));
}

template <DType D>
void matmul_t(const MatmulArgs& a, i64 r0, i64 r1) {
  if (a.m <= kGemvMaxM) {
    gemv<D>(a, r0, r1);
  } else {
    gemm<D>(a, r0, r1);
  }
}

void matmul_rows(const MatmulArgs& a, i64 r0, i64 r1) {
  switch (a.w.dtype) {
    case DType::bf16: matmul_t<DType::bf16>(a, r0, r1); break;
    case DType::f16: matmul_t<DType::f16>(a, r0, r1); break;
    case DType::f32: matmul_t<DType::f32>(a, r0, r1); break;
  }
}

}  // namespace

void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out) {
  const i64 first = r0 * w.cols, n = (r1 - r0) * w.cols;
  switch (w.dtype) {
    case DType::bf16: convert<DType::bf16>(w.data, first, n, out); break;
    case DType::f16: convert<DType::f16>(w.data, first, n, out); break;
    case DType::f32: convert<DType::f32>(w.data, first, n, out); break;
  }
}

}  // namespace avx2

const KernelTable& avx2_kernel_table() {
  static const KernelTable table{CpuIsa::avx2,       "avx2",        avx2::matmul_rows,
                                 avx2::convert_rows, avx2::argmax,  avx2::rms_norm,
                                 avx2::gelu,         avx2::silu_mul,
                                 avx2::qmatmul_f32_rows, avx2::qmatmul_int8_rows, avx2::quantize_acts,
                                 ref_kernel_table().attend_rows};
  return table;
}

}  // namespace vrt::kernels

#else  // compiler without AVX2 for this file: the table exists but is never selectable

namespace vrt::kernels {
const KernelTable& avx2_kernel_table() {
  static const KernelTable table = derived_table(ref_kernel_table(), CpuIsa::avx2);
  return table;
}
}  // namespace vrt::kernels

#endif
