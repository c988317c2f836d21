#include "model/blocks.h"

#include <chrono>
#include <cstring>

namespace vrt {

void attention_block(const float* n, float* x, std::int64_t m, std::int64_t dim, std::int64_t p0,
                     const AttentionWeights& w, const Rope& rope, const AttentionShape& shape, KvCache& cache,
                     BlockScratch& s, ThreadPool* pool) {
  const AttentionSegment one{p0, m, &cache};
  attention_block(n, x, m, dim, std::span<const AttentionSegment>(&one, 1), w, rope, shape, s, pool);
}

void attention_block(const float* n, float* x, std::int64_t m, std::int64_t dim,
                     std::span<const AttentionSegment> segments, const AttentionWeights& w, const Rope& rope,
                     const AttentionShape& shape, BlockScratch& s, ThreadPool* pool) {
  const std::int64_t qd = std::int64_t{shape.n_heads} * shape.head_dim;
  const std::int64_t kvd = std::int64_t{shape.n_kv_heads} * shape.head_dim;
  s.q.resize(static_cast<std::size_t>(m * qd));
  s.k.resize(static_cast<std::size_t>(m * kvd));
  s.v.resize(s.k.size());
  s.att.resize(s.q.size());
  s.proj.resize(static_cast<std::size_t>(m * dim));
  kernels::linear(n, m, dim, w.wq, w.bq, s.q.data(), qd, pool);
  kernels::linear(n, m, dim, w.wk, nullptr, s.k.data(), kvd, pool);
  kernels::linear(n, m, dim, w.wv, w.bv, s.v.data(), kvd, pool);
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t r0 = 0;  // the segment's first row in the batch
  for (const auto& seg : segments) {
    KvCache& cache = *seg.cache;
    for (std::int64_t i = 0; i < seg.rows; ++i) {  // biases come before RoPE (spec §6.2)
      const std::int64_t r = r0 + i, p = seg.p0 + i;
      rope.apply(s.q.data() + r * qd, shape.n_heads, p);
      rope.apply(s.k.data() + r * kvd, shape.n_kv_heads, p);
      cache.reserve(p);
      cache.store(p, s.k.data() + r * kvd, s.v.data() + r * kvd);
    }
    attend(s.q.data() + r0 * qd, seg.rows, seg.p0, cache, shape, s.att.data() + r0 * qd, pool);
    r0 += seg.rows;
  }
  s.attention_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  kernels::linear(s.att.data(), m, qd, w.wo, w.bo, s.proj.data(), dim, pool);
  for (std::int64_t i = 0; i < m * dim; ++i) x[i] += s.proj[static_cast<std::size_t>(i)];
}

void feed_forward_block(const float* n, float* x, std::int64_t m, std::int64_t dim, std::int64_t hidden,
                        const FeedForwardWeights& w, BlockScratch& s, ThreadPool* pool) {
  s.gate.resize(static_cast<std::size_t>(m * hidden));
  s.up.resize(s.gate.size());
  s.proj.resize(static_cast<std::size_t>(m * dim));
  kernels::linear(n, m, dim, w.w1, nullptr, s.gate.data(), hidden, pool);
  kernels::linear(n, m, dim, w.w3, nullptr, s.up.data(), hidden, pool);
  kernels::silu_mul(s.gate.data(), s.up.data(), s.gate.data(), m * hidden);
  kernels::linear(s.gate.data(), m, hidden, w.w2, w.b2, s.proj.data(), dim, pool);
  for (std::int64_t i = 0; i < m * dim; ++i) x[i] += s.proj[static_cast<std::size_t>(i)];
}

}  // namespace vrt
