// Checkpoint open + validation time (Google Benchmark).
//
// Opens a checkpoint directory: params.json, tekken.json (15 MB with the real vocabulary) and the
// safetensors header of every tensor, checked against the config. Tensor data is mapped, never
// read, so the time must not grow with the weights' size. The directory comes from
// VRT_BENCH_MODEL (e.g. a full-size synthetic checkpoint: voxtral-rt-synth --config full
// --tekken .../tekken.json -o DIR); without it a tiny one is generated in /tmp.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "io/checkpoint.h"
#include "synth.h"

namespace {

std::string model_dir() {
  if (const char* m = std::getenv("VRT_BENCH_MODEL"); m != nullptr && *m != '\0') return m;
  const std::string dir = (std::filesystem::temp_directory_path() / "vrt-bench-tiny").string();
  if (!std::filesystem::exists(dir + "/consolidated.safetensors")) vrt::synth::write_checkpoint(dir, {});
  return dir;
}

void BM_CheckpointOpen(benchmark::State& state) {
  const std::string dir = model_dir();
  std::int64_t params = 0;
  for (auto _ : state) {
    const auto c = vrt::Checkpoint::open(dir);
    params = c.info().parameter_count;
    benchmark::DoNotOptimize(params);
  }
  state.counters["parameters"] = static_cast<double>(params);
  state.SetLabel(dir);
}
BENCHMARK(BM_CheckpointOpen)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
