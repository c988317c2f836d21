// voxtral-rt: the model and offline transcription (the public C++ API).
//
//   auto model = vrt::Model::load("/path/to/Voxtral-Mini-4B-Realtime-2602");
//   auto audio = vrt::load_audio_16k_mono("speech.wav");
//   vrt::Transcript t = model->transcribe(audio.samples);
//   std::cout << t.text << "\n";
//
// A Model is immutable after load and may be shared by threads; every call keeps its own state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "voxtral_rt/config.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt {

class Session;
struct SessionOptions;

// How the weights of one part of the model are stored and computed (voxtral-rt quantize,
// --qlinear ...). Spelled like the seed system's export flags.
enum class WeightScheme {
  native,  // as the checkpoint stores them (BF16 for the real model), fp32 compute
  f32,     // converted to fp32
  bf16,    // BF16 (rounded if the source is wider), fp32 compute
  w8,      // "8w": int8 per-channel weights, fp32 activations
  w4,      // "4w": int4 group weights, fp32 activations
  a8w8,    // "8da8w": int8 per-token dynamic activations x int8 per-channel weights
  a8w4,    // "8da4w": int8 per-token dynamic activations x int4 group weights
};
// "native" | "f32" | "bf16" | "8w" | "4w" | "8da8w" | "8da4w"; throws invalid_argument.
WeightScheme parse_weight_scheme(std::string_view name);
const char* weight_scheme_name(WeightScheme scheme);

struct QuantOptions {
  WeightScheme linear = WeightScheme::native;     // decoder linears
  // Encoder linears and the adapter; unset = same as `linear`.
  std::optional<WeightScheme> encoder;
  // Token embedding table (lookups): native, f32, bf16, 8w or 4w.
  WeightScheme embedding = WeightScheme::native;
  // The output head (tied to the embedding in the checkpoint; stored separately when its scheme
  // differs); unset = same as `linear`.
  std::optional<WeightScheme> head;
  int group_size = 32;  // 4-bit group size: 32, 64, 128 or 256
  WeightScheme encoder_scheme() const { return encoder.value_or(linear); }
  WeightScheme head_scheme() const { return head.value_or(linear); }
  bool is_native() const;  // every part native
  std::string describe() const;  // "linear=8da4w encoder=8da4w embedding=8w head=8da4w group=32"
};

// Storage of the attention key/value caches (encoder and decoder). f16 halves the cache and the
// attention's reads; values are rounded to nearest (beyond +-65504: saturated), attention math
// stays fp32.
enum class KvCacheType { f32, f16 };
KvCacheType parse_kv_cache_type(std::string_view name);  // "f32" | "f16"; throws invalid_argument
const char* kv_cache_type_name(KvCacheType type);

struct LoadOptions {
  int threads = 0;  // compute threads; 0 = all cores
  KvCacheType kv_cache = KvCacheType::f32;
  // Applied when loading an original checkpoint (quantized on the fly, in memory). A packed
  // .vxrt model carries its own schemes: a non-native value here is then an error.
  QuantOptions quant;
};

// LoadOptions from the names the CLI (--qlinear ...), the C API and the Python package take;
// an empty name keeps the default. Throws vrt::Error(invalid_argument) for an unknown name
// (the group size is checked when the weights load).
struct LoadOptionNames {
  int threads = 0;
  std::string qlinear, qlinear_encoder, qembedding, qhead;  // weight scheme names
  int group_size = 32;
  std::string kv_cache;  // "f32" | "f16"
};
LoadOptions load_options_from_names(const LoadOptionNames& names);

// One generated token. Times are in seconds of the input audio (see docs/TIMESTAMPS.md).
struct Token {
  int id = 0;
  std::string piece;   // bytes of a text token, or the special token's name
  bool special = false;
  double time_s = 0;   // the 80 ms audio frame this token describes starts here
};

struct Word {
  std::string text;    // with its leading space removed
  double start_s = 0;
  double end_s = 0;
};

struct Segment {
  std::string text;
  double start_s = 0;
  double end_s = 0;
};

struct TranscribeStats {
  double audio_s = 0;
  double mel_ms = 0;
  double encoder_ms = 0;     // conv stem + encoder layers + adapter
  double prefill_ms = 0;     // the prompt positions, one batched pass
  double decode_ms = 0;      // all single-token steps
  std::int64_t prefill_positions = 0;
  std::int64_t cached_positions = 0;  // prompt positions taken from the model's prefix cache
  std::int64_t decode_steps = 0;     // positions decoded after the prompt
  std::int64_t decode_passes = 0;    // decoder passes for them (fewer with verification decoding)
  std::int64_t generated_tokens = 0;
  double total_ms = 0;
  double decode_ms_per_step() const { return decode_steps ? decode_ms / static_cast<double>(decode_steps) : 0; }
  double real_time_factor() const { return audio_s > 0 ? total_ms / 1000.0 / audio_s : 0; }
};

