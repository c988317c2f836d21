// Software prefetch for the kernels' memory streams (packed weights, KV caches). Each row
// block of a weight matrix and each head's keys / values is its own sequential stream, and the
// hardware prefetchers restart at every 4 KiB page, which left DRAM idle between a stream's
// pages; the kernels prefetch a fixed distance ahead instead.
#pragma once

#include <cstdint>

namespace vrt::kernels {

// Distance ahead in each packed-weight stream (quant_tile.h's VNNI / AVX2 tiles, the AMX
// streamed steps). AVX-512 VNNI, 2 threads, from DRAM: 9216 x 3072 4-bit g128 m = 1 0.547 ->
// 0.479 ms; the encoder's m = 4 shapes 4-bit g32 18-25% faster; AMX m = 16 / 32 0.85 -> 0.67 /
// 1.02 -> 0.90 ms; a full-size decoder step 68 -> 60 ms (83 -> 94% of the measured bandwidth).
// 1-8 KiB measured, 2 best.
constexpr std::int64_t kWeightPrefetchBytes = 2048;

// Prefetches the 64-byte lines of [base + offset, base + offset + bytes) into L1. The address
// goes through an integer: a prefetch never faults, and no pointer is formed past the end of
// the array when the range runs past it.
[[gnu::always_inline]] inline void prefetch_range(const void* base, std::int64_t offset, std::int64_t bytes) {
  const auto p = reinterpret_cast<std::uintptr_t>(base) + static_cast<std::uintptr_t>(offset);
  for (std::int64_t x = 0; x < bytes; x += 64)
    __builtin_prefetch(reinterpret_cast<const void*>(p + static_cast<std::uintptr_t>(x)), 0, 3);
}

}  // namespace vrt::kernels
