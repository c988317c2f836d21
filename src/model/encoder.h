// The causal audio encoder and the adapter (spec §6), processing mel frames in chunks with
// carried state so that audio of any length runs in bounded memory and chunked == whole.
//
//   mel [T, 128] (frame-major) -> conv1 (k3 s1, 2 frames of left context, GELU) [T, 1280]
//   -> conv2 (k3 s2, 1 frame of left context, GELU) [T/2, 1280]
//   -> n_layers x pre-norm block (RMSNorm; q,v,o biased, k not; interleaved RoPE on absolute
//      frame positions; causal attention over a window of 750 frames; SwiGLU with biased w2)
//   -> final RMSNorm [T/2, 1280]
//   adapter: 4 consecutive frames stacked [T/8, 5120] -> Linear -> GELU -> Linear [T/8, 3072]
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

struct EncoderState {
  std::int64_t next_frame = 0;  // absolute position of the next encoder frame
  std::vector<float> mel_tail;  // the 2 mel frames before the next chunk (zeros at the start)
  std::vector<float> h1_tail;   // the conv1 frame before the next chunk (zero at the start)
  std::vector<KvCache> kv;      // one per layer
};

// One stream's part of a batched encoder call: t_mel mel frames (even) continuing `state`.
struct EncoderSegment {
  EncoderState* state = nullptr;
  const float* mel = nullptr;  // frame-major [t_mel, n_mels]
  std::int64_t t_mel = 0;
};

class Encoder {
 public:
  // max_chunk_frames: the most encoder frames one forward() call may produce.
  Encoder(const ModelConfig& config, const ModelWeights& weights, std::int64_t max_chunk_frames,
          KvCacheType kv_type = KvCacheType::f32);

  EncoderState new_state() const;
  // mel: frame-major [t_mel, n_mels], t_mel even and <= 2 * max_chunk_frames. Writes the
  // encoder output [t_mel / 2, dim] (after the final norm) to `out`.
  void forward(EncoderState& state, const float* mel, std::int64_t t_mel, std::vector<float>& out,
               ThreadPool* pool) const;
  // Cross-session batching: the segments' outputs stacked in `out` [sum t_mel / 2, dim], one
  // call in which every weight matrix is read once for all of them (conv stem, projections and
  // feed-forward over the stacked rows; RoPE, cache and attention per segment). A row's values
  // equal those of forward() on its own state when every encoder matrix is packed (see
  // rows_batch_independent()); callers batch several segments only then.
  void forward_segments(std::span<const EncoderSegment> segments, std::vector<float>& out, ThreadPool* pool) const;
  // True when the encoder's and adapter's matrices are all packed (quantized): their rows then
  // compute bitwise the same in any batch (quant.h), so any chunking and any stacking of
  // streams gives the same encoder output. Float matmuls change tiling above 16 rows.
  bool rows_batch_independent() const;
  // Time spent in attention (RoPE, KV store, attend) by every forward call so far.
  std::int64_t attention_ns() const { return attention_ns_.load(std::memory_order_relaxed); }
  // enc: [downsample * n_tokens, dim] -> out [n_tokens, decoder dim].
  void adapter(const float* enc, std::int64_t n_tokens, std::vector<float>& out, ThreadPool* pool) const;

 private:
  mutable std::atomic<std::int64_t> attention_ns_{0};
  const ModelConfig& config_;
  const ModelWeights& w_;
  std::int64_t max_chunk_;
  KvCacheType kv_type_;
  Rope rope_;
};

}  // namespace vrt
