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
  const EncoderSegment one{&st, mel, t_mel};
  forward_segments(std::span<const EncoderSegment>(&one, 1), out, pool);
}

bool Encoder::rows_batch_independent() const {
  return w_.adapter_in.quantized() && w_.adapter_out.quantized() && all_linears_packed(w_.encoder);
}

void Encoder::forward_segments(std::span<const EncoderSegment> segments, std::vector<float>& out,
                               ThreadPool* pool) const {
  const auto& e = config_.encoder;
  const std::int64_t nm = e.audio.num_mel_bins, d = e.dim;
  std::int64_t t_all = 0;
  for (const auto& seg : segments) {
    if (seg.t_mel % 2 != 0 || seg.t_mel / 2 > max_chunk_)
      throw Error(Status::internal, "encoder chunk of " + std::to_string(seg.t_mel) + " mel frames");
    t_all += seg.t_mel;
  }
  const std::int64_t n = t_all / 2;
  out.assign(static_cast<std::size_t>(n * d), 0.0f);
  if (n == 0) return;

  // conv1 as a matmul: row t holds x[t-2+j][c] at column c*3 + j (the [out, in, k] layout);
  // each segment's first rows read its carried tail (frames -2, -1).
  std::vector<float> cols(static_cast<std::size_t>(t_all * nm * 3));
  std::int64_t r = 0;
  for (const auto& seg : segments) {
    auto mel_frame = [&](std::int64_t t) -> const float* {
      return t >= 0 ? seg.mel + t * nm : seg.state->mel_tail.data() + (t + 2) * nm;
    };
    for (std::int64_t t = 0; t < seg.t_mel; ++t, ++r)
      for (int j = 0; j < 3; ++j) {
        const float* src = mel_frame(t - 2 + j);
        float* dst = cols.data() + r * nm * 3 + j;
        for (std::int64_t c = 0; c < nm; ++c) dst[c * 3] = src[c];
      }
  }
  std::vector<float> h1(static_cast<std::size_t>(t_all * d));
  // The conv stem stays float whatever the scheme; row-stable so that any chunking (and any
  // stacking of streams) gives the same bits (with packed encoder weights, the whole encoder does).
  kernels::matmul_row_stable(cols.data(), t_all, nm * 3, w_.conv1, w_.conv1_bias.data(), h1.data(), d, pool);
  kernels::gelu(h1.data(), t_all * d);

  // conv2, stride 2: output i reads h1[2i-1+j]; h1[-1] is the segment's carried frame.
  cols.assign(static_cast<std::size_t>(n * d * 3), 0.0f);
  std::int64_t h0 = 0;  // the segment's first conv1 row
  r = 0;
  for (const auto& seg : segments) {
    for (std::int64_t i = 0; i < seg.t_mel / 2; ++i, ++r)
      for (int j = 0; j < 3; ++j) {
        const std::int64_t t = 2 * i - 1 + j;
        const float* src = t >= 0 ? h1.data() + (h0 + t) * d : seg.state->h1_tail.data();
        float* dst = cols.data() + r * d * 3 + j;
        for (std::int64_t c = 0; c < d; ++c) dst[c * 3] = src[c];
      }
    h0 += seg.t_mel;
  }
  std::vector<float> x(static_cast<std::size_t>(n * d));
  kernels::matmul_row_stable(cols.data(), n, d * 3, w_.conv2, w_.conv2_bias.data(), x.data(), d, pool);
  kernels::gelu(x.data(), n * d);

  // Carry each segment's conv context to its next chunk.
  h0 = 0;
  for (const auto& seg : segments) {
    const auto frame_bytes = static_cast<std::size_t>(nm) * sizeof(float);
    if (seg.t_mel >= 2) {
      std::memcpy(seg.state->mel_tail.data(), seg.mel + (seg.t_mel - 2) * nm, 2 * frame_bytes);
      std::memcpy(seg.state->h1_tail.data(), h1.data() + (h0 + seg.t_mel - 1) * d, static_cast<std::size_t>(d) * sizeof(float));
    }
    h0 += seg.t_mel;
  }

  const AttentionShape shape{e.n_heads, e.n_kv_heads, e.head_dim, e.sliding_window};
  const auto eps = static_cast<float>(e.norm_eps);
  std::vector<float> nrm(x.size());
  BlockScratch scratch;
  auto bias = [](const std::vector<float>& b) { return b.empty() ? nullptr : b.data(); };
  std::vector<AttentionSegment> att;
  for (int l = 0; l < e.n_layers; ++l) {
    const auto& L = w_.encoder[static_cast<std::size_t>(l)];
    att.clear();
    for (const auto& seg : segments)
      if (seg.t_mel > 0) att.push_back({seg.state->next_frame, seg.t_mel / 2, &seg.state->kv[static_cast<std::size_t>(l)]});
    kernels::rms_norm(x.data(), n, d, L.attention_norm.data(), eps, nrm.data());
    attention_block(nrm.data(), x.data(), n, d, att, {L.wq, L.wk, L.wv, L.wo, bias(L.bq), bias(L.bv), bias(L.bo)},
                    rope_, shape, scratch, pool);
    kernels::rms_norm(x.data(), n, d, L.ffn_norm.data(), eps, nrm.data());
    feed_forward_block(nrm.data(), x.data(), n, d, e.hidden_dim, {L.w1, L.w2, L.w3, bias(L.b2)}, scratch, pool);
  }
  kernels::rms_norm(x.data(), n, d, w_.encoder_norm.data(), eps, out.data());
  for (const auto& seg : segments) seg.state->next_frame += seg.t_mel / 2;
  attention_ns_.fetch_add(scratch.attention_ns, std::memory_order_relaxed);
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
