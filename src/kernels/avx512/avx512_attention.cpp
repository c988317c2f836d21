// AVX-512 attention for 1-8 query rows sharing one head's keys and values in a ring KV cache
// (model/attention.h, kernel_table.h's attend_rows).
//
// Keys are stored transposed in blocks of 16 positions (kernel_table.h's key_index): one vector
// load is dimension d of 16 consecutive keys, so a row's 16 scores of a block are head_dim
// broadcast-FMAs into one vector, with no horizontal sums, and each key vector is loaded once
// for all rows of the call. A row's score of key j: two FMA chains over the even and the odd
// dimensions in order, added, times the scale (the same operations for every row, block and
// grouping). Blocks are aligned to positions (block b = keys 16b .. 16b + 15), so which block
// a key is in never depends on the other rows.
// Softmax: the vector exp of ../simd/elementwise.h over each row's scores, 16 at a time. Values:
// out += p_j v_j over the row's keys in position order, one accumulator per 16 columns, in
// column chunks that keep every row's accumulators in registers (one value row load serves all
// rows). Keys and values are fp32 or f16 (converted on load). head_dim 16, 32, 64 or 128 (64
// in the encoder, 128 in the decoder); other sizes take the scalar reference.
#include "kernels/kernel_table.h"
#include "kernels/prefetch.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/avx512/avx512_traits.h"
#include "kernels/simd/elementwise.h"

namespace vrt::kernels::avx512 {

namespace {

inline i64 imax(i64 a, i64 b) { return a > b ? a : b; }
inline i64 imin(i64 a, i64 b) { return a < b ? a : b; }

// 16 consecutive cache values as fp32 (f16: vcvtph2ps, exact).
template <bool F16>
inline __m512 load_kv(const void* base, i64 index) {
  if constexpr (F16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::uint16_t*>(base) + index)));
  } else {
    return _mm512_loadu_ps(static_cast<const float*>(base) + index);
  }
}

// Software prefetch distance of the key and value streams. A step reads each layer's cache
// once, cold (the weights streamed in between evict it), and the hardware prefetchers restart
// at every 4 KiB page of a head's keys and values (BM_Attend with 32 / 26 caches, 2 threads:
// encoder m = 4 over 750 keys f16 0.41 -> 0.33 ms, fp32 0.65 -> 0.56; decoder m = 1 at 1500
// positions f16 0.40 -> 0.29, fp32 0.62 -> 0.52-0.55; 1-8 KiB measured).
constexpr i64 kPrefetchBytes = 4096;

// Scores of R rows over key blocks [b_lo, b_hi): each row's lanes inside its own range go to
// its scores (scores[j - first] for key j).
template <int HD, int R, bool F16>
void scores_fixed(const AttendRowArgs* rows, i64 b_lo, i64 b_hi) {
  const AttendRowArgs& a0 = rows[0];
  const i64 blocks = a0.capacity / kKeyBlock;
  const __m512 vscale = _mm512_set1_ps(a0.scale);
  i64 cb = b_lo % blocks;  // the block's place in the ring
  for (i64 b = b_lo; b < b_hi; ++b, cb = cb + 1 == blocks ? 0 : cb + 1) {
    const i64 kt = cb * HD * kKeyBlock;  // element index of (block, d = 0)
    constexpr i64 kBlockBytes = HD * kKeyBlock * (F16 ? 2 : 4);
    prefetch_range(a0.k, kt * (F16 ? 2 : 4) + kPrefetchBytes, kBlockBytes);
    __m512 even[R], odd[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) even[r] = odd[r] = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int d = 0; d < HD; d += 2) {
      const __m512 k0 = load_kv<F16>(a0.k, kt + d * kKeyBlock);
      const __m512 k1 = load_kv<F16>(a0.k, kt + (d + 1) * kKeyBlock);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        even[r] = _mm512_fmadd_ps(_mm512_set1_ps(rows[r].q[d]), k0, even[r]);
        odd[r] = _mm512_fmadd_ps(_mm512_set1_ps(rows[r].q[d + 1]), k1, odd[r]);
      }
    }
    const i64 j0 = b * kKeyBlock;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const AttendRowArgs& a = rows[r];
      const i64 l0 = imax(0, a.first - j0), l1 = imin(kKeyBlock, a.first + a.n - j0);
      if (l0 >= l1) continue;
      const __m512 sc = _mm512_mul_ps(_mm512_add_ps(even[r], odd[r]), vscale);
      if (l0 == 0) {  // lanes [0, l1) to scores[j0 - first ..] (a masked store; in bounds)
        _mm512_mask_storeu_ps(a.scores + (j0 - a.first), tail_mask(l1), sc);
      } else {  // the row's first block starts inside it
        alignas(64) float block[16];
        _mm512_store_ps(block, sc);
        float* dst = a.scores + (j0 + l0 - a.first);
        for (i64 l = l0; l < l1; ++l) *dst++ = block[l];
      }
    }
  }
}

