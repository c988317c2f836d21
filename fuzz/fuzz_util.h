// Shared helpers for the fuzz targets (fuzz/*.cpp).
//
// Each target defines LLVMFuzzerTestOneInput. Its contract with the library: hostile bytes give a
// vrt::Error or a result that satisfies the invariants checked here; any other exception, a
// sanitizer report, a hang or a broken invariant is a finding. So targets catch vrt::Error only
// and let everything else escape (libFuzzer reports an uncaught exception as a crash).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "voxtral_rt/error.h"

namespace vrt::fuzz {

// 128-bit integers for recomputing sizes without overflow (__extension__: not ISO C++).
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

[[noreturn]] inline void violated(const char* file, int line, const char* what) {
  std::fprintf(stderr, "fuzz invariant violated at %s:%d: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

// An invariant the code under test promises (not an assert: compiled in every build type).
#define VRT_FUZZ_CHECK(cond)                                       \
  do {                                                             \
    if (!(cond)) ::vrt::fuzz::violated(__FILE__, __LINE__, #cond); \
  } while (0)

// Reads small typed values from the front of the input; past the end it yields zeros, so every
// input is valid and the fuzzer can grow or shrink it freely.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(u16()) | (std::uint32_t{u16()} << 16); }
  // The rest of the input.
  std::span<const std::uint8_t> rest() const {
    return {data_ + std::min(pos_, size_), size_ - std::min(pos_, size_)};
  }
  std::span<const std::uint8_t> take(std::size_t n) {
    const std::size_t k = std::min(n, size_ - std::min(pos_, size_));
    std::span<const std::uint8_t> s(data_ + std::min(pos_, size_), k);
    pos_ += k;
    return s;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// How a stream is cut into pushes: a cycle of up to 8 sizes read from the input. A size byte b
// maps to 0 (an empty push), 1..16 (inside a sample or frame), or b^2/4 (larger pieces), so the
// fuzzer reaches every boundary case with one byte.
class Chunker {
 public:
  explicit Chunker(Reader& r) {
    const int n = 1 + r.u8() % 8;
    for (int i = 0; i < n; ++i) {
      const std::size_t b = r.u8();
      sizes_.push_back(b < 17 ? b : b * b / 4);
    }
  }
  // Calls fn(piece) for consecutive pieces covering `all`, empty pieces included.
  template <typename T, typename Fn>
  void split(std::span<const T> all, Fn&& fn) const {
    std::size_t at = 0, i = 0, empties = 0;
    while (at < all.size()) {
      const std::size_t n = std::min(sizes_[i++ % sizes_.size()], all.size() - at);
      if (n == 0 && ++empties > 4 * sizes_.size()) {
        // Enough empty pushes tested (and all sizes may be 0): the rest goes in one piece.
        fn(all.subspan(at));
        return;
      }
      fn(all.subspan(at, n));
      at += n;
    }
  }

 private:
  std::vector<std::size_t> sizes_;
};

inline std::string_view as_text(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace vrt::fuzz
