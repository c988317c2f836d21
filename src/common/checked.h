// Overflow-checked size arithmetic for every size derived from untrusted input
// (counts x sizes, offsets + lengths). Wrapping is reported as an Error, never ignored.
#pragma once

#include <cstdint>
#include <string>

#include "voxtral_rt/error.h"

namespace vrt {

inline std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::string& what,
                                 Status status = Status::bad_checkpoint) {
  std::uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw Error(status, what + ": size overflows 64 bits");
  return r;
}

inline std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, const std::string& what,
                                 Status status = Status::bad_checkpoint) {
  std::uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw Error(status, what + ": size overflows 64 bits");
  return r;
}

}  // namespace vrt
