// Kernel dispatch: one KernelTable of function pointers per ISA, chosen once from CPU features
// (../shared/docs/style-anchors.md §7.3). Stages call kernels.h, which calls through the active
// table; nothing outside src/kernels/<isa>/ is compiled with ISA flags.
//
// Choice: VRT_ISA=ref|avx2|avx2vnni|avx512|avx512vnni|avx512amx (x86-64) or
// neon|neon-dotprod|neon-i8mm (AArch64) in the environment forces one (an ISA this CPU or OS
// cannot run is an error, never a silent fallback); otherwise the best supported one. The scalar
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
#include "kernels/quant.h"

namespace vrt::kernels {

// avx2vnni / avx512vnni: the avx2 / avx512 tables with the int8 packed-weight matmul on
// vpdpbusd (AVX-VNNI / AVX512-VNNI); every other kernel is the base table's. avx512amx: the
// avx512vnni table with that matmul on AMX int8 tiles from 9 x rows on. (Values are stable:
// benchmarks pass them as numbers.)
// neon (AArch64): NEON kernels throughout (float matmul, elementwise, attention, packed
// weights); neon-dotprod: the neon table with the int8 matmul on SDOT; neon-i8mm: the neon-dotprod
// table with that matmul on SMMLA (FEAT_I8MM) from 2 x rows on.
enum class CpuIsa { ref, avx2, avx512, avx2vnni, avx512vnni, avx512amx, neon, neon_dotprod, neon_i8mm };

const char* isa_name(CpuIsa isa);
CpuIsa parse_isa(std::string_view name);  // "ref" | "avx2" | "avx2vnni" | "avx512" | "avx512vnni" | "avx512amx" | "neon" | "neon-dotprod" | "neon-i8mm"; throws
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

// A matmul over a packed (quantized) weight; see quant.h for the exact arithmetic.
struct QMatmulArgs {
  const float* x = nullptr;  // fp32 activations [m, ldx] (weight-only kernels)
  std::int64_t ldx = 0;
  QuantizedActs xq;          // int8 activations (dynamic kernels)
  std::int64_t m = 0;
  QuantWeightView w;
  const float* bias = nullptr;
  float* y = nullptr;
  std::int64_t ldy = 0;
};

// Keys are stored transposed in blocks of kKeyBlock positions: element c of slot s's key is at
// key_index (so one vector load is one dimension of 16 consecutive keys, and a block of scores
// needs no horizontal sums). Values are rows: element c of slot s at s * stride + c.
inline constexpr std::int64_t kKeyBlock = 16;

// One query row against one head's keys/values in a ring cache (see model/attention.h): the
// keys and values of positions first .. first + n - 1 live at slot pos % capacity (capacity a
// multiple of kKeyBlock). The rows of one attend_rows call share k, v, head_dim, stride,
// capacity and scale; each has its own q, key range, out and scores.
struct AttendRowArgs {
  const float* q = nullptr;
  const void* k = nullptr;  // float, or f16 bits (std::uint16_t) when kv_f16; key_index layout
  const void* v = nullptr;
  bool kv_f16 = false;
  std::int64_t head_dim = 0;
  std::int64_t stride = 0;  // values: elements from one slot to the next
  std::int64_t capacity = 0;
  std::int64_t first = 0;
  std::int64_t n = 0;
  float scale = 1.0f;
  float* out = nullptr;     // head_dim values
  float* scores = nullptr;  // n floats of scratch
};

// Index of element c of position pos's key in k (kKeyBlock-slot blocks, each [head_dim][16]).
inline std::int64_t key_index(const AttendRowArgs& a, std::int64_t pos, std::int64_t c) {
  const std::int64_t s = pos % a.capacity;
  return ((s / kKeyBlock) * a.head_dim + c) * kKeyBlock + s % kKeyBlock;
}

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
  // Packed weights: output columns [r0, r1) for all m rows, single-threaded; r0 is a multiple
  // of 16, r1 a multiple of 16 or w.rows. Results bitwise equal to the reference (quant.h).
  void (*qmatmul_f32_rows)(const QMatmulArgs& args, std::int64_t r0, std::int64_t r1) = nullptr;
  void (*qmatmul_int8_rows)(const QMatmulArgs& args, std::int64_t r0, std::int64_t r1) = nullptr;
  // quant.h's quantize_activations (bitwise equal to the reference).
  void (*quantize_acts)(const float* x, std::int64_t m, std::int64_t ldx, std::int64_t cols,
                        std::int8_t* a, float* scale, std::int32_t* sums) = nullptr;
  // out = softmax(scale * q.K^T) V for each of `count` (1..kMaxAttendRows) query rows over one
  // head (fp32; max subtracted). A row's result depends only on that row's arguments, never on
  // the other rows of the call (so any grouping of rows gives the same bits), and is the same
  // on every table: a score is (even + odd) * scale, the two fused chains over the even and the
  // odd dimensions in order; numerators exp(s - max) with kernels.h's exp; their sum in 8 lanes
  // (kernels.h); out[c] = (fused chain of p_j v_j[c] over positions in order) * (1 / sum).
  void (*attend_rows)(const AttendRowArgs* rows, int count) = nullptr;
};

inline constexpr int kMaxAttendRows = 8;

// Threads get W rows in multiples of this (a multiple of every ISA's row tile).
inline constexpr std::int64_t kMatmulRowAlign = 16;

// The table of one ISA (the tables exist whatever the CPU; calling an unsupported one faults).
const KernelTable& ref_kernel_table();
const KernelTable& avx2_kernel_table();
const KernelTable& avx512_kernel_table();
const KernelTable& neon_kernel_table();
// The VNNI and AMX tables differ from their base only in this matmul (kernel_table.cpp builds them).
void avx2vnni_qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);    // avx2/avx2_quant_vnni.cpp
void avx512vnni_qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);  // avx512/avx512_quant_vnni.cpp
void avx512amx_qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);   // avx512/avx512_quant_amx.cpp
void neon_dotprod_qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);  // neon/neon_quant_dotprod.cpp
void neon_i8mm_qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);     // neon/neon_quant_i8mm.cpp
// Whether this build has the ISA's kernels: vrt_isa_sources (cmake/layers.cmake) leaves an
// ISA's files out on another architecture or with a compiler lacking its flags.
bool isa_built(CpuIsa isa);

// A copy of base with isa and name = isa_name(isa) and, when not null, this int8 matmul: the
// VNNI, AMX, dotprod and i8mm tables. Not inline, so
// that the table copy is compiled once, with baseline flags (see above).
KernelTable derived_table(const KernelTable& base, CpuIsa isa,
                          void (*qmatmul_int8_rows)(const QMatmulArgs&, std::int64_t, std::int64_t) = nullptr);

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
