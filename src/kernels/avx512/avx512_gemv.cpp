// AVX-512 matmul for small m (the decoder step, short chunks; m <= 16) and the exact row
// conversion: ../simd/gemv.h on the Avx512 traits (m = 1: 8 W rows per tile, m = 2..4: 4).
// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/avx512/avx512_traits.h"
#include "kernels/simd/gemv.h"

namespace vrt::kernels::avx512 {

void gemv_rows(const MatmulArgs& a, i64 r0, i64 r1) { simd::gemv_rows<Avx512>(a, r0, r1); }

void convert_rows(const WeightView& w, i64 r0, i64 r1, float* out) { simd::convert_rows<Avx512>(w, r0, r1, out); }

}  // namespace vrt::kernels::avx512
