// The attention kernel of every ISA against a double-precision softmax attention over a ring
// cache (keys in key_index's 16-position blocks, values as rows; fp32 or f16), including
// wrap-around, one key, and head sizes with and without a SIMD path; and rows attended
// together (shared keys, overlapping ranges, up to kMaxAttendRows) give each row's result
// alone, bit for bit, and the scalar reference's bits.
// Bound: scores, exp and the weighted sum in fp32 with ~1 ulp exp: relative error of the
// output within 1e-5 of max|v| (n <= 900 terms of weights summing to 1).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "common/half.h"
#include "isa_test_util.h"
#include "kernels/kernel_table.h"

namespace vrt::kernels::test {
namespace {

class AttendRowTest : public IsaTest {};

// A cache of random values stored as float or f16; value(i) is what the kernel must read.
struct Cache {
  std::vector<float> f;
  std::vector<std::uint16_t> h;
  bool f16 = false;
  Cache(std::size_t n, bool half, std::mt19937& rng) : f(n), f16(half) {
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (auto& x : f) x = nd(rng);
    if (f16) {
      h.resize(n);
      for (std::size_t i = 0; i < n; ++i) h[i] = f32_to_f16(f[i]);
    }
  }
  const void* at(std::int64_t i) const {
    return f16 ? static_cast<const void*>(h.data() + i) : static_cast<const void*>(f.data() + i);
  }
  double value(std::int64_t i) const { return f16 ? f16_to_f32(h[static_cast<std::size_t>(i)]) : f[static_cast<std::size_t>(i)]; }
};

TEST_P(AttendRowTest, MatchesDoubleSoftmaxAttention) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const bool f16 : {false, true})
  for (const std::int64_t hd : {16, 48, 64, 128}) {
    for (const std::int64_t n : {1, 2, 15, 17, 300, 900}) {
      const std::int64_t capacity = 1008, stride = hd * 3 + 5, first = 777;  // wraps past slot 1007
      // Keys in key_index's block layout (capacity x hd values), values as rows of `stride`.
      const Cache k(static_cast<std::size_t>(capacity * hd + 2), f16, rng), v(static_cast<std::size_t>(capacity * stride), f16, rng);
      std::vector<float> q(static_cast<std::size_t>(hd));
      for (auto& x : q) x = 0.5f * nd(rng);
      std::vector<float> out(static_cast<std::size_t>(hd)), scores(static_cast<std::size_t>(n));
      AttendRowArgs a;
      a.q = q.data();
      a.k = k.at(2);  // a head offset inside the row
      a.v = v.at(2);
      a.kv_f16 = f16;
      a.head_dim = hd;
      a.stride = stride;
      a.capacity = capacity;
      a.first = first;
      a.n = n;
      a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
      a.out = out.data();
      a.scores = scores.data();
      active_kernels().attend_rows(&a, 1);
      std::vector<double> s(static_cast<std::size_t>(n));
      double mx = -1e300, sum = 0;
      for (std::int64_t j = 0; j < n; ++j) {
        const std::int64_t pos = first + j;
        const std::int64_t s16 = pos % capacity;  // key_index written out: block s16 / 16, lane s16 % 16
        double d = 0;
        for (std::int64_t c = 0; c < hd; ++c)
          d += static_cast<double>(q[static_cast<std::size_t>(c)]) * k.value(2 + ((s16 / 16) * hd + c) * 16 + s16 % 16);
        s[static_cast<std::size_t>(j)] = d * a.scale;
        mx = std::max(mx, s[static_cast<std::size_t>(j)]);
      }
      for (auto& x : s) sum += (x = std::exp(x - mx));
      for (std::int64_t c = 0; c < hd; ++c) {
        double want = 0;
        for (std::int64_t j = 0; j < n; ++j) want += s[static_cast<std::size_t>(j)] / sum * v.value(2 + ((first + j) % capacity) * stride + c);
        ASSERT_NEAR(out[static_cast<std::size_t>(c)], want, 1e-5 * 4.0) << "hd " << hd << " n " << n << " c " << c << " f16 " << f16;
      }
    }
  }
}

