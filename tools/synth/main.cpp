// voxtral-rt-synth: writes a synthetic checkpoint directory in the real Mistral format.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "synth.h"
#include "voxtral_rt/error.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Write a synthetic Voxtral Realtime checkpoint (consolidated.safetensors, params.json,\n"
      "tekken.json) in the exact real format with random weights, deterministic by seed."};
  vrt::synth::SynthOptions o;
  std::string out, dtype = "bf16";
  std::vector<std::string> sets;
  app.add_option("-o,--output", out, "Output directory")->required();
  app.add_option("--config", o.preset, "Preset: tiny, small or full (the real dimensions)")
      ->capture_default_str();
  app.add_option("--set", sets,
                 "Override a dimension, KEY=VALUE (repeatable): top-level params.json keys "
                 "(dim, n_layers, sliding_window, ...), enc.KEY for the encoder, audio.KEY for "
                 "audio_encoding_args, downsample_factor");
  app.add_option("--seed", o.seed, "Random seed")->capture_default_str();
  app.add_option("--weight-scale", o.weight_scale,
                 "Linear weights: std = scale / sqrt(fan_in)")->capture_default_str();
  app.add_option("--embed-scale", o.embed_scale, "Token embedding std")->capture_default_str();
  app.add_option("--norm-jitter", o.norm_jitter, "Norm weights = 1 + uniform(-j, j)")
      ->capture_default_str();
  app.add_option("--bias-scale", o.bias_scale, "Biases = uniform(-b, b)")->capture_default_str();
  app.add_option("--tekken", o.tekken_path, "Copy this tekken.json (e.g. the real one) instead of "
                                            "generating a small vocabulary");
  app.add_option("--vocab-ranks", o.vocab_ranks,
                 "Text ranks of a generated vocabulary (vocab_size = ranks + 1000)")
      ->capture_default_str();
  app.add_option("--delay-ms", o.delay_ms, "transcription_delay_ms of a generated tekken.json")
      ->capture_default_str();
  app.add_option("--dtype", dtype, "Weight dtype: bf16 (as the real checkpoint), f16, f32")
      ->capture_default_str();
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "No progress output");
  CLI11_PARSE(app, argc, argv);

  try {
    if (dtype == "bf16") o.dtype = vrt::StDtype::BF16;
    else if (dtype == "f16") o.dtype = vrt::StDtype::F16;
    else if (dtype == "f32") o.dtype = vrt::StDtype::F32;
    else throw vrt::Error(vrt::Status::invalid_argument, "--dtype must be bf16, f16 or f32");
    for (const auto& s : sets) {
      const auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0)
        throw vrt::Error(vrt::Status::invalid_argument, "--set expects KEY=VALUE, got '" + s + "'");
      o.overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    int last_pct = -1;
    if (!quiet)
      o.progress = [&](std::uint64_t done, std::uint64_t total) {
        const int pct = total ? static_cast<int>(done * 100 / total) : 100;
        if (pct != last_pct) {
          std::fprintf(stderr, "\rwriting weights: %3d%% (%.2f / %.2f GB)", pct,
                       static_cast<double>(done) / 1e9, static_cast<double>(total) / 1e9);
          last_pct = pct;
        }
      };
    const auto config = vrt::synth::make_config(o);
    vrt::synth::write_checkpoint(out, o);
    if (!quiet)
      std::fprintf(stderr, "\nwrote %s: %lld parameters (%s preset)\n", out.c_str(),
                   static_cast<long long>(config.parameter_count()), o.preset.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "voxtral-rt-synth: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
