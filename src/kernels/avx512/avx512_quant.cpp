// AVX-512 (no VNNI) packed-weight kernels: ../simd/quant_tile.h on QuantTraits512<false>
// (vpmaddubsw + vpmaddwd int8 dot, see avx512_quant.h): the int8 tiles, the fp32-activation
// kernels (shared by the avx512vnni table: they do not use integer dots), and quantize_acts
// (16 lanes, 2 vectors per 32 columns).
#include "kernels/avx512/avx512_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/simd/quant_tile.h"

namespace vrt::kernels::avx512 {

void qmatmul_f32_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  simd::qmatmul_f32_rows<QuantTraits512<false>>(a, r0, r1);
}

void qmatmul_int8_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  simd::qmatmul_int8_rows<QuantTraits512<false>>(a, r0, r1);
}

void quantize_acts(const float* x, i64 m, i64 ldx, i64 cols, std::int8_t* a, float* scale,
                   std::int32_t* sums) {
  simd::quantize_acts<QuantTraits512<false>>(x, m, ldx, cols, a, scale, sums);
}

}  // namespace vrt::kernels::avx512
