// Packed-weight matmul kernels (quant.h) and the activation quantization, written once over an
// ISA's quant traits class T (avx2/avx2_quant.h, avx512/avx512_quant.h: the float traits plus
// the integer dots) and instantiated only in that ISA's files (internal linkage, see common.h).
//
// One 16-row block is kVecs<T> vectors of T::kLanes int32 / fp32 lanes (1 zmm or 2 ymm): lane =
// W row, so a 64-byte chunk loads straight into the lanes and results store without horizontal
// sums. A tile is MR rows of x by NR blocks: MR * NR * kVecs accumulators, each weight vector
// loaded (and, for q4, unpacked) once and used by MR x rows, each activation broadcast used by
// NR * kVecs weight vectors. Loop order: a panel of NR blocks outside, x-row tiles inside, so the
// panel is read from DRAM once and from L1/L2 by the other row tiles (m <= MR: one tile, W is
// streamed once per call; m = 1: NR sequential block streams for the prefetchers).
//
// int8 activations: acc = corr_g + sum u * a over the group (T::dot8 / T::dot4x2: vpdpbusd,
// or vpmaddubsw + vpmaddwd), with corr_g = -offset * (sum of a over the group) from the
// per-32-column sums (exact integers, so acc_g = sum (u - offset) a exactly); at each group end
// t = fma(float(acc_g), s_g, t) per quant.h, then y = t * sx (+ bias). For large m and q4 the
// panel's nibbles are split once into per-thread scratch (L1/L2), so the row tiles only load.
// Tile sizes (traits): AVX-512 m <= 8 -> one tile of m rows x 4 / 2 blocks (int8, m <= 2 / 8;
// fp32 4 / 2 / 1 for m <= 2 / 4 / 8), larger m -> 6 x 2 (12 int32 + 12 fp32 accumulators of 32 zmm); AVX2 m <= 4 -> m x 1-2,
// larger -> 4 x 1 (a block is two ymm).
// fp32 activations: per column in order, d = fma(float(u - offset), x[c], d) (T::cols_q8 /
// cols_q4 give the exact float weights of one chunk's columns for 16 rows); t = fma(d, s_g, t)
// per group. For large m a panel is first dequantized to fp32 in per-thread scratch (the same
// values), so the inner loop is load + MR fmas.
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"
#include "kernels/prefetch.h"
#include "kernels/simd/common.h"

