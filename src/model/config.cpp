// params.json <-> ModelConfig, and the checks that make a config one this engine can run.
#include <cmath>
#include <limits>

#include "common/file_util.h"
#include "common/json_util.h"
#include "model/tensor_names.h"
#include "voxtral_rt/config.h"

namespace vrt {
namespace {

constexpr std::uint64_t kMaxParamsJsonBytes = 1 << 20;  // the real file is ~1.3 KB
constexpr std::int64_t kMaxDim = 1 << 16;               // any plausible width
constexpr std::int64_t kMaxLayers = 1024;
constexpr std::int64_t kMaxVocab = 1 << 22;
constexpr int kMaxHeadDim = 1024;                        // the real model: 128 and 64

int dim_field(const json::ObjectReader& r, const char* key, std::int64_t max = kMaxDim) {
  return static_cast<int>(r.integer(key, 1, max));
}

[[noreturn]] void unsupported(const std::string& where, const std::string& msg) {
  throw Error(Status::unsupported_model, where + ": " + msg);
}

}  // namespace

ModelConfig ModelConfig::from_json(std::string_view text, const std::string& source) {
  const auto doc = json::parse_strict(text, source, Status::bad_checkpoint);
  const json::ObjectReader r(doc, source, Status::bad_checkpoint);
  ModelConfig c;
  c.dim = dim_field(r, "dim");
  c.n_layers = dim_field(r, "n_layers", kMaxLayers);
  c.head_dim = dim_field(r, "head_dim");
  c.hidden_dim = dim_field(r, "hidden_dim");
  c.n_heads = dim_field(r, "n_heads");
  c.n_kv_heads = dim_field(r, "n_kv_heads");
  c.use_biases = r.boolean("use_biases");
  c.causal = r.boolean("causal");
  c.rope_theta = r.number("rope_theta", 1.0, 1e12);
  c.norm_eps = r.number("norm_eps", 0.0, 1.0);
  c.vocab_size = dim_field(r, "vocab_size", kMaxVocab);
  if (r.has("model_parallel") && r.at("model_parallel").is_number_integer())
    c.model_parallel = static_cast<int>(r.integer("model_parallel", 1, 1 << 16));
  c.tied_embeddings = r.has("tied_embeddings") ? r.boolean("tied_embeddings") : false;
  c.sliding_window = dim_field(r, "sliding_window", std::int64_t{1} << 30);
  c.model_max_length = r.has("model_max_length")
                           ? r.integer("model_max_length", 1, std::int64_t{1} << 40)
                           : c.model_max_length;
  c.ada_rms_norm_t_cond = r.has("ada_rms_norm_t_cond") ? r.boolean("ada_rms_norm_t_cond") : false;
  c.ada_rms_norm_t_cond_dim =
      c.ada_rms_norm_t_cond ? dim_field(r, "ada_rms_norm_t_cond_dim") : 0;

  const auto wm = r.object("multimodal").object("whisper_model_args");
  const auto er = wm.object("encoder_args");
  auto& e = c.encoder;
  const auto ar = er.object("audio_encoding_args");
  e.audio.sampling_rate = static_cast<int>(ar.integer("sampling_rate", 1000, 384000));
  e.audio.frame_rate = ar.number("frame_rate", 0.1, 1000.0);
  e.audio.num_mel_bins = dim_field(ar, "num_mel_bins", 1024);
  e.audio.hop_length = dim_field(ar, "hop_length", 1 << 16);
  e.audio.window_size = dim_field(ar, "window_size", 1 << 16);
  if (!ar.is_null("chunk_length_s")) e.audio.chunk_length_s = ar.number("chunk_length_s", 0, 1e6);
  e.audio.global_log_mel_max = ar.number("global_log_mel_max", -100.0, 100.0);
  e.audio.transcription_format = ar.string("transcription_format");

  e.dim = dim_field(er, "dim");
  e.n_layers = dim_field(er, "n_layers", kMaxLayers);
  e.head_dim = dim_field(er, "head_dim");
  e.hidden_dim = dim_field(er, "hidden_dim");
  e.n_heads = dim_field(er, "n_heads");
  e.n_kv_heads = dim_field(er, "n_kv_heads");
  if (er.has("vocab_size")) e.vocab_size = dim_field(er, "vocab_size", kMaxVocab);
  e.use_biases = er.boolean("use_biases");
  if (er.has("use_cache")) e.use_cache = er.boolean("use_cache");
  e.rope_theta = er.number("rope_theta", 1.0, 1e12);
  e.causal = er.boolean("causal");
  e.norm_eps = er.number("norm_eps", 0.0, 1.0);
  e.pos_embed = er.string("pos_embed");
  if (!er.is_null("max_source_positions"))
    e.max_source_positions = dim_field(er, "max_source_positions", std::int64_t{1} << 30);
  e.ffn_type = er.string("ffn_type");
  e.norm_type = er.string("norm_type");
  e.sliding_window = dim_field(er, "sliding_window", std::int64_t{1} << 30);

  c.downsample_factor = dim_field(wm.object("downsample_args"), "downsample_factor", 64);
  c.validate();
  return c;
}

ModelConfig ModelConfig::from_file(const std::string& path) {
  return from_json(read_file_capped(path, kMaxParamsJsonBytes, Status::bad_checkpoint), path);
}

void ModelConfig::validate() const {
  const std::string w = "params.json";
  auto positive = [&](const char* name, std::int64_t v) {
    if (v <= 0) throw Error(Status::bad_checkpoint, w + ": " + name + " must be positive, got " +
                                                        std::to_string(v));
  };
  positive("dim", dim);
  positive("n_layers", n_layers);
  positive("head_dim", head_dim);
  positive("hidden_dim", hidden_dim);
  positive("n_heads", n_heads);
  positive("n_kv_heads", n_kv_heads);
  positive("vocab_size", vocab_size);
  positive("sliding_window", sliding_window);
  positive("encoder.dim", encoder.dim);
  positive("encoder.n_layers", encoder.n_layers);
  positive("encoder.head_dim", encoder.head_dim);
  positive("encoder.hidden_dim", encoder.hidden_dim);
  positive("encoder.n_heads", encoder.n_heads);
  positive("encoder.n_kv_heads", encoder.n_kv_heads);
  positive("encoder.sliding_window", encoder.sliding_window);
  positive("downsample_factor", downsample_factor);

  if (n_heads % n_kv_heads != 0)
    throw Error(Status::bad_checkpoint, w + ": n_heads (" + std::to_string(n_heads) +
                                            ") is not a multiple of n_kv_heads (" +
                                            std::to_string(n_kv_heads) + ")");
  if (encoder.n_heads % encoder.n_kv_heads != 0)
    throw Error(Status::bad_checkpoint, w + ": encoder n_heads is not a multiple of n_kv_heads");
  if (head_dim % 2 != 0 || encoder.head_dim % 2 != 0)
    throw Error(Status::bad_checkpoint, w + ": head_dim must be even for rotary embeddings");
  if (head_dim > kMaxHeadDim || encoder.head_dim > kMaxHeadDim)
    unsupported(w, "head_dim above " + std::to_string(kMaxHeadDim) + " is not supported");
  // Products that size tensors must stay far from overflow.
  if (std::int64_t{n_heads} * head_dim > kMaxDim * 4 ||
      std::int64_t{encoder.n_heads} * encoder.head_dim > kMaxDim * 4)
    throw Error(Status::bad_checkpoint, w + ": n_heads x head_dim is implausibly large");

  if (use_biases) unsupported(w, "use_biases=true in the decoder is not supported");
  if (!causal || !encoder.causal) unsupported(w, "only causal models are supported");
  if (encoder.pos_embed != "rope")
    unsupported(w, "encoder pos_embed \"" + encoder.pos_embed + "\" is not supported (rope)");
  if (encoder.ffn_type != "swiglu")
    unsupported(w, "encoder ffn_type \"" + encoder.ffn_type + "\" is not supported (swiglu)");
  if (encoder.norm_type != "rms_norm")
    unsupported(w, "encoder norm_type \"" + encoder.norm_type + "\" is not supported (rms_norm)");
  if (encoder.audio.transcription_format != "streaming")
    unsupported(w, "transcription_format \"" + encoder.audio.transcription_format +
                       "\" is not supported (streaming)");
  if (!ada_rms_norm_t_cond) unsupported(w, "ada_rms_norm_t_cond=false is not supported");

  const auto& a = encoder.audio;
  const double spt = a.sampling_rate / a.frame_rate;
  if (std::fabs(spt - std::round(spt)) > 1e-9)
    unsupported(w, "sampling_rate / frame_rate is not a whole number of samples");
  const auto spt_i = static_cast<std::int64_t>(std::llround(spt));
  // Mel frames per token must be exactly conv stride (2) x downsample_factor encoder frames.
  if (spt_i % a.hop_length != 0 || spt_i / a.hop_length != 2 * std::int64_t{downsample_factor})
    unsupported(w, "samples per token (" + std::to_string(spt_i) + ") must equal hop_length x 2 x "
                   "downsample_factor");
  if (a.window_size % 2 != 0 || a.window_size < a.hop_length)
    unsupported(w, "window_size must be even and at least hop_length");
  if (a.num_mel_bins < 1 || a.num_mel_bins > a.window_size / 2 + 1)
    throw Error(Status::bad_checkpoint, w + ": num_mel_bins out of range");
}

int ModelConfig::samples_per_token() const {
  return static_cast<int>(std::llround(encoder.audio.sampling_rate / encoder.audio.frame_rate));
}

std::int64_t ModelConfig::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& t : expected_tensors(*this)) n += t.elements();
  return n;
}

