// NEON + dotprod (ARMv8.2 FEAT_DotProd) packed-weight kernels: the int8-activation tiles of
// ../simd/quant_tile.h on QuantTraits128<true> (SDOT, see neon_quant.h), the neon-dotprod kernel
// table's int8 matmul (every other kernel is the neon table's).
#include "kernels/neon/neon_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/simd/quant_tile.h"

namespace vrt::kernels {
void neon_dotprod_qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1) {
  simd::qmatmul_int8_rows<neon::QuantTraits128<true>>(a, r0, r1);
}
}  // namespace vrt::kernels