namespace vrt::kernels::simd {
namespace {

template <class T>
constexpr int kVecs = static_cast<int>(kQuantRowBlock) / T::kLanes;  // vectors per 16-row block

// y[r + l] = v[l] (+ bias[r + l]) for rows r + l < r1.
template <class T>
inline void store_rows(typename T::vf v, const float* bias, float* y, i64 r, i64 r1) {
  const i64 n = r1 - r;
  if (n >= T::kLanes) {
    if (bias != nullptr) v = T::add(v, T::loadu(bias + r));
    T::storeu(y + r, v);
  } else if (n > 0) {
    const typename T::Tail k = T::tail(n);
    if (bias != nullptr) v = T::add(v, T::load_tail(bias + r, k));
    T::store_tail(y + r, k, v);
  }
}

// ---------------------------------------------------------------- int8 activations

// Tile: x rows [i0, i0 + MR), blocks [b0, b0 + NR). corr[i * groups + g] = -off * group sum.
// pre (q4, large m): the panel's nibbles already split, [NR][chunk][lo 64 B, hi 64 B].
template <class T, QuantFormat F, int MR, int NR, bool Pre>
void int8_tile_impl(const QMatmulArgs& a, const std::int32_t* corr, const std::uint8_t* pre, i64 i0, i64 b0,
                    i64 r1) {
  using vi = typename T::vi;
  using vf = typename T::vf;
  constexpr int V = kVecs<T>;
  constexpr int W = 64 / V;  // bytes per weight vector
  const QuantWeightView& w = a.w;
  const i64 cols = w.cols, groups = w.groups;
  constexpr i64 kColsPerChunk = F == QuantFormat::q8 ? 4 : 8;
  const i64 chunks_per_group = w.group / kColsPerChunk;
  const std::uint8_t* wp[NR];
#pragma GCC unroll 8
  for (int j = 0; j < NR; ++j) wp[j] = w.data + (b0 + j) * w.block_bytes;
  const std::int8_t* xp[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) xp[i] = a.xq.a + (i0 + i) * cols;
  vf t[MR][NR * V];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NR * V; ++j) t[i][j] = T::zero();
  }
  // Only the first row tile of a panel reads the weights from memory (the others hit cache).
  const bool prefetch = !Pre && i0 == 0;
  for (i64 g = 0; g < groups; ++g) {
    vi acc[MR][NR * V];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const vi c0 = T::bcast_i32(corr + (i0 + i) * groups + g);
#pragma GCC unroll 8
      for (int j = 0; j < NR * V; ++j) acc[i][j] = c0;
    }
    const i64 t0 = g * chunks_per_group, t1 = t0 + chunks_per_group;
    for (i64 ch = t0; ch < t1; ++ch) {
      if (prefetch) {
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j) prefetch_range(wp[j], ch * 64 + kWeightPrefetchBytes, 64);
      }
      if constexpr (F == QuantFormat::q8) {
        typename T::W8 wv[NR * V];
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 2
          for (int v = 0; v < V; ++v) wv[j * V + v] = T::prep8(T::loadb(wp[j] + ch * 64 + v * W));
        }
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
          const vi av = T::bcast_i32(xp[i] + ch * 4);
#pragma GCC unroll 8
          for (int j = 0; j < NR * V; ++j) acc[i][j] = T::dot8(acc[i][j], wv[j], av);
        }
      } else {
        vi lo[NR * V], hi[NR * V];
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 2
          for (int v = 0; v < V; ++v) {
            if constexpr (Pre) {
              const std::uint8_t* p = pre + (j * (cols / 8) + ch) * 128 + v * W;
              lo[j * V + v] = T::loadb(p);
              hi[j * V + v] = T::loadb(p + 64);
            } else {
              const vi raw = T::loadb(wp[j] + ch * 64 + v * W);
              lo[j * V + v] = T::lo_nib(raw);
              hi[j * V + v] = T::hi_nib(raw);
            }
          }
        }
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
          const vi alo = T::bcast_i32(xp[i] + ch * 8), ahi = T::bcast_i32(xp[i] + ch * 8 + 4);
#pragma GCC unroll 8
          for (int j = 0; j < NR * V; ++j) acc[i][j] = T::dot4x2(acc[i][j], lo[j], alo, hi[j], ahi);
        }
      }
    }
    vf s[NR * V];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v)
        s[j * V + v] = T::load_f16(w.scales + ((b0 + j) * groups + g) * kQuantRowBlock + v * (16 / V));
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < NR * V; ++j) t[i][j] = T::fma(T::cvt(acc[i][j]), s[j], t[i][j]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    const vf sx = T::set1(a.xq.scale[i0 + i]);
    float* y = a.y + (i0 + i) * a.ldy;
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) {
        const i64 r = (b0 + j) * kQuantRowBlock + v * (16 / V);
        vf out = T::mul(t[i][j * V + v], sx);
        store_rows<T>(out, a.bias, y, r, r1);
      }
    }
  }
}

template <class T, QuantFormat F, int MR, int NR>
void int8_tile(const QMatmulArgs& a, const std::int32_t* corr, const std::uint8_t* pre, i64 i0, i64 b0, i64 r1) {
  if (F == QuantFormat::q4 && pre != nullptr) {
    int8_tile_impl<T, F, MR, NR, F == QuantFormat::q4>(a, corr, pre, i0, b0, r1);
  } else {
    int8_tile_impl<T, F, MR, NR, false>(a, corr, pre, i0, b0, r1);
  }
}

template <class T, QuantFormat F, int MR>
void int8_tile_nr(const QMatmulArgs& a, const std::int32_t* corr, const std::uint8_t* pre, i64 i0, i64 b0,
                  int nr, i64 r1) {
  static_assert(T::kNRMax <= 4);
  switch (nr) {
    case 1: int8_tile<T, F, MR, 1>(a, corr, pre, i0, b0, r1); break;
    case 2: if constexpr (T::kNRMax >= 2) int8_tile<T, F, MR, 2>(a, corr, pre, i0, b0, r1); break;
    case 3: if constexpr (T::kNRMax >= 3) int8_tile<T, F, MR, 3>(a, corr, pre, i0, b0, r1); break;
    case 4: if constexpr (T::kNRMax >= 4) int8_tile<T, F, MR, 4>(a, corr, pre, i0, b0, r1); break;
    default: break;
  }
}

