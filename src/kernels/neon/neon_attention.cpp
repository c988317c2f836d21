// NEON attention (kernel_table.h's attend_rows): ../simd/attention.h on the Neon8 traits (a
// 16-key block is two 8-lane pairs of scores).
#include "kernels/kernel_table.h"
#include "kernels/neon/neon_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__aarch64__) && defined(__ARM_NEON))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/neon/neon_traits.h"
#include "kernels/simd/attention.h"

namespace vrt::kernels::neon {

void attend_rows(const AttendRowArgs* rows, int count) { simd::attend_rows<Neon8>(rows, count); }

}  // namespace vrt::kernels::neon
