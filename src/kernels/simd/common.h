// Helpers of the ISA-generic kernel templates (simd/*.h), which are written once over an ISA
// traits class T (avx2/avx2_traits.h, avx512/avx512_traits.h) and instantiated only in that
// ISA's files, with its flags. Everything in simd/ has internal linkage (anonymous namespace):
// no inline copy built with one ISA's flags can be merged by the linker into another TU
// (kernel_table.h), and no standard-library template is used.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace vrt::kernels::simd {
namespace {

using i64 = std::int64_t;

inline i64 min_i64(i64 a, i64 b) { return a < b ? a : b; }
inline i64 max_i64(i64 a, i64 b) { return a > b ? a : b; }

// std::conditional without instantiating a standard-library template (kernel_table.h).
template <bool B, class A, class C>
struct Pick {
  using type = A;
};
template <class A, class C>
struct Pick<false, A, C> {
  using type = C;
};

template <DType D>
inline const void* w_row(const void* base, i64 row, i64 ld) {
  if constexpr (D == DType::f32) {
    return static_cast<const float*>(base) + row * ld;
  } else {
    return static_cast<const std::uint16_t*>(base) + row * ld;
  }
}

}  // namespace
}  // namespace vrt::kernels::simd
