// Attention for 1-8 query rows sharing one head's keys and values in a ring KV cache
// (model/attention.h, kernel_table.h's attend_rows), written once over an ISA traits class T
// (see common.h) with 8 (AVX2, NEON pairs) or 16 (AVX-512) lanes; bitwise the reference's
// arithmetic (ref/ref_kernels.cpp's attend_row).
//
// Keys are stored transposed in blocks of 16 positions (kernel_table.h's key_index): one load of
// T::kLanes floats is dimension d of that many consecutive keys, so a row's scores of a block are
// head_dim broadcast-FMAs per vector, with no horizontal sums, and each key vector is loaded once
// for a group of rows (T::kScoreRows, what the registers hold). A row's score of key j: two FMA
// chains over the even and the odd dimensions in order, added, times the scale. Blocks are
// aligned to positions, so which block a key is in never depends on the other rows.
// Softmax: the vector exp of elementwise.h over each row's scores, their sum in kernels.h's 8
// lanes (T::add8 folds a 16-lane vector in as its two halves in order). Values: out += p_j v_j
// over the row's keys in position order, one accumulator per T::kLanes columns, in column chunks
// that keep every row's accumulators in registers (one value load serves all rows), times
// 1 / sum at the end. Keys and values are fp32 or f16 (converted on load, exact). head_dim 16,
// 32, 64 or 128 (64 in the encoder, 128 in the decoder); other sizes take the scalar reference.
#pragma once

#include "kernels/kernel_table.h"
#include "kernels/prefetch.h"
#include "kernels/simd/common.h"
#include "kernels/simd/elementwise.h"

namespace vrt::kernels::simd {
namespace {

// Software prefetch distance of the key and value streams. A step reads each layer's cache
// once, cold (the weights streamed in between evict it), and the hardware prefetchers restart
// at every 4 KiB page of a head's keys and values (AVX-512, BM_Attend with 32 / 26 caches, 2
// threads: encoder m = 4 over 750 keys f16 0.41 -> 0.33 ms, fp32 0.65 -> 0.56; decoder m = 1 at
// 1500 positions f16 0.40 -> 0.29, fp32 0.62 -> 0.52-0.55; 1-8 KiB measured).
constexpr i64 kAttendPrefetchBytes = 4096;

// Scores of rows [0, R) over key blocks [b_lo, b_hi): each row's keys inside its own range go
// to its scores (scores[j - first] for key j).
template <class T, int HD, int R, bool F16>
void attend_scores(const AttendRowArgs* rows, i64 b_lo, i64 b_hi) {
  using vf = typename T::vf;
  constexpr int L = T::kLanes;
  const AttendRowArgs& a0 = rows[0];
  const i64 blocks = a0.capacity / kKeyBlock;
  const vf vscale = T::set1(a0.scale);
  i64 cb = b_lo % blocks;  // the block's place in the ring
  for (i64 b = b_lo; b < b_hi; ++b, cb = cb + 1 == blocks ? 0 : cb + 1) {
    const i64 kt = cb * HD * kKeyBlock;  // element index of (block, d = 0)
    constexpr i64 kBlockBytes = HD * kKeyBlock * (F16 ? 2 : 4);
    prefetch_range(a0.k, kt * (F16 ? 2 : 4) + kAttendPrefetchBytes, kBlockBytes);
    const i64 j0 = b * kKeyBlock;
    for (int s = 0; s < kKeyBlock / L; ++s) {  // the block's keys [s L, s L + L)
      vf even[R], odd[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) even[r] = odd[r] = T::zero();
#pragma GCC unroll 4
      for (int d = 0; d < HD; d += 2) {
        const vf k0 = T::template load_kv<F16>(a0.k, kt + d * kKeyBlock + s * L);
        const vf k1 = T::template load_kv<F16>(a0.k, kt + (d + 1) * kKeyBlock + s * L);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          even[r] = T::fma(T::set1(rows[r].q[d]), k0, even[r]);
          odd[r] = T::fma(T::set1(rows[r].q[d + 1]), k1, odd[r]);
        }
      }
      const i64 js = j0 + s * L;
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const AttendRowArgs& a = rows[r];
        const i64 l0 = max_i64(0, a.first - js), l1 = min_i64(L, a.first + a.n - js);
        if (l0 >= l1) continue;
        const vf sc = T::mul(T::add(even[r], odd[r]), vscale);
        if (l0 == 0 && l1 == L) {
          T::storeu(a.scores + (js - a.first), sc);
        } else {  // the row's range starts or ends inside these keys
          alignas(64) float lanes[16];
          T::storeu(lanes, sc);
          float* dst = a.scores + (js + l0 - a.first);
          for (i64 l = l0; l < l1; ++l) *dst++ = lanes[l];
        }
      }
    }
  }
}

