// Packed-weight linear (quant.h) throughput through kernels::linear (so the int8 rows include
// quantize_acts), one entry per ISA (isa: 1 = avx2, 2 = avx512, 3 = avx2vnni, 4 = avx512vnni, 5 = avx512amx;
// unsupported ones are skipped). fmt: 8 = q8 (per channel), 4 = q4 (group 32); act: 1 = int8
// dynamic activations (8da*), 0 = fp32 activations (weight-only).
//
// * BM_QGemv: decode step, m = 1, W [rows x cols]: 9216 x 3072 (FFN up), 3072 x 9216 (FFN down),
//   131072 x 3072 (head). Each iteration reads another copy of the packed weights (+ scales) from
//   a 1.5 GiB pool, so they come from DRAM as in a real decoder step. GBps = packed bytes
//   (data + scales) per second; compare with BM_Gemv (bf16) and BM_StreamRead in the same run.
// * BM_QSmallM: m = 2 / 4 / 8 (verification, streaming encoder chunks), same pool, GBps.
// * BM_QGemm: m = 16 / 39 (prefill) / 64 / 256 / 1500 (encoder batches), encoder shapes 5120 x 1280
//   and 1280 x 5120, one hot copy. GOPs = 2 m rows cols per second (int8 or fp32 multiply-adds).
//   Also m = 1 / 4 / 8 on a hot 2048 x 3072 copy: the compute ceiling of the small-m tiles.
// * BM_QPass: m = 1..32 on the FFN-up shape, 4-bit group 128 (the server's model) from DRAM,
//   2 threads: a batched decoder pass's cost per row once compute, not reading, bounds it.
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
#include "kernels/quant.h"

