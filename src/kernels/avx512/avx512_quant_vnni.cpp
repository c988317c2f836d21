// AVX-512 VNNI packed-weight kernels: the int8-activation tiles of ../simd/quant_tile.h on
// QuantTraits512<true> (vpdpbusd, see avx512_quant.h), the avx512vnni kernel table's int8
// matmul (every other kernel is the avx512 table's).
#include "kernels/avx512/avx512_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__) && defined(__AVX512VNNI__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/simd/quant_tile.h"

namespace vrt::kernels {
void avx512vnni_qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1) {
  simd::qmatmul_int8_rows<avx512::QuantTraits512<true>>(a, r0, r1);
}
}  // namespace vrt::kernels
