// vrt::attend over a KvCache that fills and wraps: positions stored one at a time, past the
// ring's capacity, with and without GQA, fp32 and f16 storage, 1 and 2 threads, the cache
// copied half way (as sessions copy the model's prefix state); each output row against a
// float64 softmax attention over the keys and values kept aside (f16: the same values rounded
// to f16).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/half.h"
#include "model/attention.h"

namespace vrt {
namespace {

struct Case {
  AttentionShape shape;
  std::int64_t m, p0;
  KvCacheType type;
  int threads;
};

class AttendCache : public ::testing::TestWithParam<Case> {};

TEST_P(AttendCache, MatchesFloat64AttentionOverTheWindow) {
  const Case c = GetParam();
  const AttentionShape& s = c.shape;
  const std::int64_t capacity = s.window + c.m - 1, kv = std::int64_t{s.n_kv_heads} * s.head_dim;
  KvCache cache(s.n_kv_heads, s.head_dim, capacity, c.type);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<std::vector<float>> keys, values;  // by position, as the cache holds them
  auto stored = [&](float x) { return c.type == KvCacheType::f16 ? f16_to_f32(f32_to_f16(x)) : x; };
  for (std::int64_t p = 0; p < c.p0 + c.m; ++p) {
    std::vector<float> k(static_cast<std::size_t>(kv)), v(k.size());
    for (auto& x : k) x = nd(rng);
    for (auto& x : v) x = nd(rng);
    cache.reserve(p);
    cache.store(p, k.data(), v.data());
    if (p == (c.p0 + c.m) / 2) {
      // A copy holds every written slot and shares nothing: junk written to the original
      // afterwards is gone once the copy is assigned back.
      const KvCache copy(cache);
      const std::vector<float> junk(k.size(), 1e3f);
      cache.store(p, junk.data(), junk.data());
      cache = copy;
    }
    for (auto& x : k) x = stored(x);
    for (auto& x : v) x = stored(x);
    keys.push_back(k);
    values.push_back(v);
  }
  const std::int64_t qd = std::int64_t{s.n_heads} * s.head_dim;
  std::vector<float> q(static_cast<std::size_t>(c.m * qd)), out(q.size());
  for (auto& x : q) x = nd(rng);
  ThreadPool pool(c.threads);
  attend(q.data(), c.m, c.p0, cache, s, out.data(), &pool);
  const int group = s.n_heads / s.n_kv_heads;
  for (std::int64_t i = 0; i < c.m; ++i) {
    const std::int64_t p = c.p0 + i, lo = std::max<std::int64_t>(0, p - s.window + 1);
    for (int h = 0; h < s.n_heads; ++h) {
      const float* qh = q.data() + i * qd + h * s.head_dim;
      const std::int64_t off = std::int64_t{h / group} * s.head_dim;
      std::vector<double> w;
      double mx = -INFINITY, sum = 0;
      for (std::int64_t j = lo; j <= p; ++j) {
        double d = 0;
        for (int e = 0; e < s.head_dim; ++e) d += double{qh[e]} * keys[static_cast<std::size_t>(j)][static_cast<std::size_t>(off + e)];
        w.push_back(d / std::sqrt(static_cast<double>(s.head_dim)));
        mx = std::max(mx, w.back());
      }
      for (auto& x : w) sum += (x = std::exp(x - mx));
      for (int e = 0; e < s.head_dim; ++e) {
        double o = 0;
        for (std::int64_t j = lo; j <= p; ++j)
          o += w[static_cast<std::size_t>(j - lo)] * values[static_cast<std::size_t>(j)][static_cast<std::size_t>(off + e)];
        o /= sum;
        // fp32 scores and sums over at most 80 keys of unit-variance values: a few 1e-6.
        ASSERT_NEAR(out[static_cast<std::size_t>(i * qd + h * s.head_dim + e)], o, 2e-5)
            << "row " << i << " head " << h << " dim " << e;
      }
    }
  }
}

// Windows of 40 / 80 keys; p0 well past the capacity (the ring has wrapped several times).
INSTANTIATE_TEST_SUITE_P(
    Shapes, AttendCache,
    ::testing::Values(Case{{4, 4, 64, 40}, 7, 150, KvCacheType::f32, 1}, Case{{4, 4, 64, 40}, 7, 150, KvCacheType::f16, 2},
                      Case{{8, 2, 128, 80}, 4, 301, KvCacheType::f32, 2}, Case{{8, 2, 128, 80}, 1, 301, KvCacheType::f16, 1},
                      Case{{4, 4, 32, 40}, 3, 20, KvCacheType::f32, 2},  // still growing: p < capacity
                      // Task shapes: GQA 4 -> 2 positions x 4 heads (odd m: a last task of one
                      // position); 16 heads on one KV head -> runs of 8; groups of 3 -> 2 x 3.
                      Case{{8, 2, 64, 40}, 5, 150, KvCacheType::f32, 2}, Case{{16, 1, 32, 40}, 3, 150, KvCacheType::f16, 2},
                      Case{{6, 2, 16, 40}, 5, 60, KvCacheType::f32, 1}));

}  // namespace
}  // namespace vrt
