#include "model/encoder.h"

#include <algorithm>
#include <cstring>

#include "model/blocks.h"
#include "voxtral_rt/error.h"

namespace vrt {
Encoder::Encoder(const ModelConfig& config, const ModelWeights& weights, std::int64_t max_chunk_frames,
                 KvCacheType kv_type)
    : config_(config), w_(weights), max_chunk_(max_chunk_frames), kv_type_(kv_type),
      rope_(config.encoder.head_dim, config.encoder.rope_theta) {}

EncoderState Encoder::new_state() const {
  const auto& e = config_.encoder;
  EncoderState s;
  s.mel_tail.assign(static_cast<std::size_t>(2 * e.audio.num_mel_bins), 0.0f);
  s.h1_tail.assign(static_cast<std::size_t>(e.dim), 0.0f);
  for (int l = 0; l < e.n_layers; ++l) s.kv.emplace_back(e.n_kv_heads, e.head_dim, e.sliding_window + max_chunk_ - 1, kv_type_);
  return s;
}

void Encoder::forward(EncoderState& st, const float* mel, std::int64_t t_mel, std::vector<float>& out,
                      ThreadPool* pool) const {
  const auto& e = config_.encoder;
  const std::int64_t nm = e.audio.num_mel_bins, d = e.dim;
  if (t_mel % 2 != 0 || t_mel / 2 > max_chunk_)
    throw Error(Status::internal, "encoder chunk of " + std::to_string(t_mel) + " mel frames");
  const std::int64_t n = t_mel / 2;
  out.assign(static_cast<std::size_t>(n * d), 0.0f);
  if (n == 0) return;

  // conv1 as a matmul: row t holds x[t-2+j][c] at column c*3 + j (the [out, in, k] layout).
  std::vector<float> cols(static_cast<std::size_t>(t_mel * nm * 3));
  auto mel_frame = [&](std::int64_t t) -> const float* {  // t may be -2 or -1: the carried tail
    return t >= 0 ? mel + t * nm : st.mel_tail.data() + (t + 2) * nm;
  };
  for (std::int64_t t = 0; t < t_mel; ++t)
    for (int j = 0; j < 3; ++j) {
      const float* src = mel_frame(t - 2 + j);
      float* dst = cols.data() + t * nm * 3 + j;
      for (std::int64_t c = 0; c < nm; ++c) dst[c * 3] = src[c];
    }
  std::vector<float> h1(static_cast<std::size_t>(t_mel * d));
  // The conv stem stays float whatever the scheme; row-stable so that any chunking of the audio
  // gives the same bits (with packed encoder weights, the whole encoder then does).
  kernels::matmul_row_stable(cols.data(), t_mel, nm * 3, w_.conv1, w_.conv1_bias.data(), h1.data(), d, pool);
  kernels::gelu(h1.data(), t_mel * d);

  // conv2, stride 2: output i reads h1[2i-1+j]; h1[-1] is the carried frame.
  cols.assign(static_cast<std::size_t>(n * d * 3), 0.0f);
  for (std::int64_t i = 0; i < n; ++i)
    for (int j = 0; j < 3; ++j) {
      const std::int64_t t = 2 * i - 1 + j;
      const float* src = t >= 0 ? h1.data() + t * d : st.h1_tail.data();
      float* dst = cols.data() + i * d * 3 + j;
      for (std::int64_t c = 0; c < d; ++c) dst[c * 3] = src[c];
    }
  std::vector<float> x(static_cast<std::size_t>(n * d));
  kernels::matmul_row_stable(cols.data(), n, d * 3, w_.conv2, w_.conv2_bias.data(), x.data(), d, pool);
  kernels::gelu(x.data(), n * d);

  // Carry the conv context to the next chunk.
  std::memcpy(st.mel_tail.data(), mel_frame(t_mel - 2), static_cast<std::size_t>(nm) * sizeof(float));
  std::memcpy(st.mel_tail.data() + nm, mel_frame(t_mel - 1), static_cast<std::size_t>(nm) * sizeof(float));
  std::memcpy(st.h1_tail.data(), h1.data() + (t_mel - 1) * d, static_cast<std::size_t>(d) * sizeof(float));

  const AttentionShape shape{e.n_heads, e.n_kv_heads, e.head_dim, e.sliding_window};
  const auto eps = static_cast<float>(e.norm_eps);
  std::vector<float> nrm(x.size());
  BlockScratch scratch;
  auto bias = [](const std::vector<float>& b) { return b.empty() ? nullptr : b.data(); };
  const std::int64_t p0 = st.next_frame;
  for (int l = 0; l < e.n_layers; ++l) {
    const auto& L = w_.encoder[static_cast<std::size_t>(l)];
    kernels::rms_norm(x.data(), n, d, L.attention_norm.data(), eps, nrm.data());
    attention_block(nrm.data(), x.data(), n, d, p0, {L.wq, L.wk, L.wv, L.wo, bias(L.bq), bias(L.bv), bias(L.bo)},
                    rope_, shape, st.kv[static_cast<std::size_t>(l)], scratch, pool);
    kernels::rms_norm(x.data(), n, d, L.ffn_norm.data(), eps, nrm.data());
    feed_forward_block(nrm.data(), x.data(), n, d, e.hidden_dim, {L.w1, L.w2, L.w3, bias(L.b2)}, scratch, pool);
  }
  kernels::rms_norm(x.data(), n, d, w_.encoder_norm.data(), eps, out.data());
  st.next_frame += n;
}

void Encoder::adapter(const float* enc, std::int64_t n_tokens, std::vector<float>& out, ThreadPool* pool) const {
  // Stacking 4 frames is the row-major reshape [4n, 1280] -> [n, 5120]: no copy needed.
  const std::int64_t in = config_.adapter_input_dim(), d = config_.dim;
  std::vector<float> hidden(static_cast<std::size_t>(n_tokens * d));
  kernels::linear(enc, n_tokens, in, w_.adapter_in, nullptr, hidden.data(), d, pool);
  kernels::gelu(hidden.data(), n_tokens * d);
  out.assign(static_cast<std::size_t>(n_tokens * d), 0.0f);
  kernels::linear(hidden.data(), n_tokens, d, w_.adapter_out, nullptr, out.data(), d, pool);
}

}  // namespace vrt
