// The attention row kernel of every ISA against a double-precision softmax attention over a
// ring cache, including wrap-around, one key, and head sizes with and without a SIMD path.
// Bound: scores, exp and the weighted sum in fp32 with ~1 ulp exp: relative error of the
// output within 1e-5 of max|v| (n <= 900 terms of weights summing to 1).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "isa_test_util.h"
#include "kernels/kernel_table.h"

namespace vrt::kernels::test {
namespace {

class AttendRowTest : public IsaTest {};

TEST_P(AttendRowTest, MatchesDoubleSoftmaxAttention) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const std::int64_t hd : {16, 48, 64, 128}) {
    for (const std::int64_t n : {1, 2, 15, 17, 300, 900}) {
      const std::int64_t capacity = 1000, stride = hd * 3 + 5, first = 777;  // wraps past slot 999
      std::vector<float> k(static_cast<std::size_t>(capacity * stride)), v(k.size()), q(static_cast<std::size_t>(hd));
      for (auto& x : k) x = nd(rng);
      for (auto& x : v) x = nd(rng);
      for (auto& x : q) x = 0.5f * nd(rng);
      std::vector<float> out(static_cast<std::size_t>(hd)), scores(static_cast<std::size_t>(n));
      AttendRowArgs a;
      a.q = q.data();
      a.k = k.data() + 2;  // a head offset inside the row
      a.v = v.data() + 2;
      a.head_dim = hd;
      a.stride = stride;
      a.capacity = capacity;
      a.first = first;
      a.n = n;
      a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
      a.out = out.data();
      a.scores = scores.data();
      active_kernels().attend_row(a);
      std::vector<double> s(static_cast<std::size_t>(n));
      double mx = -1e300, sum = 0;
      for (std::int64_t j = 0; j < n; ++j) {
        const float* kj = a.k + ((first + j) % capacity) * stride;
        double d = 0;
        for (std::int64_t c = 0; c < hd; ++c) d += static_cast<double>(q[static_cast<std::size_t>(c)]) * kj[c];
        s[static_cast<std::size_t>(j)] = d * a.scale;
        mx = std::max(mx, s[static_cast<std::size_t>(j)]);
      }
      for (auto& x : s) sum += (x = std::exp(x - mx));
      for (std::int64_t c = 0; c < hd; ++c) {
        double want = 0;
        for (std::int64_t j = 0; j < n; ++j) want += s[static_cast<std::size_t>(j)] / sum * a.v[((first + j) % capacity) * stride + c];
        ASSERT_NEAR(out[static_cast<std::size_t>(c)], want, 1e-5 * 4.0) << "hd " << hd << " n " << n << " c " << c;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, AttendRowTest, ::testing::ValuesIn(kAllIsas), isa_param_name);

}  // namespace
}  // namespace vrt::kernels::test
