#include "model/weights.h"

#include "model/tensor_names.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

// The parts encoder and decoder layers share: two norms and the seven attention/FFN matrices.
template <class Layer, class Name>
void load_common(WeightSource& s, Layer& l, Name&& n, WeightPart part) {
  l.attention_norm = s.vector(n("attention_norm.weight"));
  l.ffn_norm = s.vector(n("ffn_norm.weight"));
  l.wq = s.linear(n("attention.wq.weight"), part);
  l.wk = s.linear(n("attention.wk.weight"), part);
  l.wv = s.linear(n("attention.wv.weight"), part);
  l.wo = s.linear(n("attention.wo.weight"), part);
  l.w1 = s.linear(n("feed_forward.w1.weight"), part);
  l.w2 = s.linear(n("feed_forward.w2.weight"), part);
  l.w3 = s.linear(n("feed_forward.w3.weight"), part);
}

}  // namespace

ModelWeights ModelWeights::load(const ModelConfig& cfg, WeightSource& s) {
  namespace tn = tensor_names;
  ModelWeights w;
  const std::string enc = tn::kEncoderPrefix;
  w.conv1 = s.raw(enc + "conv_layers.0.conv.weight");
  w.conv1_bias = s.vector(enc + "conv_layers.0.conv.bias");
  w.conv2 = s.raw(enc + "conv_layers.1.conv.weight");
  w.conv2_bias = s.vector(enc + "conv_layers.1.conv.bias");
  for (int i = 0; i < cfg.encoder.n_layers; ++i) {
    auto n = [&](const char* suffix) { return tn::encoder_layer(i, suffix); };
    EncoderLayerWeights l;
    load_common(s, l, n, WeightPart::encoder);
    if (cfg.encoder.use_biases) {
      l.bq = s.vector(n("attention.wq.bias"));
      l.bv = s.vector(n("attention.wv.bias"));
      l.bo = s.vector(n("attention.wo.bias"));
      l.b2 = s.vector(n("feed_forward.w2.bias"));
    }
    w.encoder.push_back(std::move(l));
  }
  w.encoder_norm = s.vector(enc + "transformer.norm.weight");
  w.adapter_in = s.linear(std::string(tn::kAdapterPrefix) + "0.weight", WeightPart::encoder);
  w.adapter_out = s.linear(std::string(tn::kAdapterPrefix) + "2.weight", WeightPart::encoder);
  w.tok_embeddings = s.linear(tn::kTokEmbeddings, WeightPart::embedding);
  w.output = s.linear(cfg.tied_embeddings ? tn::kTokEmbeddings : tn::kOutput, WeightPart::head);
  for (int i = 0; i < cfg.n_layers; ++i) {
    auto n = [&](const char* suffix) { return tn::decoder_layer(i, suffix); };
    DecoderLayerWeights l;
    load_common(s, l, n, WeightPart::decoder);
    l.ada_down = s.raw(n("ada_rms_norm_t_cond.0.weight"));
    l.ada_up = s.raw(n("ada_rms_norm_t_cond.2.weight"));
    w.decoder.push_back(std::move(l));
  }
  w.final_norm = s.vector(tn::kFinalNorm);
  return w;
}

void validate_quant_options(const QuantOptions& q) {
  const WeightScheme e = q.embedding;
  if (e == WeightScheme::a8w8 || e == WeightScheme::a8w4)
    throw Error(Status::invalid_argument, std::string("the embedding table is looked up, not multiplied: use 8w or 4w, not ") +
                                              weight_scheme_name(e));
  if (q.group_size != 32 && q.group_size != 64 && q.group_size != 128 && q.group_size != 256)
    throw Error(Status::invalid_argument, "group size " + std::to_string(q.group_size) + " is not 32, 64, 128 or 256");
}

WeightScheme scheme_for(const QuantOptions& q, WeightPart part) {
  switch (part) {
    case WeightPart::encoder: return q.encoder_scheme();
    case WeightPart::decoder: return q.linear;
    case WeightPart::embedding: return q.embedding;
    case WeightPart::head: return q.head_scheme();
  }
  return WeightScheme::native;
}

}  // namespace vrt
