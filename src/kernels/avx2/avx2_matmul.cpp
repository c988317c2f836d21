// AVX2 + FMA matmul y[i, r] = sum_c x[i, c] W[r, c] + b[r] over BF16/F16/F32 weights (fp32
// accumulation), and the AVX2 kernel table: the float tiles of ../simd/gemv.h (m <= kGemvMaxM:
// decoder step, short chunks; m = 1: 8 W rows per tile, m = 2: 4, m = 3: 3, m = 4: 2) and
// ../simd/gemm.h (larger m: 6 x 16 micro-kernel, 12 of the 16 ymm as accumulators) on the Avx2
// traits (avx2_traits.h).
#include "kernels/kernel_table.h"
#include "kernels/avx2/avx2_quant.h"
#include "kernels/ref/ref_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX2__) && defined(__FMA__) && defined(__F16C__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/avx2/avx2_traits.h"
#include "kernels/simd/gemm.h"
#include "kernels/simd/gemv.h"

namespace vrt::kernels {
namespace avx2 {
namespace {

constexpr i64 kGemvMaxM = 16;

void matmul_rows(const MatmulArgs& a, i64 r0, i64 r1) {
  if (a.m <= kGemvMaxM) {
    simd::gemv_rows<Avx2>(a, r0, r1);
  } else {
    simd::gemm_rows<Avx2>(a, r0, r1);
  }
}

}  // namespace

void gemv_rows(const MatmulArgs& a, i64 r0, i64 r1) { simd::gemv_rows<Avx2>(a, r0, r1); }

void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out) { simd::convert_rows<Avx2>(w, r0, r1, out); }

}  // namespace avx2

const KernelTable& avx2_kernel_table() {
  static const KernelTable table{CpuIsa::avx2,       "avx2",        avx2::matmul_rows,
                                 avx2::convert_rows, avx2::argmax,  avx2::rms_norm,
                                 avx2::gelu,         avx2::silu_mul,
                                 avx2::qmatmul_f32_rows, avx2::qmatmul_int8_rows, avx2::quantize_acts,
                                 avx2::attend_rows};
  return table;
}

}  // namespace vrt::kernels
