// `voxtral-rt stream`: live transcription of audio arriving on stdin (raw PCM or WAV), printing
// text as soon as it is decided. Works with pipes: `ffmpeg -i X -f s16le -ar 16000 -ac 1 - |
// voxtral-rt stream -` or `arecord -f S16_LE -r 16000 -c 1 | voxtral-rt stream --input-format wav`.
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "commands.h"
#include "model_options.h"
#include "replay_input.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/microphone.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/model_path.h"
#include "voxtral_rt/session.h"

namespace vrt::cli {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }

struct StreamCli {
  std::string model = kDefaultModelId;
  std::string input = "-";
  std::string input_format = "s16le";
  int rate = 16000;
  int channels = 1;
  int delay_ms = 0;
  int interval_ms = 80;
  SchemeFlags schemes;
  bool timestamps = false;
  bool realtime = false;
  bool stop_on_eos = false;
  bool stats = false;
  int verify_tokens = 0;
  std::string replay;
  std::int64_t replay_offset = 0;
  bool mic = false;
  std::string mic_device;
};

// Reads stdin in chunks of about interval_ms of audio, decoding raw PCM or a streamed WAV.
class StdinAudio {
 public:
  explicit StdinAudio(const StreamCli& o) : o_(o) {
    if (o.input_format == "wav") {
      wav_ = std::make_unique<WavStreamParser>();
    } else {
      pcm_ = std::make_unique<PcmDecoder>(o.input_format == "f32le" ? PcmFormat::f32le : PcmFormat::s16le, o.channels);
    }
  }
  int rate() const { return wav_ && wav_->header_complete() ? wav_->sample_rate() : o_.rate; }

  // Waits up to 100 ms for input; false at end of input.
  bool read(std::vector<float>& out) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int r = ::poll(&p, 1, 100);
    if (r < 0) {
      if (errno == EINTR) return true;
      throw Error(Status::io_error, "cannot poll stdin");
    }
    if (r == 0) return true;
    std::uint8_t buf[16384];
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) return true;
      throw Error(Status::io_error, "cannot read stdin");
    }
    if (n == 0) {
      if (wav_) wav_->finish();
      return false;
    }
    const std::span<const std::uint8_t> bytes(buf, static_cast<std::size_t>(n));
    if (wav_) wav_->push_bytes(bytes, out);
    else pcm_->push_bytes(bytes, out);
    return true;
  }

  std::size_t trailing_bytes() const { return pcm_ ? pcm_->pending_bytes() : 0; }

 private:
  const StreamCli& o_;
  std::unique_ptr<WavStreamParser> wav_;
  std::unique_ptr<PcmDecoder> pcm_;
};

}  // namespace