// Row tiles of MR (the last one smaller) for a panel of nr blocks.
template <class T, QuantFormat F>
void int8_panel(const QMatmulArgs& a, const std::int32_t* corr, const std::uint8_t* pre, i64 b0, int nr, i64 r1,
                int mr) {
  for (i64 i0 = 0; i0 < a.m; i0 += mr) {
    switch (min_i64(mr, a.m - i0)) {
      case 1: int8_tile_nr<T, F, 1>(a, corr, pre, i0, b0, nr, r1); break;
      case 2: int8_tile_nr<T, F, 2>(a, corr, pre, i0, b0, nr, r1); break;
      case 3: int8_tile_nr<T, F, 3>(a, corr, pre, i0, b0, nr, r1); break;
      case 4: int8_tile_nr<T, F, 4>(a, corr, pre, i0, b0, nr, r1); break;
      case 5: if constexpr (T::kMRMax >= 5) int8_tile_nr<T, F, 5>(a, corr, pre, i0, b0, nr, r1); break;
      case 6: if constexpr (T::kMRMax >= 6) int8_tile_nr<T, F, 6>(a, corr, pre, i0, b0, nr, r1); break;
      case 7: if constexpr (T::kMRMax >= 7) int8_tile_nr<T, F, 7>(a, corr, pre, i0, b0, nr, r1); break;
      case 8: if constexpr (T::kMRMax >= 8) int8_tile_nr<T, F, 8>(a, corr, pre, i0, b0, nr, r1); break;
      default: break;
    }
  }
}

// Blocks [b0, b0 + nr) of a q4 matrix with each chunk's nibbles split: pre[j][chunk] = lo, hi.
template <class T>
void unpack_q4_panel(const QuantWeightView& w, i64 b0, int nr, std::uint8_t* pre) {
  constexpr int W = 64 / kVecs<T>;
  const i64 chunks = w.cols / 8;
  for (int j = 0; j < nr; ++j) {
    const std::uint8_t* p = w.data + (b0 + j) * w.block_bytes;
    std::uint8_t* out = pre + j * chunks * 128;
    for (i64 ch = 0; ch < chunks; ++ch) {
#pragma GCC unroll 2
      for (int v = 0; v < kVecs<T>; ++v) {
        const typename T::vi raw = T::loadb(p + ch * 64 + v * W);
        T::storeb(out + ch * 128 + v * W, T::lo_nib(raw));
        T::storeb(out + ch * 128 + 64 + v * W, T::hi_nib(raw));
      }
    }
  }
}

template <class T>
constexpr i64 unpack_above() {
  if constexpr (requires { T::kUnpackM; }) {
    return T::kUnpackM;
  } else {
    return T::kSmallM;
  }
}

// corr[i * groups + g] = -off * (sum of x row i's int8 values over group g): the offset of
// unsigned (or nibble) weights, exact in int32.
inline void group_corrections(const QMatmulArgs& a, int off, std::int32_t* corr) {
  const i64 groups = a.w.groups, sums_per_group = a.w.group / kActSumCols, nsums = a.w.cols / kActSumCols;
  for (i64 i = 0; i < a.m; ++i) {
    const std::int32_t* s = a.xq.sums + i * nsums;
    for (i64 g = 0; g < groups; ++g) {
      std::int32_t sum = 0;
      for (i64 k = 0; k < sums_per_group; ++k) sum += s[g * sums_per_group + k];
      corr[i * groups + g] = -off * sum;
    }
  }
}

