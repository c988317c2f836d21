// Attention over a full ring KV cache (model/attention.h): the encoder's shape (32 heads of 64,
// a 750-frame window) for m new rows, and the decoder's (32 query heads on 8 KV heads of 128,
// GQA) at a late position. fp32 and f16 caches, 1 or 2 threads. Reported per call and as
// GMAC/s (q.k and p.v, 2 * head_dim multiply-adds per query row and key).
#include <benchmark/benchmark.h>

#include <random>

#include "kernels/kernels.h"
#include "model/attention.h"
#include "common/thread_pool.h"

namespace {

// args: encoder (1) / decoder (0), m rows, f16 cache, threads, layers: each call attends over
// the next of `layers` caches (1: the same cache, from L2/L3; the model's 32 encoder / 26
// decoder layers: each layer's cache comes from DRAM, as in a step between weight reads).
void BM_Attend(benchmark::State& state) {
  const bool encoder = state.range(0) != 0;
  const std::int64_t m = state.range(1);
  const auto type = state.range(2) != 0 ? vrt::KvCacheType::f16 : vrt::KvCacheType::f32;
  vrt::ThreadPool pool(static_cast<int>(state.range(3)));
  const auto layers = static_cast<std::size_t>(state.range(4));
  const vrt::AttentionShape s = encoder ? vrt::AttentionShape{32, 32, 64, 750} : vrt::AttentionShape{32, 8, 128, 8192};
  const std::int64_t p0 = encoder ? 3000 : 1500;  // past the window (encoder) / a 2-minute stream (decoder)
  std::vector<vrt::KvCache> caches;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> k(static_cast<std::size_t>(s.n_kv_heads) * s.head_dim), v(k.size());
  for (std::size_t l = 0; l < layers; ++l) {
    vrt::KvCache& cache = caches.emplace_back(s.n_kv_heads, s.head_dim, s.window + 64, type);
    for (std::int64_t p = std::max<std::int64_t>(0, p0 - s.window - 64); p < p0 + m; ++p) {
      for (auto& x : k) x = nd(rng);
      for (auto& x : v) x = nd(rng);
      cache.reserve(p);
      cache.store(p, k.data(), v.data());
    }
  }
  std::vector<float> q(static_cast<std::size_t>(m * s.n_heads * s.head_dim)), out(q.size());
  for (auto& x : q) x = nd(rng);
  std::size_t l = 0;
  for (auto _ : state) {
    vrt::attend(q.data(), m, p0, caches[l], s, out.data(), &pool);
    l = l + 1 == layers ? 0 : l + 1;
    benchmark::DoNotOptimize(out.data());
  }
  const double keys = static_cast<double>(std::min<std::int64_t>(s.window, p0 + 1));
  const double macs = 2.0 * static_cast<double>(m * s.n_heads * s.head_dim) * keys;
  state.counters["GMACs"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Attend)
    ->ArgNames({"encoder", "m", "f16", "threads", "layers"})
    ->ArgsProduct({{1}, {4, 32}, {0, 1}, {1, 2}, {1}})
    ->ArgsProduct({{1}, {4, 32}, {0, 1}, {2}, {32}})
    ->Args({0, 1, 0, 2, 1})
    ->Args({0, 4, 0, 2, 1})
    ->Args({0, 4, 1, 2, 1})
    ->Args({0, 1, 0, 2, 26})
    ->Args({0, 1, 1, 2, 26})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
