// `voxtral-rt bench -m MODEL [--threads N] [--qlinear ...] [--json]`: the model's speed on this
// machine, stage by stage (vrt::profile_stages), against the machine's own read bandwidth.
// `voxtral-rt bench --replay-only --tekken F --reference DIR`: only the verification replay.
//
//   bandwidth      a streaming read of a 1 GiB buffer with the model's thread count (median of
//                  repeats), measured right before and right after the decoder measurements, in a
//                  forked child so that the buffer does not count in the peak RSS
//   decoder step   single-position steps after the prompt (39 positions at the default delay)
//                  and a few warm-up steps; median; bytes of every decoder matrix + head read per
//                  step (packed data + scales, or float bytes) -> GB/s and fraction of bandwidth.
//                  Inputs are real: the clip's offline-padded log-mel through the encoder and the
//                  adapter, plus token embeddings (compute time can depend on the values)
//   verification   one k-row decoder pass incl. the head (k = 2, 4, 8, 16), median, per position;
//                  plus the runtime's own verification policy (vrt::replay_verification)
//                  replayed on recorded greedy token streams (--reference DIR, e.g. the real
//                  model's golden streams) to give positions per pass and the expected decode
//                  time per position for each k
//   encoder        one 80 ms streaming step (8 mel frames -> conv stem + layers + adapter, with
//                  carried state), median, from a fresh state and over a full attention window
//                  (a long stream's steady state); offline chunks of
//                  32 tokens, per second of audio
//   prefill        the prompt (1 + left pad + delay tokens), one batched pass incl. the head
//   offline        a full transcription of an audio file with verification decoding (default
//                  k) and without (verify_tokens = 1): real-time factor
//   peak RSS       getrusage at the end
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numbers>
#include <thread>
#include <random>

#include <nlohmann/json.hpp>

#include "audio_input.h"
#include "commands.h"
#include "model_options.h"
#include "output_formats.h"
#include "replay_input.h"
#include "voxtral_rt/checkpoint.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/model_path.h"
#include "voxtral_rt/profile.h"
#include "voxtral_rt/session.h"
#include "voxtral_rt/system.h"

