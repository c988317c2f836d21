// The options every model-loading subcommand shares: threads and the weight schemes applied
// when loading an original checkpoint (--qlinear ... as in the seed system's export flags).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "voxtral_rt/model.h"

namespace vrt::cli {

struct SchemeFlags {
  int threads = 0;
  std::string qlinear, qlinear_encoder, qembedding, qhead;
  int group_size = 32;
  std::string kv_cache;  // f32 | f16 (empty: f32)
};

// Adds -t/--threads, --qlinear, --qlinear-encoder, --qembedding, --qhead, --group-size, and
// for commands that run the model (not `quantize`) --kv-cache.
void add_scheme_options(CLI::App* cmd, SchemeFlags& flags, bool runs_model = true);
// Parses the flags (throws vrt::Error(invalid_argument) for a bad scheme or cache type name).
LoadOptions load_options(const SchemeFlags& flags);

}  // namespace vrt::cli