// Softmax numerators of a row's scores in place; returns 1 / their sum.
inline float softmax_numerators(const AttendRowArgs& a) {
  __m512 mx = _mm512_set1_ps(-__builtin_inff());
  i64 j = 0;
  for (; j + 16 <= a.n; j += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(a.scores + j));
  if (j < a.n) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, tail_mask(a.n - j), a.scores + j));
  const __m512 vmax = _mm512_set1_ps(hmax(mx));
  __m512 sum = _mm512_setzero_ps();
  for (j = 0; j + 16 <= a.n; j += 16) {
    const __m512 e = simd::exp_ps<Avx512>(_mm512_sub_ps(_mm512_loadu_ps(a.scores + j), vmax));
    _mm512_storeu_ps(a.scores + j, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (j < a.n) {
    const __mmask16 k = tail_mask(a.n - j);
    const __m512 e = simd::exp_ps<Avx512>(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, a.scores + j), vmax));
    _mm512_mask_storeu_ps(a.scores + j, k, e);
    sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(k, e));
  }
  return 1.0f / hsum(sum);
}

// out_r[columns 16 C0 .. 16 (C0 + CV)) = (sum_j p_rj v_j) * inv_r over each row's own keys in
// position order [lo, hi); keys [all_lo, all_hi) are in every row's range (no checks there).
template <int CV, int R, bool F16>
void values_chunk(const AttendRowArgs* rows, const float* inv, int c0, i64 lo, i64 hi, i64 all_lo, i64 all_hi) {
  const AttendRowArgs& a0 = rows[0];
  __m512 o[R][CV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int c = 0; c < CV; ++c) o[r][c] = _mm512_setzero_ps();
  }
  i64 slot = lo % a0.capacity;
  for (i64 j = lo; j < hi; ++j, slot = slot + 1 == a0.capacity ? 0 : slot + 1) {
    const i64 vj = slot * a0.stride + 16 * c0;
    prefetch_range(a0.v, vj * (F16 ? 2 : 4) + kPrefetchBytes, CV * 16 * (F16 ? 2 : 4));
    __m512 vv[CV];
#pragma GCC unroll 8
    for (int c = 0; c < CV; ++c) vv[c] = load_kv<F16>(a0.v, vj + 16 * c);
    const bool all = j >= all_lo && j < all_hi;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      if (!all && (j < rows[r].first || j >= rows[r].first + rows[r].n)) continue;
      const __m512 w = _mm512_set1_ps(rows[r].scores[j - rows[r].first]);
#pragma GCC unroll 8
      for (int c = 0; c < CV; ++c) o[r][c] = _mm512_fmadd_ps(w, vv[c], o[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const __m512 vinv = _mm512_set1_ps(inv[r]);
#pragma GCC unroll 8
    for (int c = 0; c < CV; ++c) _mm512_storeu_ps(rows[r].out + 16 * (c0 + c), _mm512_mul_ps(o[r][c], vinv));
  }
}

template <int HD, int R, bool F16>
void attend_fixed(const AttendRowArgs* rows) {
  i64 lo = rows[0].first, hi = rows[0].first + rows[0].n;
  i64 all_lo = lo, all_hi = hi;
#pragma GCC unroll 8
  for (int r = 1; r < R; ++r) {
    lo = imin(lo, rows[r].first);
    hi = imax(hi, rows[r].first + rows[r].n);
    all_lo = imax(all_lo, rows[r].first);
    all_hi = imin(all_hi, rows[r].first + rows[r].n);
  }
  if (all_lo > all_hi) all_lo = all_hi = hi;
  scores_fixed<HD, R, F16>(rows, lo / kKeyBlock, (hi + kKeyBlock - 1) / kKeyBlock);
  float inv[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) inv[r] = softmax_numerators(rows[r]);
  // Column chunks of CV vectors: R x CV accumulators stay within 16 registers.
  constexpr int V = HD / 16;
  constexpr int kMaxCv = R >= 5 ? 2 : (R >= 3 ? 4 : 8);
  constexpr int CV = V < kMaxCv ? V : kMaxCv;
  for (int c0 = 0; c0 < V; c0 += CV) values_chunk<CV, R, F16>(rows, inv, c0, lo, hi, all_lo, all_hi);
}

template <int HD, bool F16>
void attend_hf(const AttendRowArgs* rows, int count) {
  static_assert(kMaxAttendRows == 8);
  switch (count) {
    case 1: return attend_fixed<HD, 1, F16>(rows);
    case 2: return attend_fixed<HD, 2, F16>(rows);
    case 3: return attend_fixed<HD, 3, F16>(rows);
    case 4: return attend_fixed<HD, 4, F16>(rows);
    case 5: return attend_fixed<HD, 5, F16>(rows);
    case 6: return attend_fixed<HD, 6, F16>(rows);
    case 7: return attend_fixed<HD, 7, F16>(rows);
    default: return attend_fixed<HD, 8, F16>(rows);
  }
}

template <int HD>
void attend_h(const AttendRowArgs* rows, int count) {
  if (rows[0].kv_f16) return attend_hf<HD, true>(rows, count);
  attend_hf<HD, false>(rows, count);
}

}  // namespace

void attend_rows(const AttendRowArgs* rows, int count) {
  switch (rows[0].head_dim) {
    case 16: return attend_h<16>(rows, count);
    case 32: return attend_h<32>(rows, count);
    case 64: return attend_h<64>(rows, count);
    case 128: return attend_h<128>(rows, count);
    default: return ref_kernel_table().attend_rows(rows, count);
  }
}

}  // namespace vrt::kernels::avx512
