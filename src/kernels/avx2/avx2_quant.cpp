// AVX2 (no VNNI) packed-weight kernels: ../simd/quant_tile.h on QuantTraits256<false> (see
// avx2_quant.h): the int8 tiles, the fp32-activation kernels (shared with the avx2vnni table)
// and quantize_acts (8 lanes, 4 vectors per 32 columns).
#include "kernels/avx2/avx2_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX2__) && defined(__FMA__) && defined(__F16C__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/simd/quant_tile.h"

namespace vrt::kernels::avx2 {

void qmatmul_f32_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  simd::qmatmul_f32_rows<QuantTraits256<false>>(a, r0, r1);
}

void qmatmul_int8_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  simd::qmatmul_int8_rows<QuantTraits256<false>>(a, r0, r1);
}

void quantize_acts(const float* x, i64 m, i64 ldx, i64 cols, std::int8_t* a, float* scale,
                   std::int32_t* sums) {
  simd::quantize_acts<QuantTraits256<false>>(x, m, ldx, cols, a, scale, sums);
}

}  // namespace vrt::kernels::avx2
