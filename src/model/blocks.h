// The two sublayers shared by the encoder and the decoder (spec §6.2, §7.2), on m rows of
// normalized input n [m, dim], adding their output to the residual stream x [m, dim]:
//   attention: x += Wo attend(RoPE(Wq n + bq), RoPE(Wk n), Wv n + bv) + bo   (rows at positions p0..)
//   SwiGLU:    x += W2 (SiLU(W1 n) * W3 n) + b2
// Biases are optional (null). Keys and values of the new rows go into the ring cache first.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/quant.h"
#include "model/attention.h"
#include "model/rope.h"

namespace vrt {

struct AttentionWeights {
  const kernels::LinearWeight& wq;
  const kernels::LinearWeight& wk;
  const kernels::LinearWeight& wv;
  const kernels::LinearWeight& wo;
  const float* bq = nullptr;
  const float* bv = nullptr;
  const float* bo = nullptr;
};

struct FeedForwardWeights {
  const kernels::LinearWeight& w1;
  const kernels::LinearWeight& w2;
  const kernels::LinearWeight& w3;
  const float* b2 = nullptr;
};

// Reusable buffers for one forward call (sized on first use).
struct BlockScratch {
  std::vector<float> q, k, v, att, proj, gate, up;
  std::int64_t attention_ns = 0;  // time in RoPE, the KV store and attend (stage statistics)
};

void attention_block(const float* n, float* x, std::int64_t m, std::int64_t dim, std::int64_t p0,
                     const AttentionWeights& w, const Rope& rope, const AttentionShape& shape, KvCache& cache,
                     BlockScratch& s, ThreadPool* pool);

// Rows of one stream inside a batch: `rows` consecutive rows at positions p0.., their keys and
// values in `cache` (cross-session batched decoding stacks several streams' segments).
struct AttentionSegment {
  std::int64_t p0 = 0;
  std::int64_t rows = 0;
  KvCache* cache = nullptr;
};

// The same over segments whose rows sum to m, stacked in order: the projections run once over
// all m rows (each weight read once for every stream), RoPE, cache writes and attention per
// segment. With one segment this is the call above.
void attention_block(const float* n, float* x, std::int64_t m, std::int64_t dim,
                     std::span<const AttentionSegment> segments, const AttentionWeights& w, const Rope& rope,
                     const AttentionShape& shape, BlockScratch& s, ThreadPool* pool);

void feed_forward_block(const float* n, float* x, std::int64_t m, std::int64_t dim, std::int64_t hidden,
                        const FeedForwardWeights& w, BlockScratch& s, ThreadPool* pool);

}  // namespace vrt
