// The exact tensor set of a Voxtral Realtime checkpoint, derived from ModelConfig
// (../shared/docs/voxtral-spec.md §3). Every checkpoint tensor name in the code comes from here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "voxtral_rt/config.h"

namespace vrt {

struct TensorSpec {
  std::string name;
  std::vector<std::int64_t> shape;
  DType dtype = DType::bf16;
  std::int64_t elements() const;
};

namespace tensor_names {
inline constexpr const char* kEncoderPrefix = "mm_streams_embeddings.embedding_module.whisper_encoder.";
inline constexpr const char* kAdapterPrefix = "mm_streams_embeddings.embedding_module.audio_language_projection.";
inline constexpr const char* kTokEmbeddings = "mm_streams_embeddings.embedding_module.tok_embeddings.weight";
inline constexpr const char* kOutput = "output.weight";  // only in untied checkpoints
inline constexpr const char* kFinalNorm = "norm.weight";

std::string encoder_layer(int layer, const char* suffix);  // "...transformer.layers.{i}." + suffix
std::string decoder_layer(int layer, const char* suffix);  // "layers.{i}." + suffix
}  // namespace tensor_names

// All tensors the checkpoint must hold for `config`, in checkpoint order (encoder, adapter,
// embedding, decoder layers, final norm). Shapes follow PyTorch nn.Linear: [out, in].
std::vector<TensorSpec> expected_tensors(const ModelConfig& config);

}  // namespace vrt
