// Portable scalar kernels: the oracle every ISA path is tested against, and the fallback on
// CPUs without AVX2. Same math as kernels.h; plain C++ with no intrinsics.
//
// matmul: for each block of kBlockRows W rows, convert the block to fp32 once (thread scratch)
// and take its dot products with all m rows of x. Dots accumulate in kLanes independent fp32
// partial sums (c mod kLanes), added pairwise at the end: the compiler can vectorize that
// without -ffast-math, and the error bound is the usual one for any summation order
// (|err| <= cols * 2^-24 * sum|x*w| to first order).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/half.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref_quant.h"

namespace vrt::kernels {

namespace ref {
namespace {

constexpr std::int64_t kBlockRows = 16;
constexpr int kLanes = 8;

void rows_to_f32(const WeightView& w, std::int64_t r0, std::int64_t r1, float* out) {
  const std::int64_t n = (r1 - r0) * w.cols;
  const std::int64_t first = r0 * w.cols;
  switch (w.dtype) {
    case DType::f32:
      if (n > 0)
        std::memcpy(out, static_cast<const float*>(w.data) + first,
                    static_cast<std::size_t>(n) * sizeof(float));
      break;
    case DType::bf16: {
      const auto* p = static_cast<const std::uint16_t*>(w.data) + first;
      for (std::int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(p[i]);
      break;
    }
    case DType::f16: {
      const auto* p = static_cast<const std::uint16_t*>(w.data) + first;
      for (std::int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(p[i]);
      break;
    }
  }
}

float dot(const float* a, const float* b, std::int64_t n) {
  float acc[kLanes] = {};
  std::int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] += a[c + l] * b[c + l];
  }
  for (int l = 0; c < n; ++c, ++l) acc[l] += a[c] * b[c];
  for (int width = kLanes / 2; width >= 1; width /= 2) {
    for (int l = 0; l < width; ++l) acc[l] += acc[l + width];
  }
  return acc[0];
}

void matmul_rows(const MatmulArgs& a, std::int64_t r0, std::int64_t r1) {
  const std::int64_t cols = a.w.cols;
  float* block =
      detail::thread_scratch(static_cast<std::size_t>(kBlockRows * (cols > 0 ? cols : 1)));
  for (std::int64_t rb = r0; rb < r1; rb += kBlockRows) {
    const std::int64_t re = rb + kBlockRows < r1 ? rb + kBlockRows : r1;
    rows_to_f32(a.w, rb, re, block);
    for (std::int64_t i = 0; i < a.m; ++i) {
      const float* xi = a.x + i * a.ldx;
      float* yi = a.y + i * a.ldy;
      for (std::int64_t r = rb; r < re; ++r) {
        const float s = dot(xi, block + (r - rb) * cols, cols);
        yi[r] = a.bias != nullptr ? s + a.bias[r] : s;
      }
    }
  }
}

std::int64_t argmax(const float* x, std::int64_t n) {
  std::int64_t best_i = -1;
  float best = 0.0f;
  for (std::int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v > best || (best_i < 0 && v == v)) {
      best = v;
      best_i = i;
    }
  }
  return best_i < 0 ? 0 : best_i;
}

void rms_norm(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps, float* y) {
  for (std::int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * n;
    float* yi = y + i * n;
    const float ss = dot(xi, xi, n);
    const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
    for (std::int64_t c = 0; c < n; ++c) yi[c] = xi[c] * scale * w[c];
  }
}

void gelu(float* x, std::int64_t n) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  for (std::int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
}

void silu_mul(const float* g, const float* u, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

// Element i of a ring cache of float or f16 values.
float kv_at(const AttendRowArgs& a, const void* base, std::int64_t i) {
  return a.kv_f16 ? f16_to_f32(static_cast<const std::uint16_t*>(base)[i]) : static_cast<const float*>(base)[i];
}

// Scores, max, exp, then the weighted sum of values in position order.
void attend_row(const AttendRowArgs& a) {
  float mx = -INFINITY;
  for (std::int64_t j = 0; j < a.n; ++j) {
    float d = 0;
    for (std::int64_t c = 0; c < a.head_dim; ++c) d += a.q[c] * kv_at(a, a.k, key_index(a, a.first + j, c));
    a.scores[j] = d * a.scale;
    mx = std::fmax(mx, a.scores[j]);
  }
  float sum = 0;
  for (std::int64_t j = 0; j < a.n; ++j) {
    a.scores[j] = std::exp(a.scores[j] - mx);
    sum += a.scores[j];
  }
  const float inv = 1.0f / sum;
  for (std::int64_t c = 0; c < a.head_dim; ++c) a.out[c] = 0.0f;
  for (std::int64_t j = 0; j < a.n; ++j) {
    const float w = a.scores[j] * inv;
    for (std::int64_t c = 0; c < a.head_dim; ++c) a.out[c] += w * kv_at(a, a.v, ((a.first + j) % a.capacity) * a.stride + c);
  }
}

void attend_rows(const AttendRowArgs* rows, int count) {
  for (int r = 0; r < count; ++r) attend_row(rows[r]);
}

}  // namespace
}  // namespace ref

const KernelTable& ref_kernel_table() {
  static const KernelTable table{CpuIsa::ref,           "ref",
                                 ref::matmul_rows,      ref::rows_to_f32,
                                 ref::argmax,           ref::rms_norm,
                                 ref::gelu,             ref::silu_mul,
                                 ref::qmatmul_f32_rows, ref::qmatmul_int8_rows,
                                 ref::quantize_acts,    ref::attend_rows};
  return table;
}

}  // namespace vrt::kernels
