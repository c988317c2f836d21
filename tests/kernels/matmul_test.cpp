// matmul and weight_rows_to_f32 against a float64 reference, for every ISA this CPU runs, every
// weight dtype, odd shapes (tile and K-block edges), strided x / y, bias or not, 1-7 threads.
//
// Error bound. Weights convert to fp32 exactly, so y[i, r] is an fp32 sum of k = cols + 1 terms
// (products, exact under FMA or rounded once, plus the bias) in some order. For any order the
// rounding error is at most gamma_k * S with gamma_k = k u / (1 - k u), u = 2^-24, and
// S = sum_c |x[i, c] W[r, c]| + |bias[r]| (Higham, Accuracy and Stability, §3.1). The float64
// reference is exact to ~k 2^-53, negligible. The test requires
//     |y - y_ref| <= c * (cols + 2) * u * S,   c = 1.01
// (the +1 on k and c cover the final rounding and 1 / (1 - k u) for cols <= 5000). It is a
// worst-case bound, still ~10x below the error of a single dropped or doubled term (S / cols).
// Entries of y outside [m, rows] (the ldy padding) must stay untouched.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "common/half.h"
#include "isa_test_util.h"
#include "kernels/kernel_table.h"
#include "kernels/kernels.h"
#include "voxtral_rt/error.h"

namespace vrt::kernels::test {
namespace {

constexpr double kU = 1.0 / 16777216.0;  // 2^-24
constexpr double kC = 1.01;

struct Weights {
  DType dtype;
  std::int64_t rows, cols;
  std::vector<std::uint16_t> half;  // bf16 / f16 bits
  std::vector<float> f32;           // f32 weights, or the exact fp32 value of each half
  WeightView view() const {
    const void* p = dtype == DType::f32 ? static_cast<const void*>(f32.data())
                                        : static_cast<const void*>(half.data());
    return WeightView{p, dtype, rows, cols};
  }
};

Weights make_weights(DType dtype, std::int64_t rows, std::int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 0.5f);
  Weights w{dtype, rows, cols, {}, {}};
  const auto n = static_cast<std::size_t>(rows * cols);
  w.f32.resize(n);
  if (dtype != DType::f32) w.half.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float v = dist(rng);
    if (dtype == DType::bf16) {
      w.half[i] = f32_to_bf16(v);
      w.f32[i] = bf16_to_f32(w.half[i]);
    } else if (dtype == DType::f16) {
      w.half[i] = f32_to_f16(v);
      w.f32[i] = f16_to_f32(w.half[i]);
    } else {
      w.f32[i] = v;
    }
  }
  return w;
}

