#include "model_options.h"

namespace vrt::cli {

void add_scheme_options(CLI::App* cmd, SchemeFlags& f, bool runs_model) {
  cmd->add_option("-t,--threads", f.threads, "Compute threads (default: all cores)")->check(CLI::Range(0, 1024));
  const char* linear = "native|f32|bf16|8w|4w|8da8w|8da4w";
  cmd->add_option("--qlinear", f.qlinear,
                  std::string("Decoder linear layers, quantized on load (") + linear + "; default native: as stored)");
  cmd->add_option("--qlinear-encoder", f.qlinear_encoder,
                  std::string("Encoder and adapter linear layers (") + linear + "; default: as --qlinear)");
  cmd->add_option("--qembedding", f.qembedding, "Token embedding table (native|f32|bf16|8w|4w; default native)");
  cmd->add_option("--qhead", f.qhead, std::string("Output head (") + linear + "; default: as --qlinear)");
  cmd->add_option("--group-size", f.group_size, "Group size of 4-bit weights")
      ->capture_default_str()
      ->check(CLI::IsMember({32, 64, 128, 256}));
  if (runs_model) {
    cmd->add_option("--kv-cache", f.kv_cache,
                    "Attention key/value cache storage: f32 (default) or f16 (half the memory and reads)");
  }
}

}  // namespace vrt::cli
