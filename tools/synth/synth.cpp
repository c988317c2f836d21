#include "synth.h"

#include <cmath>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/half.h"
#include "tokenizer/tekken_writer.h"
#include "voxtral_rt/checkpoint.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt::synth {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

ModelConfig preset(const std::string& name) {
  ModelConfig c;  // defaults are the real model ("full")
  if (name == "full") return c;
  if (name == "tiny") {
    c.dim = 64;
    c.n_layers = 2;
    c.head_dim = 16;
    c.hidden_dim = 192;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.ada_rms_norm_t_cond_dim = 8;
    c.encoder.dim = 64;
    c.encoder.n_layers = 2;
    c.encoder.head_dim = 16;
    c.encoder.hidden_dim = 192;
    c.encoder.n_heads = 4;
    c.encoder.n_kv_heads = 4;
    return c;
  }
  if (name == "small") {
    c.dim = 512;
    c.n_layers = 4;
    c.head_dim = 64;
    c.hidden_dim = 1536;
    c.n_heads = 8;
    c.n_kv_heads = 2;
    c.encoder.dim = 384;
    c.encoder.n_layers = 4;
    c.encoder.head_dim = 64;
    c.encoder.hidden_dim = 1536;
    c.encoder.n_heads = 6;
    c.encoder.n_kv_heads = 6;
    return c;
  }
  throw Error(Status::invalid_argument, "unknown preset '" + name + "' (tiny, small, full)");
}

// "123" -> 123, "1e-5" -> 1e-5, "true" -> true, "null" -> null; anything else stays a string.
nlohmann::ordered_json parse_value(const std::string& v) {
  try {
    return nlohmann::ordered_json::parse(v);
  } catch (const nlohmann::json::exception&) {
    return v;
  }
}

struct Init {
  enum Kind { linear, norm, bias, embedding } kind;
  double scale;  // half-width of the uniform distribution
};

Init init_for(const TensorSpec& t, const SynthOptions& o) {
  const auto& n = t.name;
  auto ends_with = [&](const char* s) {
    const std::string x(s);
    return n.size() >= x.size() && n.compare(n.size() - x.size(), x.size(), x) == 0;
  };
  if (ends_with("norm.weight")) return {Init::norm, o.norm_jitter};
  if (ends_with(".bias")) return {Init::bias, o.bias_scale};
  if (n == tensor_names::kTokEmbeddings || n == tensor_names::kOutput)
    return {Init::embedding, o.embed_scale * std::sqrt(3.0)};
  std::int64_t fan_in = 1;
  for (std::size_t i = 1; i < t.shape.size(); ++i) fan_in *= t.shape[i];  // [out, in(, k)]
  return {Init::linear, o.weight_scale * std::sqrt(3.0 / static_cast<double>(fan_in))};
}

}  // namespace

ModelConfig make_config(const SynthOptions& o) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(preset(o.preset).to_json());
  auto& enc = j["multimodal"]["whisper_model_args"]["encoder_args"];
  for (const auto& [key, value] : o.overrides) {
    nlohmann::ordered_json* target = &j;
    std::string k = key;
    if (k.rfind("enc.", 0) == 0) {
      target = &enc;
      k = k.substr(4);
    } else if (k.rfind("audio.", 0) == 0) {
      target = &enc["audio_encoding_args"];
      k = k.substr(6);
    } else if (k == "downsample_factor") {
      target = &j["multimodal"]["whisper_model_args"]["downsample_args"];
    } else if (k == "vocab_size") {
      throw Error(Status::invalid_argument,
                  "vocab_size follows the tokenizer: use --vocab-ranks or --tekken");
    }
    if (!target->contains(k))
      throw Error(Status::invalid_argument, "unknown config key '" + key + "'");
    (*target)[k] = parse_value(value);
  }
  if (!o.tekken_path.empty()) {
    j["vocab_size"] = Tokenizer::from_file(o.tekken_path).vocab_size();
  } else {
    if (o.vocab_ranks < 256)
      throw Error(Status::invalid_argument, "--vocab-ranks must be at least 256 (the byte tokens)");
    j["vocab_size"] = o.vocab_ranks + 1000;
  }
  enc["vocab_size"] = j["vocab_size"];
  return ModelConfig::from_json(j.dump(), "synthetic params.json");
}

void write_checkpoint(const std::string& directory, const SynthOptions& o) {
  const ModelConfig config = make_config(o);
  std::filesystem::create_directories(directory);
  const auto path = [&](const char* f) { return (std::filesystem::path(directory) / f).string(); };

  const std::string params = config.to_json();
  write_file(path(kParamsFileName), params);

  if (!o.tekken_path.empty()) {
    std::filesystem::copy_file(o.tekken_path, path(kTokenizerFileName),
                               std::filesystem::copy_options::overwrite_existing);
    // The source may be read-only (shared data); the checkpoint's copy must stay editable.
    std::filesystem::permissions(path(kTokenizerFileName), std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::add);
  } else {
    StreamingConfig s;
    s.sampling_rate = config.encoder.audio.sampling_rate;
    s.frame_rate = config.encoder.audio.frame_rate;
    s.num_mel_bins = config.encoder.audio.num_mel_bins;
    s.hop_length = config.encoder.audio.hop_length;
    s.window_size = config.encoder.audio.window_size;
    s.transcription_delay_ms = o.delay_ms;
    write_file(path(kTokenizerFileName), make_synthetic_tekken_json(o.vocab_ranks, o.seed, s));
  }

  const auto specs = expected_tensors(config);
  std::vector<TensorDecl> decl;
  std::vector<Init> inits;
  std::vector<std::uint64_t> seeds;
  std::uint64_t total_bytes = 0;
  for (const auto& s : specs) {
    decl.push_back({s.name, o.dtype, s.shape});
    inits.push_back(init_for(s, o));
    seeds.push_back(splitmix64(o.seed ^ fnv1a(s.name)));
    total_bytes += static_cast<std::uint64_t>(s.elements()) * static_cast<std::uint64_t>(st_dtype_size(o.dtype));
  }
  std::uint64_t done_bytes = 0;
  const int esize = st_dtype_size(o.dtype);
  // Element i of a tensor depends only on (seed, name, i): chunking cannot change the values.
  write_safetensors(path(kWeightsFileName), decl,
                    [&](std::size_t ti, std::uint64_t e0, std::span<std::uint8_t> out) {
                      const Init& init = inits[ti];
                      const std::uint64_t n = out.size() / static_cast<std::size_t>(esize);
                      for (std::uint64_t i = 0; i < n; ++i) {
                        const std::uint64_t r = splitmix64(seeds[ti] + (e0 + i) * 0x9e3779b97f4a7c15ull);
                        const double u = static_cast<double>(r >> 11) * 0x1.0p-53 * 2.0 - 1.0;
                        const auto v = static_cast<float>(
                            init.kind == Init::norm ? 1.0 + init.scale * u : init.scale * u);
                        std::uint8_t* p = out.data() + i * static_cast<std::uint64_t>(esize);
                        if (o.dtype == StDtype::F32) {
                          std::memcpy(p, &v, 4);
                        } else {
                          const std::uint16_t h = o.dtype == StDtype::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
                          p[0] = static_cast<std::uint8_t>(h & 0xff);
                          p[1] = static_cast<std::uint8_t>(h >> 8);
                        }
                      }
                      done_bytes += out.size();
                      if (o.progress) o.progress(done_bytes, total_bytes);
                    });
}

}  // namespace vrt::synth