template <class T>
void qmatmul_int8_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  const QuantWeightView& w = a.w;
  if (r1 > w.rows) r1 = w.rows;
  if (a.m <= 0 || r1 <= r0) return;
  // corr[i][g] = -offset * sum of a[i] over group g (0 for T's signed q8 method).
  const i64 groups = w.groups;
  const int off = w.format == QuantFormat::q8 ? T::kQ8Offset : 8;
  const bool small = a.m <= T::kSmallM;
  const int nr_max = small ? T::nr_small_int8(a.m) : T::kNRLarge;
  const int mr = small ? static_cast<int>(a.m) : T::kMRLarge;
  // Large m, q4: each panel's nibbles are split once into scratch (reused by every row tile);
  // up to kUnpackM rows (when the traits set it) each tile splits them again from the raw panel
  // in L1 instead, and the first tile streams it from memory with prefetch.
  const bool unpack = a.m > unpack_above<T>() && w.format == QuantFormat::q4;
  const i64 corr_floats = (a.m * groups + 15) / 16 * 16;
  const i64 pre_bytes = unpack ? nr_max * (w.cols / 8) * 128 : 0;
  float* scratch = detail::thread_scratch(static_cast<std::size_t>(corr_floats + pre_bytes / 4));
  auto* corr = reinterpret_cast<std::int32_t*>(scratch);
  auto* pre = reinterpret_cast<std::uint8_t*>(scratch + corr_floats);
  group_corrections(a, off, corr);
  const i64 b_end = (r1 + kQuantRowBlock - 1) / kQuantRowBlock;
  for (i64 b = r0 / kQuantRowBlock; b < b_end; b += nr_max) {
    const int nr = static_cast<int>(min_i64(nr_max, b_end - b));
    if (w.format == QuantFormat::q8) {
      int8_panel<T, QuantFormat::q8>(a, corr, nullptr, b, nr, r1, mr);
    } else if (unpack) {
      unpack_q4_panel<T>(w, b, nr, pre);
      int8_panel<T, QuantFormat::q4>(a, corr, pre, b, nr, r1, mr);
    } else {
      int8_panel<T, QuantFormat::q4>(a, corr, nullptr, b, nr, r1, mr);
    }
  }
}

// ---------------------------------------------------------------- fp32 activations

// The exact fp32 weights of column k of a chunk (kV vectors of lanes): F's kColsPerChunk columns.
template <class T, QuantFormat F>
inline void dequant_chunk(const std::uint8_t* p, typename T::vf (&out)[F == QuantFormat::q8 ? 4 : 8][kVecs<T>]) {
  constexpr int V = kVecs<T>;
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    const typename T::vi raw = T::loadb(p + v * (64 / V));
    if constexpr (F == QuantFormat::q8) {
      T::cols_q8(raw, out[0][v], out[1][v], out[2][v], out[3][v]);
    } else {
      T::cols_q4(raw, out[0][v], out[1][v], out[2][v], out[3][v], out[4][v], out[5][v], out[6][v],
                 out[7][v]);
    }
  }
}

// Tile: x rows [i0, i0 + MR), blocks [b0, b0 + NR). Pre: weights from `pre` (fp32 [NR][cols][16]),
// else unpacked from the packed data in the loop.
template <class T, QuantFormat F, int MR, int NR, bool Pre>
void f32_tile(const QMatmulArgs& a, const float* pre, i64 i0, i64 b0, i64 r1) {
  using vf = typename T::vf;
  constexpr int V = kVecs<T>;
  constexpr int L = 16 / V;
  constexpr int kColsPerChunk = F == QuantFormat::q8 ? 4 : 8;
  const QuantWeightView& w = a.w;
  const i64 cols = w.cols, groups = w.groups;
  const i64 chunks_per_group = w.group / kColsPerChunk;
  const std::uint8_t* wp[NR];
  const float* pp[NR];
#pragma GCC unroll 8
  for (int j = 0; j < NR; ++j) {
    wp[j] = w.data + (b0 + j) * w.block_bytes;
    pp[j] = pre + j * cols * 16;
  }
  const float* xp[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) xp[i] = a.x + (i0 + i) * a.ldx;
  vf t[MR][NR * V];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NR * V; ++j) t[i][j] = T::zero();
  }
  for (i64 g = 0; g < groups; ++g) {
    vf d[MR][NR * V];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < NR * V; ++j) d[i][j] = T::zero();
    }
    const i64 t0 = g * chunks_per_group, t1 = t0 + chunks_per_group;
    for (i64 ch = t0; ch < t1; ++ch) {
      if constexpr (Pre) {
#pragma GCC unroll 8
        for (int k = 0; k < kColsPerChunk; ++k) {
          const i64 c = ch * kColsPerChunk + k;
          vf wv[NR * V];
#pragma GCC unroll 8
          for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 2
            for (int v = 0; v < V; ++v) wv[j * V + v] = T::loadu(pp[j] + c * 16 + v * L);
          }
#pragma GCC unroll 16
          for (int i = 0; i < MR; ++i) {
            const vf xv = T::set1(xp[i][c]);
#pragma GCC unroll 8
            for (int j = 0; j < NR * V; ++j) d[i][j] = T::fma(wv[j], xv, d[i][j]);
          }
        }
      } else {
        vf wv[NR][kColsPerChunk][V];
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j) dequant_chunk<T, F>(wp[j] + ch * 64, wv[j]);
#pragma GCC unroll 8
        for (int k = 0; k < kColsPerChunk; ++k) {
          const i64 c = ch * kColsPerChunk + k;
#pragma GCC unroll 16
          for (int i = 0; i < MR; ++i) {
            const vf xv = T::set1(xp[i][c]);
#pragma GCC unroll 8
            for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 2
              for (int v = 0; v < V; ++v) d[i][j * V + v] = T::fma(wv[j][k][v], xv, d[i][j * V + v]);
            }
          }
        }
      }
    }
    vf s[NR * V];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v)
        s[j * V + v] = T::load_f16(w.scales + ((b0 + j) * groups + g) * kQuantRowBlock + v * L);
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < NR * V; ++j) t[i][j] = T::fma(d[i][j], s[j], t[i][j]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* y = a.y + (i0 + i) * a.ldy;
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) {
        const i64 r = (b0 + j) * kQuantRowBlock + v * L;
        store_rows<T>(t[i][j * V + v], a.bias, y, r, r1);
      }
    }
  }
}

