// The text decoder (spec §7): n_layers pre-norm blocks over a ring KV cache,
//   h += Wo attn(RoPE(Wq RMSNorm(h)), RoPE(Wk .), Wv .)      GQA, sliding window, no biases
//   h += W2 (SiLU(W1 u) * W3 u),  u = RMSNorm(h) * (1 + s_l)  time-conditioned FFN norm
// then a final RMSNorm and the (tied) head: logits = h . E^T. Inputs are the adapter output plus
// the token embedding of the previous token, one row per position.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "model/attention.h"
#include "model/rope.h"
#include "model/weights.h"
#include "common/thread_pool.h"

namespace vrt {

struct DecoderState {
  std::int64_t next_pos = 0;  // absolute position of the next input row
  std::vector<KvCache> kv;    // one per layer
};

// One stream's part of a batched decoder pass: `rows` consecutive positions from
// state->next_pos, with that stream's ada scales (streams may have different delays).
struct DecoderSegment {
  DecoderState* state = nullptr;
  std::int64_t rows = 0;
  const std::vector<std::vector<float>>* ada = nullptr;
};

class Decoder {
 public:
  // max_block: the most positions one forward() call may take.
  Decoder(const ModelConfig& config, const ModelWeights& weights, std::int64_t max_block,
          KvCacheType kv_type = KvCacheType::f32);

  DecoderState new_state() const;
  // out[0..dim) += E[token].
  void add_embedding(int token, float* out) const;
  // x: [m, dim] input rows for positions next_pos.., replaced by the last layer's hidden states
  // (before the final norm). ada: (1 + s_l) per layer for the session's delay.
  void forward(DecoderState& state, float* x, std::int64_t m, const std::vector<std::vector<float>>& ada,
               ThreadPool* pool) const;
  // Cross-session batching: the segments' rows stacked in x [sum rows, dim], one pass in which
  // every weight matrix is read once for all of them; attention, RoPE and the ada scales per
  // segment. Each segment's state advances by its rows. A row's values equal those of forward()
  // on its own state when the kernels make rows batch-independent (packed weights; float
  // weights while the total is <= 16, see kernels::matmul): callers keep batches within that.
  void forward_segments(std::span<const DecoderSegment> segments, float* x, ThreadPool* pool) const;
  // Final norm and head for m hidden rows: logits [m, vocab] (each row's values do not depend
  // on m: see kernels::matmul for m <= 16, quant.h for packed heads).
  void logits(const float* h, std::int64_t m, float* out, ThreadPool* pool) const;
  // Time spent in attention (RoPE, KV store, attend) by every forward call so far.
  std::int64_t attention_ns() const { return attention_ns_.load(std::memory_order_relaxed); }

 private:
  mutable std::atomic<std::int64_t> attention_ns_{0};
  const ModelConfig& config_;
  const ModelWeights& w_;
  std::int64_t max_block_;
  KvCacheType kv_type_;
  Rope rope_;
};

}  // namespace vrt
