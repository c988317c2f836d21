#include "voxtral_rt/system.h"

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"

namespace vrt {

std::string cpu_features() { return kernels::cpu_features().describe(); }
const char* kernel_table() { return kernels::selected_isa(); }

}  // namespace vrt