// Rows grouped as model/attention.cpp groups them (consecutive positions of one head with
// sliding windows, or several query heads over the same range) and odd ranges (disjoint, nested):
// each row's out and scores equal the same row attended alone.
TEST_P(AttendRowTest, GroupedRowsEqualRowsAloneBitwise) {
  std::mt19937 rng(8);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  struct Range {
    std::int64_t first, n;
  };
  const std::vector<std::vector<Range>> groups = {
      {{1000, 5}, {1000, 6}, {1000, 7}, {1000, 8}},      // growing causal windows, wrapping at 1008
      {{100, 750}, {101, 750}, {102, 750}, {103, 750}},  // full sliding windows
      {{100, 750}, {101, 750}, {102, 750}, {103, 750}, {104, 750}, {105, 750}, {106, 750}, {107, 750}},
      {{700, 300}, {700, 300}, {700, 300}, {700, 300}, {701, 300}, {701, 300}, {701, 300}, {701, 300}},  // GQA x 2 positions
      {{0, 1}, {0, 2}, {0, 3}},                          // first positions
      {{40, 33}, {40, 33}},                              // GQA: same range
      {{5, 10}, {300, 20}},                              // disjoint
      {{50, 200}, {60, 17}, {49, 1}, {52, 100}},         // nested and single
  };
  for (const bool f16 : {false, true})
  for (const std::int64_t hd : {16, 48, 64, 128}) {
    const std::int64_t capacity = 1008, stride = hd * 2 + 3;
    const Cache k(static_cast<std::size_t>(capacity * hd + 1), f16, rng), v(static_cast<std::size_t>(capacity * stride), f16, rng);
    for (const auto& g : groups) {
      const int count = static_cast<int>(g.size());
      std::vector<std::vector<float>> q(g.size()), out(g.size()), scores(g.size()), out1(g.size()), scores1(g.size());
      AttendRowArgs rows[kMaxAttendRows];
      for (int r = 0; r < count; ++r) {
        q[r].resize(static_cast<std::size_t>(hd));
        for (auto& x : q[r]) x = 0.7f * nd(rng);
        out[r].assign(static_cast<std::size_t>(hd), -1.0f);
        out1[r] = out[r];
        scores[r].assign(static_cast<std::size_t>(g[r].n), -1.0f);
        scores1[r] = scores[r];
        AttendRowArgs& a = rows[r];
        a.q = q[r].data();
        a.k = k.at(1);
        a.v = v.at(1);
        a.kv_f16 = f16;
        a.head_dim = hd;
        a.stride = stride;
        a.capacity = capacity;
        a.first = g[r].first;
        a.n = g[r].n;
        a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
        a.out = out[r].data();
        a.scores = scores[r].data();
      }
      active_kernels().attend_rows(rows, count);
      for (int r = 0; r < count; ++r) {
        AttendRowArgs one = rows[r];
        one.out = out1[r].data();
        one.scores = scores1[r].data();
        active_kernels().attend_rows(&one, 1);
        ASSERT_EQ(0, std::memcmp(out[r].data(), out1[r].data(), out[r].size() * sizeof(float)))
            << "hd " << hd << " row " << r << " of " << count << " first " << g[r].first;
        ASSERT_EQ(0, std::memcmp(scores[r].data(), scores1[r].data(), scores[r].size() * sizeof(float)))
            << "hd " << hd << " row " << r << " of " << count;
        // And the reference's bits (kernels.h: the same bits on every table).
        ref_kernel_table().attend_rows(&one, 1);
        ASSERT_EQ(0, std::memcmp(out[r].data(), out1[r].data(), out[r].size() * sizeof(float)))
            << "differs from the reference: hd " << hd << " row " << r << " of " << count << " f16 " << f16;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, AttendRowTest, ::testing::ValuesIn(kAllIsas), isa_param_name);

}  // namespace
}  // namespace vrt::kernels::test
