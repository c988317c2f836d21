// voxtral-rt: inspecting model files: a Mistral checkpoint directory (consolidated.safetensors +
// params.json + tekken.json) or a packed .vxrt model written by `voxtral-rt quantize`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "voxtral_rt/config.h"

namespace vrt {

inline constexpr const char* kWeightsFileName = "consolidated.safetensors";
inline constexpr const char* kParamsFileName = "params.json";
inline constexpr const char* kTokenizerFileName = "tekken.json";

struct CheckpointInfo {
  std::string directory;
  ModelConfig config;
  std::size_t tensor_count = 0;
  std::int64_t parameter_count = 0;          // elements over all tensors in the file
  std::int64_t expected_parameter_count = 0; // what the config's exact tensor set holds
  std::uint64_t file_bytes = 0;              // consolidated.safetensors size
  std::uint64_t data_bytes = 0;              // tensor data (file minus header)
  std::map<std::string, std::size_t> dtype_counts;  // "BF16" -> 711
  std::vector<std::string> unexpected_tensors;      // present in the file, unused by the model
  std::string tokenizer_version;
  int tokenizer_vocab_size = 0;
  int tokenizer_special_tokens = 0;
  StreamingConfig streaming;  // tekken.json audio block
  double open_ms = 0;         // time to open and validate everything
};

// Opens and validates the whole directory (every tensor's name, shape and dtype against the
// config, the tokenizer and its agreement with the config) without reading tensor data.
// Throws vrt::Error naming the file and tensor at fault.
CheckpointInfo inspect_checkpoint(const std::string& directory);

// True when the file starts with the packed-model magic (a cheap sniff, no validation).
bool is_packed_model_file(const std::string& path);

struct PackedModelInfo {
  std::string path;
  std::string producer;           // "voxtral-rt 0.1.0"
  std::uint64_t file_bytes = 0;
  std::string quantization;       // its schemes, as QuantOptions::describe() spells them
  ModelConfig config;
  int tokenizer_vocab_size = 0;
  struct Kind {
    std::int64_t tensors = 0;
    std::uint64_t bytes = 0;      // data + scales
  };
  std::map<std::string, Kind> kinds;  // "q4 (int8 activations)", "bf16", ... -> tensors, bytes
  double open_ms = 0;             // time to open and validate everything but the data checksum
  bool data_verified = false;     // verify_data was asked and the checksum matched
  double verify_ms = 0;
};

// Opens and validates a packed .vxrt file (header, checksummed table, config, tokenizer, every
// tensor against the config); with verify_data also the checksum of all its data (a full read).
// Throws vrt::Error (bad_checkpoint on a mismatch).
PackedModelInfo inspect_packed_model(const std::string& path, bool verify_data = false);

}  // namespace vrt
