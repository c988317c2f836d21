// AVX2 + AVX-VNNI packed-weight kernels: the int8-activation tiles of ../simd/quant_tile.h on
// QuantTraits256<true> (VEX vpdpbusd, see avx2_quant.h), the avx2vnni kernel table's int8 matmul
// (every other kernel is the avx2 table's).
#include "kernels/avx2/avx2_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && defined(__AVXVNNI__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/simd/quant_tile.h"

namespace vrt::kernels {
void avx2vnni_qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1) {
  simd::qmatmul_int8_rows<avx2::QuantTraits256<true>>(a, r0, r1);
}
}  // namespace vrt::kernels
