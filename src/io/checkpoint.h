// A checkpoint directory opened and validated: typed config, tokenizer, and the mapped weights
// checked against the exact tensor set the config implies (model/tensor_names.h).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/safetensors.h"
#include "model/tensor_names.h"
#include "voxtral_rt/checkpoint.h"
#include "voxtral_rt/config.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt {

struct CheckpointOptions {
  SafetensorsLimits limits;
};

class Checkpoint {
 public:
  // Throws not_found for a missing directory or file, bad_checkpoint / unsupported_model /
  // bad_tokenizer for content that is wrong, always naming the file and tensor.
  static Checkpoint open(const std::string& directory, const CheckpointOptions& options = {});

  const std::string& directory() const { return directory_; }
  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const SafetensorsFile& weights() const { return weights_; }
  // Tensors present in the file that the model does not use (reported, not an error).
  const std::vector<std::string>& unexpected_tensors() const { return unexpected_; }

  // A tensor of the expected set (validated at open); throws invalid_argument for other names.
  const TensorInfo& tensor(std::string_view name) const;
  std::span<const std::uint8_t> tensor_data(std::string_view name) const;

  CheckpointInfo info() const;

 private:
  std::string directory_;
  ModelConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  SafetensorsFile weights_;
  std::vector<std::string> unexpected_;
  double open_ms_ = 0;
};

}  // namespace vrt
