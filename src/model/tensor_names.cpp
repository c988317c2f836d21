#include "model/tensor_names.h"

namespace vrt {

std::int64_t TensorSpec::elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

namespace tensor_names {
std::string encoder_layer(int layer, const char* suffix) {
  return std::string(kEncoderPrefix) + "transformer.layers." + std::to_string(layer) + "." + suffix;
}
std::string decoder_layer(int layer, const char* suffix) {
  return "layers." + std::to_string(layer) + "." + suffix;
}
}  // namespace tensor_names

std::vector<TensorSpec> expected_tensors(const ModelConfig& c) {
  namespace tn = tensor_names;
  using S = std::vector<std::int64_t>;
  std::vector<TensorSpec> t;
  const auto& e = c.encoder;
  const std::string enc = tn::kEncoderPrefix;
  const std::int64_t ed = e.dim, eq = std::int64_t{e.n_heads} * e.head_dim,
                     ekv = std::int64_t{e.n_kv_heads} * e.head_dim, eh = e.hidden_dim;
  const std::int64_t mels = e.audio.num_mel_bins;

  t.push_back({enc + "conv_layers.0.conv.weight", S{ed, mels, 3}});
  t.push_back({enc + "conv_layers.0.conv.bias", S{ed}});
  t.push_back({enc + "conv_layers.1.conv.weight", S{ed, ed, 3}});
  t.push_back({enc + "conv_layers.1.conv.bias", S{ed}});
  for (int i = 0; i < e.n_layers; ++i) {
    auto n = [&](const char* s) { return tn::encoder_layer(i, s); };
    t.push_back({n("attention_norm.weight"), S{ed}});
    t.push_back({n("attention.wq.weight"), S{eq, ed}});
    if (e.use_biases) t.push_back({n("attention.wq.bias"), S{eq}});
    t.push_back({n("attention.wk.weight"), S{ekv, ed}});  // wk never has a bias
    t.push_back({n("attention.wv.weight"), S{ekv, ed}});
    if (e.use_biases) t.push_back({n("attention.wv.bias"), S{ekv}});
    t.push_back({n("attention.wo.weight"), S{ed, eq}});
    if (e.use_biases) t.push_back({n("attention.wo.bias"), S{ed}});
    t.push_back({n("ffn_norm.weight"), S{ed}});
    t.push_back({n("feed_forward.w1.weight"), S{eh, ed}});
    t.push_back({n("feed_forward.w2.weight"), S{ed, eh}});
    if (e.use_biases) t.push_back({n("feed_forward.w2.bias"), S{ed}});
    t.push_back({n("feed_forward.w3.weight"), S{eh, ed}});
  }
  t.push_back({enc + "transformer.norm.weight", S{ed}});

  const std::int64_t d = c.dim;
  t.push_back({std::string(tn::kAdapterPrefix) + "0.weight", S{d, c.adapter_input_dim()}});
  t.push_back({std::string(tn::kAdapterPrefix) + "2.weight", S{d, d}});
  t.push_back({tn::kTokEmbeddings, S{c.vocab_size, d}});

  const std::int64_t q = std::int64_t{c.n_heads} * c.head_dim,
                     kv = std::int64_t{c.n_kv_heads} * c.head_dim, h = c.hidden_dim;
  for (int i = 0; i < c.n_layers; ++i) {
    auto n = [&](const char* s) { return tn::decoder_layer(i, s); };
    t.push_back({n("attention_norm.weight"), S{d}});
    t.push_back({n("attention.wq.weight"), S{q, d}});
    t.push_back({n("attention.wk.weight"), S{kv, d}});
    t.push_back({n("attention.wv.weight"), S{kv, d}});
    t.push_back({n("attention.wo.weight"), S{d, q}});
    t.push_back({n("ffn_norm.weight"), S{d}});
    t.push_back({n("feed_forward.w1.weight"), S{h, d}});
    t.push_back({n("feed_forward.w2.weight"), S{d, h}});
    t.push_back({n("feed_forward.w3.weight"), S{h, d}});
    if (c.ada_rms_norm_t_cond) {
      t.push_back({n("ada_rms_norm_t_cond.0.weight"), S{c.ada_rms_norm_t_cond_dim, d}});
      t.push_back({n("ada_rms_norm_t_cond.2.weight"), S{d, c.ada_rms_norm_t_cond_dim}});
    }
  }
  t.push_back({tn::kFinalNorm, S{d}});
  if (!c.tied_embeddings) t.push_back({tn::kOutput, S{c.vocab_size, d}});
  return t;
}

}  // namespace vrt
