// `voxtral-rt bench -m MODEL [--threads N] [--qlinear ...] [--json]`: the model's speed on this
// machine, stage by stage, against the machine's own read bandwidth.
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
//                  plus the runtime's guesser (session.cpp decode_block / guess_after) replayed
//                  on the real model's golden greedy token streams (shared/data/reference) to
//                  give positions per pass and the expected decode time per position for each k
//   encoder        one 80 ms streaming step (8 mel frames -> conv stem + layers + adapter, with
//                  carried state), median, from a fresh state and over a full attention window
//                  (a long stream's steady state); offline chunks of
//                  Model::Impl::kEncoderChunkTokens tokens, per second of audio
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
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "audio_input.h"
#include "commands.h"
#include "common/aligned_buffer.h"
#include "kernels/cpu_features.h"
#include "model_options.h"
#include "runtime/model_impl.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/mel.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/model_path.h"
#include "voxtral_rt/session.h"

namespace vrt::cli {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

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
// Read bandwidth: sum of 64-bit words, the simplest streaming read (as bench/kernels).


// GB/s (1e9 bytes) per repeat of a streaming read of `bytes` with `threads` threads.
std::vector<double> measure_bandwidth_here(std::size_t bytes, int threads, int repeats) {
  AlignedBuffer buf(bytes);
  std::memset(buf.data(), 1, bytes);  // touch every page first
  const auto* data = reinterpret_cast<const std::uint64_t*>(buf.data());
  const auto words = static_cast<std::int64_t>(bytes / 8);
  ThreadPool pool(threads);
  std::vector<std::uint64_t> partial(static_cast<std::size_t>(threads) * 8, 0);
  std::vector<double> gbps;
  for (int r = 0; r < repeats + 1; ++r) {
    const auto t = Clock::now();
    const std::int64_t chunk = words / threads;
    pool.parallel_for(threads, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i)
        partial[static_cast<std::size_t>(i) * 8] = kernels::stream_read_sum(data + i * chunk, chunk);
    });
    const double s = ms_since(t) / 1000.0;
    volatile std::uint64_t sink = partial[0];
    (void)sink;
    if (r > 0) gbps.push_back(static_cast<double>(chunk * threads * 8) / s / 1e9);  // first = warm-up
  }
  return gbps;
}