std::string ModelConfig::to_json() const {
  using nlohmann::ordered_json;
  const auto& e = encoder;
  ordered_json aea;
  aea["sampling_rate"] = e.audio.sampling_rate;
  aea["frame_rate"] = e.audio.frame_rate;
  aea["num_mel_bins"] = e.audio.num_mel_bins;
  aea["hop_length"] = e.audio.hop_length;
  aea["window_size"] = e.audio.window_size;
  aea["chunk_length_s"] = e.audio.chunk_length_s ? ordered_json(*e.audio.chunk_length_s) : nullptr;
  aea["global_log_mel_max"] = e.audio.global_log_mel_max;
  aea["transcription_format"] = e.audio.transcription_format;
  ordered_json ea;
  ea["audio_encoding_args"] = aea;
  ea["dim"] = e.dim;
  ea["n_layers"] = e.n_layers;
  ea["head_dim"] = e.head_dim;
  ea["hidden_dim"] = e.hidden_dim;
  ea["n_heads"] = e.n_heads;
  ea["vocab_size"] = e.vocab_size;
  ea["n_kv_heads"] = e.n_kv_heads;
  ea["use_biases"] = e.use_biases;
  ea["use_cache"] = e.use_cache;
  ea["rope_theta"] = e.rope_theta;
  ea["causal"] = e.causal;
  ea["norm_eps"] = e.norm_eps;
  ea["pos_embed"] = e.pos_embed;
  ea["max_source_positions"] =
      e.max_source_positions ? ordered_json(*e.max_source_positions) : nullptr;
  ea["ffn_type"] = e.ffn_type;
  ea["norm_type"] = e.norm_type;
  ea["sliding_window"] = e.sliding_window;
  ordered_json j;
  j["dim"] = dim;
  j["n_layers"] = n_layers;
  j["head_dim"] = head_dim;
  j["hidden_dim"] = hidden_dim;
  j["n_heads"] = n_heads;
  j["n_kv_heads"] = n_kv_heads;
  j["use_biases"] = use_biases;
  j["causal"] = causal;
  j["rope_theta"] = rope_theta;
  j["norm_eps"] = norm_eps;
  j["vocab_size"] = vocab_size;
  j["model_parallel"] = model_parallel;
  j["tied_embeddings"] = tied_embeddings;
  j["sliding_window"] = sliding_window;
  j["model_max_length"] = model_max_length;
  j["multimodal"]["whisper_model_args"]["encoder_args"] = ea;
  j["multimodal"]["whisper_model_args"]["downsample_args"]["downsample_factor"] = downsample_factor;
  j["ada_rms_norm_t_cond"] = ada_rms_norm_t_cond;
  j["ada_rms_norm_t_cond_dim"] = ada_rms_norm_t_cond_dim;
  return j.dump(2) + "\n";
}

}  // namespace vrt
