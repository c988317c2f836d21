// NEON (ARMv8.0) packed-weight kernels: ../simd/quant_tile.h on QuantTraits128<false> (see
// neon_quant.h): the int8 tiles, the fp32-activation kernels (shared with the neon-dotprod
// table) and quantize_acts (4 lanes, 8 vectors per 32 columns).
#include "kernels/neon/neon_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__aarch64__) && defined(__ARM_NEON))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/simd/quant_tile.h"

namespace vrt::kernels::neon {

void qmatmul_f32_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  simd::qmatmul_f32_rows<QuantTraits128<false>>(a, r0, r1);
}

void qmatmul_int8_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  simd::qmatmul_int8_rows<QuantTraits128<false>>(a, r0, r1);
}

void quantize_acts(const float* x, i64 m, i64 ldx, i64 cols, std::int8_t* a, float* scale,
                   std::int32_t* sums) {
  simd::quantize_acts<QuantTraits128<false>>(x, m, ldx, cols, a, scale, sums);
}

}  // namespace vrt::kernels::neon
