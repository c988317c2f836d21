// NEON elementwise kernels (kernels.h): argmax here; RMSNorm, exact GELU and the SiLU gate are
// ../simd/elementwise.h on the Neon8 traits (exp with x clamped to [-104, 89] and 2^n as two
// exact factors, as AVX2's).
#include "kernels/kernel_table.h"
#include "kernels/neon/neon_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__aarch64__) && defined(__ARM_NEON))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/neon/neon_traits.h"
#include "kernels/simd/elementwise.h"

namespace vrt::kernels::neon {

// Two passes: the maximum over vectors (a NaN never replaces the running maximum: sel_gt keeps
// its second operand), then the first index equal to it.
std::int64_t argmax(const float* x, std::int64_t n) {
  const float32x4_t neg_inf = vdupq_n_f32(-__builtin_inff());
  float32x4_t m0 = neg_inf, m1 = neg_inf;
  i64 i = 0;
  for (; i + 8 <= n; i += 8) {
    m0 = sel_gt(vld1q_f32(x + i), m0);
    m1 = sel_gt(vld1q_f32(x + i + 4), m1);
  }
  float best = vmaxvq_f32(sel_gt(m0, m1));
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  const float32x4_t bv = vdupq_n_f32(best);
  for (i = 0; i + 4 <= n; i += 4) {
    if (vmaxvq_u32(vceqq_f32(vld1q_f32(x + i), bv)) != 0) break;
  }
  for (; i < n; ++i) {
    if (x[i] == best) return i;
  }
  return 0;
}

void rms_norm(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps, float* y) {
  simd::rms_norm<Neon8>(x, m, n, w, eps, y);
}

void gelu(float* x, std::int64_t n) { simd::gelu<Neon8>(x, n); }

void silu_mul(const float* g, const float* u, float* out, std::int64_t n) { simd::silu_mul<Neon8>(g, u, out, n); }

}  // namespace vrt::kernels::neon