template <class T, QuantFormat F, int MR, bool Pre>
void f32_tile_nr(const QMatmulArgs& a, const float* pre, i64 i0, i64 b0, int nr, i64 r1) {
  switch (nr) {
    case 1: f32_tile<T, F, MR, 1, Pre>(a, pre, i0, b0, r1); break;
    case 2: if constexpr (T::kNRMax >= 2) f32_tile<T, F, MR, 2, Pre>(a, pre, i0, b0, r1); break;
    case 3: if constexpr (T::kNRMax >= 3) f32_tile<T, F, MR, 3, Pre>(a, pre, i0, b0, r1); break;
    case 4: if constexpr (T::kNRMax >= 4) f32_tile<T, F, MR, 4, Pre>(a, pre, i0, b0, r1); break;
    default: break;
  }
}

template <class T, QuantFormat F, bool Pre>
void f32_panel(const QMatmulArgs& a, const float* pre, i64 b0, int nr, i64 r1, int mr) {
  for (i64 i0 = 0; i0 < a.m; i0 += mr) {
    switch (min_i64(mr, a.m - i0)) {
      case 1: f32_tile_nr<T, F, 1, Pre>(a, pre, i0, b0, nr, r1); break;
      case 2: f32_tile_nr<T, F, 2, Pre>(a, pre, i0, b0, nr, r1); break;
      case 3: f32_tile_nr<T, F, 3, Pre>(a, pre, i0, b0, nr, r1); break;
      case 4: f32_tile_nr<T, F, 4, Pre>(a, pre, i0, b0, nr, r1); break;
      case 5: if constexpr (T::kMRMax >= 5) f32_tile_nr<T, F, 5, Pre>(a, pre, i0, b0, nr, r1); break;
      case 6: if constexpr (T::kMRMax >= 6) f32_tile_nr<T, F, 6, Pre>(a, pre, i0, b0, nr, r1); break;
      case 7: if constexpr (T::kMRMax >= 7) f32_tile_nr<T, F, 7, Pre>(a, pre, i0, b0, nr, r1); break;
      case 8: if constexpr (T::kMRMax >= 8) f32_tile_nr<T, F, 8, Pre>(a, pre, i0, b0, nr, r1); break;
      default: break;
    }
  }
}

// Dequantizes blocks [b0, b0 + nr) to pre[j][c][16] (float(u - offset), exact).
template <class T, QuantFormat F>
void dequant_panel(const QuantWeightView& w, i64 b0, int nr, float* pre) {
  constexpr int V = kVecs<T>;
  constexpr int kColsPerChunk = F == QuantFormat::q8 ? 4 : 8;
  const i64 chunks = w.cols / kColsPerChunk;
  for (int j = 0; j < nr; ++j) {
    const std::uint8_t* p = w.data + (b0 + j) * w.block_bytes;
    float* out = pre + j * w.cols * 16;
    for (i64 ch = 0; ch < chunks; ++ch) {
      typename T::vf wv[kColsPerChunk][V];
      dequant_chunk<T, F>(p + ch * 64, wv);
#pragma GCC unroll 8
      for (int k = 0; k < kColsPerChunk; ++k) {
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) T::storeu(out + (ch * kColsPerChunk + k) * 16 + v * (16 / V), wv[k][v]);
      }
    }
  }
}

