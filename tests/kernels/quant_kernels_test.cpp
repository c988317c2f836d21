// Packed-weight (quantized) kernels, quant.h: for every ISA this CPU runs, the table's
// qmatmul_int8_rows / qmatmul_f32_rows / quantize_acts must equal the scalar reference (ref::)
// bitwise for q8 and q4 (all group sizes), odd shapes, bias or not, row sub-ranges as threads
// use them, 1-3 threads through linear(), and a row computed alone must equal the same row in a
// batch. Accuracy against a float64 product with the unquantized weights and packing checks.
//
// Error bounds (accuracy tests). Per element the packed weight is w s with |W - w s| <= s / 2
// (s the f16 group scale; a clamped element is off by at most qmax * 2^-11 s < s / 2 since the
// f16 rounding of amax / qmax is relative 2^-11; the fp32 division W / s adds ~2^-23 relative,
// covered by the factor 1.001 below). Activations (8da*): |x - a sx| <= sx / 2. Then
//   x W - (a sx)(w s) = x (W - w s) + (x - a sx) w s,
// so the quantization error of y[i, r] is at most Q = sum_c (|x_c| s_c / 2 + sx / 2 |w_c s_c|)
// (weight-only: sum_c |x_c| s_c / 2). The kernels' fp32 arithmetic on top: int8, acc_g is
// exact and float(acc_g) too (|acc_g| <= 127 * 127 * 256 < 2^24), then G fmas, one multiply and
// one add: <= (G + 3) u S with S = sum_c |a_c sx w_c s_c| + |bias|; weight-only, each group's
// fma chain of `group` terms, then G fmas and the add: <= (cols + G + 3) u S with
// S = sum_c |x_c w_c s_c| + |bias| (Higham §3.1, u = 2^-24, first order; factor 1.01).
// Test bound: |y - y_ref| <= 1.001 Q + 1.01 (k u S) + 1e-30.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/half.h"
#include "isa_test_util.h"
#include "kernels/kernel_table.h"
#include "kernels/kernels.h"
#include "kernels/quant.h"
#include "kernels/ref/ref_quant.h"
#include "common/thread_pool.h"
#include "voxtral_rt/error.h"

namespace vrt::kernels::test {
namespace {

constexpr double kU = 1.0 / 16777216.0;  // 2^-24
constexpr float kSentinel = -7777.0f;

struct Case {
  QuantFormat f;
  std::int64_t group;  // 0 for q8
};
const Case kFormats[] = {{QuantFormat::q8, 0},
                         {QuantFormat::q4, 32},
                         {QuantFormat::q4, 64},
                         {QuantFormat::q4, 128},
                         {QuantFormat::q4, 256}};

std::string fmt_name(const Case& c) {
  return c.f == QuantFormat::q8 ? std::string("q8") : "q4g" + std::to_string(c.group);
}

bool valid(const Case& c, std::int64_t cols) { return c.f == QuantFormat::q8 || cols % c.group == 0; }

// Normal weights; row 3 all zero (scale 0), row 5 with an outlier (most of it rounds to 0).
std::vector<float> make_w(std::int64_t rows, std::int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 0.5f);
  std::vector<float> w(static_cast<std::size_t>(rows * cols));
  for (auto& v : w) v = dist(rng);
  if (rows > 3) std::fill(w.begin() + 3 * cols, w.begin() + 4 * cols, 0.0f);
  if (rows > 5) w[static_cast<std::size_t>(5 * cols + cols / 2)] = 40.0f;
  return w;
}

std::vector<float> make_x(std::int64_t m, std::int64_t ldx, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(m * ldx));
  for (auto& v : x) v = dist(rng);
  if (m > 1) x[static_cast<std::size_t>(ldx + 7)] = 100.0f;  // an outlier row
  if (m > 2) std::fill(x.begin() + 2 * ldx, x.begin() + 3 * ldx, 0.0f);  // a zero row (sx = 0)
  return x;
}

PackedWeight pack(const std::vector<float>& w, std::int64_t rows, std::int64_t cols, const Case& c) {
  return quantize_weight(WeightView{w.data(), DType::f32, rows, cols}, c.f, c.group, "test", nullptr);
}

struct Acts {
  std::vector<std::int8_t> a;
  std::vector<float> scale;
  std::vector<std::int32_t> sums;
  QuantizedActs view(std::int64_t m, std::int64_t cols) const {
    return QuantizedActs{a.data(), scale.data(), sums.data(), m, cols};
  }
};

