// AVX2 attention (kernel_table.h's attend_rows): ../simd/attention.h on the Avx2 traits (a
// 16-key block is two ymm of scores).
#include "kernels/kernel_table.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX2__) && defined(__FMA__) && defined(__F16C__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/avx2/avx2_traits.h"
#include "kernels/simd/attention.h"

namespace vrt::kernels::avx2 {

void attend_rows(const AttendRowArgs* rows, int count) { simd::attend_rows<Avx2>(rows, count); }

}  // namespace vrt::kernels::avx2
