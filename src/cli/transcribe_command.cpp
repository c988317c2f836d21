// `voxtral-rt transcribe -m MODEL AUDIO...`: offline transcription of files (or stdin), with
// text, JSON, SRT or VTT output, optional stats and stage dumps.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>

#include "audio_input.h"
#include "commands.h"
#include "model_options.h"
#include "voxtral_rt/npy.h"
#include "output_formats.h"
#include "replay_input.h"
#include "voxtral_rt/subtitles.h"
#include "voxtral_rt/system.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/model_path.h"

namespace vrt::cli {
namespace {

struct TranscribeCli {
  std::string model = kDefaultModelId;
  std::vector<std::string> audio;
  std::string format = "txt";
  int delay_ms = 0;
  SchemeFlags schemes;
  std::int64_t max_new_tokens = -1;
  int verify_tokens = 0;
  std::string replay;
  std::int64_t replay_offset = 0;
  bool stats = false;
  std::string dump_dir;
  bool no_progress = false;
};


double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

void write_dump(const std::string& dir, const StageDump& d, const Transcript& t, const Model& m) {
  std::filesystem::create_directories(dir);
  const auto& c = m.config();
  const auto rows = [](const std::vector<float>& v, std::int64_t cols) {
    return cols ? static_cast<std::int64_t>(v.size()) / cols : 0;
  };
  const std::int64_t nm = c.encoder.audio.num_mel_bins;
  npy::write_f32(dir + "/mel.npy", d.mel, {nm, rows(d.mel, nm)});
  npy::write_f32(dir + "/encoder.npy", d.encoder, {rows(d.encoder, c.encoder.dim), c.encoder.dim});
  npy::write_f32(dir + "/adapter.npy", d.adapter, {rows(d.adapter, c.dim), c.dim});
  npy::write_f32(dir + "/logits.npy", d.logits, {rows(d.logits, c.vocab_size), c.vocab_size});
  std::vector<std::int32_t> ids;
  for (const auto& k : t.tokens) ids.push_back(k.id);
  npy::write_i32(dir + "/tokens.npy", ids, {static_cast<std::int64_t>(ids.size())});
}

void print_stats(const Transcript& t, const Model& m, const std::string& file) {
  const auto& s = t.stats;
  const double tok_s = s.decode_ms > 0 ? static_cast<double>(s.decode_steps) * 1000.0 / s.decode_ms : 0;
  std::fprintf(stderr,
               "stats %s: audio %.2f s | load %.0f ms | mel %.1f ms | encoder %.1f ms | prefill %.1f ms (%lld positions, "
               "%lld cached) | decode %.1f ms/step x %lld steps in %lld passes (%.1f tokens/s) | total %.0f ms | "
               "real-time factor %.3f | peak RSS %.0f MB | %d threads | %s kv=%s | kernels %s\n",
               file.c_str(), s.audio_s, m.load_ms(), s.mel_ms, s.encoder_ms, s.prefill_ms,
               static_cast<long long>(s.prefill_positions), static_cast<long long>(s.cached_positions),
               s.decode_ms_per_step(), static_cast<long long>(s.decode_steps), static_cast<long long>(s.decode_passes),
               tok_s, s.total_ms, s.real_time_factor(), peak_rss_mb(), m.threads(), m.quant().describe().c_str(), kv_cache_type_name(m.kv_cache()),
               kernel_table());
}

}  // namespace

Runner add_transcribe_command(CLI::App& app) {
  auto o = std::make_shared<TranscribeCli>();
  auto* cmd = app.add_subcommand("transcribe", "Transcribe audio files offline");
  cmd->add_option("AUDIO", o->audio, "Audio files (WAV, FLAC, OGG, MP3; any rate), - for stdin")->required();
  cmd->add_option("-m,--model", o->model, "Checkpoint directory or Hugging Face repo id")->capture_default_str();
  cmd->add_option("-f,--format", o->format, "Output: txt, json, srt or vtt")
      ->check(CLI::IsMember({"txt", "json", "srt", "vtt"}))
      ->capture_default_str();
  cmd->add_option("--delay-ms", o->delay_ms,
                  "Transcription delay: a multiple of 80 from 80 to 1200, or 2400 (default: the model's, 480)");
  add_scheme_options(cmd, o->schemes);
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "Stop after this many generated tokens");
  cmd->add_option("--verify-tokens", o->verify_tokens,
                  "Positions checked per decoder pass (verification decoding; same output as greedy): "
                  "0 = default (4), 1 = off")
      ->check(CLI::Range(0, 16));
  cmd->add_option("--replay", o->replay, kReplayHelp);
  cmd->add_option("--replay-offset", o->replay_offset, "--replay: start this many tokens into the recording")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--stats", o->stats, "Print timing and memory statistics to stderr");
  cmd->add_option("--dump", o->dump_dir,
                  "Write mel.npy, encoder.npy, adapter.npy, logits.npy, tokens.npy (float32/int32) to DIR");
  cmd->add_flag("--no-progress", o->no_progress, "No progress bar on a terminal");
  return [o] {
    if (o->delay_ms != 0) validate_delay_ms(o->delay_ms);
    if (o->dump_dir.size() && o->audio.size() > 1)
      throw Error(Status::invalid_argument, "--dump takes a single audio file");
    const std::vector<int> replay = o->replay.empty() ? std::vector<int>{} : load_replay_tokens(o->replay);
    const auto model = Model::load(resolve_model_path(o->model), load_options(o->schemes));
    if (!replay.empty()) note_replay(o->replay, replay.size());
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const auto& file : o->audio) {
      const auto audio = read_audio_16k(file);
      TranscribeOptions to;
      to.delay_ms = o->delay_ms;
      to.max_new_tokens = o->max_new_tokens;
      to.verify_tokens = o->verify_tokens;
      to.replay_tokens = replay;
      to.replay_offset = o->replay_offset;
      StageDump dump;
      if (!o->dump_dir.empty()) to.dump = &dump;
      const bool bar = !o->no_progress && isatty(STDERR_FILENO) && audio.duration_s() > 20.0;
      if (bar)
        to.on_progress = [](double f) {
          const int w = 40, n = static_cast<int>(f * w);
          std::fprintf(stderr, "\r[%s%s] %3d%%", std::string(static_cast<std::size_t>(n), '#').c_str(),
                       std::string(static_cast<std::size_t>(w - n), ' ').c_str(), static_cast<int>(f * 100));
        };
      const Transcript t = model->transcribe(audio.samples, to);
      if (bar) std::fprintf(stderr, "\r%60s\r", "");
      if (!o->dump_dir.empty()) write_dump(o->dump_dir, dump, t, *model);
      const bool many = o->audio.size() > 1;
      if (o->format == "txt") {
        if (many) std::cout << "==> " << file << " <==\n";
        const auto first = t.text.find_first_not_of(' ');
        std::cout << (first == std::string::npos ? "" : t.text.substr(first)) << "\n";
      } else if (o->format == "json") {
        all.push_back(to_json(t, file));
      } else {
        if (many) std::cout << (o->format == "srt" ? "" : "NOTE ") << file << "\n\n";
        std::cout << (o->format == "srt" ? to_srt(t) : to_vtt(t));
      }
      std::cout.flush();
      if (o->stats) print_stats(t, *model, file);
    }
    if (o->format == "json")
      std::cout << (all.size() == 1 ? all[0] : all).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    return 0;
  };
}

}  // namespace vrt::cli