namespace {

using vrt::kernels::CpuIsa;
using vrt::kernels::QuantFormat;

constexpr std::size_t kPoolBytes = std::size_t{1536} << 20;

// Random packed bytes (every byte pattern is a valid packed matrix) and, per copy, random small
// f16 scales; built once.
std::uint8_t* packed_pool() {
  static const std::unique_ptr<std::uint8_t[]> pool = [] {
    auto p = std::make_unique<std::uint8_t[]>(kPoolBytes + 64);
    std::uint64_t s = 0x9e3779b97f4a7c15ull;
    auto* words = reinterpret_cast<std::uint64_t*>(p.get());
    for (std::size_t i = 0; i < (kPoolBytes + 64) / 8; ++i) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      words[i] = s;
    }
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

// Copies of one packed matrix laid out in the pool: data then scales, 64-byte aligned.
struct PackedCopies {
  vrt::kernels::PackedLayout layout;
  QuantFormat f;
  std::size_t stride = 0, copies = 0, bytes = 0;
  PackedCopies(QuantFormat fmt, std::int64_t rows, std::int64_t cols, bool hot, std::int64_t group = 32) : f(fmt) {
    layout = vrt::kernels::packed_layout(fmt, rows, cols, fmt == QuantFormat::q8 ? 0 : group, "bench");
    bytes = static_cast<std::size_t>(layout.data_bytes + layout.scale_count * 2);
    stride = (bytes + 63) / 64 * 64;
    copies = hot ? 1 : kPoolBytes / stride;
    std::uint8_t* base = aligned_base();
    // Scales: small normal-range f16 values (random bits could be inf / NaN).
    for (std::size_t k = 0; k < copies; ++k) {
      auto* sc = reinterpret_cast<std::uint16_t*>(base + k * stride + static_cast<std::size_t>(layout.data_bytes));
      for (std::int64_t i = 0; i < layout.scale_count; ++i)
        sc[i] = vrt::f32_to_f16(0.001f + 0.0001f * static_cast<float>(i % 13));
    }
  }
  static std::uint8_t* aligned_base() {
    auto v = reinterpret_cast<std::uintptr_t>(packed_pool());
    return reinterpret_cast<std::uint8_t*>((v + 63) / 64 * 64);
  }
  vrt::kernels::LinearWeight weight(std::size_t k, bool dyn) const {
    std::uint8_t* p = aligned_base() + (k % copies) * stride;
    vrt::kernels::LinearWeight w;
    w.q.format = f;
    w.q.rows = layout.rows;
    w.q.cols = layout.cols;
    w.q.group = layout.group;
    w.q.data = p;
    w.q.scales = reinterpret_cast<const std::uint16_t*>(p + layout.data_bytes);
    w.q.block_bytes = layout.block_bytes;
    w.q.groups = layout.groups;
    w.dynamic_int8 = dyn;
    return w;
  }
};

// args: rows, cols, fmt, act, m, threads, isa (BM_QPass: and the group). Cold weights (pool) unless `hot`.
void run_linear(benchmark::State& state, bool hot, std::int64_t group = 32) {
  const std::int64_t rows = state.range(0), cols = state.range(1);
  const QuantFormat f = state.range(2) == 8 ? QuantFormat::q8 : QuantFormat::q4;
  const bool dyn = state.range(3) != 0;
  const std::int64_t m = state.range(4);
  const auto threads = static_cast<int>(state.range(5));
  if (!use_isa(state, state.range(6))) return;
  const PackedCopies w(f, rows, cols, hot, group);
  std::vector<float> x(static_cast<std::size_t>(m * cols)), y(static_cast<std::size_t>(m * rows));
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  vrt::ThreadPool* pool = pool_of(threads);
  std::size_t k = 0;
  for (auto _ : state) {
    const vrt::kernels::LinearWeight lw = w.weight(k++, dyn);
    vrt::kernels::linear(x.data(), m, cols, lw, nullptr, y.data(), rows, pool);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const auto it = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<double>(w.bytes) * it));
  state.counters["GBps"] = benchmark::Counter(static_cast<double>(w.bytes) * it / 1e9, benchmark::Counter::kIsRate);
  state.counters["GOPs"] = benchmark::Counter(2.0 * static_cast<double>(m * rows * cols) * it / 1e9,
                                              benchmark::Counter::kIsRate);
}

void BM_QGemv(benchmark::State& state) { run_linear(state, false); }
void BM_QSmallM(benchmark::State& state) { run_linear(state, false); }
void BM_QGemm(benchmark::State& state) { run_linear(state, true); }
void BM_QPass(benchmark::State& state) { run_linear(state, false, state.range(7)); }

constexpr std::int64_t kAmx = 5, kVnni512 = 4, kAvx512 = 2, kVnni2 = 3, kAvx2 = 1;

void gemv_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "fmt", "act", "m", "threads", "isa"});
  // Every ISA on the FFN-up shape; the best one (and the fp32 kernels, shared by avx512 and
  // avx512vnni) on the others.
  for (std::int64_t isa : {kVnni512, kAvx512, kVnni2, kAvx2})
    for (std::int64_t fmt : {4, 8})
      for (std::int64_t act : {1, 0})
        for (std::int64_t t : {1, 2}) {
          if (act == 0 && (isa == kVnni512 || isa == kVnni2)) continue;  // same fp32 kernel as base
          b->Args({9216, 3072, fmt, act, 1, t, isa});
        }
  for (std::int64_t fmt : {4, 8})
    for (std::int64_t t : {1, 2}) {
      b->Args({3072, 9216, fmt, 1, 1, t, kVnni512});
      b->Args({3072, 9216, fmt, 0, 1, t, kAvx512});
      b->Args({131072, 3072, fmt, 1, 1, t, kVnni512});
      b->Args({131072, 3072, fmt, 0, 1, t, kAvx512});
    }
}
BENCHMARK(BM_QGemv)->Apply(gemv_args)->Unit(benchmark::kMillisecond)->UseRealTime();

