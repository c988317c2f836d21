// AVX-512 attention (kernel_table.h's attend_rows): ../simd/attention.h on the Avx512 traits (a
// 16-key block is one zmm of scores; up to 8 rows share each key load).
#include "kernels/kernel_table.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/avx512/avx512_traits.h"
#include "kernels/simd/attention.h"

namespace vrt::kernels::avx512 {

void attend_rows(const AttendRowArgs* rows, int count) { simd::attend_rows<Avx512>(rows, count); }

}  // namespace vrt::kernels::avx512
