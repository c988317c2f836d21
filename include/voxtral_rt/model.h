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
#include <span>
#include <string>
#include <vector>

#include "voxtral_rt/config.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt {

class Session;
struct SessionOptions;

struct LoadOptions {
  int threads = 0;  // compute threads; 0 = all cores
};

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
  std::int64_t decode_steps = 0;
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

struct TranscribeOptions {
  int delay_ms = 0;                   // 0 = tekken.json's transcription_delay_ms (480)
  std::int64_t max_new_tokens = -1;   // cap on generated tokens; -1 = until EOS or end of audio
  // Called for each generated token as soon as it is decided (may be empty).
  std::function<void(const Token&)> on_token;
  // Called with the fraction of the audio processed, 0..1 (may be empty).
  std::function<void(double)> on_progress;
  StageDump* dump = nullptr;          // when set, filled with every stage's output
};

class Model : public std::enable_shared_from_this<Model> {
 public:
  // Loads a checkpoint directory (consolidated.safetensors, params.json, tekken.json). The
  // weights stay memory-mapped. Throws vrt::Error.
  static std::shared_ptr<const Model> load(const std::string& directory, const LoadOptions& options = {});
  ~Model();

  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const;
  const std::string& directory() const;
  double load_ms() const;
  int threads() const;

  // Transcribes 16 kHz mono audio. Thread-safe (each call has its own state; calls on one
  // model from several threads share the compute thread pool one at a time).
  Transcript transcribe(std::span<const float> audio_16k, const TranscribeOptions& options = {}) const;

  // A streaming session over this model (include/voxtral_rt/session.h). The session keeps the
  // model alive.
  std::unique_ptr<Session> new_session(const SessionOptions& options) const;

  struct Impl;

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Allowed delays: multiples of 80 ms from 80 to 1200, and 2400 (model card). Throws
// invalid_argument otherwise.
void validate_delay_ms(int delay_ms);

}  // namespace vrt
