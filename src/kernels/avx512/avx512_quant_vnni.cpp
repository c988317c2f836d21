// AVX-512 VNNI packed-weight kernels: the int8-activation tiles of ../simd/quant_tile.h on
// QuantTraits512<true> (vpdpbusd, see avx512_quant.h), and the avx512vnni kernel table, which
// shares every other kernel with the avx512 table.
#include "kernels/avx512/avx512_quant.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__) && \
    defined(__AVX512VNNI__)
#include "kernels/simd/quant_tile.h"

namespace vrt::kernels {
namespace avx512vnni {
void qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1) {
  simd::qmatmul_int8_rows<avx512::QuantTraits512<true>>(a, r0, r1);
}
}  // namespace avx512vnni

const KernelTable& avx512vnni_kernel_table() {
  static const KernelTable table = derived_table(avx512_kernel_table(), CpuIsa::avx512vnni, avx512vnni::qmatmul_int8_rows);
  return table;
}
}  // namespace vrt::kernels

#endif