// Softmax numerators of a row's scores in place; returns 1 / their sum.
template <class T>
float softmax_numerators(const AttendRowArgs& a) {
  using vf = typename T::vf;
  constexpr int L = T::kLanes;
  float best = -__builtin_inff();
  i64 j = 0;
  if (a.n >= L) {
    vf mx = T::loadu(a.scores);
    for (j = L; j + L <= a.n; j += L) mx = T::max(T::loadu(a.scores + j), mx);
    best = T::hmax(mx);
  }
  for (; j < a.n; ++j) best = a.scores[j] > best ? a.scores[j] : best;
  const vf vmax = T::set1(best);
  typename T::v8 sum = T::zero8();
  for (j = 0; j + L <= a.n; j += L) {
    const vf e = exp_ps<T>(T::sub(T::loadu(a.scores + j), vmax));
    T::storeu(a.scores + j, e);
    sum = T::add8(sum, e);
  }
  if (j < a.n) {
    const typename T::Tail k = T::tail(a.n - j);
    T::store_tail(a.scores + j, k, exp_ps<T>(T::sub(T::load_tail(a.scores + j, k), vmax)));
    sum = T::add8(sum, T::load_tail(a.scores + j, k));  // zeros above: the sum never holds -0
  }
  return 1.0f / T::hsum8(sum);
}

