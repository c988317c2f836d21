// voxtral-rt: measuring a loaded model's stages on this machine (`voxtral-rt bench` prints
// these), and replaying verification decoding's policy on recorded token streams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "voxtral_rt/model.h"

namespace vrt {

// GB/s (1e9 bytes) of a streaming read (64-bit word sums) of a `bytes` buffer with `threads`
// threads, one value per repeat after a warm-up read.
std::vector<double> measure_read_bandwidth(std::size_t bytes, int threads, int repeats);

struct ProfileOptions {
  // 16 kHz mono audio: its offline-padded log-mel through the encoder and adapter gives the
  // measured inputs (compute time can depend on the values). Required.
  std::span<const float> audio;
  int steps = 30;                         // single-position decoder steps measured (median)
  int repeats = 5;                        // repeats of the other measurements (median)
  std::vector<int> verify_k{2, 4, 8, 16}; // rows of the verification passes measured
  std::function<void(const char* stage)> on_stage;  // progress ("encoder", "decoder steps", ...)
  // Called right before and right after the decoder measurements (where `bench` measures the
  // read bandwidth, so that both bracket the same minutes).
  std::function<void()> before_decoder, after_decoder;
};

struct StageProfile {
  // Weight kinds ("f32", "bf16", "8w", "4w", "8da8w", "8da4w") and the bytes one pass reads.
  std::string decoder_kind, decoder_ffn_kind, head_kind, encoder_kind, embedding_kind;
  std::int64_t decoder_layer_bytes = 0;  // every decoder matrix (packed data + scales, or floats)
  std::int64_t head_bytes = 0;
  std::int64_t encoder_bytes = 0;        // encoder matrices + adapter
  // Decoder, after the prompt at the default delay.
  std::int64_t context_positions = 0;    // cache positions during the measured steps
  std::vector<double> step_ms;           // one position per pass, head included
  std::map<int, double> pass_ms;         // k rows per pass -> median ms (k = 1: the step median)
  std::int64_t prefill_positions = 0;
  double prefill_ms = 0;                 // the prompt in one pass + the head of its last row
  // Encoder + adapter.
  double encoder_step_ms = 0;            // one 80 ms streaming step from a fresh state
  double encoder_step_full_window_ms = 0;  // ... over a full attention window (long streams)
  std::int64_t encoder_window_positions = 0;
  std::int64_t encoder_chunk_tokens = 0; // the offline chunk
  double encoder_chunk_ms = 0;
  double seconds_per_token = 0;          // audio per decoder position
};

// Measures the stages one by one with the model's compute threads (holding them, so no session
// of this model computes meanwhile). Throws invalid_argument without audio.
StageProfile profile_stages(const Model& model, const ProfileOptions& options);

// Verification decoding's work on a recorded greedy token stream of a model with this tokenizer
// (tokens[0] is the prompt's token): the runtime's own policy (src/runtime/verify.h), k rows per
// pass at most. Positions become available in runs of `chunk` counted from position 0: 32 (the
// default) approximates the offline schedule's encoder chunks (whose boundaries also depend on
// the mel look-ahead and the audio's length); 0 = all at once, exactly what a batched session
// fed all its audio and stepped once (Model::step) does.
struct VerificationReplay {
  std::int64_t positions = 0;                     // positions decoded after the prompt
  std::int64_t passes = 0;
  std::map<std::int64_t, std::int64_t> pass_rows;  // rows per pass -> passes
};
VerificationReplay replay_verification(const Tokenizer& tokenizer, std::span<const int> tokens, int k, int delay_ms = 0,
                                       int chunk = 32);

}  // namespace vrt
