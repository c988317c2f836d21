// A micro synthetic checkpoint (1 + 1 layers of width 32) for hour-long runs, and the process's
// resident memory.
#pragma once

#include <fstream>

#include "synth.h"

namespace vrt::test {

inline void write_micro_checkpoint(const std::string& dir) {
  synth::SynthOptions o;
  o.preset = "tiny";
  o.vocab_ranks = 256;
  o.weight_scale = 2.0;
  o.overrides = {{"dim", "32"},        {"n_layers", "1"},     {"head_dim", "16"},   {"n_heads", "2"},
                 {"n_kv_heads", "1"},  {"hidden_dim", "64"},  {"ada_rms_norm_t_cond_dim", "4"},
                 {"enc.dim", "32"},    {"enc.n_layers", "1"}, {"enc.head_dim", "16"},
                 {"enc.n_heads", "2"}, {"enc.n_kv_heads", "2"}, {"enc.hidden_dim", "64"}};
  synth::write_checkpoint(dir, o);
}

// Current resident set in MB, from /proc/self/statm (pages of 4 KiB).
inline double resident_mb() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return static_cast<double>(resident) * 4096.0 / 1e6;
}

}  // namespace vrt::test