Acts ref_acts(const float* x, std::int64_t m, std::int64_t ldx, std::int64_t cols) {
  Acts q;
  q.a.resize(static_cast<std::size_t>(m * cols));
  q.scale.resize(static_cast<std::size_t>(m));
  q.sums.resize(static_cast<std::size_t>(m * (cols / kActSumCols)));
  ref::quantize_acts(x, m, ldx, cols, q.a.data(), q.scale.data(), q.sums.data());
  return q;
}

std::uint32_t bits(float v) { return std::bit_cast<std::uint32_t>(v); }

class QuantKernelsTest : public IsaTest {};

// Runs the active table's kernel on [r0, r1) and the reference on all rows; compares rows
// [r0, r1) bitwise and checks that nothing else was written.
void check_rows(bool int8, QMatmulArgs args, std::int64_t r0, std::int64_t r1, const std::string& what) {
  const std::int64_t rows = args.w.rows;
  const auto n = static_cast<std::size_t>(args.m * args.ldy);
  std::vector<float> want(n, kSentinel), got(n, kSentinel);
  args.y = want.data();
  if (int8) {
    ref::qmatmul_int8_rows(args, 0, rows);
  } else {
    ref::qmatmul_f32_rows(args, 0, rows);
  }
  args.y = got.data();
  if (int8) {
    active_kernels().qmatmul_int8_rows(args, r0, r1);
  } else {
    active_kernels().qmatmul_f32_rows(args, r0, r1);
  }
  for (std::int64_t i = 0; i < args.m; ++i) {
    for (std::int64_t r = 0; r < args.ldy; ++r) {
      const auto k = static_cast<std::size_t>(i * args.ldy + r);
      const bool inside = r >= r0 && r < r1 && r < rows;
      const float expect = inside ? want[k] : kSentinel;
      ASSERT_EQ(bits(got[k]), bits(expect)) << what << " rows [" << r0 << ", " << r1 << ") i=" << i
                                            << " r=" << r << " got " << got[k] << " want " << expect;
    }
  }
}

