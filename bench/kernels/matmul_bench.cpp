// Matmul throughput (Google Benchmark), one entry per ISA (isa: 0 = ref, 1 = avx2, 2 = avx512;
// ISAs this CPU lacks are skipped).
//
// * BM_StreamRead: sum of a 1 GiB buffer (1-2 threads), the bandwidth a simple streaming read
//   achieves: the ceiling for the decode GEMV. Counter GBps = 1e9 bytes per second.
// * BM_Gemv: decode step, m = 1, BF16 weights [rows x cols] (attention/FFN 3072 x 3072, 9216 x
//   3072, 3072 x 9216, head 131072 x 3072). Each iteration reads a different copy of the weights
//   from a 1.6 GiB pool, so they come from DRAM as in a real decoder step (the whole model does
//   not fit any cache) rather than from the large L3; hot=1 reuses one copy (cache-resident).
//   Counter GBps = weight bytes read per second.
// * BM_Gemm: encoder / prefill, m = 64 / 256 rows of x, BF16 weights [5120 x 1280] (FFN up),
//   [1280 x 5120] (FFN down), [2048 x 1280] (fused q/k/v-like). Counter GFLOPs = 2 m rows cols
//   per second.
// * BM_PeakFma: register-only AVX-512 FMA loop (12 independent chains), the core's fp32 peak.
// Run with --benchmark_repetitions=5 --benchmark_report_aggregates_only=true on a shared machine.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "common/half.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using vrt::kernels::CpuIsa;

constexpr std::size_t kPoolBytes = std::size_t{1700} << 20;  // > 2 head matrices, > 3x the L3

// One shared pool of random BF16 weights (small normal values, no NaN/inf), built once.
const std::uint16_t* weight_pool() {
  static const std::unique_ptr<std::uint16_t[]> pool = [] {
    const std::size_t n = kPoolBytes / 2;
    auto p = std::make_unique<std::uint16_t[]>(n);
    std::mt19937 rng(17);
    std::uint16_t table[4096];
    std::normal_distribution<float> dist(0.0f, 0.02f);
    for (auto& t : table) t = vrt::f32_to_bf16(dist(rng));
    for (std::size_t i = 0; i < n; ++i) p[i] = table[(i * 2654435761u) >> 20 & 4095];
    return p;
  }();
  return pool.get();
}

vrt::ThreadPool* pool_of(int threads) {
  static std::map<int, std::unique_ptr<vrt::ThreadPool>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<vrt::ThreadPool>(threads);
  return p.get();
}

bool use_isa(benchmark::State& state, std::int64_t isa_arg) {
  const auto isa = static_cast<CpuIsa>(isa_arg);
  if (!vrt::kernels::isa_supported(isa, vrt::kernels::cpu_features())) {
    state.SkipWithError("ISA not supported on this CPU");
    return false;
  }
  vrt::kernels::set_isa(isa);
  state.SetLabel(vrt::kernels::isa_name(isa));
  return true;
}


void BM_StreamRead(benchmark::State& state) {
  const auto threads = static_cast<int>(state.range(0));
  const std::size_t bytes = std::size_t{1} << 30;
  const auto* data = reinterpret_cast<const std::uint64_t*>(weight_pool());
  const auto words = static_cast<std::int64_t>(bytes / 8);
  vrt::ThreadPool* pool = pool_of(threads);
  std::vector<std::uint64_t> partial(static_cast<std::size_t>(threads) * 8, 0);
  for (auto _ : state) {
    const std::int64_t chunk = words / threads;
    pool->parallel_for(threads, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t t = b; t < e; ++t) {
        partial[static_cast<std::size_t>(t) * 8] = vrt::kernels::stream_read_sum(data + t * chunk, chunk);
      }
    });
    benchmark::DoNotOptimize(partial.data());
  }
  state.counters["GBps"] =
      benchmark::Counter(static_cast<double>(bytes) * static_cast<double>(state.iterations()) / 1e9,
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StreamRead)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Gemv(benchmark::State& state) {
  const std::int64_t rows = state.range(0), cols = state.range(1);
  const auto threads = static_cast<int>(state.range(2));
  const bool hot = state.range(3) != 0;
  if (!use_isa(state, state.range(4))) return;
  const std::int64_t elems = rows * cols;
  const auto bytes = static_cast<std::size_t>(elems) * 2;
  const std::size_t copies = hot ? 1 : kPoolBytes / bytes;
  std::vector<float> x(static_cast<std::size_t>(cols), 0.01f), y(static_cast<std::size_t>(rows));
  vrt::ThreadPool* pool = pool_of(threads);
  const std::uint16_t* base = weight_pool();  // built before timing starts
  std::size_t k = 0;
  for (auto _ : state) {
    const vrt::kernels::WeightView w{base + (k % copies) * static_cast<std::size_t>(elems),
                                     vrt::DType::bf16, rows, cols};
    vrt::kernels::matmul(x.data(), 1, cols, w, nullptr, y.data(), rows, pool);
    benchmark::DoNotOptimize(y.data());
    ++k;
  }
  state.counters["GBps"] =
      benchmark::Counter(static_cast<double>(bytes) * static_cast<double>(state.iterations()) / 1e9,
                         benchmark::Counter::kIsRate);
}
void gemv_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "threads", "hot", "isa"});
  for (std::int64_t isa : {2, 1, 0}) {
    for (auto [r, c] : {std::pair<std::int64_t, std::int64_t>{3072, 3072},
                        {9216, 3072},
                        {3072, 9216},
                        {131072, 3072}}) {
      for (std::int64_t t : {1, 2}) {
        if (isa == 0 && t == 2) continue;
        b->Args({r, c, t, 0, isa});
      }
    }
    b->Args({3072, 3072, 1, 1, isa});
  }
}
BENCHMARK(BM_Gemv)->Apply(gemv_args)->Unit(benchmark::kMillisecond)->UseRealTime();

