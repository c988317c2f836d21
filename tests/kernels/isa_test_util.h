// Helpers shared by the kernel tests: run a test once per ISA (ref always; avx2, avx2vnni,
// avx512, avx512vnni, avx512amx, neon, neon-dotprod, neon-i8mm when this build, CPU and OS support them,
// skipped otherwise), with the active
// kernel table forced to it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"

namespace vrt::kernels::test {

inline constexpr CpuIsa kAllIsas[] = {CpuIsa::ref,    CpuIsa::avx2,       CpuIsa::avx2vnni,
                                      CpuIsa::avx512, CpuIsa::avx512vnni, CpuIsa::avx512amx,
                                      CpuIsa::neon,   CpuIsa::neon_dotprod, CpuIsa::neon_i8mm};

// Fixture base: SetUp forces GetParam() (or skips when unsupported); TearDown restores the
// table that was active before.
class IsaTest : public ::testing::TestWithParam<CpuIsa> {
 protected:
  void SetUp() override {
    previous_ = active_kernels().isa;
    if (!isa_supported(GetParam(), cpu_features())) {
      GTEST_SKIP() << isa_name(GetParam()) << " not supported here (" << cpu_features().describe()
                   << ")";
    }
    set_isa(GetParam());
    ASSERT_STREQ(selected_isa(), isa_name(GetParam()));
  }
  void TearDown() override { set_isa(previous_); }

 private:
  CpuIsa previous_ = CpuIsa::ref;
};

// The ISA's name as a test name (letters, digits and '_': "neon-dotprod" -> "neon_dotprod").
inline std::string isa_param_name(const ::testing::TestParamInfo<CpuIsa>& info) {
  std::string name = isa_name(info.param);
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

}  // namespace vrt::kernels::test
