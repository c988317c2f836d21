// AVX-512 attention for 1-4 query rows sharing one head's keys and values in a ring KV cache
// (model/attention.h, kernel_table.h's attend_rows).
//
// The rows' key and value reads dominate (a 750-key window of one head is 2 x 192 KB: L2, not
// L1), so the rows of one call share them: each block of 16 keys and each value row is loaded
// once for up to 4 rows. Scores: one dot product per key, head_dim / 16 FMAs into one vector
// (keys are rows in the ring; a block of them is not contiguous in general, so no transposed
// layout), then the 16 vectors of a block are summed horizontally together (sum16: 46 shuffles
// and adds instead of 16 horizontal sums; the same additions as hsum in the same order).
// Softmax: the vector exp of avx512_util.h over each row's scores, 16 at a time. Values:
// out += p_j v_j over the row's keys in position order, head_dim / 16 accumulators per row.
// Keys and values are fp32 or f16 (converted on load). head_dim 16, 32, 64 or 128 (64 in the
// encoder, 128 in the decoder); other sizes take the scalar reference.
#include "kernels/kernel_table.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#include "kernels/avx512/avx512_util.h"

namespace vrt::kernels::avx512 {

namespace {

// Lane l = hsum(v[l]) bit for bit: hsum adds lanes (i, i + 8), then (i, i + 4), (i, i + 2),
// (i, i + 1); each level below does that addition for all vectors at once, packing the partial
// sums of several vectors into one register, and a final permutation restores key order.
inline __m512 sum16(const __m512 (&v)[16]) {
  __m512 s[8], t[4];
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {  // [A 0-7 + 8-15 | B 0-7 + 8-15]
    const __m512 a = v[2 * k], b = v[2 * k + 1];
    s[k] = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  }
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {  // 128-bit block c: vector 4k + c, lanes 0-3 + 4-7
    t[k] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * k], s[2 * k + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(s[2 * k], s[2 * k + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  }
  // Block c: [v(c), v(c)] of t0 / t1 -> lanes (0 + 2, 1 + 3) of vectors c, 4 + c (and 8 + c, 12 + c).
  const __m512 u0 = _mm512_add_ps(_mm512_shuffle_ps(t[0], t[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm512_shuffle_ps(t[0], t[1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 u1 = _mm512_add_ps(_mm512_shuffle_ps(t[2], t[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm512_shuffle_ps(t[2], t[3], _MM_SHUFFLE(3, 2, 3, 2)));
  // Block c: sums of vectors c, 4 + c, 8 + c, 12 + c, i.e. lane 4c + j holds vector 4j + c.
  const __m512 w = _mm512_add_ps(_mm512_shuffle_ps(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_ps(order, w);
}

inline i64 imax(i64 a, i64 b) { return a > b ? a : b; }
inline i64 imin(i64 a, i64 b) { return a < b ? a : b; }

// R rows (queries) sharing the keys and values: each block of 16 keys and each value row is
// read from L2 once for all R rows and from L1 by the others. Every row's arithmetic depends
// only on its own q and key range (scores per key, its own softmax, values in position order
// into one accumulator chain per 16 columns), never on the other rows of the call.
// 16 consecutive cache values as fp32 (f16: vcvtph2ps, exact).
template <bool F16>
inline __m512 load_kv(const void* base, i64 index) {
  if constexpr (F16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::uint16_t*>(base) + index)));
  } else {
    return _mm512_loadu_ps(static_cast<const float*>(base) + index);
  }
}

template <int V, int R, bool F16>
void attend_fixed(const AttendRowArgs* rows) {
  const AttendRowArgs& a0 = rows[0];
  i64 lo = a0.first, hi = a0.first + a0.n;
#pragma GCC unroll 4
  for (int r = 1; r < R; ++r) {
    lo = imin(lo, rows[r].first);
    hi = imax(hi, rows[r].first + rows[r].n);
  }
  const __m512 vscale = _mm512_set1_ps(a0.scale);
  // Scores: blocks of 16 keys from lo.
  i64 kp[16];  // element index of each key's row
  for (i64 j0 = lo; j0 < hi; j0 += 16) {
    const int nk = static_cast<int>(imin(16, hi - j0));
    for (int l = 0; l < nk; ++l) kp[l] = ((j0 + l) % a0.capacity) * a0.stride;
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const AttendRowArgs& a = rows[r];
      const int l0 = static_cast<int>(imax(0, a.first - j0));
      const int l1 = static_cast<int>(imin(nk, a.first + a.n - j0));
      if (l0 >= l1) continue;
      __m512 q[V];
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) q[c] = _mm512_loadu_ps(a.q + 16 * c);
      __m512 acc[16];
#pragma GCC unroll 16
      for (int l = 0; l < 16; ++l) {
        if (l >= l0 && l < l1) {
          acc[l] = _mm512_mul_ps(q[0], load_kv<F16>(a0.k, kp[l]));
#pragma GCC unroll 16
          for (int c = 1; c < V; ++c) acc[l] = _mm512_fmadd_ps(q[c], load_kv<F16>(a0.k, kp[l] + 16 * c), acc[l]);
        } else {
          acc[l] = _mm512_setzero_ps();
        }
      }
      const __m512 sc = _mm512_mul_ps(sum16(acc), vscale);
      if (l0 == 0) {  // lanes [0, l1) to scores[j0 - first ..] (a masked store; in bounds)
        _mm512_mask_storeu_ps(a.scores + (j0 - a.first), static_cast<__mmask16>((1u << l1) - 1), sc);
      } else {  // the row's first block starts inside it
        alignas(64) float block[16];
        _mm512_store_ps(block, sc);
        float* dst = a.scores + (j0 + l0 - a.first);
        for (int l = l0; l < l1; ++l) *dst++ = block[l];
      }
    }
  }
  // Softmax numerators in place; inv[r] = 1 / sum.
  float inv[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const AttendRowArgs& a = rows[r];
    __m512 mx = _mm512_set1_ps(-__builtin_inff());
    i64 j = 0;
    for (; j + 16 <= a.n; j += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(a.scores + j));
    if (j < a.n) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, tail_mask(a.n - j), a.scores + j));
    const __m512 vmax = _mm512_set1_ps(hmax(mx));
    __m512 sum = _mm512_setzero_ps();
    for (j = 0; j + 16 <= a.n; j += 16) {
      const __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(a.scores + j), vmax));
      _mm512_storeu_ps(a.scores + j, e);
      sum = _mm512_add_ps(sum, e);
    }
    if (j < a.n) {
      const __mmask16 k = tail_mask(a.n - j);
      const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, a.scores + j), vmax));
      _mm512_mask_storeu_ps(a.scores + j, k, e);
      sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(k, e));
    }
    inv[r] = 1.0f / hsum(sum);
  }
  // Values: out_r = (sum_j p_rj v_j) * inv_r over each row's own keys in position order.
  __m512 o[R][V];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) o[r][c] = _mm512_setzero_ps();
  }
  // Keys [all_lo, all_hi) are in every row's range: no per-row checks there (same operations).
  i64 all_lo = a0.first, all_hi = a0.first + a0.n;