void small_m_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "fmt", "act", "m", "threads", "isa"});
  for (std::int64_t m : {2, 4, 8})
    for (std::int64_t fmt : {4, 8})
      for (std::int64_t t : {1, 2}) {
        b->Args({9216, 3072, fmt, 1, m, t, kVnni512});
        b->Args({9216, 3072, fmt, 0, m, t, kAvx512});
      }
  for (std::int64_t isa : {kAvx512, kVnni2, kAvx2}) b->Args({9216, 3072, 4, 1, 8, 2, isa});
  // The encoder's 80 ms streaming step: 4 rows through its attention and FFN shapes.
  for (std::int64_t fmt : {4, 8})
    for (const auto& [r, c] : {std::pair<std::int64_t, std::int64_t>{1280, 1280}, {5120, 1280}, {1280, 5120}})
      for (std::int64_t isa : {kAmx, kVnni512}) b->Args({r, c, fmt, 1, 4, 2, isa});
}
BENCHMARK(BM_QSmallM)->Apply(small_m_args)->Unit(benchmark::kMillisecond)->UseRealTime();

void gemm_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "fmt", "act", "m", "threads", "isa"});
  for (std::int64_t m : {16, 39, 64, 256, 1500})
    for (std::int64_t fmt : {4, 8}) {
      b->Args({5120, 1280, fmt, 1, m, 1, kAmx});
      b->Args({5120, 1280, fmt, 1, m, 1, kVnni512});
      b->Args({5120, 1280, fmt, 0, m, 1, kAvx512});
    }
  for (std::int64_t fmt : {4, 8}) {
    b->Args({1280, 5120, fmt, 1, 256, 1, kAmx});
    b->Args({1280, 5120, fmt, 1, 256, 1, kVnni512});
    b->Args({1280, 5120, fmt, 0, 256, 1, kAvx512});
    b->Args({5120, 1280, fmt, 1, 256, 2, kVnni512});
    b->Args({5120, 1280, fmt, 1, 256, 2, kAmx});
  }
  for (std::int64_t isa : {kAvx512, kVnni2, kAvx2}) b->Args({5120, 1280, 4, 1, 256, 1, isa});
  b->Args({5120, 1280, 4, 0, 256, 1, kAvx2});
  // Small m from cache (2048 x 3072, hot): the kernels' compute ceiling for the decode shapes.
  for (std::int64_t m : {1, 4, 8, 12, 16})
    for (std::int64_t fmt : {4, 8}) {
      if (m >= 4) b->Args({2048, 3072, fmt, 1, m, 1, kAmx});
      b->Args({2048, 3072, fmt, 1, m, 1, kVnni512});
      b->Args({2048, 3072, fmt, 0, m, 1, kAvx512});
    }
}
BENCHMARK(BM_QGemm)->Apply(gemm_args)->Unit(benchmark::kMillisecond)->UseRealTime();

// Batched decoder passes (server rounds, verification): the FFN-up shape at 4-bit group 128
// from DRAM, 2 threads, m = 1..32: where the pass stops being bound by the weight reads.
void pass_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "fmt", "act", "m", "threads", "isa", "group"});
  for (std::int64_t m : {1, 4, 8, 16, 24, 32})
    for (std::int64_t isa : {kAmx, kVnni512}) b->Args({9216, 3072, 4, 1, m, 2, isa, 128});
  for (std::int64_t m : {40, 48, 64}) b->Args({9216, 3072, 4, 1, m, 2, kAmx, 128});
  // AVX2 without VNNI (an AMD EPYC class of this project's machines): the verification passes.
  for (std::int64_t m : {1, 2, 3, 4, 5, 8, 12, 16, 32}) b->Args({9216, 3072, 4, 1, m, 2, kAvx2, 128});
  for (std::int64_t m : {16, 32}) b->Args({9216, 3072, 8, 1, m, 2, kAmx, 0});
}
BENCHMARK(BM_QPass)->Apply(pass_args)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