std::vector<float> random_vec(std::size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

ThreadPool* pool_of(int threads) {
  static std::unique_ptr<ThreadPool> pools[8];
  if (threads == 0) return nullptr;  // no pool: the calling thread alone
  auto& p = pools[threads];
  if (!p) p = std::make_unique<ThreadPool>(threads);
  return p.get();
}

const char* dtype_str(DType d) { return dtype_name(d); }

class MatmulTest : public IsaTest {};

// One shape, all dtypes and thread counts; returns nothing, reports failures with context.
void check_shape(std::int64_t m, std::int64_t rows, std::int64_t cols, bool bias_on, int pad,
                 std::mt19937& rng) {
  const std::int64_t ldx = cols + pad;
  const std::int64_t ldy = rows + 2 * pad;
  const auto x = random_vec(static_cast<std::size_t>(m * ldx), rng);
  const auto bias = random_vec(static_cast<std::size_t>(rows), rng);
  const float* bp = bias_on ? bias.data() : nullptr;
  for (DType dtype : {DType::bf16, DType::f16, DType::f32}) {
    const Weights w = make_weights(dtype, rows, cols, rng);
    std::vector<double> ref(static_cast<std::size_t>(m * rows)), mag(ref.size());
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t r = 0; r < rows; ++r) {
        double s = bias_on ? bias[static_cast<std::size_t>(r)] : 0.0;
        double a = bias_on ? std::fabs(s) : 0.0;
        for (std::int64_t c = 0; c < cols; ++c) {
          const double p = static_cast<double>(x[static_cast<std::size_t>(i * ldx + c)]) *
                           w.f32[static_cast<std::size_t>(r * cols + c)];
          s += p;
          a += std::fabs(p);
        }
        ref[static_cast<std::size_t>(i * rows + r)] = s;
        mag[static_cast<std::size_t>(i * rows + r)] = a;
      }
    }
    std::vector<float> first;
    for (int threads : {0, 1, 2, 3, 7}) {
      const float sentinel = -12345.5f;
      std::vector<float> y(static_cast<std::size_t>(m * ldy), sentinel);
      matmul(x.data(), m, ldx, w.view(), bp, y.data(), ldy, pool_of(threads));
      for (std::int64_t i = 0; i < m; ++i) {
        for (std::int64_t r = 0; r < ldy; ++r) {
          const float got = y[static_cast<std::size_t>(i * ldy + r)];
          if (r >= rows) {
            ASSERT_EQ(got, sentinel) << "padding written at i=" << i << " r=" << r;
            continue;
          }
          const double want = ref[static_cast<std::size_t>(i * rows + r)];
          const double bound =
              kC * static_cast<double>(cols + 2) * kU * mag[static_cast<std::size_t>(i * rows + r)];
          ASSERT_LE(std::fabs(got - want), bound)
              << "y[" << i << "," << r << "] m=" << m << " rows=" << rows << " cols=" << cols
              << " dtype=" << dtype_str(dtype) << " threads=" << threads << " bias=" << bias_on
              << " ldx=" << ldx << " ldy=" << ldy << " got=" << got << " want=" << want;
        }
      }
      // Each output is computed by one thread with the same tiles: any thread count gives
      // bitwise the same y.
      if (first.empty()) {
        first = y;
      } else {
        ASSERT_EQ(0, std::memcmp(first.data(), y.data(), y.size() * sizeof(float)))
            << "result depends on thread count: m=" << m << " rows=" << rows << " cols=" << cols
            << " dtype=" << dtype_str(dtype) << " threads=" << threads;
      }
    }
  }
}

