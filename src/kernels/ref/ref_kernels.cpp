// Portable scalar kernels: the oracle every ISA path is tested against, and the definition of
// the arithmetic every table reproduces bit for bit (kernels.h, "Same bits on every table").
// Plain C++ with no intrinsics; the vector exp / erf are ../simd/elementwise.h on a one-lane
// traits class, so the polynomial is written once.
//
// matmul: for each block of kBlockRows W rows, convert the block to fp32 once (thread scratch)
// and take its dot products with all m rows of x. A dot is 8 fused multiply-add chains (term c in
// lane c mod 8) added as ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)): 8 lanes are one AVX2
// register, two NEON ones, half an AVX-512 one, so every ISA computes exactly this order at full
// width. Error bound as for any order: |err| <= cols * 2^-24 * sum|x*w| to first order.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/half.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref_quant.h"
#include "kernels/simd/elementwise.h"

namespace vrt::kernels {

namespace ref {
namespace {

constexpr std::int64_t kBlockRows = 16;
constexpr int kLanes = 8;

// One lane of the ISA traits (simd/elementwise.h), with x86's minps / maxps semantics (the second
// operand when either is NaN) and fused multiply-adds, as every table computes them.
struct Scalar {
  using vf = float;
  static vf zero() { return 0.0f; }
  static vf set1(float v) { return v; }
  static vf add(vf a, vf b) { return a + b; }
  static vf sub(vf a, vf b) { return a - b; }
  static vf mul(vf a, vf b) { return a * b; }
  static vf div(vf a, vf b) { return a / b; }
  static vf min(vf a, vf b) { return a < b ? a : b; }
  static vf max(vf a, vf b) { return a > b ? a : b; }
  static vf fma(vf a, vf b, vf c) { return std::fma(a, b, c); }
  static vf fnma(vf a, vf b, vf c) { return std::fma(-a, b, c); }
  static vf round_nearest(vf v) { return std::nearbyint(v); }  // ties to even (default mode)
  static vf exp_clamp(vf x) { return max(min(x, 89.0f), -104.0f); }
  static float pow2i(int n) {  // 2^n, n in [-126, 127]
    const std::uint32_t bits = static_cast<std::uint32_t>(n + 127) << 23;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  static vf exp_scale(vf p, vf n, vf x) {  // p 2^n as two exact factors (avx2_traits.h)
    if (x != x) return x;
    const int ni = static_cast<int>(n), n1 = ni >> 1;
    return p * pow2i(n1) * pow2i(ni - n1);
  }
  static vf erf_nan(vf e, vf x) { return x != x ? x : e; }
};

float sum8(const float (&l)[kLanes]) { return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])); }

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
  for (std::int64_t c = 0; c < n; ++c) acc[c % kLanes] = std::fma(a[c], b[c], acc[c % kLanes]);
  return sum8(acc);
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
  for (std::int64_t i = 0; i < n; ++i) x[i] = simd::gelu_ps<Scalar>(x[i]);
}

void silu_mul(const float* g, const float* u, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = simd::silu_mul_ps<Scalar>(g[i], u[i]);
}

// Element i of a ring cache of float or f16 values.
float kv_at(const AttendRowArgs& a, const void* base, std::int64_t i) {
  return a.kv_f16 ? f16_to_f32(static_cast<const std::uint16_t*>(base)[i]) : static_cast<const float*>(base)[i];
}

// A key's score: fused chains over the even and the odd dimensions in order, added, times the
// scale (a SIMD kernel holds 16 keys' chains in the lanes of one block). Softmax numerators
// exp(s - max) with the vector exp, their sum in 8 lanes (position mod 8, as dot), and each output
// column a fused chain over the positions in order, times 1 / sum at the end.
void attend_row(const AttendRowArgs& a) {
  float mx = -INFINITY;
  for (std::int64_t j = 0; j < a.n; ++j) {
    float even = 0.0f, odd = 0.0f;
    for (std::int64_t c = 0; c < a.head_dim; ++c) {
      float& acc = c % 2 == 0 ? even : odd;
      acc = std::fma(a.q[c], kv_at(a, a.k, key_index(a, a.first + j, c)), acc);
    }
    a.scores[j] = (even + odd) * a.scale;
    mx = Scalar::max(a.scores[j], mx);
  }
  float lanes[kLanes] = {};
  for (std::int64_t j = 0; j < a.n; ++j) {
    a.scores[j] = simd::exp_ps<Scalar>(a.scores[j] - mx);
    lanes[j % kLanes] += a.scores[j];
  }
  const float inv = 1.0f / sum8(lanes);
  for (std::int64_t c = 0; c < a.head_dim; ++c) {
    float o = 0.0f;
    for (std::int64_t j = 0; j < a.n; ++j)
      o = std::fma(a.scores[j], kv_at(a, a.v, ((a.first + j) % a.capacity) * a.stride + c), o);
    a.out[c] = o * inv;
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