// Small m (streaming encoder chunks, speculative decoding): where GEMV-style streaming and the
// packed GEMM cross over. W [3072 x 3072] BF16 from DRAM (rotating copies), both counters.
void BM_SmallM(benchmark::State& state) {
  const std::int64_t m = state.range(0), rows = 3072, cols = 3072;
  const auto threads = static_cast<int>(state.range(1));
  if (!use_isa(state, state.range(2))) return;
  const std::int64_t elems = rows * cols;
  const std::size_t copies = kPoolBytes / (static_cast<std::size_t>(elems) * 2);
  std::vector<float> x(static_cast<std::size_t>(m * cols), 0.01f),
      y(static_cast<std::size_t>(m * rows));
  vrt::ThreadPool* pool = pool_of(threads);
  const std::uint16_t* base = weight_pool();
  std::size_t k = 0;
  for (auto _ : state) {
    const vrt::kernels::WeightView w{base + (k++ % copies) * static_cast<std::size_t>(elems),
                                     vrt::DType::bf16, rows, cols};
    vrt::kernels::matmul(x.data(), m, cols, w, nullptr, y.data(), rows, pool);
    benchmark::DoNotOptimize(y.data());
  }
  const auto it = static_cast<double>(state.iterations());
  state.counters["GBps"] =
      benchmark::Counter(static_cast<double>(elems) * 2 * it / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * static_cast<double>(m * elems) * it / 1e9,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SmallM)
    ->ArgNames({"m", "threads", "isa"})
    ->ArgsProduct({{1, 2, 3, 4, 5, 6, 8, 12, 16, 24, 32, 48}, {1}, {2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Gemm(benchmark::State& state) {
  const std::int64_t m = state.range(0), rows = state.range(1), cols = state.range(2);
  const auto threads = static_cast<int>(state.range(3));
  if (!use_isa(state, state.range(4))) return;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(m * cols)), y(static_cast<std::size_t>(m * rows));
  for (auto& v : x) v = dist(rng);
  const vrt::kernels::WeightView w{weight_pool(), vrt::DType::bf16, rows, cols};
  vrt::ThreadPool* pool = pool_of(threads);
  for (auto _ : state) {
    vrt::kernels::matmul(x.data(), m, cols, w, nullptr, y.data(), rows, pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(
      2.0 * static_cast<double>(m * rows * cols) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}
void gemm_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "rows", "cols", "threads", "isa"});
  for (std::int64_t isa : {2, 1, 0}) {
    for (std::int64_t m : {64, 256}) {
      for (auto [r, c] :
           {std::pair<std::int64_t, std::int64_t>{5120, 1280}, {1280, 5120}, {2048, 1280}}) {
        for (std::int64_t t : {1, 2}) {
          if (isa == 0 && (t == 2 || m == 256)) continue;
          b->Args({m, r, c, t, isa});
        }
      }
    }
  }
}
BENCHMARK(BM_Gemm)->Apply(gemm_args)->Unit(benchmark::kMillisecond)->UseRealTime();

#if defined(__x86_64__)
__attribute__((target("avx512f,fma"))) double peak_fma_loop(std::int64_t iters, float a_s,
                                                            float b_s) {
  __m512 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm512_set1_ps(static_cast<float>(j) * 1e-3f);
  const __m512 a = _mm512_set1_ps(a_s), b = _mm512_set1_ps(b_s);
  for (std::int64_t i = 0; i < iters; ++i) {
    for (int j = 0; j < 12; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  }
  __m512 s = acc[0];
  for (int j = 1; j < 12; ++j) s = _mm512_add_ps(s, acc[j]);
  float lanes[16];
  _mm512_storeu_ps(lanes, s);
  double total = 0.0;
  for (float v : lanes) total += v;
  return total;
}

void BM_PeakFma(benchmark::State& state) {
  if (!vrt::kernels::cpu_features().avx512f) {
    state.SkipWithError("no AVX-512");
    return;
  }
  const std::int64_t iters = 1 << 22;
  volatile float a = 0.999999f, b = 1e-7f;  // opaque to the compiler
  for (auto _ : state) benchmark::DoNotOptimize(peak_fma_loop(iters, a, b));
  state.counters["GFLOPs"] = benchmark::Counter(
      2.0 * 16 * 12 * static_cast<double>(iters) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PeakFma)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

}  // namespace

BENCHMARK_MAIN();
