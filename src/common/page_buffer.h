// Zero-filled memory that the OS commits page by page on first write (an anonymous mapping):
// a buffer sized for its largest use costs only the pages written so far, and never has to be
// reallocated, zeroed again and copied as it fills (the KV caches, which grew by doubling).
// Sanitizer builds take the memory from the heap (calloc) instead, so that AddressSanitizer
// checks every access to it.
#pragma once

#include <cstddef>

namespace vrt {

class PageBuffer {
 public:
  PageBuffer() = default;
  explicit PageBuffer(std::size_t bytes);  // throws std::bad_alloc
  ~PageBuffer();
  PageBuffer(PageBuffer&& o) noexcept;
  PageBuffer& operator=(PageBuffer&& o) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void release();
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace vrt
