#include "common/page_buffer.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#define VRT_PAGE_BUFFER_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define VRT_PAGE_BUFFER_HEAP 1
#endif
#endif

namespace vrt {

PageBuffer::PageBuffer(std::size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
#ifdef VRT_PAGE_BUFFER_HEAP
  data_ = std::calloc(bytes, 1);
  if (data_ == nullptr) throw std::bad_alloc();
#else
  // MAP_NORESERVE: the mapping reserves address space only; pages are committed when written.
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = p;
#endif
}

PageBuffer::~PageBuffer() { release(); }

PageBuffer::PageBuffer(PageBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void PageBuffer::release() {
  if (data_ == nullptr) return;
#ifdef VRT_PAGE_BUFFER_HEAP
  std::free(data_);
#else
  ::munmap(data_, size_);
#endif
  data_ = nullptr;
  size_ = 0;
}

}  // namespace vrt
