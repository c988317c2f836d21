// AVX-512 exact row conversion (weight_rows_to_f32) over BF16/F16/F32: ../simd/gemv.h's
// convert_rows on the Avx512 traits. (The small-m float matmul is the AVX2 one: kernels.h's
// 8-lane order is one ymm.)
// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/avx512/avx512_traits.h"
#include "kernels/simd/gemv.h"

namespace vrt::kernels::avx512 {

void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out) { simd::convert_rows<Avx512>(w, r0, r1, out); }

}  // namespace vrt::kernels::avx512
