// Log-mel front-end throughput (Google Benchmark).
//
// Offline: LogMel::compute on S seconds of synthetic speech-like audio (tones + noise, never
// silent, so the all-zero-window shortcut never fires) with 1 or 2 threads. Streaming:
// StreamingLogMel fed in 80 ms (1280-sample) chunks, as a live session does.
// Counter sec_per_audio_min = wall seconds of compute per minute of audio (lower is better);
// audio_x_realtime = seconds of audio per second of compute.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "voxtral_rt/mel.h"

namespace {

// 60 s of tones + noise, generated once; longer inputs repeat it (same cost per frame).
const std::vector<float>& base_minute() {
  static const std::vector<float> x = [] {
    std::mt19937 rng(1234);
    std::normal_distribution<float> noise(0.0f, 0.02f);
    std::vector<float> v(60 * 16000);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double t = static_cast<double>(i) / 16000.0;
      const double f0 = 120.0 + 40.0 * std::sin(2.0 * std::numbers::pi * 0.5 * t);  // gliding pitch
      double s = 0.0;
      for (int h = 1; h <= 8; ++h) s += 0.1 / h * std::sin(2.0 * std::numbers::pi * f0 * h * t);
      v[i] = static_cast<float>(s) + noise(rng);
    }
    return v;
  }();
  return x;
}

std::vector<float> synthetic_audio(std::size_t n) {
  const auto& base = base_minute();
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; i += base.size()) {
    std::copy_n(base.begin(), std::min(base.size(), n - i), x.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return x;
}

void set_counters(benchmark::State& state, double audio_seconds) {
  const double minutes = audio_seconds / 60.0 * static_cast<double>(state.iterations());
  state.counters["sec_per_audio_min"] =
      benchmark::Counter(minutes, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["audio_x_realtime"] =
      benchmark::Counter(audio_seconds * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

// Args: seconds of audio, threads.
void BM_OfflineMel(benchmark::State& state) {
  const auto seconds = static_cast<double>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const auto audio = synthetic_audio(static_cast<std::size_t>(seconds * 16000.0));
  const vrt::LogMel mel;
  for (auto _ : state) {
    auto out = mel.compute(audio, threads);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, seconds);
}
BENCHMARK(BM_OfflineMel)
    ->ArgNames({"sec", "threads"})
    ->Args({10, 1})
    ->Args({10, 2})
    ->Args({60, 1})
    ->Args({60, 2})
    ->Args({3600, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Args: seconds of audio. 80 ms chunks, then finish().
void BM_StreamingMel80ms(benchmark::State& state) {
  const auto seconds = static_cast<double>(state.range(0));
  const auto audio = synthetic_audio(static_cast<std::size_t>(seconds * 16000.0));
  vrt::StreamingLogMel s;
  std::vector<float> frames;
  for (auto _ : state) {
    s.reset();
    for (std::size_t pos = 0; pos < audio.size(); pos += 1280) {
      const std::size_t n = std::min<std::size_t>(1280, audio.size() - pos);
      frames.clear();  // a live consumer takes each chunk's frames away
      s.feed(std::span<const float>(audio.data() + pos, n), frames);
      benchmark::DoNotOptimize(frames.data());
    }
    frames.clear();
    s.finish(frames);
    benchmark::DoNotOptimize(frames.data());
  }
  set_counters(state, seconds);
}
BENCHMARK(BM_StreamingMel80ms)->ArgNames({"sec"})->Arg(60)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