struct Transcript {
  std::string text;  // decoded text tokens (special tokens dropped), as the model wrote it
  std::vector<Token> tokens;
  std::vector<Word> words;
  std::vector<Segment> segments;
  TranscribeStats stats;
};

// Intermediate tensors, for comparing stages with another implementation (--dump).
struct StageDump {
  std::vector<float> mel;      // [n_mels, frames] (channel-major)
  std::vector<float> encoder;  // [enc_frames, enc_dim] after the final encoder norm
  std::vector<float> adapter;  // [positions, dim]
  std::vector<float> logits;   // [steps, vocab], one row per generated token
};

// Compute time on one model since it was loaded, all sessions and batches, by stage
// (Model::compute_times; `serve` reports it in /metrics).
struct ComputeTimes {
  double mel_s = 0;                 // log-mel front end
  double encoder_s = 0;             // encoder and adapter, attention included
  double encoder_attention_s = 0;   //   of which attention (RoPE, KV store, attend)
  double decoder_s = 0;             // decoder passes (the prompt's too) incl. the head
  double decoder_attention_s = 0;   //   of which attention
  std::int64_t decoder_passes = 0;  // decoder passes past the prompt (a batched pass counts once)
  std::int64_t decoder_rows = 0;    // rows those passes computed, rejected verification rows included
};

struct TranscribeOptions {
  int delay_ms = 0;                   // 0 = tekken.json's transcription_delay_ms (480)
  std::int64_t max_new_tokens = -1;   // cap on generated tokens; -1 = until EOS or end of audio
  // Called for each generated token as soon as it is decided (may be empty).
  std::function<void(const Token&)> on_token;
  // Called with the fraction of the audio processed, 0..1 (may be empty).
  std::function<void(double)> on_progress;
  StageDump* dump = nullptr;          // when set, filled with every stage's output
  std::vector<int> force_tokens;      // teacher forcing (SessionOptions::force_tokens)
  std::vector<int> replay_tokens;     // measurement only (SessionOptions::replay_tokens)
  std::int64_t replay_offset = 0;     // SessionOptions::replay_offset
  int verify_tokens = 0;              // SessionOptions::verify_tokens
  bool prefix_cache = true;           // SessionOptions::prefix_cache
};

class Model : public std::enable_shared_from_this<Model> {
 public:
  // Loads a checkpoint directory (consolidated.safetensors, params.json, tekken.json; the
  // weights stay memory-mapped unless options.quant converts them) or a packed .vxrt model
  // file written by `voxtral-rt quantize` (memory-mapped, no per-weight work). Throws vrt::Error.
  static std::shared_ptr<const Model> load(const std::string& directory, const LoadOptions& options = {});
  ~Model();

  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const;
  const std::string& directory() const;  // the directory or .vxrt file it was loaded from
  const QuantOptions& quant() const;       // the weight schemes in use
  KvCacheType kv_cache() const;            // LoadOptions::kv_cache
  // Writes this model (loaded from an original checkpoint, with its schemes) as one packed
  // .vxrt file that Model::load maps with no per-weight work. Throws vrt::Error.
  void save_packed(const std::string& path) const;
  double load_ms() const;
  int threads() const;
  ComputeTimes compute_times() const;

  // Transcribes 16 kHz mono audio. Thread-safe (each call has its own state; calls on one
  // model from several threads share the compute thread pool one at a time).
  Transcript transcribe(std::span<const float> audio_16k, const TranscribeOptions& options = {}) const;

  // A streaming session over this model (include/voxtral_rt/session.h). The session keeps the
  // model alive.
  std::unique_ptr<Session> new_session(const SessionOptions& options) const;

  // Cross-session batching: runs what these batched sessions (SessionOptions::batched, all from
  // this model) have pending: their buffered audio through the encoder and adapter, stacked in
  // calls that read each encoder matrix once for all of them (packed encoder weights), then
  // decoder passes over every session with pending positions (up to its verify_tokens rows each,
  // at most max_rows rows per pass; 0 or more than max_batch_rows() means max_batch_rows()),
  // until none is left. Each session's tokens and logits are bitwise those it computes alone.
  // Returns the tokens decided. Throws invalid_argument for a session that is not batched or
  // comes from another model.
  std::int64_t step(std::span<Session* const> sessions, std::int64_t max_rows = 0) const;
  // The most rows one batched decoder pass takes with each row computed bitwise as alone: 16
  // while any decoder matrix or the head is float (the float matmul changes tiling above 16
  // rows), else 64 (8 verification rows for each of 8 live streams in one weight read).
  std::int64_t max_batch_rows() const;

  struct Impl;

 private:
  friend struct RuntimeAccess;  // the library's own access (src/runtime)
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Allowed delays: multiples of 80 ms from 80 to 1200, and 2400 (model card). Throws
// invalid_argument otherwise.
void validate_delay_ms(int delay_ms);

}  // namespace vrt
