// AVX-512 kernel table: matmul dispatch by m (the AVX2 GEMV for the memory-bound decode step:
// kernels.h's 8-lane order is one ymm; avx512_gemm.cpp for the compute-bound encoder/prefill),
// row conversion, elementwise ops (avx512_elementwise.cpp; rms_norm's sum is the AVX2 one), and
// attention. The crossover kGemvMaxM: up to 16 rows of x, streaming W once and widening it in
// registers beats packing (transposing) it; at m = 24 they tie (BM_SmallM in
// bench/kernels/matmul_bench.cpp).
#include "kernels/kernel_table.h"
#include "kernels/avx512/avx512_quant.h"
#include "kernels/ref/ref_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/avx512/avx512_traits.h"

namespace vrt::kernels {
namespace avx512 {

std::int64_t argmax(const float* x, std::int64_t n);
void gelu(float* x, std::int64_t n);
void silu_mul(const float* g, const float* u, float* out, std::int64_t n);
void attend_rows(const AttendRowArgs* rows, int count);

namespace {
constexpr i64 kGemvMaxM = 16;

void matmul_rows(const MatmulArgs& a, i64 r0, i64 r1) {
  if (a.m <= kGemvMaxM) {
    avx2::gemv_rows(a, r0, r1);
  } else {
    gemm_rows(a, r0, r1);
  }
}
}  // namespace

}  // namespace avx512

const KernelTable& avx512_kernel_table() {
  static const KernelTable table{CpuIsa::avx512,       "avx512",        avx512::matmul_rows,
                                 avx512::convert_rows, avx512::argmax,  avx2::rms_norm,
                                 avx512::gelu,         avx512::silu_mul,
                                 avx512::qmatmul_f32_rows, avx512::qmatmul_int8_rows, avx512::quantize_acts,
                                 avx512::attend_rows};
  return table;
}

}  // namespace vrt::kernels
