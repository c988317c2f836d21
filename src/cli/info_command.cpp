// `voxtral-rt info -m MODEL [--json]`: validates a checkpoint directory and summarizes it.
#include <chrono>
#include <cstdio>
#include <map>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "voxtral_rt/checkpoint.h"
#include "voxtral_rt/mel.h"
#include "voxtral_rt/model_path.h"

namespace vrt::cli {
namespace {

struct InfoOptions {
  std::string model = kDefaultModelId;
  bool json = false;
  bool verify = false;
};

std::string thousands(std::int64_t v) {
  std::string s = std::to_string(v), r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) r += ',';
    r += s[i];
  }
  return r;
}

std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"bytes", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1000.0 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

int delay_tokens(const StreamingConfig& s) {
  return delay_tokens_for_ms(s.transcription_delay_ms, s.sampling_rate, s.hop_length,
                             s.samples_per_token());
}

nlohmann::ordered_json to_json(const CheckpointInfo& i) {
  nlohmann::ordered_json j;
  j["directory"] = i.directory;
  j["params"] = nlohmann::ordered_json::parse(i.config.to_json());
  j["tensor_count"] = i.tensor_count;
  j["parameter_count"] = i.parameter_count;
  j["expected_parameter_count"] = i.expected_parameter_count;
  j["file_bytes"] = i.file_bytes;
  j["data_bytes"] = i.data_bytes;
  j["dtypes"] = i.dtype_counts;
  j["unexpected_tensors"] = i.unexpected_tensors;
  j["tokenizer"] = {{"version", i.tokenizer_version},
                    {"vocab_size", i.tokenizer_vocab_size},
                    {"special_tokens", i.tokenizer_special_tokens}};
  const auto& s = i.streaming;
  j["audio"] = {{"sampling_rate", s.sampling_rate},
                {"frame_rate", s.frame_rate},
                {"num_mel_bins", s.num_mel_bins},
                {"hop_length", s.hop_length},
                {"window_size", s.window_size},
                {"transcription_delay_ms", s.transcription_delay_ms},
                {"delay_tokens", delay_tokens(s)},
                {"streaming_look_ahead_ms", s.streaming_look_ahead_ms},
                {"streaming_look_back_ms", s.streaming_look_back_ms},
                {"streaming_n_left_pad_tokens", s.streaming_n_left_pad_tokens},
                {"transcription_format", s.transcription_format}};
  j["open_ms"] = i.open_ms;
  return j;
}

void print_text(const CheckpointInfo& i) {
  const auto& c = i.config;
  const auto& e = c.encoder;
  const auto& s = i.streaming;
  std::printf("model directory  %s\n", i.directory.c_str());
  std::printf("decoder          %d layers, dim %d, %d query / %d kv heads x %d, ffn %d, window %d tokens, "
              "vocab %d, %s head, ada-norm dim %d\n",
              c.n_layers, c.dim, c.n_heads, c.n_kv_heads, c.head_dim, c.hidden_dim, c.sliding_window,
              c.vocab_size, c.tied_embeddings ? "tied" : "separate", c.ada_rms_norm_t_cond_dim);
  std::printf("encoder          %d layers, dim %d, %d heads x %d, ffn %d, window %d frames, "
              "%d mel bins, stack %d -> adapter %d -> %d\n",
              e.n_layers, e.dim, e.n_heads, e.head_dim, e.hidden_dim, e.sliding_window,
              e.audio.num_mel_bins, c.downsample_factor, c.adapter_input_dim(), c.dim);
  std::string dt;
  for (const auto& [k, v] : i.dtype_counts) dt += (dt.empty() ? "" : ", ") + k + " " + std::to_string(v);
  std::printf("tensors          %zu (%s)\n", i.tensor_count, dt.c_str());
  std::printf("parameters       %s (the config's tensor set: %s)\n", thousands(i.parameter_count).c_str(),
              thousands(i.expected_parameter_count).c_str());
  std::printf("weights          %s of tensor data, file %s bytes\n", human_bytes(i.data_bytes).c_str(),
              thousands(static_cast<std::int64_t>(i.file_bytes)).c_str());
  std::printf("tokenizer        tekken %s, %d ids (%d special)\n", i.tokenizer_version.c_str(),
              i.tokenizer_vocab_size, i.tokenizer_special_tokens);
  std::printf("audio            %d Hz, %.1f tokens/s (%d samples per token), delay %d ms (%d tokens), "
              "left pad %d tokens, look-ahead %.1f ms, look-back %.1f ms\n",
              s.sampling_rate, s.frame_rate, s.samples_per_token(), s.transcription_delay_ms,
              delay_tokens(s), s.streaming_n_left_pad_tokens, s.streaming_look_ahead_ms,
              s.streaming_look_back_ms);
  if (i.unexpected_tensors.empty()) {
    std::printf("unexpected       none\n");
  } else {
    std::printf("unexpected       %zu tensor(s) not used by the model:", i.unexpected_tensors.size());
    for (const auto& n : i.unexpected_tensors) std::printf(" %s", n.c_str());
    std::printf("\n");
  }
  std::printf("opened in        %.1f ms (memory-mapped, nothing copied)\n", i.open_ms);
}