// out_r[columns L C0 .. L (C0 + CV)) = (sum_j p_rj v_j) * inv_r over each row's own keys in
// position order [lo, hi); keys [all_lo, all_hi) are in every row's range (no checks there).
template <class T, int CV, int R, bool F16>
void attend_values(const AttendRowArgs* rows, const float* inv, int c0, i64 lo, i64 hi, i64 all_lo, i64 all_hi) {
  using vf = typename T::vf;
  constexpr int L = T::kLanes;
  const AttendRowArgs& a0 = rows[0];
  vf o[R][CV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int c = 0; c < CV; ++c) o[r][c] = T::zero();
  }
  i64 slot = lo % a0.capacity;
  for (i64 j = lo; j < hi; ++j, slot = slot + 1 == a0.capacity ? 0 : slot + 1) {
    const i64 vj = slot * a0.stride + L * c0;
    prefetch_range(a0.v, vj * (F16 ? 2 : 4) + kAttendPrefetchBytes, CV * L * (F16 ? 2 : 4));
    vf vv[CV];
#pragma GCC unroll 8
    for (int c = 0; c < CV; ++c) vv[c] = T::template load_kv<F16>(a0.v, vj + L * c);
    const bool all = j >= all_lo && j < all_hi;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      if (!all && (j < rows[r].first || j >= rows[r].first + rows[r].n)) continue;
      const vf w = T::set1(rows[r].scores[j - rows[r].first]);
#pragma GCC unroll 8
      for (int c = 0; c < CV; ++c) o[r][c] = T::fma(w, vv[c], o[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const vf vinv = T::set1(inv[r]);
#pragma GCC unroll 8
    for (int c = 0; c < CV; ++c) T::storeu(rows[r].out + L * (c0 + c), T::mul(o[r][c], vinv));
  }
}

// Position range of rows [0, R): lo / hi over all, all_lo / all_hi in every row's range.
template <int R>
void row_ranges(const AttendRowArgs* rows, i64& lo, i64& hi, i64& all_lo, i64& all_hi) {
  lo = rows[0].first, hi = rows[0].first + rows[0].n;
  all_lo = lo, all_hi = hi;
#pragma GCC unroll 8
  for (int r = 1; r < R; ++r) {
    lo = min_i64(lo, rows[r].first);
    hi = max_i64(hi, rows[r].first + rows[r].n);
    all_lo = max_i64(all_lo, rows[r].first);
    all_hi = min_i64(all_hi, rows[r].first + rows[r].n);
  }
  if (all_lo > all_hi) all_lo = all_hi = hi;
}

template <class T, int HD, int R, bool F16>
void scores_group(const AttendRowArgs* rows) {
  i64 lo, hi, all_lo, all_hi;
  row_ranges<R>(rows, lo, hi, all_lo, all_hi);
  attend_scores<T, HD, R, F16>(rows, lo / kKeyBlock, (hi + kKeyBlock - 1) / kKeyBlock);
}

template <class T, int HD, int R, bool F16>
void attend_fixed(const AttendRowArgs* rows) {
  // Scores in groups of SR rows (a row's bits do not depend on its group).
  constexpr int SR = T::kScoreRows < R ? T::kScoreRows : R;
  int g = 0;
  for (; g + SR <= R; g += SR) scores_group<T, HD, SR, F16>(rows + g);
  if constexpr (R % SR != 0) scores_group<T, HD, R % SR, F16>(rows + g);
  float inv[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) inv[r] = softmax_numerators<T>(rows[r]);
  i64 lo, hi, all_lo, all_hi;
  row_ranges<R>(rows, lo, hi, all_lo, all_hi);
  // Column chunks of CV vectors: R x CV accumulators within T::kAccRegs registers.
  constexpr int V = HD / T::kLanes;
  constexpr int kFit = T::kAccRegs / R >= 8 ? 8 : T::kAccRegs / R >= 4 ? 4 : T::kAccRegs / R >= 2 ? 2 : 1;
  constexpr int CV = V < kFit ? V : kFit;
  for (int c0 = 0; c0 < V; c0 += CV) attend_values<T, CV, R, F16>(rows, inv, c0, lo, hi, all_lo, all_hi);
}

template <class T, int HD, bool F16>
void attend_hf(const AttendRowArgs* rows, int count) {
  static_assert(kMaxAttendRows == 8);
  switch (count) {
    case 1: return attend_fixed<T, HD, 1, F16>(rows);
    case 2: return attend_fixed<T, HD, 2, F16>(rows);
    case 3: return attend_fixed<T, HD, 3, F16>(rows);
    case 4: return attend_fixed<T, HD, 4, F16>(rows);
    case 5: return attend_fixed<T, HD, 5, F16>(rows);
    case 6: return attend_fixed<T, HD, 6, F16>(rows);
    case 7: return attend_fixed<T, HD, 7, F16>(rows);
    default: return attend_fixed<T, HD, 8, F16>(rows);
  }
}

template <class T, int HD>
void attend_h(const AttendRowArgs* rows, int count) {
  if (rows[0].kv_f16) return attend_hf<T, HD, true>(rows, count);
  attend_hf<T, HD, false>(rows, count);
}

template <class T>
void attend_rows(const AttendRowArgs* rows, int count) {
  switch (rows[0].head_dim) {
    case 16: return attend_h<T, 16>(rows, count);
    case 32: return attend_h<T, 32>(rows, count);
    case 64: return attend_h<T, 64>(rows, count);
    case 128: return attend_h<T, 128>(rows, count);
    default: return ref_kernel_table().attend_rows(rows, count);
  }
}

}  // namespace
}  // namespace vrt::kernels::simd
