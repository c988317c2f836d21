// A fixed-size, 64-byte aligned, zero-initialized byte buffer (packed weights are read with
// aligned vector loads and mapped files give 64-byte alignment too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

namespace vrt {

class AlignedBuffer {
 public:
  static constexpr std::size_t kAlign = 64;
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t bytes)
      : data_(bytes > 0 ? static_cast<std::uint8_t*>(::operator new[](bytes, std::align_val_t{kAlign}))
                        : nullptr),
        size_(bytes) {
    if (bytes > 0) std::memset(data_.get(), 0, bytes);
  }
  std::uint8_t* data() { return data_.get(); }
  const std::uint8_t* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(std::uint8_t* p) const { ::operator delete[](p, std::align_val_t{kAlign}); }
  };
  std::unique_ptr<std::uint8_t[], Free> data_;
  std::size_t size_ = 0;
};

}  // namespace vrt