// A packed .vxrt model: schemes, tensor kinds and sizes, and (with --verify) the data checksum.
int packed_info(const InfoOptions& o, const std::string& path) {
  const PackedModelInfo f = inspect_packed_model(path, o.verify);
  const ModelConfig& c = f.config;
  if (o.json) {
    nlohmann::ordered_json j;
    j["file"] = path;
    j["producer"] = f.producer;
    j["file_bytes"] = f.file_bytes;
    j["quantization"] = f.quantization;
    j["params"] = nlohmann::ordered_json::parse(c.to_json());
    for (const auto& [k, v] : f.kinds) j["kinds"][k] = {{"tensors", v.tensors}, {"bytes", v.bytes}};
    j["open_ms"] = f.open_ms;
    if (f.data_verified) j["checksum"] = "ok";
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("packed model     %s (%s, %s)\n", path.c_str(), human_bytes(f.file_bytes).c_str(), f.producer.c_str());
  std::printf("schemes          %s\n", f.quantization.c_str());
  std::printf("decoder          %d layers, dim %d, %d query / %d kv heads x %d, ffn %d, vocab %d\n", c.n_layers, c.dim,
              c.n_heads, c.n_kv_heads, c.head_dim, c.hidden_dim, c.vocab_size);
  std::printf("encoder          %d layers, dim %d, %d heads x %d, ffn %d\n", c.encoder.n_layers, c.encoder.dim,
              c.encoder.n_heads, c.encoder.head_dim, c.encoder.hidden_dim);
  for (const auto& [k, v] : f.kinds)
    std::printf("tensors          %-28s %4lld, %s\n", k.c_str(), static_cast<long long>(v.tensors), human_bytes(v.bytes).c_str());
  std::printf("tokenizer        %d ids\n", f.tokenizer_vocab_size);
  std::printf("opened in        %.1f ms (memory-mapped)\n", f.open_ms);
  if (f.data_verified) std::printf("checksum         ok (XXH3-64 of the data, %.0f ms)\n", f.verify_ms);
  return 0;
}

}  // namespace

Runner add_info_command(CLI::App& app) {
  auto opt = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Validate a checkpoint and print its configuration, tensor "
                                         "count, parameters, size, dtypes, tokenizer and audio block");
  cmd->add_option("-m,--model", opt->model,
                  "Checkpoint directory, packed .vxrt file, or Hugging Face repo id (looked up in the local cache)")
      ->capture_default_str();
  cmd->add_flag("--json", opt->json, "Print JSON instead of text");
  cmd->add_flag("--verify", opt->verify, "Packed .vxrt model: also check the checksum of all its data");
  return [opt] {
    const std::string path = resolve_model_path(opt->model);
    if (is_packed_model_file(path)) return packed_info(*opt, path);
    const auto info = inspect_checkpoint(path);
    if (opt->json) {
      std::cout << to_json(info).dump(2) << "\n";
    } else {
      print_text(info);
    }
    return 0;
  };
}

}  // namespace vrt::cli
