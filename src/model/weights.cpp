#include "model/weights.h"

#include <cstring>

#include "common/half.h"

namespace vrt {
namespace {

kernels::WeightView view(const Checkpoint& c, const std::string& name) {
  const TensorInfo& t = c.tensor(name);
  kernels::WeightView w;
  w.data = c.tensor_data(name).data();
  w.dtype = *to_weight_dtype(t.dtype);  // float dtypes only: checked at open
  w.rows = t.shape.empty() ? 1 : t.shape[0];
  w.cols = t.shape.empty() ? 1 : t.elements() / w.rows;
  return w;
}

// The parts encoder and decoder layers share: two norms and the seven attention/FFN matrices.
template <class Layer, class Name>
void load_common(const Checkpoint& c, Layer& l, Name&& n) {
  l.attention_norm = tensor_to_f32(c, n("attention_norm.weight"));
  l.ffn_norm = tensor_to_f32(c, n("ffn_norm.weight"));
  l.wq = view(c, n("attention.wq.weight"));
  l.wk = view(c, n("attention.wk.weight"));
  l.wv = view(c, n("attention.wv.weight"));
  l.wo = view(c, n("attention.wo.weight"));
  l.w1 = view(c, n("feed_forward.w1.weight"));
  l.w2 = view(c, n("feed_forward.w2.weight"));
  l.w3 = view(c, n("feed_forward.w3.weight"));
}

}  // namespace

std::vector<float> tensor_to_f32(const Checkpoint& c, const std::string& name) {
  const TensorInfo& t = c.tensor(name);
  const auto bytes = c.tensor_data(name);
  std::vector<float> out(static_cast<std::size_t>(t.elements()));
  const auto dtype = *to_weight_dtype(t.dtype);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (dtype == DType::f32) {
      std::memcpy(&out[i], bytes.data() + 4 * i, 4);
    } else {
      std::uint16_t h = 0;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      out[i] = dtype == DType::bf16 ? bf16_to_f32(h) : f16_to_f32(h);
    }
  }
  return out;
}

ModelWeights ModelWeights::from_checkpoint(const Checkpoint& c) {
  namespace tn = tensor_names;
  const ModelConfig& cfg = c.config();
  ModelWeights w;
  const std::string enc = tn::kEncoderPrefix;
  w.conv1 = view(c, enc + "conv_layers.0.conv.weight");
  w.conv2 = view(c, enc + "conv_layers.1.conv.weight");
  w.conv1_bias = tensor_to_f32(c, enc + "conv_layers.0.conv.bias");
  w.conv2_bias = tensor_to_f32(c, enc + "conv_layers.1.conv.bias");
  for (int i = 0; i < cfg.encoder.n_layers; ++i) {
    auto n = [&](const char* s) { return tn::encoder_layer(i, s); };
    EncoderLayerWeights l;
    load_common(c, l, n);
    if (cfg.encoder.use_biases) {
      l.bq = tensor_to_f32(c, n("attention.wq.bias"));
      l.bv = tensor_to_f32(c, n("attention.wv.bias"));
      l.bo = tensor_to_f32(c, n("attention.wo.bias"));
      l.b2 = tensor_to_f32(c, n("feed_forward.w2.bias"));
    }
    w.encoder.push_back(std::move(l));
  }
  w.encoder_norm = tensor_to_f32(c, enc + "transformer.norm.weight");
  w.adapter_in = view(c, std::string(tn::kAdapterPrefix) + "0.weight");
  w.adapter_out = view(c, std::string(tn::kAdapterPrefix) + "2.weight");
  w.tok_embeddings = view(c, tn::kTokEmbeddings);
  w.output = cfg.tied_embeddings ? w.tok_embeddings : view(c, tn::kOutput);
  for (int i = 0; i < cfg.n_layers; ++i) {
    auto n = [&](const char* s) { return tn::decoder_layer(i, s); };
    DecoderLayerWeights l;
    load_common(c, l, n);
    l.ada_down = view(c, n("ada_rms_norm_t_cond.0.weight"));
    l.ada_up = view(c, n("ada_rms_norm_t_cond.2.weight"));
    w.decoder.push_back(std::move(l));
  }
  w.final_norm = tensor_to_f32(c, tn::kFinalNorm);
  return w;
}

}  // namespace vrt
