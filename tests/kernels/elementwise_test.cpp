// argmax / top2, rms_norm, gelu, silu_mul against float64 math, for every ISA this CPU runs,
// lengths around the 16/32-lane tails, aliasing, special values; plus the VRT_ISA override.
//
// Bounds (u = 2^-24):
//  * rms_norm: sum of n squares (gamma_n relative, as in matmul_test), mean, +eps, sqrt,
//    reciprocal and two products: |y - y_ref| <= (n/2 + 8) u |y_ref| (the sum's relative
//    error is halved by the square root), checked as (n/2 + 8) u |y_ref| + tiny.
//  * gelu: 0.5 x (1 + erf(x / sqrt 2)); the vector erf is a few ulp of erf (|erf| <= 1) and 1 + erf
//    cancels for x << 0, so the error is absolute in x, like PyTorch's fp32 GELU:
//    |err| <= 8 u |x|.
//  * silu_mul: exp to ~2 ulp, then +1, /, *: |err| <= 8 u |ref|.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "isa_test_util.h"
#include "kernels/kernel_table.h"
#include "kernels/kernels.h"
#include "test_util.h"

namespace vrt::kernels::test {
namespace {

constexpr double kU = 1.0 / 16777216.0;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> random_vec(std::size_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

class ElementwiseTest : public IsaTest {};

TEST_P(ElementwiseTest, ArgmaxFirstMaximum) {
  std::mt19937 rng(5);
  for (std::int64_t n = 1; n <= 70; ++n) {
    auto x = random_vec(static_cast<std::size_t>(n), rng, -5.0f, 5.0f);
    std::int64_t want = 0;
    for (std::int64_t i = 1; i < n; ++i) {
      if (x[static_cast<std::size_t>(i)] > x[static_cast<std::size_t>(want)]) want = i;
    }
    ASSERT_EQ(argmax(x.data(), n), want) << "n=" << n;
    // A tie later in the array does not move the answer; one earlier does.
    x.push_back(x[static_cast<std::size_t>(want)]);
    ASSERT_EQ(argmax(x.data(), n + 1), want);
    if (want > 0) {
      x[0] = x[static_cast<std::size_t>(want)];
      ASSERT_EQ(argmax(x.data(), n + 1), 0);
    }
  }
  std::vector<float> big = random_vec(131072, rng, -30.0f, 30.0f);
  big[98765] = 31.0f;
  big[120000] = 31.0f;
  EXPECT_EQ(argmax(big.data(), 131072), 98765);
}

TEST_P(ElementwiseTest, ArgmaxSpecialValues) {
  const std::vector<float> a = {kNaN, 1.0f, kNaN, 3.0f, 2.0f};
  EXPECT_EQ(argmax(a.data(), 5), 3);  // NaN never wins
  const std::vector<float> b = {-kInf, -kInf, -kInf};
  EXPECT_EQ(argmax(b.data(), 3), 0);
  const std::vector<float> c = {kNaN, -kInf, 5.0f, kInf, kInf};
  EXPECT_EQ(argmax(c.data(), 5), 3);
  const std::vector<float> d = {kNaN, kNaN};
  EXPECT_EQ(argmax(d.data(), 2), 0);
  const std::vector<float> e = {kNaN, -kInf};
  EXPECT_EQ(argmax(e.data(), 2), 1);
}

TEST_P(ElementwiseTest, Top2) {
  const std::vector<float> x = {1.0f, 5.0f, 3.0f, 5.0f, 4.0f};
  const Top2 t = top2(x.data(), 5);
  EXPECT_EQ(t.top1, 5.0f);
  EXPECT_EQ(t.top2, 5.0f);  // equal values count twice
  EXPECT_EQ(t.index1, 1);
  const std::vector<float> y = {9.0f, 2.0f, 8.5f};
  const Top2 u = top2(y.data(), 3);
  EXPECT_EQ(u.top1, 9.0f);
  EXPECT_EQ(u.top2, 8.5f);
  EXPECT_EQ(u.index1, 0);
}

TEST_P(ElementwiseTest, RmsNorm) {
  std::mt19937 rng(9);
  for (std::int64_t n : {1, 5, 15, 16, 17, 31, 32, 33, 100, 1280, 3072}) {
    const std::int64_t m = 3;
    const auto x = random_vec(static_cast<std::size_t>(m * n), rng, -3.0f, 3.0f);
    const auto w = random_vec(static_cast<std::size_t>(n), rng, 0.5f, 1.5f);
    const float eps = 1e-5f;
    std::vector<float> y(x.size());
    rms_norm(x.data(), m, n, w.data(), eps, y.data());
    std::vector<float> in_place = x;
    rms_norm(in_place.data(), m, n, w.data(), eps, in_place.data());
    for (std::int64_t i = 0; i < m; ++i) {
      double ss = 0.0;
      for (std::int64_t c = 0; c < n; ++c) {
        const double v = x[static_cast<std::size_t>(i * n + c)];
        ss += v * v;
      }
      const double scale = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
      for (std::int64_t c = 0; c < n; ++c) {
        const auto k = static_cast<std::size_t>(i * n + c);
        const double want = x[k] * scale * w[static_cast<std::size_t>(c)];
        const double bound = (static_cast<double>(n) / 2.0 + 8.0) * kU * std::fabs(want) + 1e-30;
        ASSERT_LE(std::fabs(y[k] - want), bound) << "n=" << n << " i=" << i << " c=" << c;
        ASSERT_EQ(in_place[k], y[k]) << "aliasing changed the result";
      }
    }
  }
}

double gelu_ref(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

TEST_P(ElementwiseTest, GeluExactErf) {
  std::mt19937 rng(11);
  std::vector<float> x = random_vec(20000, rng, -8.0f, 8.0f);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-6f, 0.5f, -0.5f, 3.9f, 4.0f, 5.657f, -5.657f,
                  10.0f, -10.0f, 100.0f, -100.0f, 1e20f, -1e20f}) {
    x.push_back(v);
  }
  for (int i = -4000; i <= 4000; ++i) x.push_back(static_cast<float>(i) * 0.002f);  // near 0
  for (std::size_t len : {x.size(), std::size_t{1}, std::size_t{15}, std::size_t{17}}) {
    std::vector<float> y(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(len));
    gelu(y.data(), static_cast<std::int64_t>(len));
    double worst = 0.0;
    for (std::size_t i = 0; i < len; ++i) {
      const double want = gelu_ref(x[i]);
      const double err = std::fabs(y[i] - want);
      const double scale = std::fabs(static_cast<double>(x[i]));
      ASSERT_LE(err, 8.0 * kU * scale + 1e-37)
          << "x=" << x[i] << " got=" << y[i] << " want=" << want;
      if (scale > 0) worst = std::max(worst, err / (kU * scale));
    }
    if (len == x.size()) std::printf("gelu worst error: %.2f u |x|\n", worst);
  }
  std::vector<float> specials = {kInf, -kInf, kNaN};
  gelu(specials.data(), 3);
  EXPECT_EQ(specials[0], kInf);
  EXPECT_TRUE(specials[1] == 0.0f || std::isnan(specials[1]));  // -inf * 0: either is fine
  EXPECT_TRUE(std::isnan(specials[2]));
}

TEST_P(ElementwiseTest, SiluMul) {
  std::mt19937 rng(13);
  std::vector<float> g = random_vec(20000, rng, -20.0f, 20.0f);
  for (float v : {0.0f, -0.0f, 1e-20f, -80.0f, -87.0f, -100.0f, 80.0f, 100.0f, 1e6f, -1e6f})
    g.push_back(v);
  std::vector<float> u = random_vec(g.size(), rng, -3.0f, 3.0f);
  for (std::size_t len : {g.size(), std::size_t{1}, std::size_t{15}, std::size_t{17}}) {
    const auto n = static_cast<std::int64_t>(len);
    std::vector<float> out(len);
    silu_mul(g.data(), u.data(), out.data(), n);
    std::vector<float> in_place(g.begin(), g.begin() + n);
    silu_mul(in_place.data(), u.data(), in_place.data(), n);
    double worst = 0.0;
    for (std::size_t i = 0; i < len; ++i) {
      const double gd = g[i];
      const double want = gd / (1.0 + std::exp(-gd)) * u[i];
      const double err = std::fabs(out[i] - want);
      // 8 u relative, and values below the fp32 normal range count as absolute 1e-38.
      ASSERT_LE(err, 8.0 * kU * std::fabs(want) + 1e-38) << "g=" << g[i] << " u=" << u[i];
      ASSERT_EQ(in_place[i], out[i]);
      if (std::fabs(want) > 1e-30) worst = std::max(worst, err / (kU * std::fabs(want)));
    }
    if (len == g.size()) std::printf("silu_mul worst error: %.2f u\n", worst);
  }
}

// Every table gives the reference's bits (kernels.h): rms_norm over lengths around the lane
// counts, gelu and silu_mul over the whole exp / erf range and special values.
bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0 || (std::isnan(a) && std::isnan(b)); }

TEST_P(ElementwiseTest, EqualsReferenceBitwise) {
  const KernelTable& ref = ref_kernel_table();
  std::mt19937 rng(21);
  for (std::int64_t n : {1, 5, 7, 8, 9, 15, 16, 17, 33, 100, 1280, 3072}) {
    const std::int64_t m = 2;
    const auto x = random_vec(static_cast<std::size_t>(m * n), rng, -3.0f, 3.0f);
    const auto w = random_vec(static_cast<std::size_t>(n), rng, 0.5f, 1.5f);
    std::vector<float> y(x.size()), want(x.size());
    rms_norm(x.data(), m, n, w.data(), 1e-5f, y.data());
    ref.rms_norm(x.data(), m, n, w.data(), 1e-5f, want.data());
    for (std::size_t i = 0; i < y.size(); ++i) ASSERT_TRUE(same_bits(y[i], want[i])) << "rms_norm n=" << n << " i=" << i;
  }
  std::vector<float> g = random_vec(30000, rng, -30.0f, 30.0f);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 3.9f, 4.0f, -4.0f, 5.657f, 80.0f, 88.7f, 89.0f, 89.5f, 100.0f,
                  -80.0f, -87.0f, -87.4f, -103.9f, -104.0f, -104.2f, -150.0f, 1e6f, -1e6f, kInf, -kInf, kNaN})
    g.push_back(v);
  const auto u = random_vec(g.size(), rng, -3.0f, 3.0f);
  for (std::size_t len : {g.size(), std::size_t{13}}) {
    const auto n = static_cast<std::int64_t>(len);
    std::vector<float> y(g.begin(), g.begin() + n), want = y;
    gelu(y.data(), n);
    ref.gelu(want.data(), n);
    for (std::size_t i = 0; i < len; ++i) ASSERT_TRUE(same_bits(y[i], want[i])) << "gelu x=" << g[i] << " " << y[i] << " " << want[i];
    silu_mul(g.data(), u.data(), y.data(), n);
    ref.silu_mul(g.data(), u.data(), want.data(), n);
    for (std::size_t i = 0; i < len; ++i) ASSERT_TRUE(same_bits(y[i], want[i])) << "silu g=" << g[i] << " " << y[i] << " " << want[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, ElementwiseTest, ::testing::ValuesIn(kAllIsas), isa_param_name);

// VRT_ISA picks the table in a fresh process; an unknown or unsupported value is an error.
// PrintActive prints the active table's name (EnvironmentOverride runs it in child processes)
// and checks it: a known ISA name, the name of the table's own ISA, and the choice that
// kernel_table.h documents: VRT_ISA when set, else the best ISA this CPU and OS support in the
// order ref < avx2 < avx2vnni < avx512 < avx512vnni < avx512amx (x86-64), ref < neon <
// neon-dotprod < neon-i8mm (AArch64). The IsaTest fixtures restore
// the table they found, so in a full run this is still the process's initial choice.
TEST(KernelSelection, PrintActive) {
  const std::string name = selected_isa();  // throws (the test fails) for a bad VRT_ISA
  std::printf("active ISA: %s\n", name.c_str());
  const std::vector<std::string> known{"ref",        "avx2",      "avx2vnni", "avx512",
                                       "avx512vnni", "avx512amx", "neon",     "neon-dotprod",
                                       "neon-i8mm"};
  EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
  EXPECT_EQ(name, isa_name(active_kernels().isa)) << "the table's name is not its ISA's";
  const char* env = std::getenv("VRT_ISA");
  if (env != nullptr && *env != '\0') {
    EXPECT_EQ(name, env);
  } else {
    std::string best = "ref";
    for (CpuIsa isa : {CpuIsa::avx2, CpuIsa::avx2vnni, CpuIsa::avx512, CpuIsa::avx512vnni, CpuIsa::avx512amx,
                       CpuIsa::neon, CpuIsa::neon_dotprod, CpuIsa::neon_i8mm})
      if (isa_supported(isa, cpu_features())) best = isa_name(isa);
    EXPECT_EQ(name, best) << "usable features: " << cpu_features().describe();
  }
}

TEST(KernelSelection, EnvironmentOverride) {
  const std::string self = vrt::test::program("test_kernels");
  std::string out;
  ASSERT_EQ(vrt::test::run_command(
                "VRT_ISA=ref " + self + " --gtest_filter=KernelSelection.PrintActive", &out),
            0)
      << out;
  EXPECT_NE(out.find("active ISA: ref"), std::string::npos) << out;
  EXPECT_NE(vrt::test::run_command(
                "VRT_ISA=sse9 " + self + " --gtest_filter=KernelSelection.PrintActive", &out),
            0);
  EXPECT_NE(out.find("unknown ISA 'sse9'"), std::string::npos) << out;
  for (CpuIsa isa : {CpuIsa::avx2, CpuIsa::avx512, CpuIsa::neon, CpuIsa::neon_dotprod, CpuIsa::neon_i8mm}) {
    const int rc = vrt::test::run_command(std::string("VRT_ISA=") + isa_name(isa) + " " + self +
                                              " --gtest_filter=KernelSelection.PrintActive",
                                          &out);
    if (isa_supported(isa, cpu_features())) {
      EXPECT_EQ(rc, 0) << out;
      EXPECT_NE(out.find(std::string("active ISA: ") + isa_name(isa)), std::string::npos) << out;
    } else {
      EXPECT_NE(rc, 0) << out;
      EXPECT_NE(out.find("does not support"), std::string::npos) << out;
    }
  }
}

}  // namespace
}  // namespace vrt::kernels::test