namespace vrt::cli {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Milliseconds with the precision that matters at their size ("71.1", "554", "0.042").
std::string ms_text(double ms) {
  char b[32];
  std::snprintf(b, sizeof b, ms >= 100 ? "%.0f" : ms >= 1 ? "%.1f" : "%.3f", ms);
  return b;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

double current_rss_mb() {
  std::ifstream f("/proc/self/statm");
  long long size = 0, resident = 0;
  if (!(f >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// ---------------------------------------------------------------------------------------------
// Read bandwidth (vrt::measure_read_bandwidth)

// In a forked child, so that the buffer does not raise this process's peak RSS.
std::vector<double> measure_bandwidth(std::size_t bytes, int threads, int repeats) {
  int fds[2];
  if (pipe(fds) != 0) return measure_read_bandwidth(bytes, threads, repeats);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return measure_read_bandwidth(bytes, threads, repeats);
  }
  if (pid == 0) {
    close(fds[0]);
    std::vector<double> v;
    try {
      v = measure_read_bandwidth(bytes, threads, repeats);
    } catch (...) {
    }
    const auto n = static_cast<std::size_t>(v.size() * sizeof(double));
    ssize_t w = write(fds[1], v.data(), n);
    (void)w;
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::vector<double> v(static_cast<std::size_t>(repeats));
  std::size_t got = 0;
  auto* p = reinterpret_cast<char*>(v.data());
  while (got < v.size() * sizeof(double)) {
    const ssize_t r = read(fds[0], p + got, v.size() * sizeof(double) - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  v.resize(got / sizeof(double));
  return v;
}

// Pass cost for any row count, interpolated linearly between the measured ones.
double pass_cost(const std::map<std::int64_t, double>& c, std::int64_t rows) {
  const auto hi = c.lower_bound(rows);
  if (hi == c.end()) return std::prev(hi)->second * static_cast<double>(rows) / static_cast<double>(std::prev(hi)->first);
  if (hi->first == rows || hi == c.begin()) return hi->second;
  const auto lo = std::prev(hi);
  const double f = static_cast<double>(rows - lo->first) / static_cast<double>(hi->first - lo->first);
  return lo->second + f * (hi->second - lo->second);
}

// 10 s of deterministic synthetic "speech-like" audio: a gliding harmonic tone with a syllable
// envelope plus a little noise.
std::vector<float> synthetic_audio(double seconds) {
  const int sr = 16000;
  std::vector<float> a(static_cast<std::size_t>(seconds * sr));
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  double phase = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double t = static_cast<double>(i) / sr;
    const double f0 = 140 + 40 * std::sin(2 * std::numbers::pi * 0.7 * t);
    phase += 2 * std::numbers::pi * f0 / sr;
    const double env = 0.5 + 0.5 * std::sin(2 * std::numbers::pi * 4.0 * t);
    double s = 0;
    for (int h = 1; h <= 6; ++h) s += std::sin(h * phase) / h;
    a[i] = static_cast<float>(0.15 * env * s) + noise(rng);
  }
  return a;
}

struct BenchCli {
  std::string model = kDefaultModelId;
  SchemeFlags schemes;
  bool json = false;
  std::string audio;
  std::string reference;
  int steps = 30;
  int repeats = 5;
  std::vector<int> ks{2, 4, 8, 16};
  std::vector<int> offline_ks{1, 4, 8};
  std::string replay;
  bool no_transcribe = false;
  std::size_t bandwidth_mib = 1024;
  bool replay_only = false;
  std::string tekken;
  std::vector<std::string> pass_ms;  // --replay-only: "K:MS" pass costs
};

// The verification replay on every reference stream for each k: positions, passes and, given
// the pass cost of each row count, the expected decode time.
struct SimRow {
  std::int64_t k, positions = 0, passes = 0;
  double expected_ms = 0;  // total expected decode time
};

std::vector<SimRow> replay_all(const Tokenizer& tok, const TokenStreams& streams,
                               const std::map<std::int64_t, double>& pass_ms) {
  std::vector<SimRow> sim;
  for (const auto& [k, ms] : pass_ms) {
    SimRow row{k};
    for (const auto& [name, tokens] : streams) {
      const auto r = replay_verification(tok, tokens, static_cast<int>(k));
      row.positions += r.positions;
      row.passes += r.passes;
      for (const auto& [nrows, count] : r.pass_rows) row.expected_ms += static_cast<double>(count) * pass_cost(pass_ms, nrows);
    }
    sim.push_back(row);
  }
  return sim;
}

nlohmann::ordered_json sim_json(const std::vector<SimRow>& sim, const std::map<std::int64_t, double>& pass_ms, double step_ms) {
  nlohmann::ordered_json ver = nlohmann::ordered_json::array();
  for (const auto& r : sim) {
    nlohmann::ordered_json e;
    e["k"] = r.k;
    e["pass_ms"] = pass_ms.at(r.k);
    e["best_case_ms_per_position"] = pass_ms.at(r.k) / static_cast<double>(r.k);
    if (r.positions > 0) {
      e["positions_per_pass"] = static_cast<double>(r.positions) / static_cast<double>(r.passes);
      e["expected_ms_per_position"] = r.expected_ms / static_cast<double>(r.positions);
      e["expected_speedup"] = step_ms / (r.expected_ms / static_cast<double>(r.positions));
    }
    ver.push_back(e);
  }
  return ver;
}

std::int64_t recommended_k(const std::vector<SimRow>& sim) {
  std::int64_t best_k = 1;
  double best_ms = 0;
  for (const auto& r : sim) {
    if (r.positions == 0) continue;
    const double per = r.expected_ms / static_cast<double>(r.positions);
    if (best_ms == 0 || per < best_ms) best_ms = per, best_k = r.k;
  }
  return best_k;
}

void print_sim(const std::vector<SimRow>& sim, const std::map<std::int64_t, double>& pass_ms, double step_ms) {
  std::printf("   k   pass ms   best ms/pos   positions/pass   expected ms/pos   speedup\n");
  for (const auto& r : sim) {
    const double pm = pass_ms.at(r.k);
    if (r.positions > 0) {
      const double per = r.expected_ms / static_cast<double>(r.positions);
      std::printf("  %2lld  %8s  %12s  %15.2f  %16s  %7.2fx\n", static_cast<long long>(r.k), ms_text(pm).c_str(),
                  ms_text(pm / static_cast<double>(r.k)).c_str(),
                  static_cast<double>(r.positions) / static_cast<double>(r.passes), ms_text(per).c_str(), step_ms / per);
    } else {
      std::printf("  %2lld  %8s  %12s  %15s  %16s  %8s\n", static_cast<long long>(r.k), ms_text(pm).c_str(),
                  ms_text(pm / static_cast<double>(r.k)).c_str(), "-", "-", "-");
    }
  }
}

// --replay-only: positions per pass of the runtime's policy on the reference streams, and with
// --pass-ms the expected decode time per position, without a model.
int replay_only(const BenchCli& o) {
  if (o.tekken.empty() || o.reference.empty())
    throw Error(Status::invalid_argument, "--replay-only needs --tekken FILE and --reference DIR");
  const Tokenizer tok = Tokenizer::from_file(o.tekken);
  const auto streams = load_token_streams(o.reference);
  std::map<std::int64_t, double> pass_ms{{1, 1.0}};
  for (const int k : o.ks) pass_ms[k] = static_cast<double>(k);  // placeholder costs: rows
  for (const auto& spec : o.pass_ms) {
    const auto colon = spec.find(':');
    try {
      if (colon == std::string::npos) throw std::invalid_argument(spec);
      const int k = std::stoi(spec.substr(0, colon));
      const double ms = std::stod(spec.substr(colon + 1));
      if (k < 1 || k > SessionOptions::kMaxVerifyTokens || !(ms > 0)) throw std::invalid_argument(spec);
      pass_ms[k] = ms;
    } catch (const std::exception&) {
      throw Error(Status::invalid_argument, "--pass-ms takes K:MS with K in 1.." +
                                                std::to_string(SessionOptions::kMaxVerifyTokens) + " and MS > 0, not '" + spec + "'");
    }
  }
  const bool costs = !o.pass_ms.empty();
  const auto sim = replay_all(tok, streams, pass_ms);
  if (o.json) {
    nlohmann::ordered_json j;
    j["reference_streams"] = static_cast<std::int64_t>(streams.size());
    j["reference_dir"] = o.reference;
    auto ver = sim_json(sim, pass_ms, pass_ms.at(1));
    if (!costs)
      for (auto& e : ver)
        for (const char* f : {"pass_ms", "best_case_ms_per_position", "expected_ms_per_position", "expected_speedup"}) e.erase(f);
    j["passes"] = ver;
    if (costs) j["recommended_k"] = recommended_k(sim);
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("verification replay on %zu streams from %s\n", streams.size(), o.reference.c_str());
  if (costs) {
    print_sim(sim, pass_ms, pass_ms.at(1));
    std::printf("  recommended k = %lld\n", static_cast<long long>(recommended_k(sim)));
  } else {
    std::printf("   k   positions   passes   positions/pass\n");
    for (const auto& r : sim)
      std::printf("  %2lld  %10lld  %7lld  %15.2f\n", static_cast<long long>(r.k), static_cast<long long>(r.positions),
                  static_cast<long long>(r.passes), static_cast<double>(r.positions) / static_cast<double>(r.passes));
  }
  return 0;
}

}  // namespace

Runner add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchCli>();
  auto* cmd = app.add_subcommand("bench", "Measure decoder, encoder, prefill and end-to-end speed against this "
                                          "machine's read bandwidth");
  cmd->add_option("-m,--model", o->model, "Checkpoint directory, .vxrt file or Hugging Face repo id")->capture_default_str();
  add_scheme_options(cmd, o->schemes);
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->add_option("--audio", o->audio,
                  "Audio file: the measured inputs and the offline run (default: 10 s of synthetic audio)");
  cmd->add_option("--reference", o->reference,
                  "Folder of recorded greedy token streams (voxtral_realtime_tokens_*.json, e.g. the real model's "
                  "golden streams) for the verification replay (default: none, no replay)");
  cmd->add_option("--steps", o->steps, "Decoder steps measured (median)")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--repeats", o->repeats, "Repeats of the other measurements (median)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--verify-k", o->ks, "Rows per verification pass to measure")->capture_default_str()->check(
      CLI::Range(2, SessionOptions::kMaxVerifyTokens));
  cmd->add_flag("--no-transcribe", o->no_transcribe, "Skip the offline transcriptions");
  cmd->add_option("--offline-k", o->offline_ks, "Rows per verification pass of the offline transcriptions (1 = none)")
      ->capture_default_str()
      ->check(CLI::Range(1, SessionOptions::kMaxVerifyTokens));
  cmd->add_option("--replay", o->replay,
                  "Offline transcriptions take each greedy choice from recorded token streams (a "
                  "voxtral_realtime_tokens_*.json file or folder, cycled): real speech's verification work on any "
                  "checkpoint");
  cmd->add_option("--bandwidth-mib", o->bandwidth_mib, "Buffer size of the bandwidth measurement")
      ->capture_default_str()
      ->check(CLI::Range(16, 1 << 16));
  cmd->add_flag("--replay-only", o->replay_only,
                "Only replay verification decoding on --reference streams (no model; needs --tekken)");
  cmd->add_option("--tekken", o->tekken, "--replay-only: the model's tekken.json (token ids, prompt length)");
  cmd->add_option("--pass-ms", o->pass_ms,
                  "--replay-only: measured pass costs K:MS (e.g. 1:60 4:75, from `bench --json`) for the expected "
                  "time per position");
  return [o] {
    if (o->replay_only) return replay_only(*o);
    const LoadOptions lo = load_options(o->schemes);
    const int threads = lo.threads > 0 ? lo.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    auto log = [&](const char* what) {
      if (!o->json) std::fprintf(stderr, "bench: %s...\n", what);
    };

    // 1. Load.
    log("loading");
    const std::string path = resolve_model_path(o->model);
    const auto model = Model::load(path, lo);
    const double rss_after_load = current_rss_mb();

    // 2. Inputs: the audio file, else synthetic audio (never a guessed data folder).
    std::vector<float> samples;
    std::string audio_name;
    if (!o->audio.empty()) {
      samples = read_audio_16k(o->audio).samples;
      audio_name = o->audio;
    } else {
      samples = synthetic_audio(10.0);
      audio_name = "synthetic 10 s";
    }
    const double audio_s = static_cast<double>(samples.size()) / kModelSampleRateHz;

    // 3-7. The stages, with the read bandwidth measured right before and right after the
    // decoder (4) in a forked child (see measure_bandwidth).
    const int bw_repeats = std::max(o->repeats, 5);
    std::vector<double> bw_before, bw_after;
    ProfileOptions po;
    po.audio = samples;
    po.steps = o->steps;
    po.repeats = o->repeats;
    po.verify_k = o->ks;
    po.on_stage = log;
    po.before_decoder = [&] {
      log("read bandwidth");
      bw_before = measure_bandwidth(o->bandwidth_mib << 20, threads, bw_repeats);
    };
    po.after_decoder = [&] {
      log("read bandwidth again");
      bw_after = measure_bandwidth(o->bandwidth_mib << 20, threads, bw_repeats);
    };
    const StageProfile p = profile_stages(*model, po);
    std::vector<double> bw = bw_before;
    bw.insert(bw.end(), bw_after.begin(), bw_after.end());
    const double bw_gbps = median(bw);
    const double step_med = p.pass_ms.at(1);
    const std::int64_t step_bytes = p.decoder_layer_bytes + p.head_bytes;
    const double chunk_audio_s = static_cast<double>(p.encoder_chunk_tokens) * p.seconds_per_token;

    // 8. Verification decoding on the reference streams.
    const auto streams = o->reference.empty() ? TokenStreams{} : load_token_streams(o->reference);
    std::map<std::int64_t, double> pass_ms(p.pass_ms.begin(), p.pass_ms.end());
    const auto sim = replay_all(model->tokenizer(), streams, pass_ms);
    const std::int64_t best_k = recommended_k(sim);

    // 9. Offline transcriptions, one per k; with --replay the recording's choices (real speech's
    // verification statistics) replace the synthetic model's.
    const std::vector<int> replay = o->replay.empty() ? std::vector<int>{} : load_replay_tokens(o->replay);
    struct Run {
      int verify = 0;
      Transcript t;
    };
    std::vector<Run> runs;
    if (!o->no_transcribe) {
      for (const int v : o->offline_ks) {
        log(("offline transcription, k = " + std::to_string(v)).c_str());
        TranscribeOptions to;
        to.verify_tokens = v;
        to.replay_tokens = replay;
        runs.push_back({v, model->transcribe(samples, to)});
      }
    }

    // Report.
    const double step_gbps = step_med > 0 ? static_cast<double>(step_bytes) / (step_med / 1000.0) / 1e9 : 0;
    const std::string cpu = cpu_features();
    nlohmann::ordered_json j;
    j["version"] = VRT_VERSION_STRING;
    j["model"] = path;
    j["schemes"] = model->quant().describe();
    j["kv_cache"] = kv_cache_type_name(model->kv_cache());
    j["decoder_weight_kinds"] = {{"wq", p.decoder_kind},
                                 {"w1", p.decoder_ffn_kind},
                                 {"head", p.head_kind},
                                 {"encoder_wq", p.encoder_kind},
                                 {"embedding", p.embedding_kind}};
    j["threads"] = model->threads();
    j["cpu"] = cpu;
    j["kernels"] = kernel_table();
    j["load_ms"] = model->load_ms();
    j["bandwidth"] = {{"gbps", bw_gbps},
                      {"before_decoder_gbps", median(bw_before)},
                      {"after_decoder_gbps", median(bw_after)},
                      {"buffer_mib", o->bandwidth_mib},
                      {"repeats", bw}};
    j["decoder"] = {{"context_positions", p.context_positions},
                    {"steps", o->steps},
                    {"ms_per_step", step_med},
                    {"ms_per_step_min", *std::min_element(p.step_ms.begin(), p.step_ms.end())},
                    {"bytes_per_step", step_bytes},
                    {"layer_bytes", p.decoder_layer_bytes},
                    {"head_bytes", p.head_bytes},
                    {"gbps", step_gbps},
                    {"bandwidth_fraction", bw_gbps > 0 ? step_gbps / bw_gbps : 0}};
    j["verification"] = {{"passes", sim_json(sim, pass_ms, step_med)},
                         {"reference_streams", static_cast<std::int64_t>(streams.size())},
                         {"reference_dir", o->reference},
                         {"recommended_k", best_k}};
    j["encoder"] = {{"ms_per_streaming_step", p.encoder_step_ms},
                    {"ms_per_streaming_step_full_window", p.encoder_step_full_window_ms},
                    {"window_positions", p.encoder_window_positions},
                    {"streaming_step_audio_ms", p.seconds_per_token * 1000.0},
                    {"chunk_tokens", p.encoder_chunk_tokens},
                    {"ms_per_chunk", p.encoder_chunk_ms},
                    {"s_per_audio_s_offline", p.encoder_chunk_ms / 1000.0 / chunk_audio_s},
                    {"weight_bytes", p.encoder_bytes}};
    j["prefill"] = {{"positions", p.prefill_positions}, {"ms", p.prefill_ms}};
    nlohmann::ordered_json off = nlohmann::ordered_json::array();
    for (const auto& r : runs) {
      const auto& s = r.t.stats;
      nlohmann::ordered_json e = {{"verify_tokens", r.verify}, {"audio", audio_name}, {"replay", o->replay}};
      e.update(stats_json(s));  // audio_s, total_ms, real_time_factor, the stages, decode_passes, ...
      off.push_back(e);
    }
    j["offline"] = off;
    j["rss_after_load_mb"] = rss_after_load;
    j["peak_rss_mb"] = peak_rss_mb();

    if (o->json) {
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    std::printf("model        %s\n", path.c_str());
    std::printf("schemes      %s (decoder %s, head %s, encoder %s, embedding %s)\n", model->quant().describe().c_str(),
                p.decoder_kind.c_str(), p.head_kind.c_str(), p.encoder_kind.c_str(), p.embedding_kind.c_str());
    std::printf("kv cache     %s\n", kv_cache_type_name(model->kv_cache()));
    std::printf("threads      %d; cpu: %s; kernels %s\n", model->threads(), cpu.c_str(), kernel_table());
    std::printf("load         %.0f ms; RSS after load %.0f MB\n", model->load_ms(), rss_after_load);
    std::printf("bandwidth    %.1f GB/s (streaming read of %zu MiB, median of %zu; %.1f before and %.1f after the "
                "decoder runs)\n",
                bw_gbps, o->bandwidth_mib, bw.size(), median(bw_before), median(bw_after));
    std::printf("decoder      %s ms/step (median of %d, context %lld; min %s) | %.3f GB/step (layers %.3f + head "
                "%.3f) -> %.1f GB/s = %.0f%% of bandwidth\n",
                ms_text(step_med).c_str(), o->steps, static_cast<long long>(p.context_positions),
                ms_text(*std::min_element(p.step_ms.begin(), p.step_ms.end())).c_str(),
                static_cast<double>(step_bytes) / 1e9, static_cast<double>(p.decoder_layer_bytes) / 1e9,
                static_cast<double>(p.head_bytes) / 1e9, step_gbps, bw_gbps > 0 ? 100.0 * step_gbps / bw_gbps : 0.0);
    std::printf("verification (pass of k rows incl. head; expected on %zu recorded streams from %s)\n", streams.size(),
                o->reference.empty() ? "(none: --reference DIR)" : o->reference.c_str());
    print_sim(sim, pass_ms, step_med);
    if (!streams.empty()) std::printf("  recommended k = %lld\n", static_cast<long long>(best_k));
    std::printf("encoder      %s ms per 80 ms streaming step (%s ms over a full %lld-position window) | offline %s ms "
                "per %lld-token chunk = %.3f s per second of audio | %.3f GB of weights\n",
                ms_text(p.encoder_step_ms).c_str(), ms_text(p.encoder_step_full_window_ms).c_str(),
                static_cast<long long>(p.encoder_window_positions), ms_text(p.encoder_chunk_ms).c_str(),
                static_cast<long long>(p.encoder_chunk_tokens), p.encoder_chunk_ms / 1000.0 / chunk_audio_s,
                static_cast<double>(p.encoder_bytes) / 1e9);
    std::printf("prefill      %s ms (%lld positions)\n", ms_text(p.prefill_ms).c_str(),
                static_cast<long long>(p.prefill_positions));
    for (const auto& r : runs) {
      const auto& s = r.t.stats;
      std::printf("offline      k=%-2d %s (%.2f s)%s: total %s ms, real-time factor %.3f | encoder %s ms, prefill %s "
                  "ms, decode %s ms = %s ms/position (%lld positions in %lld passes)\n",
                  r.verify, audio_name.c_str(), audio_s, o->replay.empty() ? "" : ", replayed tokens", ms_text(s.total_ms).c_str(), s.real_time_factor(),
                  ms_text(s.encoder_ms).c_str(), ms_text(s.prefill_ms).c_str(), ms_text(s.decode_ms).c_str(),
                  ms_text(s.decode_ms_per_step()).c_str(), static_cast<long long>(s.decode_steps),
                  static_cast<long long>(s.decode_passes));
    }
    std::printf("peak RSS     %.0f MB\n", peak_rss_mb());
    return 0;
  };
}

}  // namespace vrt::cli
