// Whole-file reads with a size cap, and read-only memory maps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "voxtral_rt/error.h"

namespace vrt {

// Reads a whole file. Throws not_found / io_error, or `too_big_status` when the file is larger
// than max_bytes (checked before reading, so a huge file never gets allocated).
std::string read_file_capped(const std::string& path, std::uint64_t max_bytes,
                             Status too_big_status);

// Writes bytes to a file, replacing it. Throws io_error.
void write_file(const std::string& path, std::span<const char> bytes);

// Read-only, private memory map of a whole file. Move-only. An empty file maps to an empty span.
class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  void release() noexcept;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::string path_;
};

}  // namespace vrt
