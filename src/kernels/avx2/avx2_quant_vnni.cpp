// AVX2 + AVX-VNNI packed-weight kernels: the int8-activation tiles of ../simd/quant_tile.h on
// QuantTraits256<true> (VEX vpdpbusd, see avx2_quant.h), and the avx2vnni kernel table, which
// shares every other kernel with the avx2 table.
#include "kernels/avx2/avx2_quant.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && defined(__AVXVNNI__)
#include "kernels/simd/quant_tile.h"

namespace vrt::kernels {
namespace avx2vnni {
void qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1) {
  simd::qmatmul_int8_rows<avx2::QuantTraits256<true>>(a, r0, r1);
}
}  // namespace avx2vnni

const KernelTable& avx2vnni_kernel_table() {
  static const KernelTable table = derived_table(avx2_kernel_table(), CpuIsa::avx2vnni, avx2vnni::qmatmul_int8_rows);
  return table;
}
}  // namespace vrt::kernels

#endif