void run_bitwise(bool int8) {
  std::mt19937 rng(11);
  struct Shape {
    std::int64_t rows, cols;
    std::vector<std::int64_t> ms;
  };
  // AMX row tiles of 16: 1-2 and 3-4 tiles streamed per K step, more through a whole panel.
  const std::vector<std::int64_t> all_m = {1, 2, 3, 5, 8, 13, 17, 32, 40, 49, 64, 70};
  const std::vector<Shape> shapes = {{1, 32, all_m},         {15, 96, all_m},       {17, 288, all_m},
                                     {33, 256, all_m},       {100, 96, all_m},      {100, 288, {1, 3, 8, 40}},
                                     {17, 3072, {1, 5, 17}}, {100, 3072, {1, 2, 9, 33}}};
  for (const Case& c : kFormats) {
    for (const Shape& s : shapes) {
      if (!valid(c, s.cols)) continue;
      const std::vector<float> wf = make_w(s.rows, s.cols, rng);
      const PackedWeight pw = pack(wf, s.rows, s.cols, c);
      std::vector<float> bias(static_cast<std::size_t>(s.rows));
      for (auto& b : bias) b = std::normal_distribution<float>(0.0f, 1.0f)(rng);
      for (std::int64_t m : s.ms) {
        const std::int64_t ldx = s.cols + 5, ldy = s.rows + 3;
        const std::vector<float> x = make_x(m, ldx, rng);
        const Acts q = ref_acts(x.data(), m, ldx, s.cols);
        for (bool with_bias : {false, true}) {
          QMatmulArgs args;
          args.x = x.data();
          args.ldx = ldx;
          args.xq = q.view(m, s.cols);
          args.m = m;
          args.w = pw.view();
          args.bias = with_bias ? bias.data() : nullptr;
          args.ldy = ldy;
          const std::string what = fmt_name(c) + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols) +
                                   " m=" + std::to_string(m) + (with_bias ? " bias" : "");
          check_rows(int8, args, 0, s.rows, what);
          if (s.rows > 16 && (m <= 3 || with_bias)) {
            // Sub-ranges as linear() hands them to threads (r0 a multiple of 16).
            check_rows(int8, args, 16, s.rows, what);
            check_rows(int8, args, 0, 16, what);
            if (s.rows > 48) {
              check_rows(int8, args, 16, 48, what);
              check_rows(int8, args, 96, s.rows, what);
            }
          }
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(QuantKernelsTest, Int8MatmulEqualsReferenceBitwise) { run_bitwise(true); }
TEST_P(QuantKernelsTest, F32MatmulEqualsReferenceBitwise) { run_bitwise(false); }

// Every row count the runtime batches (1: decode; 2-16: verification passes, batched server rows;
// 17: the next tile), odd and even (i8mm pairs rows; an odd m's last row is paired with itself),
// on the int8 path, whole and in thread sub-ranges, for every format.
TEST_P(QuantKernelsTest, Int8MatmulEveryBatchRowCountBitwise) {
  std::mt19937 rng(17);
  for (const Case& c : kFormats) {
    for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{40, 256}, {17, 96}}) {
      if (!valid(c, cols)) continue;
      const std::vector<float> wf = make_w(rows, cols, rng);
      const PackedWeight pw = pack(wf, rows, cols, c);
      std::vector<float> bias(static_cast<std::size_t>(rows));
      for (auto& b : bias) b = std::normal_distribution<float>(0.0f, 1.0f)(rng);
      for (std::int64_t m = 1; m <= 17; ++m) {
        const std::int64_t ldx = cols + 1, ldy = rows + 2;
        const std::vector<float> x = make_x(m, ldx, rng);
        const Acts q = ref_acts(x.data(), m, ldx, cols);
        QMatmulArgs args;
        args.x = x.data();
        args.ldx = ldx;
        args.xq = q.view(m, cols);
        args.m = m;
        args.w = pw.view();
        args.bias = m % 3 == 0 ? nullptr : bias.data();
        args.ldy = ldy;
        const std::string what = fmt_name(c) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                                 " m=" + std::to_string(m);
        check_rows(true, args, 0, rows, what);
        check_rows(true, args, 16, rows, what);
        check_rows(true, args, 0, 16, what);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

// Full path through linear(): quantize_acts + the matmul, split over 1-3 threads, equal to the
// reference path; and each row of x alone equals the same row in the batch.
TEST_P(QuantKernelsTest, LinearThreadsAndBatchInvariance) {
  std::mt19937 rng(5);
  const std::int64_t rows = 300, cols = 288;
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  for (const Case& c : kFormats) {
    if (!valid(c, cols)) continue;
    const std::vector<float> wf = make_w(rows, cols, rng);
    const PackedWeight pw = pack(wf, rows, cols, c);
    std::vector<float> bias(static_cast<std::size_t>(rows), 0.25f);
    for (bool dyn : {true, false}) {
      LinearWeight lw;
      lw.q = pw.view();
      lw.dynamic_int8 = dyn;
      for (std::int64_t m : {1, 3, 13}) {
        const std::vector<float> x = make_x(m, cols, rng);
        // Reference.
        std::vector<float> want(static_cast<std::size_t>(m * rows));
        QMatmulArgs args;
        args.x = x.data();
        args.ldx = cols;
        args.m = m;
        args.w = pw.view();
        args.bias = bias.data();
        args.y = want.data();
        args.ldy = rows;
        const Acts q = ref_acts(x.data(), m, cols, cols);
        args.xq = q.view(m, cols);
        if (dyn) {
          ref::qmatmul_int8_rows(args, 0, rows);
        } else {
          ref::qmatmul_f32_rows(args, 0, rows);
        }
        for (ThreadPool& pool : pools) {
          std::vector<float> got(want.size(), kSentinel);
          linear(x.data(), m, cols, lw, bias.data(), got.data(), rows, &pool);
          for (std::size_t k = 0; k < got.size(); ++k) {
            ASSERT_EQ(bits(got[k]), bits(want[k]))
                << fmt_name(c) << (dyn ? " 8da" : " w-only") << " m=" << m << " threads=" << pool.size()
                << " k=" << k;
          }
        }
        for (std::int64_t i = 0; i < m; ++i) {
          std::vector<float> one(static_cast<std::size_t>(rows));
          linear(x.data() + i * cols, 1, cols, lw, bias.data(), one.data(), rows, &pools[1]);
          for (std::int64_t r = 0; r < rows; ++r) {
            ASSERT_EQ(bits(one[static_cast<std::size_t>(r)]), bits(want[static_cast<std::size_t>(i * rows + r)]))
                << fmt_name(c) << " row " << i << " of " << m << " alone, r=" << r;
          }
        }
      }
    }
  }
}

TEST_P(QuantKernelsTest, QuantizeActsEqualsReferenceBitwise) {
  std::mt19937 rng(9);
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::int64_t cols : {32, 64, 96, 288, 3072}) {
    const std::int64_t m = 9, ldx = cols + 3;
    std::vector<float> x(static_cast<std::size_t>(m * ldx));
    std::normal_distribution<float> dist(0.0f, 2.0f);
    for (auto& v : x) v = dist(rng);
    auto row = [&](std::int64_t i) { return x.begin() + i * ldx; };
    std::fill(row(1), row(1) + cols, 0.0f);                     // zero row: sx = 0, a = 0
    std::fill(row(2), row(2) + cols, -0.0f);                    // negative zeros
    x[static_cast<std::size_t>(3 * ldx + 5)] = nan;             // NaN ignored by amax, a = -127
    x[static_cast<std::size_t>(4 * ldx + cols - 1)] = inf;      // amax = inf: inv = 0, inf * 0 = NaN
    x[static_cast<std::size_t>(4 * ldx + 2)] = -inf;
    for (std::int64_t c = 0; c < cols; ++c) x[static_cast<std::size_t>(5 * ldx + c)] = nan;  // all NaN
    for (std::int64_t c = 0; c < cols; ++c) x[static_cast<std::size_t>(6 * ldx + c)] = 1e-40f * static_cast<float>(c % 7 - 3);  // subnormals
    for (std::int64_t c = 0; c < cols; ++c) x[static_cast<std::size_t>(7 * ldx + c)] = static_cast<float>(c % 255) - 127.0f + 0.5f;  // ties
    x[static_cast<std::size_t>(8 * ldx)] = 3e38f;                // huge
    const Acts want = ref_acts(x.data(), m, ldx, cols);
    Acts got;
    got.a.assign(want.a.size(), 99);
    got.scale.assign(want.scale.size(), kSentinel);
    got.sums.assign(want.sums.size(), 12345);
    quantize_activations(x.data(), m, ldx, cols, got.a.data(), got.scale.data(), got.sums.data());
    EXPECT_EQ(got.a, want.a) << "cols=" << cols;
    EXPECT_EQ(got.sums, want.sums) << "cols=" << cols;
    for (std::int64_t i = 0; i < m; ++i) {
      EXPECT_EQ(bits(got.scale[static_cast<std::size_t>(i)]), bits(want.scale[static_cast<std::size_t>(i)]))
          << "cols=" << cols << " row " << i;
    }
  }
}

// Against float64 with the unquantized weights (bound in the file comment).
TEST_P(QuantKernelsTest, AccuracyWithinQuantizationBound) {
  std::mt19937 rng(21);
  const std::int64_t rows = 40, cols = 512, m = 4;
  for (const Case& c : kFormats) {
    const std::vector<float> wf = make_w(rows, cols, rng);
    const PackedWeight pw = pack(wf, rows, cols, c);
    const QuantWeightView qv = pw.view();
    std::vector<float> bias(static_cast<std::size_t>(rows));
    for (auto& b : bias) b = std::normal_distribution<float>(0.0f, 1.0f)(rng);
    const std::vector<float> x = make_x(m, cols, rng);
    const Acts q = ref_acts(x.data(), m, cols, cols);
    for (bool dyn : {true, false}) {
      LinearWeight lw;
      lw.q = qv;
      lw.dynamic_int8 = dyn;
      std::vector<float> y(static_cast<std::size_t>(m * rows));
      linear(x.data(), m, cols, lw, bias.data(), y.data(), rows, nullptr);
      for (std::int64_t i = 0; i < m; ++i) {
        const float sx = q.scale[static_cast<std::size_t>(i)];
        for (std::int64_t r = 0; r < rows; ++r) {
          double exact = bias[static_cast<std::size_t>(r)], qerr = 0.0, s_abs = std::fabs(bias[static_cast<std::size_t>(r)]);
          for (std::int64_t col = 0; col < cols; ++col) {
            const double xc = x[static_cast<std::size_t>(i * cols + col)];
            const double s = ref::packed_scale(qv, r, col / qv.group);
            const double ws = ref::packed_value(qv, r, col) * s;
            exact += xc * wf[static_cast<std::size_t>(r * cols + col)];
            if (dyn) {
              const double ac = q.a[static_cast<std::size_t>(i * cols + col)];
              qerr += std::fabs(xc) * s / 2 + sx / 2.0 * std::fabs(ws);
              s_abs += std::fabs(ac * sx * ws);
            } else {
              qerr += std::fabs(xc) * s / 2;
              s_abs += std::fabs(xc * ws);
            }
          }
          const double k = dyn ? static_cast<double>(qv.groups + 3) : static_cast<double>(cols + qv.groups + 3);
          const double bound = 1.001 * qerr + 1.01 * k * kU * s_abs + 1e-30;
          const double err = std::fabs(static_cast<double>(y[static_cast<std::size_t>(i * rows + r)]) - exact);
          ASSERT_LE(err, bound) << fmt_name(c) << (dyn ? " 8da" : " w-only") << " i=" << i << " r=" << r;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, QuantKernelsTest, ::testing::ValuesIn(kAllIsas), isa_param_name);

// Each supported ISA's table has its own packed-weight kernels (not the reference under its name).
TEST(QuantKernelSelection, TablesHaveOwnKernels) {
  EXPECT_EQ(parse_isa("avx2vnni"), CpuIsa::avx2vnni);
  EXPECT_EQ(parse_isa("avx512vnni"), CpuIsa::avx512vnni);
  EXPECT_EQ(parse_isa("avx512amx"), CpuIsa::avx512amx);
  EXPECT_EQ(parse_isa("neon"), CpuIsa::neon);
  EXPECT_EQ(parse_isa("neon-dotprod"), CpuIsa::neon_dotprod);
  EXPECT_EQ(parse_isa("neon-i8mm"), CpuIsa::neon_i8mm);
  EXPECT_STREQ(isa_name(CpuIsa::neon_i8mm), "neon-i8mm");
  for (CpuIsa isa : {CpuIsa::avx2, CpuIsa::avx2vnni, CpuIsa::avx512, CpuIsa::avx512vnni, CpuIsa::avx512amx,
                     CpuIsa::neon, CpuIsa::neon_dotprod, CpuIsa::neon_i8mm}) {
    if (!isa_supported(isa, cpu_features())) continue;
    const KernelTable& t = select_kernels(cpu_features(), isa);
    EXPECT_EQ(t.isa, isa);
    EXPECT_STREQ(t.name, isa_name(isa));
    EXPECT_NE(t.qmatmul_int8_rows, ref_kernel_table().qmatmul_int8_rows) << isa_name(isa);
    EXPECT_NE(t.qmatmul_f32_rows, ref_kernel_table().qmatmul_f32_rows) << isa_name(isa);
    EXPECT_NE(t.quantize_acts, ref_kernel_table().quantize_acts) << isa_name(isa);
  }
  // The VNNI tables differ from their base only in the int8 matmul.
  // (avx512amx likewise over avx512vnni, neon-dotprod over neon, neon-i8mm over neon-dotprod.)
  for (auto [vnni, base] : {std::pair{CpuIsa::avx512vnni, CpuIsa::avx512}, std::pair{CpuIsa::avx2vnni, CpuIsa::avx2},
                            std::pair{CpuIsa::avx512amx, CpuIsa::avx512vnni},
                            std::pair{CpuIsa::neon_dotprod, CpuIsa::neon},
                            std::pair{CpuIsa::neon_i8mm, CpuIsa::neon_dotprod}}) {
    if (!isa_supported(vnni, cpu_features())) continue;
    const KernelTable& v = select_kernels(cpu_features(), vnni);
    const KernelTable& b = select_kernels(cpu_features(), base);
    EXPECT_NE(v.qmatmul_int8_rows, b.qmatmul_int8_rows) << isa_name(vnni);
    EXPECT_EQ(v.qmatmul_f32_rows, b.qmatmul_f32_rows);
    EXPECT_EQ(v.quantize_acts, b.quantize_acts);
    EXPECT_EQ(v.matmul_rows, b.matmul_rows);
    EXPECT_EQ(v.gelu, b.gelu);
  }
  CpuFeatures f = cpu_features();
  if (isa_supported(CpuIsa::avx512amx, f)) {
    EXPECT_EQ(best_isa(f), CpuIsa::avx512amx);
    f.amx_int8 = false;
  }
  if (isa_supported(CpuIsa::avx512vnni, f)) {
    EXPECT_EQ(best_isa(f), CpuIsa::avx512vnni);
    f.avx512vnni = false;
    EXPECT_EQ(best_isa(f), CpuIsa::avx512);
  }
  if (isa_supported(CpuIsa::neon_i8mm, f)) {
    EXPECT_EQ(best_isa(f), CpuIsa::neon_i8mm);
    f.i8mm = false;
  }
  if (isa_supported(CpuIsa::neon_dotprod, f)) {
    EXPECT_EQ(best_isa(f), CpuIsa::neon_dotprod);
    f.dotprod = false;
    EXPECT_EQ(best_isa(f), CpuIsa::neon);
  }
}

// ---------------------------------------------------------------- packing

TEST(QuantPacking, DequantizeIsWTimesScaleWithinHalfScale) {
  std::mt19937 rng(3);
  for (const Case& c : kFormats) {
    for (std::int64_t rows : {1, 17, 40}) {
      const std::int64_t cols = 256;
      const std::vector<float> wf = make_w(rows, cols, rng);
      const PackedWeight pw = pack(wf, rows, cols, c);
      const QuantWeightView v = pw.view();
      const std::int64_t group = c.f == QuantFormat::q8 ? cols : c.group;
      EXPECT_EQ(v.group, group);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data) % 64, 0u);
      const double qmax = quant_max(c.f);
      std::vector<float> deq(static_cast<std::size_t>(rows * cols));
      dequantize_rows(v, 0, rows, deq.data());
      for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t g = 0; g < v.groups; ++g) {
          float amax = 0.0f;
          for (std::int64_t col = g * group; col < (g + 1) * group; ++col)
            amax = std::fmax(amax, std::fabs(wf[static_cast<std::size_t>(r * cols + col)]));
          const float s = ref::packed_scale(v, r, g);
          EXPECT_EQ(bits(s), bits(f16_to_f32(f32_to_f16(amax / static_cast<float>(qmax)))));
          for (std::int64_t col = g * group; col < (g + 1) * group; ++col) {
            const int w = ref::packed_value(v, r, col);
            ASSERT_LE(std::abs(w), c.f == QuantFormat::q8 ? 127 : 8);
            const float d = deq[static_cast<std::size_t>(r * cols + col)];
            ASSERT_EQ(bits(d), bits(static_cast<float>(w) * s));
            ASSERT_LE(std::fabs(wf[static_cast<std::size_t>(r * cols + col)] - static_cast<double>(d)), 0.5 * s * 1.001)
                << fmt_name(c) << " r=" << r << " c=" << col;
          }
        }
      }
      // Padding rows of the last block: value 0 (stored offset), scale 0.
      for (std::int64_t r = rows; r < ((rows + 15) / 16) * 16; ++r) {
        for (std::int64_t col = 0; col < cols; ++col) ASSERT_EQ(ref::packed_value(v, r, col), 0);
        for (std::int64_t g = 0; g < v.groups; ++g) ASSERT_EQ(ref::packed_scale(v, r, g), 0.0f);
      }
      // Sub-range dequantization equals the full one.
      if (rows > 2) {
        std::vector<float> part(static_cast<std::size_t>(2 * cols));
        dequantize_rows(v, 1, 3, part.data());
        EXPECT_EQ(0, std::memcmp(part.data(), deq.data() + cols, part.size() * sizeof(float)));
      }
    }
  }
}

TEST(QuantPacking, BadShapesThrow) {
  const std::vector<float> w(static_cast<std::size_t>(4 * 512), 0.5f);
  auto packs = [&](QuantFormat f, std::int64_t rows, std::int64_t cols, std::int64_t group) {
    (void)quantize_weight(WeightView{w.data(), DType::f32, rows, cols}, f, group, "t", nullptr);
  };
  EXPECT_THROW(packs(QuantFormat::q8, 4, 0, 0), Error);
  EXPECT_THROW(packs(QuantFormat::q8, 4, 33, 0), Error);
  EXPECT_THROW(packs(QuantFormat::q8, 0, 32, 0), Error);
  EXPECT_THROW(packs(QuantFormat::q8, 4, 64, 32), Error);  // q8 is per channel
  EXPECT_THROW(packs(QuantFormat::q4, 4, 64, 16), Error);
  EXPECT_THROW(packs(QuantFormat::q4, 4, 96, 48), Error);
  EXPECT_THROW(packs(QuantFormat::q4, 4, 512, 512), Error);
  EXPECT_THROW(packs(QuantFormat::q4, 4, 96, 64), Error);  // does not divide
  EXPECT_NO_THROW(packs(QuantFormat::q8, 4, 64, 64));
  EXPECT_NO_THROW(packs(QuantFormat::q4, 4, 512, 256));
  const std::vector<float> big(64, 1e9f);  // scale > f16 max
  EXPECT_THROW((void)quantize_weight(WeightView{big.data(), DType::f32, 2, 32}, QuantFormat::q8, 0, "t", nullptr),
               Error);
}

}  // namespace
}  // namespace vrt::kernels::test
