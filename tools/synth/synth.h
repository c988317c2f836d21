// Synthetic Voxtral Realtime checkpoints in the exact real format: consolidated.safetensors
// (real tensor names and layout, BF16 by default), params.json (real key layout) and
// tekken.json (the real one copied, or a small generated vocabulary). Random weights,
// deterministic by seed, streamed to disk so the full-size model (8.86 GB) never sits in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors.h"
#include "model/tensor_names.h"
#include "voxtral_rt/config.h"

namespace vrt::synth {

struct SynthOptions {
  std::string preset = "tiny";  // tiny | small | full
  // Dimension overrides "key=value": top-level params.json keys (dim, n_layers, sliding_window,
  // ...), "enc.KEY" for encoder_args, "audio.KEY" for audio_encoding_args, downsample_factor.
  std::vector<std::pair<std::string, std::string>> overrides;
  std::uint64_t seed = 0;
  double weight_scale = 1.0;  // linear/conv weights: std = weight_scale / sqrt(fan_in)
  double embed_scale = 1.0;   // token embedding (and tied head) std
  double norm_jitter = 0.1;   // norm weights = 1 + uniform(-j, j)
  double bias_scale = 0.02;   // biases: uniform(-b, b)
  std::string tekken_path;    // copy this tekken.json; empty: generate one
  int vocab_ranks = 1000;     // text ranks of a generated vocabulary (vocab = ranks + 1000)
  int delay_ms = 480;         // transcription_delay_ms of a generated tekken.json
  StDtype dtype = StDtype::BF16;
  std::function<void(std::uint64_t done_bytes, std::uint64_t total_bytes)> progress;
};

// The preset with overrides applied and validated (vocab_size follows the tokenizer).
ModelConfig make_config(const SynthOptions& options);

// Writes the three files into `directory` (created if needed).
void write_checkpoint(const std::string& directory, const SynthOptions& options);

}  // namespace vrt::synth
