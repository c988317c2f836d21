// The packed model file (.vxrt): one self-describing file holding a whole model, written by
// `voxtral-rt quantize` and loaded with a memory map and no per-weight work.
//
// Layout (little-endian; every region and tensor 64-byte aligned, data page aligned):
//   [0, 128)          header: "VXRTMODL", u32 version (1), u32 header bytes (128),
//                     u64 file bytes, u64 meta offset, u64 meta bytes, u64 data offset,
//                     u64 data bytes, u64 XXH3-64 of the meta region, u64 XXH3-64 of the data
//                     region, zeros
//   meta              JSON: {"format": "voxtral-rt packed model", "version": 1, "producer",
//                     "params": params.json text, "quantization": {linear, encoder, embedding,
//                     head, group_size}, "tokenizer": {offset, bytes} (tekken.json text in the
//                     data region), "tensors": [{name, kind: f32|bf16|f16|q8|q4, rows, cols,
//                     group, act: f32|int8, offset, bytes, scales_offset, scales_bytes}]}
//   data              tensors (kernels' layouts) and the tokenizer text; offsets are relative
//                     to the data region.
// Opening checks everything but the data checksum (which costs a full read): sizes, offsets,
// alignment, the meta checksum, the JSON, the config and tokenizer, and every tensor's kind and
// shape against the config (model/tensor_names.h). verify_data() checks the data checksum
// (`voxtral-rt info --verify`).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "model/weights.h"
#include "voxtral_rt/checkpoint.h"  // is_packed_model_file, inspect_packed_model
#include "voxtral_rt/config.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt {

struct WeightEntry;

inline constexpr char kPackedMagic[8] = {'V', 'X', 'R', 'T', 'M', 'O', 'D', 'L'};
inline constexpr std::uint32_t kPackedVersion = 1;
inline constexpr std::uint64_t kPackedHeaderBytes = 128;

struct PackedTensor {
  std::string name;
  std::string kind;  // f32 | bf16 | f16 | q8 | q4
  std::int64_t rows = 0, cols = 0, group = 0;
  bool int8_acts = false;
  std::uint64_t offset = 0, bytes = 0, scales_offset = 0, scales_bytes = 0;
};

struct PackedModelLimits {
  std::uint64_t max_meta_bytes = 64ull << 20;  // the real model's table is ~150 KB
  std::uint64_t max_tokenizer_bytes = 64ull << 20;
  std::int64_t max_tensors = 100000;
  std::int64_t max_dim = std::int64_t{1} << 31;
};

class PackedModelFile {
 public:
  static std::unique_ptr<PackedModelFile> open(const std::string& path, const PackedModelLimits& limits = {});

  const std::string& path() const { return file_.path(); }
  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const QuantOptions& quant() const { return quant_; }
  const std::string& producer() const { return producer_; }
  const std::vector<PackedTensor>& tensors() const { return tensors_; }
  std::uint64_t file_bytes() const { return file_.size(); }
  // Recomputes the data checksum; throws bad_checkpoint on a mismatch.
  void verify_data() const;

  // ModelWeights views into the mapping (valid while this object lives).
  std::unique_ptr<WeightSource> weight_source() const;
  const PackedTensor& tensor(const std::string& name) const;  // throws bad_checkpoint
  const std::uint8_t* data(std::uint64_t offset) const { return file_.data() + data_offset_ + offset; }

 private:
  MappedFile file_;
  ModelConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  QuantOptions quant_;
  std::string producer_;
  std::vector<PackedTensor> tensors_;
  std::map<std::string, std::size_t> by_name_;
  std::uint64_t data_offset_ = 0, data_bytes_ = 0, data_hash_ = 0;
};

// Writes a packed model: the config and tokenizer texts, the schemes, and every tensor the
// source handed out (CheckpointWeightSource::entries()). Throws io_error.
void write_packed_model(const std::string& path, const std::string& params_json, const std::string& tekken_json,
                        const QuantOptions& quant, const std::vector<WeightEntry>& entries);

}  // namespace vrt
