// The text decoder (spec §7): n_layers pre-norm blocks over a ring KV cache,
//   h += Wo attn(RoPE(Wq RMSNorm(h)), RoPE(Wk .), Wv .)      GQA, sliding window, no biases
//   h += W2 (SiLU(W1 u) * W3 u),  u = RMSNorm(h) * (1 + s_l)  time-conditioned FFN norm
// then a final RMSNorm and the (tied) head: logits = h . E^T. Inputs are the adapter output plus
// the token embedding of the previous token, one row per position.
#pragma once

#include <cstdint>
#include <vector>

#include "model/attention.h"
#include "model/rope.h"
#include "model/weights.h"
#include "runtime/thread_pool.h"

namespace vrt {

struct DecoderState {
  std::int64_t next_pos = 0;  // absolute position of the next input row
  std::vector<KvCache> kv;    // one per layer
};

class Decoder {
 public:
  // max_block: the most positions one forward() call may take.
  Decoder(const ModelConfig& config, const ModelWeights& weights, std::int64_t max_block);

  DecoderState new_state() const;
  // out[0..dim) += E[token].
  void add_embedding(int token, float* out) const;
  // x: [m, dim] input rows for positions next_pos.., replaced by the last layer's hidden states
  // (before the final norm). ada: (1 + s_l) per layer for the session's delay.
  void forward(DecoderState& state, float* x, std::int64_t m, const std::vector<std::vector<float>>& ada,
               ThreadPool* pool) const;
  // Final norm and head for m hidden rows: logits [m, vocab] (each row's values do not depend
  // on m: see kernels::matmul for m <= 16, quant.h for packed heads).
  void logits(const float* h, std::int64_t m, float* out, ThreadPool* pool) const;

 private:
  const ModelConfig& config_;
  const ModelWeights& w_;
  std::int64_t max_block_;
  Rope rope_;
};

}  // namespace vrt
