// Real-time streaming benchmark: feeds an audio file to one session at real speed, in 80 ms
// chunks on a wall-clock schedule (as a microphone would), and reports whether the engine keeps
// up: the lag (how far behind the live edge the session's processing finishes) over time,
// per-step compute and token latency percentiles.
//
//   vrt_bench_stream -m MODEL AUDIO [--threads N] [--chunk-ms 80] [--report-s 1]
//
// A chunk is handed to the session at the wall time its last sample would have been captured;
// lag = wall time when feed() returns - that capture time. A session keeps up when the lag stays
// bounded (under one chunk plus jitter); otherwise it grows by (compute - audio) per second.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "voxtral_rt/audio.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/model_path.h"
#include "voxtral_rt/session.h"

int main(int argc, char** argv) {
  CLI::App app{"Feed audio to a streaming session at real speed and report whether it keeps up"};
  std::string model_arg, audio_path;
  int threads = 2, chunk_ms = 80;
  double report_s = 1.0;
  app.add_option("-m,--model", model_arg, "Checkpoint directory or repo id")->required();
  app.add_option("AUDIO", audio_path, "Audio file")->required();
  app.add_option("-t,--threads", threads, "Compute threads")->capture_default_str();
  app.add_option("--chunk-ms", chunk_ms, "Audio per feed")->capture_default_str();
  app.add_option("--report-s", report_s, "Print a lag line every this many seconds of audio")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    using Clock = std::chrono::steady_clock;
    vrt::LoadOptions lo;
    lo.threads = threads;
    const auto model = vrt::Model::load(vrt::resolve_model_path(model_arg), lo);
    const auto audio = vrt::load_audio_16k_mono(audio_path);
    auto session = model->new_session({});
    const std::size_t chunk = static_cast<std::size_t>(16 * chunk_ms);
    std::vector<double> lags;
    double next_report = report_s;
    std::printf("%10s %10s %8s\n", "audio_s", "lag_ms", "tokens");
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < audio.samples.size(); i += chunk) {
      const std::size_t n = std::min(chunk, audio.samples.size() - i);
      const double captured_s = static_cast<double>(i + n) / 16000.0;
      std::this_thread::sleep_until(t0 + std::chrono::duration<double>(captured_s));
      // Latency from the capture time, not from this (possibly late) feed() call.
      session->captured(static_cast<std::int64_t>(n),
                        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(captured_s)));
      session->feed({audio.samples.data() + i, n});
      const double lag_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() - captured_s * 1000.0;
      lags.push_back(lag_ms);
      if (captured_s >= next_report) {
        std::printf("%10.2f %10.0f %8lld\n", captured_s, lag_ms, static_cast<long long>(session->stream_stats().tokens));
        std::fflush(stdout);
        next_report += report_s;
      }
    }
    const auto s = session->stream_stats();
    const auto t = session->finish();
    const double final_lag = lags.empty() ? 0 : lags.back();
    std::sort(lags.begin(), lags.end());
    const double audio_s = static_cast<double>(audio.samples.size()) / 16000.0;
    std::printf("\naudio %.2f s, %d threads, %d ms chunks\n", audio_s, model->threads(), chunk_ms);
    std::printf("lag: median %.0f ms, p95 %.0f ms, final %.0f ms -> %s\n", lags[lags.size() / 2],
                lags[lags.size() * 95 / 100], final_lag,
                final_lag < 2.0 * chunk_ms ? "keeps up with real time" : "falls behind real time");
    std::printf("compute per step: p50 %.1f ms, p95 %.1f ms (real time needs < 80 ms)\n", s.step_p50_ms, s.step_p95_ms);
    std::printf("token latency after its audio was captured: p50 %.0f ms, p95 %.0f ms\n", s.latency_p50_ms, s.latency_p95_ms);
    std::printf("total compute %.0f ms for %.2f s of audio\n", t.stats.total_ms, audio_s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vrt_bench_stream: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