// In a forked child, so that the buffer does not raise this process's peak RSS.
std::vector<double> measure_bandwidth(std::size_t bytes, int threads, int repeats) {
  int fds[2];
  if (pipe(fds) != 0) return measure_bandwidth_here(bytes, threads, repeats);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return measure_bandwidth_here(bytes, threads, repeats);
  }
  if (pid == 0) {
    close(fds[0]);
    std::vector<double> v;
    try {
      v = measure_bandwidth_here(bytes, threads, repeats);
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

// ---------------------------------------------------------------------------------------------
// Bytes one decoder step reads from its matrices.

std::int64_t weight_bytes(const kernels::LinearWeight& w) {
  if (w.quantized()) {
    const std::int64_t blocks = (w.q.rows + kernels::kQuantRowBlock - 1) / kernels::kQuantRowBlock;
    return blocks * w.q.block_bytes + blocks * w.q.groups * kernels::kQuantRowBlock * 2;  // data + f16 scales
  }
  return w.f.rows * w.f.cols * dtype_size(w.f.dtype);
}

const char* linear_kind(const kernels::LinearWeight& w) {
  if (!w.quantized()) return w.f.dtype == DType::f32 ? "f32" : w.f.dtype == DType::f16 ? "f16" : "bf16";
  if (w.q.format == kernels::QuantFormat::q8) return w.dynamic_int8 ? "8da8w" : "8w";
  return w.dynamic_int8 ? "8da4w" : "4w";
}

// ---------------------------------------------------------------------------------------------
// Verification decoding on real token statistics: the runtime's guesser replayed on a golden
// greedy stream (session.cpp decode_block, guess_after, learn_follower).

struct Follower {
  int candidate = 0;
  int votes = 0;
};

struct VerifySim {
  std::int64_t positions = 0;  // decode positions (after the prefill's token)
  std::int64_t passes = 0;
  std::map<std::int64_t, std::int64_t> pass_rows;  // rows per pass -> count
};

// tokens: the generated stream (tokens[0] comes from the prefill). Positions become available
// in chunks of `chunk` decoder positions (the offline encoder chunk), counted from decoder
// position 0; the prompt takes `n_prompt` of them.
VerifySim simulate_verification(const std::vector<int>& tokens, int k, int pad_id, int eos_id,
                                std::int64_t n_prompt, std::int64_t chunk) {
  VerifySim r;
  std::unordered_map<int, Follower> followers;
  auto guess_after = [&](int t) {
    const auto it = followers.find(t);
    return it == followers.end() ? pad_id : it->second.candidate;
  };
  auto learn = [&](int t, int next) {
    auto [it, fresh] = followers.try_emplace(t, Follower{next, 0});
    (void)fresh;
    Follower& f = it->second;
    if (f.candidate == next) {
      ++f.votes;
    } else if (f.votes == 0) {
      f = {next, 1};
    } else {
      --f.votes;
    }
  };
  const auto n = static_cast<std::int64_t>(tokens.size());
  if (n == 0) return r;
  int next_input = 0;  // a fresh session's next_input_ before the prefill's token
  auto emit = [&](int out) {
    const int input = next_input;
    next_input = out == eos_id ? pad_id : out;
    learn(input, next_input);
  };
  emit(tokens[0]);
  std::int64_t i = 1;  // next token index; decoder position n_prompt - 1 + i
  std::vector<int> guesses;
  while (i < n) {
    const std::int64_t pos = n_prompt - 1 + i;
    const std::int64_t chunk_end = chunk > 0 ? (pos / chunk + 1) * chunk : pos + n;  // positions available
    const std::int64_t rows = std::min<std::int64_t>({k, n - i, chunk_end - pos});
    guesses.assign(static_cast<std::size_t>(rows), next_input);
    for (std::int64_t j = 1; j < rows; ++j)
      guesses[static_cast<std::size_t>(j)] = guess_after(guesses[static_cast<std::size_t>(j - 1)]);
    std::int64_t accepted = 0;
    while (accepted < rows) {
      emit(tokens[static_cast<std::size_t>(i + accepted)]);
      ++accepted;
      if (accepted < rows && next_input != guesses[static_cast<std::size_t>(accepted)]) break;
    }
    i += accepted;
    r.positions += accepted;
    ++r.passes;
    ++r.pass_rows[rows];
  }
  return r;
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

std::vector<std::pair<std::string, std::vector<int>>> load_reference_streams(const std::string& dir) {
  std::vector<std::pair<std::string, std::vector<int>>> out;
  std::error_code ec;
  if (dir.empty() || !std::filesystem::is_directory(dir, ec)) return out;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("voxtral_realtime_tokens_", 0) == 0 && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    try {
      std::ifstream in(f);
      const auto j = nlohmann::json::parse(in);
      out.emplace_back(f.filename().string(), j.at("tokens").get<std::vector<int>>());
    } catch (const std::exception&) {
      // not a token stream: skip
    }
  }
  return out;
}

std::string first_existing(const std::vector<std::string>& candidates) {
  std::error_code ec;
  for (const auto& c : candidates)
    if (!c.empty() && std::filesystem::exists(c, ec)) return c;
  return {};
}

std::string shared_data_dir() {
  if (const char* e = std::getenv("VRT_SHARED_DATA"); e && *e) return e;
  return first_existing({"../shared/data", "shared/data", "../../shared/data"});
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
  bool no_transcribe = false;
  std::size_t bandwidth_mib = 1024;
};

}  // namespace

Runner add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchCli>();
  auto* cmd = app.add_subcommand("bench", "Measure decoder, encoder, prefill and end-to-end speed against this "
                                          "machine's read bandwidth");
  cmd->add_option("-m,--model", o->model, "Checkpoint directory, .vxrt file or Hugging Face repo id")->capture_default_str();
  add_scheme_options(cmd, o->schemes);
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->add_option("--audio", o->audio,
                  "Audio file for the offline run (default: shared/data's librispeech 8297-275156-0000 clip, "
                  "else 10 s of synthetic audio)");
  cmd->add_option("--reference", o->reference,
                  "Folder of golden token streams (voxtral_realtime_tokens_*.json) for the verification "
                  "simulation (default: shared/data/reference)");
  cmd->add_option("--steps", o->steps, "Decoder steps measured (median)")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--repeats", o->repeats, "Repeats of the other measurements (median)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--verify-k", o->ks, "Rows per verification pass to measure")->capture_default_str()->check(
      CLI::Range(2, SessionOptions::kMaxVerifyTokens));
  cmd->add_flag("--no-transcribe", o->no_transcribe, "Skip the offline transcriptions");
  cmd->add_option("--bandwidth-mib", o->bandwidth_mib, "Buffer size of the bandwidth measurement")
      ->capture_default_str()
      ->check(CLI::Range(16, 1 << 16));
  return [o] {
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
    const Model::Impl& m = model->impl();
    const ModelConfig& cfg = m.config();
    const auto& st = m.tokenizer().streaming();
    const int delay_ms = st.transcription_delay_ms;
    const int delay_tokens = delay_tokens_for_ms(delay_ms, st.sampling_rate, st.hop_length, st.samples_per_token());
    const std::int64_t n_prompt = 1 + st.streaming_n_left_pad_tokens + delay_tokens;
    const auto& ada = m.ada_scales(delay_tokens);
    const std::int64_t d = cfg.dim, vocab = cfg.vocab_size;
    const int pad = m.tokenizer().streaming_pad_id();
    ThreadPool* pool = &m.pool;

    // Bytes per decoder step.
    std::int64_t layer_bytes = 0;
    for (const auto& l : m.weights.decoder)
      for (const auto* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w1, &l.w2, &l.w3}) layer_bytes += weight_bytes(*w);
    const std::int64_t head_bytes = weight_bytes(m.weights.output);
    const std::int64_t step_bytes = layer_bytes + head_bytes;
    std::int64_t encoder_bytes = weight_bytes(m.weights.adapter_in) + weight_bytes(m.weights.adapter_out);
    for (const auto& l : m.weights.encoder)
      for (const auto* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w1, &l.w2, &l.w3}) encoder_bytes += weight_bytes(*w);

    // 2. Realistic inputs: the offline-padded log-mel of the audio (frame-major), and the adapter
    // outputs of its positions as the decoder's input rows.
    const std::string shared = shared_data_dir();
    std::vector<float> samples;
    std::string audio_name;
    {
      std::string file = o->audio;
      if (file.empty() && !shared.empty())
        file = first_existing({shared + "/audio/librispeech_dev-clean_8297-275156-0000.wav"});
      if (!file.empty()) {
        samples = read_audio_16k(file).samples;
        audio_name = file;
      } else {
        samples = synthetic_audio(10.0);
        audio_name = "synthetic 10 s";
      }
    }
    const double audio_s = static_cast<double>(samples.size()) / st.sampling_rate;
    const std::int64_t n_mels = cfg.encoder.audio.num_mel_bins;
    const std::int64_t frames_per_token = st.samples_per_token() / st.hop_length;
    const double seconds_per_token = static_cast<double>(st.samples_per_token()) / st.sampling_rate;
    std::vector<float> mel;  // [frames, n_mels]
    {
      const auto padded = pad_offline(samples, st.streaming_n_left_pad_tokens, right_pad_tokens(delay_tokens),
                                      st.samples_per_token());
      const auto cm = m.mel->compute(padded, 1);
      const std::int64_t t = static_cast<std::int64_t>(cm.size()) / n_mels;
      mel.resize(cm.size());
      for (std::int64_t b = 0; b < n_mels; ++b)
        for (std::int64_t f = 0; f < t; ++f) mel[static_cast<std::size_t>(f * n_mels + b)] = cm[static_cast<std::size_t>(b * t + f)];
    }
    const std::int64_t mel_frames = static_cast<std::int64_t>(mel.size()) / n_mels;
    // frames [f0, f0 + n) of the mel, wrapping around (a stream longer than the clip).
    auto mel_slice = [&](std::int64_t f0, std::int64_t n) {
      std::vector<float> v(static_cast<std::size_t>(n * n_mels));
      for (std::int64_t f = 0; f < n; ++f) {
        const std::int64_t src = (f0 + f) % mel_frames;
        std::copy_n(mel.begin() + src * n_mels, n_mels, v.begin() + f * n_mels);
      }
      return v;
    };

    std::unique_lock<std::mutex> lock(m.pool_mutex);  // released for transcribe(), which takes it

    // 3. Encoder: offline chunks (fresh state carried between calls; their adapter outputs are
    // the decoder's inputs below), then 80 ms streaming steps.
    log("encoder");
    std::vector<float> enc_out, emb, rows;
    const std::int64_t chunk_tokens = Model::Impl::kEncoderChunkTokens;
    const std::int64_t chunk_frames = chunk_tokens * frames_per_token;
    std::vector<double> enc_chunk_ms;
    {
      EncoderState es = m.encoder->new_state();
      const int n = std::max(3, std::min(o->repeats, 4)) + 1;
      for (int r = 0; r < n; ++r) {
        const auto x = mel_slice(r * chunk_frames, chunk_frames);
        const auto t = Clock::now();
        m.encoder->forward(es, x.data(), chunk_frames, enc_out, pool);
        m.encoder->adapter(enc_out.data(), chunk_tokens, emb, pool);
        if (r > 0) enc_chunk_ms.push_back(ms_since(t));
        rows.insert(rows.end(), emb.begin(), emb.end());
      }
    }
    const std::int64_t n_rows = static_cast<std::int64_t>(rows.size()) / d;
    // Streaming steps from a fresh state (short attention spans), and in the steady state of a
    // long stream: the state first filled to the full attention window (sliding_window encoder
    // positions, 15 s) by offline chunks, so that every step attends over the whole window.
    std::vector<double> enc_step_ms, enc_step_full_ms;
    const std::int64_t window_tokens =
        (cfg.encoder.sliding_window + cfg.downsample_factor - 1) / cfg.downsample_factor;  // ceil: encoder frames per token
    for (const bool full : {false, true}) {
      EncoderState es = m.encoder->new_state();
      std::int64_t f0 = st.streaming_n_left_pad_tokens * frames_per_token;
      if (full) {
        for (std::int64_t tok = 0; tok < window_tokens; tok += chunk_tokens, f0 += chunk_frames) {
          const auto x = mel_slice(f0, chunk_frames);
          m.encoder->forward(es, x.data(), chunk_frames, enc_out, pool);
        }
      }
      const int warm = 2, n = std::max(10, o->steps / 2);
      for (int s = 0; s < warm + n; ++s, f0 += frames_per_token) {
        const auto x = mel_slice(f0, frames_per_token);
        const auto t = Clock::now();
        m.encoder->forward(es, x.data(), frames_per_token, enc_out, pool);
        m.encoder->adapter(enc_out.data(), 1, emb, pool);
        if (s >= warm) (full ? enc_step_full_ms : enc_step_ms).push_back(ms_since(t));
      }
    }
    const double chunk_audio_s = static_cast<double>(chunk_tokens) * seconds_per_token;

    // Decoder input rows for positions p0..p0+k: a[p] + E[token].
    auto decoder_rows = [&](std::int64_t p0, const std::vector<int>& tokens) {
      const auto k = static_cast<std::int64_t>(tokens.size());
      std::vector<float> x(static_cast<std::size_t>(k * d));
      for (std::int64_t j = 0; j < k; ++j) {
        std::copy_n(rows.begin() + ((p0 + j) % n_rows) * d, d, x.begin() + j * d);
        m.decoder->add_embedding(tokens[static_cast<std::size_t>(j)], x.data() + j * d);
      }
      return x;
    };

    // 4. Bandwidth, right before the decoder measurements (in a forked child: see above).
    log("read bandwidth");
    const int bw_repeats = std::max(o->repeats, 5);
    const auto bw_before = measure_bandwidth(o->bandwidth_mib << 20, threads, bw_repeats);

    // 5. Prefill: the prompt in one batched pass plus the head of its last row.
    log("prefill");
    std::vector<float> logits(static_cast<std::size_t>(SessionOptions::kMaxVerifyTokens * vocab));
    std::vector<double> prefill_ms;
    DecoderState state;
    std::vector<int> prompt(static_cast<std::size_t>(n_prompt), pad);
    prompt[0] = m.tokenizer().bos_id();
    for (int r = 0; r < std::max(1, std::min(o->repeats, 3)); ++r) {
      state = m.decoder->new_state();
      auto x = decoder_rows(0, prompt);
      const auto t = Clock::now();
      m.decoder->forward(state, x.data(), n_prompt, ada, pool);
      m.decoder->logits(x.data() + (n_prompt - 1) * d, 1, logits.data(), pool);
      prefill_ms.push_back(ms_since(t));
    }

    // 6. Decoder steps (one position each) after the prompt.
    log("decoder steps");
    auto step = [&](const std::vector<int>& tokens) {
      const auto k = static_cast<std::int64_t>(tokens.size());
      auto x = decoder_rows(state.next_pos, tokens);
      const auto t = Clock::now();
      m.decoder->forward(state, x.data(), k, ada, pool);
      m.decoder->logits(x.data(), k, logits.data(), pool);
      return ms_since(t);
    };
    const int warmup = 3;
    std::vector<double> step_ms;
    for (int s = 0; s < warmup + o->steps; ++s) {
      const double ms = step({pad});
      if (s >= warmup) step_ms.push_back(ms);
    }
    const double step_med = median(step_ms);

    // 7. Verification passes: k rows, then roll back (as a fully rejected pass would).
    log("verification passes");
    std::map<std::int64_t, double> pass_ms{{1, step_med}};
    for (const int k : o->ks) {
      std::vector<double> v;
      const std::int64_t p0 = state.next_pos;
      for (int r = 0; r < o->repeats + 1; ++r) {
        const double ms = step(std::vector<int>(static_cast<std::size_t>(k), pad));
        state.next_pos = p0;
        if (r > 0) v.push_back(ms);
      }
      pass_ms[k] = median(v);
    }
    state = {};  // free the KV caches before the transcriptions

    log("read bandwidth again");
    const auto bw_after = measure_bandwidth(o->bandwidth_mib << 20, threads, bw_repeats);
    std::vector<double> bw = bw_before;
    bw.insert(bw.end(), bw_after.begin(), bw_after.end());
    const double bw_gbps = median(bw);

    // 8. Verification decoding on the golden token streams.
    const std::string ref_dir = !o->reference.empty() ? o->reference : (shared.empty() ? "" : shared + "/reference");
    const auto streams = load_reference_streams(ref_dir);
    struct SimRow {
      std::int64_t k, positions = 0, passes = 0;
      double expected_ms = 0;  // total expected decode time
    };
    std::vector<SimRow> sim;
    for (const auto& [k, ms] : pass_ms) {
      SimRow row{k};
      for (const auto& [name, tokens] : streams) {
        const auto r = simulate_verification(tokens, static_cast<int>(k), pad, m.tokenizer().eos_id(), n_prompt,
                                             chunk_tokens);
        row.positions += r.positions;
        row.passes += r.passes;
        for (const auto& [nrows, count] : r.pass_rows) row.expected_ms += static_cast<double>(count) * pass_cost(pass_ms, nrows);
      }
      sim.push_back(row);
    }
    std::int64_t best_k = 1;
    double best_ms = 0;
    for (const auto& r : sim) {
      if (r.positions == 0) continue;
      const double per = r.expected_ms / static_cast<double>(r.positions);
      if (best_ms == 0 || per < best_ms) best_ms = per, best_k = r.k;
    }

    // 9. Offline transcriptions.
    struct Run {
      int verify = 0;
      Transcript t;
    };
    std::vector<Run> runs;
    if (!o->no_transcribe) {
      lock.unlock();
      for (const int v : {0, 1}) {
        log(v == 0 ? "offline transcription, verification decoding" : "offline transcription, one position per pass");
        TranscribeOptions to;
        to.verify_tokens = v;
        runs.push_back({v == 0 ? SessionOptions::kDefaultVerifyTokens : 1, model->transcribe(samples, to)});
      }
    }

    // Report.
    const double step_gbps = step_med > 0 ? static_cast<double>(step_bytes) / (step_med / 1000.0) / 1e9 : 0;
    nlohmann::ordered_json j;
    j["model"] = path;
    j["schemes"] = model->quant().describe();
    j["kv_cache"] = kv_cache_type_name(model->kv_cache());
    j["decoder_weight_kinds"] = {{"wq", linear_kind(m.weights.decoder.at(0).wq)},
                                 {"w1", linear_kind(m.weights.decoder.at(0).w1)},
                                 {"head", linear_kind(m.weights.output)},
                                 {"encoder_wq", linear_kind(m.weights.encoder.at(0).wq)},
                                 {"embedding", linear_kind(m.weights.tok_embeddings)}};
    j["threads"] = model->threads();
    j["cpu"] = kernels::cpu_features().describe();
    j["load_ms"] = model->load_ms();
    j["bandwidth"] = {{"gbps", bw_gbps},
                      {"before_decoder_gbps", median(bw_before)},
                      {"after_decoder_gbps", median(bw_after)},
                      {"buffer_mib", o->bandwidth_mib},
                      {"repeats", bw}};
    j["decoder"] = {{"context_positions", n_prompt + warmup},
                    {"steps", o->steps},
                    {"ms_per_step", step_med},
                    {"ms_per_step_min", *std::min_element(step_ms.begin(), step_ms.end())},
                    {"bytes_per_step", step_bytes},
                    {"layer_bytes", layer_bytes},
                    {"head_bytes", head_bytes},
                    {"gbps", step_gbps},
                    {"bandwidth_fraction", bw_gbps > 0 ? step_gbps / bw_gbps : 0}};
    nlohmann::ordered_json ver = nlohmann::ordered_json::array();
    for (const auto& r : sim) {
      nlohmann::ordered_json e;
      e["k"] = r.k;
      e["pass_ms"] = pass_ms.at(r.k);
      e["best_case_ms_per_position"] = pass_ms.at(r.k) / static_cast<double>(r.k);
      if (r.positions > 0) {
        e["positions_per_pass"] = static_cast<double>(r.positions) / static_cast<double>(r.passes);
        e["expected_ms_per_position"] = r.expected_ms / static_cast<double>(r.positions);
        e["expected_speedup"] = step_med / (r.expected_ms / static_cast<double>(r.positions));
      }
      ver.push_back(e);
    }
    j["verification"] = {{"passes", ver},
                         {"reference_streams", static_cast<std::int64_t>(streams.size())},
                         {"reference_dir", ref_dir},
                         {"recommended_k", best_k}};
    j["encoder"] = {{"ms_per_streaming_step", median(enc_step_ms)},
                    {"ms_per_streaming_step_full_window", median(enc_step_full_ms)},
                    {"window_positions", cfg.encoder.sliding_window},
                    {"streaming_step_audio_ms", seconds_per_token * 1000.0},
                    {"chunk_tokens", chunk_tokens},
                    {"ms_per_chunk", median(enc_chunk_ms)},
                    {"s_per_audio_s_offline", median(enc_chunk_ms) / 1000.0 / chunk_audio_s},
                    {"weight_bytes", encoder_bytes}};
    j["prefill"] = {{"positions", n_prompt}, {"ms", median(prefill_ms)}};
    nlohmann::ordered_json off = nlohmann::ordered_json::array();
    for (const auto& r : runs) {
      const auto& s = r.t.stats;
      off.push_back({{"verify_tokens", r.verify},
                     {"audio", audio_name},
                     {"audio_s", audio_s},
                     {"total_ms", s.total_ms},
                     {"real_time_factor", s.real_time_factor()},
                     {"encoder_ms", s.encoder_ms},
                     {"prefill_ms", s.prefill_ms},
                     {"decode_ms", s.decode_ms},
                     {"decode_steps", s.decode_steps},
                     {"decode_passes", s.decode_passes},
                     {"decode_ms_per_step", s.decode_ms_per_step()},
                     {"generated_tokens", s.generated_tokens}});
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
                linear_kind(m.weights.decoder.at(0).wq), linear_kind(m.weights.output),
                linear_kind(m.weights.encoder.at(0).wq), linear_kind(m.weights.tok_embeddings));
    std::printf("kv cache     %s\n", kv_cache_type_name(model->kv_cache()));
    std::printf("threads      %d; cpu: %s\n", model->threads(), kernels::cpu_features().describe().c_str());
    std::printf("load         %.0f ms; RSS after load %.0f MB\n", model->load_ms(), rss_after_load);
    std::printf("bandwidth    %.1f GB/s (streaming read of %zu MiB, median of %zu; %.1f before and %.1f after the "
                "decoder runs)\n",
                bw_gbps, o->bandwidth_mib, bw.size(), median(bw_before), median(bw_after));
    std::printf("decoder      %s ms/step (median of %d, context %lld; min %s) | %.3f GB/step (layers %.3f + head "
                "%.3f) -> %.1f GB/s = %.0f%% of bandwidth\n",
                ms_text(step_med).c_str(), o->steps, static_cast<long long>(n_prompt + warmup),
                ms_text(*std::min_element(step_ms.begin(), step_ms.end())).c_str(), static_cast<double>(step_bytes) / 1e9,
                static_cast<double>(layer_bytes) / 1e9, static_cast<double>(head_bytes) / 1e9, step_gbps,
                bw_gbps > 0 ? 100.0 * step_gbps / bw_gbps : 0.0);
    std::printf("verification (pass of k rows incl. head; expected on %zu golden streams from %s)\n", streams.size(),
                ref_dir.empty() ? "(none)" : ref_dir.c_str());
    std::printf("   k   pass ms   best ms/pos   positions/pass   expected ms/pos   speedup\n");
    for (const auto& r : sim) {
      const double pm = pass_ms.at(r.k);
      if (r.positions > 0) {
        const double per = r.expected_ms / static_cast<double>(r.positions);
        std::printf("  %2lld  %8s  %12s  %15.2f  %16s  %7.2fx\n", static_cast<long long>(r.k), ms_text(pm).c_str(),
                    ms_text(pm / static_cast<double>(r.k)).c_str(),
                    static_cast<double>(r.positions) / static_cast<double>(r.passes), ms_text(per).c_str(), step_med / per);
      } else {
        std::printf("  %2lld  %8s  %12s  %15s  %16s  %8s\n", static_cast<long long>(r.k), ms_text(pm).c_str(),
                    ms_text(pm / static_cast<double>(r.k)).c_str(), "-", "-", "-");
      }
    }
    if (!streams.empty()) std::printf("  recommended k = %lld\n", static_cast<long long>(best_k));
    std::printf("encoder      %s ms per 80 ms streaming step (%s ms over a full %d-position window) | offline %s ms "
                "per %lld-token chunk = %.3f s per second of audio | %.3f GB of weights\n",
                ms_text(median(enc_step_ms)).c_str(), ms_text(median(enc_step_full_ms)).c_str(),
                cfg.encoder.sliding_window, ms_text(median(enc_chunk_ms)).c_str(),
                static_cast<long long>(chunk_tokens), median(enc_chunk_ms) / 1000.0 / chunk_audio_s,
                static_cast<double>(encoder_bytes) / 1e9);
    std::printf("prefill      %s ms (%lld positions)\n", ms_text(median(prefill_ms)).c_str(),
                static_cast<long long>(n_prompt));
    for (const auto& r : runs) {
      const auto& s = r.t.stats;
      std::printf("offline      k=%-2d %s (%.2f s): total %s ms, real-time factor %.3f | encoder %s ms, prefill %s "
                  "ms, decode %s ms = %s ms/position (%lld positions in %lld passes)\n",
                  r.verify, audio_name.c_str(), audio_s, ms_text(s.total_ms).c_str(), s.real_time_factor(),
                  ms_text(s.encoder_ms).c_str(), ms_text(s.prefill_ms).c_str(), ms_text(s.decode_ms).c_str(),
                  ms_text(s.decode_ms_per_step()).c_str(), static_cast<long long>(s.decode_steps),
                  static_cast<long long>(s.decode_passes));
    }
    std::printf("peak RSS     %.0f MB\n", peak_rss_mb());
    return 0;
  };
}

}  // namespace vrt::cli
