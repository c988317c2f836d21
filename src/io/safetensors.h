// safetensors reader (mmap, zero-copy) and streaming writer.
//
// File layout: u64 little-endian header length N, N bytes of JSON header
// {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data section; offsets are relative to the data section (byte 8 + N).
//
// The reader trusts nothing: it checks every rule of the format (huggingface/safetensors
// tensor.rs) plus ours from ../shared/docs/hardening.md §1a, in the order listed there, with
// checked arithmetic, before any tensor byte is touched. Tensor data is never copied.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/file_util.h"
#include "common/dtype.h"

namespace vrt {

// Every dtype of the safetensors format. Only the float types hold model weights; the others
// parse (so a checkpoint with them gets a precise error later), but cannot be converted.
enum class StDtype { BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F8_E4M3, F8_E5M2, F16, BF16, F32, F64 };
std::optional<StDtype> parse_st_dtype(std::string_view s);
const char* st_dtype_name(StDtype t);
int st_dtype_size(StDtype t);
std::optional<DType> to_weight_dtype(StDtype t);  // BF16, F16, F32 only

struct SafetensorsLimits {
  std::uint64_t max_header_bytes = 16u << 20;  // the real header is ~100 KB; format cap is 100 MB
  std::size_t max_tensors = 1u << 16;          // the real checkpoint has 711
  int max_rank = 8;
  std::size_t max_name_bytes = 1024;
  int max_json_depth = 8;                       // object > tensor > shape array
};

struct TensorInfo {
  std::string name;
  StDtype dtype = StDtype::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;   // relative to the data section
  std::uint64_t nbytes = 0;
  std::int64_t elements() const;
};

// Parsed, validated header over a byte range (the whole file). Holds no ownership of the bytes.
struct SafetensorsHeader {
  std::uint64_t data_start = 0;  // 8 + N
  std::vector<TensorInfo> tensors;  // in file (offset) order
  std::map<std::string, std::string> metadata;

  // Validates `file` (the whole file's bytes). `source` names it in errors.
  static SafetensorsHeader parse(std::span<const std::uint8_t> file, const std::string& source,
                                 const SafetensorsLimits& limits = {});
};

class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::string& path, const SafetensorsLimits& limits = {});

  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const TensorInfo* find(std::string_view name) const;
  // The tensor's bytes inside the mapping (valid while this object lives).
  std::span<const std::uint8_t> data(const TensorInfo& t) const;
  const std::string& path() const { return file_.path(); }
  std::uint64_t file_size() const { return file_.size(); }
  std::uint64_t data_bytes() const { return file_.size() - header_.data_start; }

 private:
  MappedFile file_;
  SafetensorsHeader header_;
  std::unordered_map<std::string, std::size_t> index_;
};

// Writes a safetensors file tensor by tensor without holding the data in memory: the header is
// computed from the declared tensors, then `fill` is called once per tensor, in order, with a
// buffer to fill (chunked for big tensors).
struct TensorDecl {
  std::string name;
  StDtype dtype = StDtype::BF16;
  std::vector<std::int64_t> shape;
};
using TensorFill = std::function<void(std::size_t tensor_index, std::uint64_t element_offset,
                                      std::span<std::uint8_t> out)>;
void write_safetensors(const std::string& path, const std::vector<TensorDecl>& tensors,
                       const TensorFill& fill,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace vrt
