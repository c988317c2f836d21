// NEON float matmul y[i, r] = sum_c x[i, c] W[r, c] + b[r] over BF16/F16/F32 weights, the exact
// row conversion, and the neon kernel table: ../simd/gemv.h (m <= 16: kernels.h's order) and
// ../simd/gemm.h (larger m: 6 x 16 micro-kernel) on the Neon8 traits (pairs of q registers as 8
// lanes, so the AVX2 tile shapes fit the 32 q registers).
// (No BFDOT / BFMMLA: they multiply bf16 by bf16, so the fp32 activations would be rounded to
// bf16 first, which is not the model's math and not the reference's bits.)
#include "kernels/kernel_table.h"
#include "kernels/neon/neon_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__aarch64__) && defined(__ARM_NEON))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/neon/neon_traits.h"
#include "kernels/simd/gemm.h"
#include "kernels/simd/gemv.h"

namespace vrt::kernels {
namespace neon {
namespace {

constexpr i64 kGemvMaxM = 16;

void matmul_rows(const MatmulArgs& a, i64 r0, i64 r1) {
  if (a.m <= kGemvMaxM) {
    simd::gemv_rows<Neon8>(a, r0, r1);
  } else {
    simd::gemm_rows<Neon8>(a, r0, r1);
  }
}

void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out) { simd::convert_rows<Neon8>(w, r0, r1, out); }

}  // namespace
}  // namespace neon

const KernelTable& neon_kernel_table() {
  static const KernelTable table{CpuIsa::neon,       "neon",        neon::matmul_rows,
                                 neon::convert_rows, neon::argmax,  neon::rms_norm,
                                 neon::gelu,         neon::silu_mul,
                                 neon::qmatmul_f32_rows, neon::qmatmul_int8_rows, neon::quantize_acts,
                                 neon::attend_rows};
  return table;
}

}  // namespace vrt::kernels