TEST_P(MatmulTest, OddShapesAllDtypesAllThreadCounts) {
  std::mt19937 rng(42);
  int variant = 0;
  for (std::int64_t m : {1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 64}) {
    for (std::int64_t cols : {1, 5, 16, 33, 127, 1280}) {
      for (std::int64_t rows : {1, 3, 17, 100}) {
        ++variant;
        check_shape(m, rows, cols, variant % 2 == 0, variant % 3 == 0 ? 0 : 3, rng);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(MatmulTest, KBlocksAndRowBlocks) {
  // cols past the GEMM K block (1024) and odd; rows past the 64-row W block; m past 6-row tiles.
  std::mt19937 rng(7);
  for (auto [m, rows, cols] : {std::tuple<std::int64_t, std::int64_t, std::int64_t>{6, 130, 3001},
                               {13, 67, 2048},
                               {2, 131, 3001},
                               {1, 40, 5120},
                               {64, 160, 1040}}) {
    check_shape(m, rows, cols, true, 1, rng);
    if (HasFatalFailure()) return;
  }
}

// Up to kRowStableRows rows, a row's outputs do not depend on the other rows of the call: the
// runtime batches verification rows and several streams' rows into one matmul and relies on
// every row computing bitwise as alone (kernels.h). Tiles change shape with m (AVX2: 1-4 x
// rows by 8, 4, 3, 2 W rows), so this covers every m and W-row counts with tile tails. Before
// the fix, AVX2's 3- and 4-row tiles summed their lanes in another order: rows of m = 3..16
// differed from m = 1 in the last bit.
TEST_P(MatmulTest, RowsUpTo16AreBatchIndependent) {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const DType dtype : {DType::bf16, DType::f16, DType::f32}) {
    for (const std::int64_t rows : {16, 40, 100}) {
      const std::int64_t cols = 333;
      const Weights w = make_weights(dtype, rows, cols, rng);
      std::vector<float> x(static_cast<std::size_t>(kRowStableRows * cols)), bias(static_cast<std::size_t>(rows));
      for (auto& v : x) v = nd(rng);
      for (auto& v : bias) v = nd(rng);
      std::vector<float> alone(static_cast<std::size_t>(kRowStableRows * rows));
      for (std::int64_t i = 0; i < kRowStableRows; ++i)
        matmul(x.data() + i * cols, 1, cols, w.view(), bias.data(), alone.data() + i * rows, rows, pool_of(2));
      for (std::int64_t m = 2; m <= kRowStableRows; ++m) {
        std::vector<float> y(static_cast<std::size_t>(m * rows));
        matmul(x.data(), m, cols, w.view(), bias.data(), y.data(), rows, pool_of(2));
        ASSERT_EQ(0, std::memcmp(y.data(), alone.data(), y.size() * sizeof(float)))
            << "m=" << m << " rows=" << rows << " dtype=" << dtype_str(dtype);
      }
    }
  }
}

// Up to kRowStableRows rows every table gives the reference's bits (kernels.h), for every dtype,
// row and column tails, bias or not.
TEST_P(MatmulTest, SmallMEqualsReferenceBitwise) {
  std::mt19937 rng(17);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const DType dtype : {DType::bf16, DType::f16, DType::f32}) {
    for (const std::int64_t cols : {1, 7, 8, 9, 64, 333, 1280}) {
      const std::int64_t rows = 37;
      const Weights w = make_weights(dtype, rows, cols, rng);
      std::vector<float> x(static_cast<std::size_t>(kRowStableRows * cols)), bias(static_cast<std::size_t>(rows));
      for (auto& v : x) v = nd(rng);
      for (auto& v : bias) v = nd(rng);
      for (std::int64_t m = 1; m <= kRowStableRows; ++m) {
        for (const bool bias_on : {false, true}) {
          std::vector<float> y(static_cast<std::size_t>(m * rows)), want(y.size());
          matmul(x.data(), m, cols, w.view(), bias_on ? bias.data() : nullptr, y.data(), rows, pool_of(2));
          const MatmulArgs args{x.data(), m, cols, w.view(), bias_on ? bias.data() : nullptr, want.data(), rows};
          ref_kernel_table().matmul_rows(args, 0, rows);
          ASSERT_EQ(0, std::memcmp(y.data(), want.data(), y.size() * sizeof(float)))
              << "m=" << m << " cols=" << cols << " dtype=" << dtype_str(dtype) << " bias=" << bias_on;
        }
      }
    }
  }
}

TEST_P(MatmulTest, ZeroSizes) {
  std::mt19937 rng(1);
  const Weights w = make_weights(DType::bf16, 3, 4, rng);
  std::vector<float> x(8, 1.0f), y(6, 7.0f);
  matmul(x.data(), 0, 4, w.view(), nullptr, y.data(), 3, pool_of(2));  // m = 0: no-op
  for (float v : y) EXPECT_EQ(v, 7.0f);
  const float bias[3] = {1.0f, 2.0f, 3.0f};
  const WeightView empty{w.half.data(), DType::bf16, 3, 0};  // cols = 0: y = bias
  matmul(x.data(), 2, 0, empty, bias, y.data(), 3, pool_of(2));
  EXPECT_EQ(y, (std::vector<float>{1, 2, 3, 1, 2, 3}));
}

TEST_P(MatmulTest, WeightRowsToF32IsExact) {
  std::mt19937 rng(3);
  for (DType dtype : {DType::bf16, DType::f16, DType::f32}) {
    for (std::int64_t cols : {1, 5, 16, 33, 127}) {
      const Weights w = make_weights(dtype, 9, cols, rng);
      for (auto [r0, r1] : {std::pair<std::int64_t, std::int64_t>{0, 9}, {2, 3}, {4, 9}, {5, 5}}) {
        std::vector<float> out(static_cast<std::size_t>((r1 - r0) * cols + 1), -1.0f);
        weight_rows_to_f32(w.view(), r0, r1, out.data());
        for (std::int64_t i = 0; i < (r1 - r0) * cols; ++i) {
          ASSERT_EQ(out[static_cast<std::size_t>(i)],
                    w.f32[static_cast<std::size_t>(r0 * cols + i)])
              << dtype_str(dtype) << " cols=" << cols << " r0=" << r0 << " i=" << i;
        }
        EXPECT_EQ(out.back(), -1.0f);  // nothing written past the end
      }
    }
  }
  // Special values convert exactly too (inf, -0, subnormals, NaN stays NaN).
  const std::uint16_t bf[] = {0x7f80, 0x8000, 0x0001, 0x7fc0, 0xff80, 0x3f80};
  const std::uint16_t hf[] = {0x7c00, 0x8000, 0x0001, 0x7e00, 0xfc00, 0x3c00};
  float out[6];
  weight_rows_to_f32(WeightView{bf, DType::bf16, 1, 6}, 0, 1, out);
  for (int i = 0; i < 6; ++i) {
    const float want = bf16_to_f32(bf[i]);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(out[i]));
    else
      EXPECT_EQ(out[i], want);
  }
  weight_rows_to_f32(WeightView{hf, DType::f16, 1, 6}, 0, 1, out);
  for (int i = 0; i < 6; ++i) {
    const float want = f16_to_f32(hf[i]);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(out[i]));
    else
      EXPECT_EQ(out[i], want);
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, MatmulTest, ::testing::ValuesIn(kAllIsas), isa_param_name);

TEST(KernelSelection, ParseAndSupport) {
  EXPECT_EQ(parse_isa("ref"), CpuIsa::ref);
  EXPECT_EQ(parse_isa("avx2"), CpuIsa::avx2);
  EXPECT_EQ(parse_isa("avx512"), CpuIsa::avx512);
  EXPECT_EQ(parse_isa("neon-i8mm"), CpuIsa::neon_i8mm);
  EXPECT_THROW(parse_isa("sse9"), Error);
  EXPECT_THROW(parse_isa("neon_i8mm"), Error);  // the name has a '-'
  for (CpuIsa isa : kAllIsas) EXPECT_EQ(parse_isa(isa_name(isa)), isa) << isa_name(isa);
  const CpuFeatures none;
  EXPECT_TRUE(isa_supported(CpuIsa::ref, none));
  EXPECT_FALSE(isa_supported(CpuIsa::avx2, none));
  // neon-i8mm needs dotprod too (its m = 1 path is the SDOT tiles).
  CpuFeatures arm;
  arm.neon = arm.i8mm = true;
  EXPECT_FALSE(isa_supported(CpuIsa::neon_i8mm, arm));
  arm.dotprod = true;
  EXPECT_EQ(isa_supported(CpuIsa::neon_i8mm, arm), isa_built(CpuIsa::neon_i8mm));
  if (isa_built(CpuIsa::neon_i8mm)) EXPECT_EQ(best_isa(arm), CpuIsa::neon_i8mm);
  EXPECT_EQ(best_isa(none), CpuIsa::ref);
  EXPECT_THROW(select_kernels(none, CpuIsa::avx512), Error);  // an error, never a fallback
  EXPECT_EQ(select_kernels(none, std::nullopt).isa, CpuIsa::ref);
  // Each supported ISA has its own kernels (catches an ISA file silently built without its
  // flags, which would fall back to the reference table under the ISA's name).
  for (CpuIsa isa : {CpuIsa::avx2, CpuIsa::avx512}) {
    if (!isa_supported(isa, cpu_features())) continue;
    const KernelTable& t = select_kernels(cpu_features(), isa);
    EXPECT_EQ(t.isa, isa);
    EXPECT_NE(t.matmul_rows, ref_kernel_table().matmul_rows) << isa_name(isa);
    EXPECT_NE(t.gelu, ref_kernel_table().gelu) << isa_name(isa);
  }
  const CpuIsa best = best_isa(cpu_features());
  EXPECT_EQ(select_kernels(cpu_features(), std::nullopt).isa, best);
  std::printf("cpu features: %s; best ISA: %s; active: %s\n", cpu_features().describe().c_str(),
              isa_name(best), selected_isa());
}

}  // namespace
}  // namespace vrt::kernels::test
