// Causal sliding-window attention over a ring KV cache, for a block of m consecutive query
// positions p0..p0+m-1 (m = 1 when decoding, more for the encoder, prefill and verification).
//
// Query head h reads KV head h / (n_heads / n_kv_heads) (GQA); key j is visible from query p iff
// 0 <= p - j < window (spec §6.2, §7.2). Scores are q.k / sqrt(head_dim), softmax in fp32 with
// the maximum subtracted. Positions are absolute and unbounded: the cache is a ring indexed by
// position modulo its capacity, which must be at least window + m - 1 so that every key a block
// needs is present at once.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/thread_pool.h"

namespace vrt {

class KvCache {
 public:
  KvCache(int n_kv_heads, int head_dim, std::int64_t capacity);
  // Makes room for `pos` (storage grows with the positions seen, up to the capacity).
  void reserve(std::int64_t pos);
  float* k(std::int64_t pos) { return k_.data() + slot(pos) * row_; }
  float* v(std::int64_t pos) { return v_.data() + slot(pos) * row_; }
  const float* k(std::int64_t pos) const { return k_.data() + slot(pos) * row_; }
  const float* v(std::int64_t pos) const { return v_.data() + slot(pos) * row_; }
  std::int64_t capacity() const { return capacity_; }
  std::int64_t row_floats() const { return row_; }  // floats per position (slot stride)

 private:
  std::int64_t slot(std::int64_t pos) const { return pos % capacity_; }
  std::int64_t row_;
  std::int64_t capacity_;
  std::vector<float> k_, v_;
};

struct AttentionShape {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  std::int64_t window = 0;
};

// out[i, h*hd ...] for queries q [m, n_heads*head_dim] at positions p0 + i; the cache must
// already hold keys/values for positions max(0, p0 + i - window + 1) .. p0 + i.
void attend(const float* q, std::int64_t m, std::int64_t p0, const KvCache& cache, const AttentionShape& shape,
            float* out, ThreadPool* pool);

}  // namespace vrt
