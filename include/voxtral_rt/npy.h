// voxtral-rt: a minimal NumPy .npy (format 1.0) reader and writer for float32 and int32 arrays,
// C order: stage dumps (--dump), and published reference data in tests.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vrt::npy {

template <typename T>
struct Array {
  std::vector<std::int64_t> shape;
  std::vector<T> data;
};

void write_f32(const std::string& path, std::span<const float> data,
               const std::vector<std::int64_t>& shape);
void write_i32(const std::string& path, std::span<const std::int32_t> data,
               const std::vector<std::int64_t>& shape);

// Reads a little-endian '<f4' array (or '<f8', converted) of any rank. Throws vrt::Error.
Array<float> read_f32(const std::string& path);

}  // namespace vrt::npy
