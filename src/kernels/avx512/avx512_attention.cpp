// AVX-512 attention for one query row and one head over a ring KV cache (model/attention.h).
//
// Scores: one dot product per key, head_dim / 16 FMAs and a horizontal sum (keys are rows in
// the ring; a block of them is not contiguous in general, so no transposed layout). Softmax: the
// vector exp of avx512_util.h over the scores, 16 at a time. Values: out += p_j v_j with head_dim
// / 16 accumulators in registers, two keys per iteration into separate accumulators to halve the
// FMA dependency chain. head_dim must be a multiple of 16 (64 and 128 in the real model); other
// sizes take the scalar reference.
#include "kernels/kernel_table.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#include "kernels/avx512/avx512_util.h"

namespace vrt::kernels::avx512 {

namespace {

constexpr int kMaxVec = 16;  // head_dim <= 256

template <int V>
void attend_fixed(const AttendRowArgs& a) {
  __m512 q[V];
#pragma GCC unroll 16
  for (int c = 0; c < V; ++c) q[c] = _mm512_loadu_ps(a.q + 16 * c);
  __m512 mx = _mm512_set1_ps(-__builtin_inff());
  std::int64_t slot = a.first % a.capacity;
  for (std::int64_t j = 0; j < a.n; ++j) {
    const float* kj = a.k + slot * a.stride;
    __m512 acc = _mm512_mul_ps(q[0], _mm512_loadu_ps(kj));
#pragma GCC unroll 16
    for (int c = 1; c < V; ++c) acc = _mm512_fmadd_ps(q[c], _mm512_loadu_ps(kj + 16 * c), acc);
    a.scores[j] = hsum(acc) * a.scale;
    if (++slot == a.capacity) slot = 0;
  }
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
  const float inv = 1.0f / hsum(sum);
  __m512 o0[V], o1[V];
#pragma GCC unroll 16
  for (int c = 0; c < V; ++c) o0[c] = o1[c] = _mm512_setzero_ps();
  slot = a.first % a.capacity;
  for (j = 0; j + 2 <= a.n; j += 2) {
    const float* v0 = a.v + slot * a.stride;
    if (++slot == a.capacity) slot = 0;
    const float* v1 = a.v + slot * a.stride;
    if (++slot == a.capacity) slot = 0;
    const __m512 w0 = _mm512_set1_ps(a.scores[j]), w1 = _mm512_set1_ps(a.scores[j + 1]);
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) {
      o0[c] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(v0 + 16 * c), o0[c]);
      o1[c] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(v1 + 16 * c), o1[c]);
    }
  }
  if (j < a.n) {
    const float* v0 = a.v + slot * a.stride;
    const __m512 w0 = _mm512_set1_ps(a.scores[j]);
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) o0[c] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(v0 + 16 * c), o0[c]);
  }
  const __m512 vinv = _mm512_set1_ps(inv);
#pragma GCC unroll 16
  for (int c = 0; c < V; ++c) _mm512_storeu_ps(a.out + 16 * c, _mm512_mul_ps(_mm512_add_ps(o0[c], o1[c]), vinv));
}

}  // namespace

void attend_row(const AttendRowArgs& a) {
  switch (a.head_dim) {
    case 16: return attend_fixed<1>(a);
    case 32: return attend_fixed<2>(a);
    case 64: return attend_fixed<4>(a);
    case 128: return attend_fixed<8>(a);
    case 256: return attend_fixed<kMaxVec>(a);
    default: return ref_kernel_table().attend_row(a);
  }
}

}  // namespace vrt::kernels::avx512

#endif
