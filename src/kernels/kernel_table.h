// Kernel dispatch: one KernelTable of function pointers per ISA, chosen once from CPU features
// (../shared/docs/style-anchors.md §7.3). Stages call kernels.h, which calls through the active
// table; nothing outside src/kernels/<isa>/ is compiled with ISA flags.
//
// Choice: VRT_ISA=ref|avx2|avx512 in the environment forces one (an ISA this CPU or OS cannot
// run is an error, never a silent fallback); otherwise the best supported one. The scalar
// reference (kernels/ref) is always built: it is the oracle the tests compare against.
//
// ISA files must not instantiate standard-library templates (std::min, std::vector, ...): such
// inline functions are merged across translation units by the linker, and a copy compiled with
// -mavx512f could replace the baseline copy used elsewhere. They use their own static helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"

namespace vrt::kernels {

enum class CpuIsa { ref, avx2, avx512 };

const char* isa_name(CpuIsa isa);
CpuIsa parse_isa(std::string_view name);  // "ref" | "avx2" | "avx512"; throws vrt::Error
bool isa_supported(CpuIsa isa, const CpuFeatures& features);
CpuIsa best_isa(const CpuFeatures& features);

struct MatmulArgs {
  const float* x = nullptr;
  std::int64_t m = 0;
  std::int64_t ldx = 0;
  WeightView w;
  const float* bias = nullptr;
  float* y = nullptr;
  std::int64_t ldy = 0;
};

struct KernelTable {
  CpuIsa isa = CpuIsa::ref;
  const char* name = "ref";
  // Output columns [r0, r1) of the matmul (all m rows), single-threaded. r0 is a multiple of
  // kMatmulRowAlign unless it is 0.
  void (*matmul_rows)(const MatmulArgs& args, std::int64_t r0, std::int64_t r1) = nullptr;
  void (*weight_rows_to_f32)(const WeightView& w, std::int64_t r0, std::int64_t r1,
                             float* out) = nullptr;
  std::int64_t (*argmax)(const float* x, std::int64_t n) = nullptr;
  void (*rms_norm)(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps,
                   float* y) = nullptr;
  void (*gelu)(float* x, std::int64_t n) = nullptr;
  void (*silu_mul)(const float* g, const float* u, float* out, std::int64_t n) = nullptr;
};

// Threads get W rows in multiples of this (a multiple of every ISA's row tile).
inline constexpr std::int64_t kMatmulRowAlign = 16;

// The table of one ISA (the tables exist whatever the CPU; calling an unsupported one faults).
const KernelTable& ref_kernel_table();
const KernelTable& avx2_kernel_table();
const KernelTable& avx512_kernel_table();

// The table for `requested` (throws vrt::Error if this CPU cannot run it), or the best one.
const KernelTable& select_kernels(const CpuFeatures& features, std::optional<CpuIsa> requested);

// The table every kernels.h call uses. The first call resolves VRT_ISA / CPU features (and
// throws vrt::Error on a bad VRT_ISA); set_isa replaces it (tests, a --isa option); not meant
// to be called while kernels run on other threads.
const KernelTable& active_kernels();
void set_isa(CpuIsa isa);

namespace detail {
// Per-thread scratch of at least `floats` floats, 64-byte aligned, reused across calls (pool
// threads are persistent). Valid until the next call on the same thread.
float* thread_scratch(std::size_t floats);
}  // namespace detail

}  // namespace vrt::kernels