template <class T, QuantFormat F>
void f32_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  const i64 b_end = (r1 + kQuantRowBlock - 1) / kQuantRowBlock;
  if (a.m <= T::kSmallM) {
    const int nr_max = T::nr_small(a.m);
    for (i64 b = r0 / kQuantRowBlock; b < b_end; b += nr_max) {
      const int nr = static_cast<int>(min_i64(nr_max, b_end - b));
      f32_panel<T, F, false>(a, nullptr, b, nr, r1, static_cast<int>(a.m));
    }
    return;
  }
  // Large m: a panel of blocks dequantized once (<= ~1 MiB, L2) and reused by all x-row tiles.
  const i64 per_block = a.w.cols * 16;
  i64 fit = (i64{1} << 18) / per_block;  // 1 MiB of fp32 weights
  if (fit < 1) fit = 1;
  const int nr_max = static_cast<int>(min_i64(T::kNRLarge, fit));
  float* pre = detail::thread_scratch(static_cast<std::size_t>(nr_max * per_block));
  for (i64 b = r0 / kQuantRowBlock; b < b_end; b += nr_max) {
    const int nr = static_cast<int>(min_i64(nr_max, b_end - b));
    dequant_panel<T, F>(a.w, b, nr, pre);
    f32_panel<T, F, true>(a, pre, b, nr, r1, T::kMRLarge);
  }
}

template <class T>
void qmatmul_f32_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  if (r1 > a.w.rows) r1 = a.w.rows;
  if (a.m <= 0 || r1 <= r0) return;
  if (a.w.format == QuantFormat::q8) {
    f32_rows<T, QuantFormat::q8>(a, r0, r1);
  } else {
    f32_rows<T, QuantFormat::q4>(a, r0, r1);
  }
}

// ---------------------------------------------------------------- activation quantization

// quant.h's quantize_activations, 32 columns (kVecs32 vectors) at a time. amax: max(|x|, acc)
// returns acc when |x| is NaN, as fmax ignores NaN (max is exact, so the order does not
// matter). The clamp is max(v, -127) first (NaN -> -127), then min; the conversion rounds to
// nearest even like nearbyint. Reductions over the vectors are pairwise: (0, 1), (2, 3), ...
template <class T>
void quantize_acts(const float* x, i64 m, i64 ldx, i64 cols, std::int8_t* a, float* scale,
                   std::int32_t* sums) {
  using vf = typename T::vf;
  using vi = typename T::vi;
  constexpr int L = T::kLanes, K = 32 / L;
  const vf lo = T::set1(-127.0f), hi = T::set1(127.0f);
  for (i64 i = 0; i < m; ++i) {
    const float* xi = x + i * ldx;
    vf mx[K];
#pragma GCC unroll 4
    for (int k = 0; k < K; ++k) mx[k] = T::zero();
    for (i64 c = 0; c < cols; c += 32) {
#pragma GCC unroll 4
      for (int k = 0; k < K; ++k) mx[k] = T::max(T::abs(T::loadu(xi + c + L * k)), mx[k]);
    }
#pragma GCC unroll 4
    for (int n = K; n > 1; n /= 2) {
#pragma GCC unroll 4
      for (int k = 0; k < n / 2; ++k) mx[k] = T::max(mx[2 * k], mx[2 * k + 1]);
    }
    const float amax = T::hmax(mx[0]);
    const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    scale[i] = amax / 127.0f;
    const vf vinv = T::set1(inv);
    std::int8_t* ai = a + i * cols;
    std::int32_t* si = sums + i * (cols / kActSumCols);
    for (i64 c = 0; c < cols; c += 32) {
      vi q[K];
#pragma GCC unroll 4
      for (int k = 0; k < K; ++k) {
        q[k] = T::cvt_i32(T::min(T::max(T::mul(T::loadu(xi + c + L * k), vinv), lo), hi));
      }
      T::store_i8(ai + c, q);
#pragma GCC unroll 4
      for (int n = K; n > 1; n /= 2) {
#pragma GCC unroll 4
        for (int k = 0; k < n / 2; ++k) q[k] = T::add_i32(q[2 * k], q[2 * k + 1]);
      }
      si[c / kActSumCols] = T::hsum_i32(q[0]);
    }
  }
}

}  // namespace
}  // namespace vrt::kernels::simd
