// The options every model-loading subcommand shares: threads and the weight schemes applied
// when loading an original checkpoint (--qlinear ... as in the seed system's export flags).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "voxtral_rt/model.h"

namespace vrt::cli {

using SchemeFlags = LoadOptionNames;

// Adds -t/--threads, --qlinear, --qlinear-encoder, --qembedding, --qhead, --group-size, and
// for commands that run the model (not `quantize`) --kv-cache.
void add_scheme_options(CLI::App* cmd, SchemeFlags& flags, bool runs_model = true);
// Parses the flags (throws vrt::Error(invalid_argument) for a bad scheme or cache type name).
inline LoadOptions load_options(const SchemeFlags& flags) { return load_options_from_names(flags); }

}  // namespace vrt::cli
