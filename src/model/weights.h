// The model's weights as the compute code sees them. Matrices are kernels::LinearWeight: a
// float view (BF16/F16/F32, often straight into the memory-mapped checkpoint) or a packed
// quantized matrix (kernels/quant.h); the conv stem and the ada-norm MLP stay float views (fp32
// compute); norms and biases are fp32 vectors.
//
// Weights come from a WeightSource: an original checkpoint, converted or quantized per
// QuantOptions as they are read (io/checkpoint_weights.h), or a packed .vxrt model (io/packed_model.h),
// whose views need no work at all. Both go through ModelWeights::load, so the two paths cannot
// disagree on which tensor goes where.
#pragma once

#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/quant.h"
#include "voxtral_rt/config.h"
#include "voxtral_rt/model.h"  // QuantOptions, WeightScheme

namespace vrt {

struct EncoderLayerWeights {
  std::vector<float> attention_norm, ffn_norm;
  kernels::LinearWeight wq, wk, wv, wo, w1, w2, w3;
  std::vector<float> bq, bv, bo, b2;  // empty when the config has no biases
};

struct DecoderLayerWeights {
  std::vector<float> attention_norm, ffn_norm;
  kernels::LinearWeight wq, wk, wv, wo, w1, w2, w3;
  kernels::WeightView ada_down, ada_up;  // ada_rms_norm_t_cond.0 [t_dim, dim], .2 [dim, t_dim]
};

// True when every linear matrix of the layers is packed (quantized): their rows then compute
// bitwise the same in any batch (quant.h), which cross-session batching relies on.
template <typename Layer>
bool all_linears_packed(const std::vector<Layer>& layers) {
  for (const auto& L : layers)
    for (const auto* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w1, &L.w2, &L.w3})
      if (!w->quantized()) return false;
  return true;
}

// Which part of the model a linear weight belongs to (it picks the quantization scheme).
enum class WeightPart { encoder, decoder, embedding, head };

// Throws invalid_argument for a combination that cannot be stored (an 8da* embedding table).
void validate_quant_options(const QuantOptions& q);

// The scheme of a part under `q`.
WeightScheme scheme_for(const QuantOptions& q, WeightPart part);

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  // A small tensor (norm, bias) as fp32.
  virtual std::vector<float> vector(const std::string& name) = 0;
  // A float tensor as stored (conv weights [out, in, k] read as [out, in * k]; the ada MLP).
  virtual kernels::WeightView raw(const std::string& name) = 0;
  // A matrix for `part`. For the head of a tied model, name is the embedding's.
  virtual kernels::LinearWeight linear(const std::string& name, WeightPart part) = 0;
};

struct ModelWeights {
  kernels::WeightView conv1, conv2;  // [out, in * 3] (column c * 3 + j)
  std::vector<float> conv1_bias, conv2_bias;
  std::vector<EncoderLayerWeights> encoder;
  std::vector<float> encoder_norm;
  kernels::LinearWeight adapter_in, adapter_out;
  kernels::LinearWeight tok_embeddings;  // [vocab, dim], row lookups
  kernels::LinearWeight output;          // the head [vocab, dim]
  std::vector<DecoderLayerWeights> decoder;
  std::vector<float> final_norm;

  // Reads every tensor of `config` from `source`, which must outlive the result.
  static ModelWeights load(const ModelConfig& config, WeightSource& source);
};

}  // namespace vrt