#pragma GCC unroll 4
  for (int r = 1; r < R; ++r) {
    all_lo = imax(all_lo, rows[r].first);
    all_hi = imin(all_hi, rows[r].first + rows[r].n);
  }
  if (all_lo > all_hi) all_lo = all_hi = hi;
  const float* sp[R];  // each row's score of key j is sp[r][j]
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) sp[r] = rows[r].scores - rows[r].first;
  for (i64 j = lo; j < hi; ++j) {
    const i64 vj = (j % a0.capacity) * a0.stride;
    __m512 vv[V];
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) vv[c] = load_kv<F16>(a0.v, vj + 16 * c);
    const bool all = j >= all_lo && j < all_hi;
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      if (!all && (j < rows[r].first || j >= rows[r].first + rows[r].n)) continue;
      const __m512 w = _mm512_set1_ps(sp[r][j]);
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) o[r][c] = _mm512_fmadd_ps(w, vv[c], o[r][c]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const __m512 vinv = _mm512_set1_ps(inv[r]);
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) _mm512_storeu_ps(rows[r].out + 16 * c, _mm512_mul_ps(o[r][c], vinv));
  }
}

template <int V, bool F16>
void attend_vf(const AttendRowArgs* rows, int count) {
  switch (count) {
    case 1: return attend_fixed<V, 1, F16>(rows);
    case 2: return attend_fixed<V, 2, F16>(rows);
    case 3: return attend_fixed<V, 3, F16>(rows);
    default: return attend_fixed<V, 4, F16>(rows);
  }
}

template <int V>
void attend_v(const AttendRowArgs* rows, int count) {
  if (rows[0].kv_f16) return attend_vf<V, true>(rows, count);
  attend_vf<V, false>(rows, count);
}

}  // namespace

void attend_rows(const AttendRowArgs* rows, int count) {
  switch (rows[0].head_dim) {
    case 16: return attend_v<1>(rows, count);
    case 32: return attend_v<2>(rows, count);
    case 64: return attend_v<4>(rows, count);
    case 128: return attend_v<8>(rows, count);
    default: return ref_kernel_table().attend_rows(rows, count);
  }
}

}  // namespace vrt::kernels::avx512

#endif
