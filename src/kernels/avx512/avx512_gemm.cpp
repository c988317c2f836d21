// AVX-512 matmul for larger m (encoder, adapter, prefill): ../simd/gemm.h on the Avx512 traits
// (12 x 32 micro-kernel: 24 accumulators + 2 W + 1 broadcast of the 32 zmm; the x tile,
// 12 x 512 floats = 24 KiB, stays in half of L1; panels prefetched 16 columns ahead).
// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/avx512/avx512_traits.h"
#include "kernels/simd/gemm.h"

namespace vrt::kernels::avx512 {

void gemm_rows(const MatmulArgs& a, i64 r0, i64 r1) { simd::gemm_rows<Avx512>(a, r0, r1); }

}  // namespace vrt::kernels::avx512
