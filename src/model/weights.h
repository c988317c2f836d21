// The model's weights as the compute code sees them: matrices stay in the memory-mapped
// checkpoint in their stored dtype (BF16 for the real model) and are read by the kernels as
// WeightViews; the small vectors (norms, biases) are converted to fp32 once at load.
#pragma once

#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "kernels/kernels.h"

namespace vrt {

struct EncoderLayerWeights {
  std::vector<float> attention_norm, ffn_norm;
  kernels::WeightView wq, wk, wv, wo, w1, w2, w3;
  std::vector<float> bq, bv, bo, b2;  // empty when the config has no biases
};

struct DecoderLayerWeights {
  std::vector<float> attention_norm, ffn_norm;
  kernels::WeightView wq, wk, wv, wo, w1, w2, w3;
  kernels::WeightView ada_down, ada_up;  // ada_rms_norm_t_cond.0 [t_dim, dim], .2 [dim, t_dim]
};

struct ModelWeights {
  // Conv1d weights [out, in, 3] are read as matrices [out, in * 3] (column c * 3 + j).
  kernels::WeightView conv1, conv2;
  std::vector<float> conv1_bias, conv2_bias;
  std::vector<EncoderLayerWeights> encoder;
  std::vector<float> encoder_norm;
  kernels::WeightView adapter_in, adapter_out;
  kernels::WeightView tok_embeddings;  // [vocab, dim]
  kernels::WeightView output;          // the head: tok_embeddings when tied
  std::vector<DecoderLayerWeights> decoder;
  std::vector<float> final_norm;

  // Views into `checkpoint`, which must outlive the result.
  static ModelWeights from_checkpoint(const Checkpoint& checkpoint);
};

// A checkpoint tensor converted to fp32 (for small tensors).
std::vector<float> tensor_to_f32(const Checkpoint& checkpoint, const std::string& name);

}  // namespace vrt
