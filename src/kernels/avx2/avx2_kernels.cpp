// Temporary stub: forwards to the reference kernels until the avx2 path lands.
#include "kernels/kernel_table.h"
namespace vrt::kernels {
const KernelTable& avx2_kernel_table() {
  static const KernelTable table = [] {
    KernelTable t = ref_kernel_table();
    t.isa = CpuIsa::avx2;
    t.name = "avx2";
    return t;
  }();
  return table;
}
}  // namespace vrt::kernels