Runner add_stream_command(CLI::App& app) {
  auto o = std::make_shared<StreamCli>();
  auto* cmd = app.add_subcommand("stream", "Transcribe live audio from stdin or the microphone, printing text as it is decided");
  cmd->add_option("INPUT", o->input, "- for stdin")->capture_default_str();
  cmd->add_flag("--mic", o->mic, "Capture from the default microphone (PulseAudio/PipeWire) instead of stdin");
  cmd->add_option("--mic-device", o->mic_device, "Capture from this PulseAudio source instead of the default");
  cmd->add_option("-m,--model", o->model, "Checkpoint directory or Hugging Face repo id")->capture_default_str();
  cmd->add_option("--input-format", o->input_format, "s16le, f32le (raw PCM) or wav")
      ->check(CLI::IsMember({"s16le", "f32le", "wav"}))
      ->capture_default_str();
  cmd->add_option("--rate", o->rate, "Sample rate of raw PCM input (resampled to 16 kHz)")
      ->check(CLI::Range(8000, 192000))
      ->capture_default_str();
  cmd->add_option("--channels", o->channels, "Channels of raw PCM input (downmixed)")->check(CLI::Range(1, 8))->capture_default_str();
  cmd->add_option("--delay-ms", o->delay_ms, "Transcription delay (multiple of 80 in 80..1200, or 2400; default 480)");
  cmd->add_option("--interval-ms", o->interval_ms,
                  "Audio gathered per processing call: larger trades latency for throughput")
      ->check(CLI::Range(10, 10000))
      ->capture_default_str();
  add_scheme_options(cmd, o->schemes);
  cmd->add_flag("--timestamps", o->timestamps, "Print each word on its own line with its time");
  cmd->add_flag("--realtime", o->realtime, "Pace the input at real speed (shows true latency for files)");
  cmd->add_flag("--stop-on-eos", o->stop_on_eos, "End the stream when the model writes EOS (default: go on)");
  cmd->add_flag("--stats", o->stats, "Print latency and per-step compute statistics to stderr at the end");
  cmd->add_option("--verify-tokens", o->verify_tokens,
                  "Positions verified per decoder pass when several are waiting (0 = default 4, 1 = none)")
      ->check(CLI::Range(0, SessionOptions::kMaxVerifyTokens));
  cmd->add_option("--replay", o->replay, kReplayHelp);
  cmd->add_option("--replay-offset", o->replay_offset, "--replay: start this many tokens into the recording")
      ->check(CLI::NonNegativeNumber);
  return [o] {
    if (o->input != "-") throw Error(Status::invalid_argument, "stream reads stdin (-) or the microphone (--mic)");
    std::unique_ptr<Microphone> mic;
    if (o->mic || !o->mic_device.empty()) mic = std::make_unique<Microphone>(o->mic_device, o->interval_ms);
    if (o->delay_ms != 0) validate_delay_ms(o->delay_ms);
    std::signal(SIGINT, on_sigint);
    std::signal(SIGPIPE, SIG_IGN);
    const std::vector<int> replay = o->replay.empty() ? std::vector<int>{} : load_replay_tokens(o->replay);
    const auto model = Model::load(resolve_model_path(o->model), load_options(o->schemes));
    if (!replay.empty()) note_replay(o->replay, replay.size());
    SessionOptions so;
    so.verify_tokens = o->verify_tokens;
    so.replay_tokens = replay;
    so.replay_offset = o->replay_offset;
    so.delay_ms = o->delay_ms;
    so.stop_on_eos = o->stop_on_eos;
    so.max_kept_tokens = 4096;  // text is printed as it comes: keep memory constant for endless streams
    bool new_word = true;
    if (o->timestamps) {
      so.on_token = [&](const Token& t) {
        if (t.special) {
          if (t.id == model->tokenizer().streaming_word_id()) new_word = true;
          return;
        }
        if (new_word || (!t.piece.empty() && t.piece[0] == ' ')) {
          const auto ms = static_cast<long long>(t.time_s * 1000);
          std::printf("\n[%02lld:%02lld.%03lld] ", ms / 60000, ms / 1000 % 60, ms % 1000);
          new_word = false;
        }
      };
    }
    // Text deltas never split a UTF-8 character (the session holds partial ones back).
    so.on_text = [&](std::string_view d) {
      if (o->timestamps && !d.empty() && d[0] == ' ') d.remove_prefix(1);
      std::fwrite(d.data(), 1, d.size(), stdout);
      std::fflush(stdout);
    };
    auto session = model->new_session(so);
    std::vector<float> buf;
    if (mic) {
      std::fprintf(stderr, "listening (Ctrl-C to stop)\n");
      while (!g_interrupted) {
        mic->read(buf);
        session->feed(buf);
      }
      buf.clear();
    }
    StdinAudio in(*o);
    const auto t0 = std::chrono::steady_clock::now();
    std::int64_t fed = 0;  // input samples fed (at the input's rate)
    const std::size_t interval = static_cast<std::size_t>(o->interval_ms) * 16;
    bool open = !mic;
    while (open && !g_interrupted) {
      open = in.read(buf);
      const int rate = in.rate();
      const std::size_t want = interval * static_cast<std::size_t>(rate) / 16000;
      auto at = [&](std::int64_t samples) {
        return t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(samples) / rate));
      };
      while (buf.size() >= want || (!open && !buf.empty())) {
        std::size_t n = std::min(want, buf.size());
        if (o->realtime) {
          // A live source: an interval is fed once its last sample was captured. When the
          // session fell behind, everything captured by now goes in at once (as a microphone
          // queue would deliver it), with its capture time, so latencies count from when the
          // speech was captured: the wait for the interval to fill and for the busy session
          // included.
          std::this_thread::sleep_until(at(fed + static_cast<std::int64_t>(n)));
          const double now_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          const auto captured = static_cast<std::size_t>(std::max<std::int64_t>(0, static_cast<std::int64_t>(now_s * rate) - fed));
          while (open && buf.size() < captured) open = in.read(buf);
          while (n + want <= std::min(captured, buf.size())) n += want;
          session->captured(static_cast<std::int64_t>(n * 16000 / static_cast<std::size_t>(rate)),
                            at(fed + static_cast<std::int64_t>(n)));
        }
        session->feed({buf.data(), n}, rate);
        fed += static_cast<std::int64_t>(n);
        buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        if (g_interrupted) break;
      }
    }
    if (!buf.empty()) session->feed(buf, in.rate());
    const auto t = session->finish();
    std::printf("\n");
    std::fflush(stdout);
    if (in.trailing_bytes() > 0)
      std::fprintf(stderr, "voxtral-rt: warning: %zu trailing bytes (an incomplete sample) were ignored\n", in.trailing_bytes());
    if (o->stats) {
      const auto s = session->stream_stats();
      std::fprintf(stderr,
                   "stats: audio %.2f s | %lld tokens | latency p50 %.0f ms, p95 %.0f ms, max %.0f ms | "
                   "compute per step p50 %.1f ms, p95 %.1f ms | total compute %.0f ms (mel %.0f, encoder %.0f, "
                   "prefill %.0f, decoder %.0f) | %lld positions in %lld decoder passes\n",
                   t.stats.audio_s, static_cast<long long>(s.tokens), s.latency_p50_ms, s.latency_p95_ms,
                   s.latency_max_ms, s.step_p50_ms, s.step_p95_ms, t.stats.total_ms, t.stats.mel_ms,
                   t.stats.encoder_ms, t.stats.prefill_ms, t.stats.decode_ms,
                   static_cast<long long>(t.stats.decode_steps), static_cast<long long>(t.stats.decode_passes));
    }
    return 0;
  };
}

}  // namespace vrt::cli
