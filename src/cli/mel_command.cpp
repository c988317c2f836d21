// `voxtral-rt mel AUDIO -o OUT.npy`: the model's log-mel input as float32 .npy [n_mels, frames],
// with the offline padding schedule (32 silent tokens left; right: align to a token plus
// delay + 11 tokens), so it can be compared with any other implementation.
#include <cstdio>
#include <iostream>
#include <iterator>

#include "audio_input.h"
#include "commands.h"
#include "voxtral_rt/npy.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/checkpoint.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/mel.h"
#include "voxtral_rt/model_path.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt::cli {
namespace {

struct MelOptions {
  std::string audio;
  std::string output;
  std::string model;  // optional: take the front-end parameters from params.json
  int delay_ms = 480;
  bool no_pad = false;
  int threads = 1;
};


}  // namespace

Runner add_mel_command(CLI::App& app) {
  auto opt = std::make_shared<MelOptions>();
  auto* cmd = app.add_subcommand(
      "mel", "Compute the padded log-mel spectrogram the encoder sees, as float32 .npy [n_mels, frames]");
  cmd->add_option("AUDIO", opt->audio, "Audio file (WAV, FLAC, OGG, MP3), or - for stdin")->required();
  cmd->add_option("-o,--output", opt->output, "Output .npy file")->required();
  cmd->add_option("-m,--model", opt->model,
                  "Take mel parameters from this checkpoint's params.json (default: the real model's)");
  cmd->add_option("--delay-ms", opt->delay_ms,
                  "Transcription delay, sets the right padding (multiple of 80 ms)")
      ->capture_default_str();
  cmd->add_flag("--no-pad", opt->no_pad, "Skip the offline padding (the bare transform)");
  cmd->add_option("-t,--threads", opt->threads, "Threads")->capture_default_str()->check(CLI::Range(1, 256));
  return [opt] {
    MelConfig mc;
    int spt = 1280;
    if (!opt->model.empty()) {
      const auto config = ModelConfig::from_file(resolve_model_path(opt->model) + "/" + kParamsFileName);
      mc = MelConfig::from_model(config);
      spt = config.samples_per_token();
    }
    if (opt->delay_ms <= 0 || opt->delay_ms % 80 != 0)
      throw Error(Status::invalid_argument, "--delay-ms must be a positive multiple of 80");
    const LogMel mel(mc);
    const auto audio = read_audio_16k(opt->audio);
    std::vector<float> padded;
    std::span<const float> input = audio.samples;
    if (!opt->no_pad) {
      const int delay = delay_tokens_for_ms(opt->delay_ms, mc.sample_rate, mc.hop_length, spt);
      padded = pad_offline(audio.samples, kLeftPadTokens, right_pad_tokens(delay), spt);
      input = padded;
    }
    const auto m = mel.compute(input, opt->threads);
    const auto frames = static_cast<std::int64_t>(m.size() / static_cast<std::size_t>(mc.n_mels));
    npy::write_f32(opt->output, m, {mc.n_mels, frames});
    std::fprintf(stderr, "%s: %.2f s of audio -> %lld frames x %d mel bins\n", opt->output.c_str(),
                 audio.duration_s(), static_cast<long long>(frames), mc.n_mels);
    return 0;
  };
}

}  // namespace vrt::cli
