#include <gtest/gtest.h>
#include "kernels/kernels.h"
TEST(Stub, Links3) { vrt::ThreadPool p(2); float y = 0, x = 1; std::uint16_t w = 0x3f80; vrt::kernels::matmul(&x, 1, 1, {&w, vrt::DType::bf16, 1, 1}, nullptr, &y, 1, &p); EXPECT_EQ(y, 1.0f); }
