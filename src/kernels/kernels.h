// Compute kernels of the fp32 inference path: matmul over BF16/F16/F32 weights plus the small
// fused ops around it (RMSNorm, exact GELU, SiLU gate, argmax).
//
// Math and shapes (row-major; W is a PyTorch Linear weight [out = rows, in = cols]):
//   matmul:   y[i, r] = sum_c x[i, c] * W[r, c] (+ bias[r]),  i < m, r < rows, c < cols
//   rms_norm: y[i, :] = x[i, :] * rsqrt(mean_c x[i, c]^2 + eps) * w[:]
//   gelu:     x = 0.5 x (1 + erf(x / sqrt 2))          (exact erf GELU, not the tanh one)
//   silu_mul: out = g / (1 + exp(-g)) * u
// Weights are converted to fp32 exactly (BF16/F16 are subsets of fp32) and all sums are fp32.
//
// Same bits on every table (ref, AVX2, AVX-512, NEON; x86-64 and AArch64), so a model gives the
// same tokens and logits on every machine: the scalar reference (ref/ref_kernels.cpp) defines
// the order of every operation and each ISA reproduces it.
//   * Reductions (matmul with m <= kRowStableRows, rms_norm's sum of squares, the softmax sum):
//     8 lanes, term c in lane c mod 8, each lane one fused multiply-add (or add) chain in order,
//     lanes added as ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)); then + bias.
//   * exp and erf: one polynomial (simd/elementwise.h) with fused multiply-adds.
//   * attention: see AttendRowArgs in kernel_table.h.
// Exception: matmul with m > kRowStableRows (W packed into outer-product tiles, the
// compute-bound encoder and prefill over float weights) sums in its own order per ISA, within
// the usual bound; matmul_row_stable never takes it. Packed (quantized) weights: quant.h, exact.
//
// Every call goes through the kernel table chosen once from CPU features (kernel_table.h;
// VRT_ISA overrides it). Kernels trust their inputs: the model validates shapes, and
// kernels only VRT_DCHECK them in debug and sanitizer builds.
#pragma once

#include <cstdint>

#include "common/dtype.h"
#include "common/thread_pool.h"

namespace vrt::kernels {

struct WeightView {  // row-major [rows, cols] = PyTorch Linear [out, in]
  const void* data = nullptr;
  DType dtype = DType::bf16;
  std::int64_t rows = 0, cols = 0;
};

// y[i, r] = sum_c x[i, c] * W[r, c] (+ bias[r] when bias != nullptr), i < m, fp32 accumulation.
// x: [m, cols] with row stride ldx (>= cols); y: [m, rows] with row stride ldy (>= rows); y must
// not overlap x. Threads split the rows of W (each weight row is read once for all m inputs);
// pool may be nullptr (single-threaded). m == 0 or rows == 0 is a no-op.
// y is bitwise the same for any thread count. m <= 16 (W streamed, dot-shaped tiles): the same
// bits on every table, and a row's bits do not depend on the others; m > 16 (W packed,
// outer-product tiles): an order of its own per ISA, so one row of x may not give bitwise the
// same y alone and in a batch.
void matmul(const float* x, std::int64_t m, std::int64_t ldx, const WeightView& w,
            const float* bias, float* y, std::int64_t ldy, ThreadPool* pool);

// matmul whose row results do not depend on m (nor on which rows share a call): the rows go
// through the <= 16-row path in pieces, at the cost of reading W once per 16 rows. For stages
// that must give the same bits whatever the chunking (the encoder's conv stem).
inline constexpr std::int64_t kRowStableRows = 16;
void matmul_row_stable(const float* x, std::int64_t m, std::int64_t ldx, const WeightView& w,
                       const float* bias, float* y, std::int64_t ldy, ThreadPool* pool);

// Converts rows [r0, r1) of W to fp32 (out has (r1 - r0) * cols floats, row-major).
void weight_rows_to_f32(const WeightView& w, std::int64_t r0, std::int64_t r1, float* out);

// Index of the first maximum of x[0, n) (n >= 1; NaNs are never the maximum unless all are).
std::int64_t argmax(const float* x, std::int64_t n);

// The two largest values of x[0, n) (n >= 2; top1 >= top2, equal values count twice), for
// near-tie checks on logits.
struct Top2 {
  float top1 = 0.0f;
  float top2 = 0.0f;
  std::int64_t index1 = 0;  // first index of top1
};
Top2 top2(const float* x, std::int64_t n);

// RMSNorm: y = x * rsqrt(mean(x^2) + eps) * w  (w fp32 [n]), for m rows of n; y may alias x.
void rms_norm(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps, float* y);

// Exact GELU in place, and the SiLU gate out[i] = silu(g[i]) * u[i] (out may alias g or u).
void gelu(float* x, std::int64_t n);
void silu_mul(const float* g, const float* u, float* out, std::int64_t n);

// Sum of p[0, n): a plain streaming read, the reference for measured read bandwidth.
std::uint64_t stream_read_sum(const std::uint64_t* p, std::int64_t n);

// The ISA whose kernels are in use ("ref", "avx2", "avx512"), for logs.
const char* selected_isa();

}  // namespace vrt::kernels
