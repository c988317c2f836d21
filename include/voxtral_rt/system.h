// voxtral-rt: what this build runs on: the CPU features it detected and the kernel table it
// chose (VRT_ISA may force one; see docs/PERFORMANCE.md).
#pragma once

#include <string>

namespace vrt {

// The CPU features the kernels may use ("avx2 fma f16c avx512f ..."; empty on a baseline CPU).
std::string cpu_features();
// The active kernel table ("ref", "avx2", "avx2vnni", "avx512", "avx512vnni", "avx512amx", "neon",
// "neon-dotprod", "neon-i8mm").
// Throws invalid_argument when VRT_ISA names a table this CPU cannot run.
const char* kernel_table();

}  // namespace vrt
