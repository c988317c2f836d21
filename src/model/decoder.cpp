#include "model/decoder.h"

#include "model/blocks.h"
#include "voxtral_rt/error.h"

namespace vrt {

Decoder::Decoder(const ModelConfig& config, const ModelWeights& weights, std::int64_t max_block, KvCacheType kv_type)
    : config_(config), w_(weights), max_block_(max_block), kv_type_(kv_type), rope_(config.head_dim, config.rope_theta) {}

DecoderState Decoder::new_state() const {
  DecoderState s;
  for (int l = 0; l < config_.n_layers; ++l)
    s.kv.emplace_back(config_.n_kv_heads, config_.head_dim, config_.sliding_window + max_block_ - 1, kv_type_);
  return s;
}

void Decoder::add_embedding(int token, float* out) const {
  if (token < 0 || token >= w_.tok_embeddings.rows())
    throw Error(Status::internal, "token id " + std::to_string(token) + " outside the embedding table");
  std::vector<float> row(static_cast<std::size_t>(config_.dim));
  kernels::linear_rows_to_f32(w_.tok_embeddings, token, token + 1, row.data());
  for (int i = 0; i < config_.dim; ++i) out[i] += row[static_cast<std::size_t>(i)];
}

void Decoder::forward(DecoderState& st, float* x, std::int64_t m, const std::vector<std::vector<float>>& ada,
                      ThreadPool* pool) const {
  const DecoderSegment one{&st, m, &ada};
  forward_segments(std::span<const DecoderSegment>(&one, 1), x, pool);
}

void Decoder::forward_segments(std::span<const DecoderSegment> segments, float* x, ThreadPool* pool) const {
  const auto& c = config_;
  std::int64_t m = 0;
  for (const auto& seg : segments) {
    if (seg.rows < 1 || seg.rows > max_block_) throw Error(Status::internal, "decoder block of " + std::to_string(seg.rows));
    m += seg.rows;
  }
  if (m < 1) throw Error(Status::internal, "empty decoder batch");
  const std::int64_t d = c.dim;
  const AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim, c.sliding_window};
  const auto eps = static_cast<float>(c.norm_eps);
  std::vector<float> nrm(static_cast<std::size_t>(m * d));
  BlockScratch scratch;
  std::vector<AttentionSegment> att(segments.size());
  for (int l = 0; l < c.n_layers; ++l) {
    const auto& L = w_.decoder[static_cast<std::size_t>(l)];
    for (std::size_t i = 0; i < segments.size(); ++i)
      att[i] = {segments[i].state->next_pos, segments[i].rows, &segments[i].state->kv[static_cast<std::size_t>(l)]};
    kernels::rms_norm(x, m, d, L.attention_norm.data(), eps, nrm.data());
    attention_block(nrm.data(), x, m, d, att, {L.wq, L.wk, L.wv, L.wo}, rope_, shape, scratch, pool);
    kernels::rms_norm(x, m, d, L.ffn_norm.data(), eps, nrm.data());
    std::int64_t r = 0;
    for (const auto& seg : segments) {
      const auto& scale = (*seg.ada)[static_cast<std::size_t>(l)];  // time-conditioned norm: * (1 + s_l)
      for (std::int64_t i = r; i < r + seg.rows; ++i)
        for (std::int64_t j = 0; j < d; ++j) nrm[static_cast<std::size_t>(i * d + j)] *= scale[static_cast<std::size_t>(j)];
      r += seg.rows;
    }
    feed_forward_block(nrm.data(), x, m, d, c.hidden_dim, {L.w1, L.w2, L.w3}, scratch, pool);
  }
  for (const auto& seg : segments) seg.state->next_pos += seg.rows;
  attention_ns_.fetch_add(scratch.attention_ns, std::memory_order_relaxed);
}

void Decoder::logits(const float* h, std::int64_t m, float* out, ThreadPool* pool) const {
  std::vector<float> nrm(static_cast<std::size_t>(m * config_.dim));
  kernels::rms_norm(h, m, config_.dim, w_.final_norm.data(), static_cast<float>(config_.norm_eps), nrm.data());
  kernels::linear(nrm.data(), m, config_.dim, w_.output, nullptr, out, w_.output.rows(), pool);
}

}  // namespace vrt
