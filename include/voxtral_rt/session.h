// voxtral-rt: streaming transcription sessions.
//
//   auto model = vrt::Model::load(dir);
//   auto session = model->new_session({.on_text = [](std::string_view t) { std::cout << t; }});
//   while (read 80 ms of 16 kHz audio into chunk) session->feed(chunk);
//   vrt::Transcript t = session->finish();
//
// A session owns all mutable state (mel carry-over, conv context, encoder and decoder KV rings);
// the model is shared read-only, so one model serves many sessions. Offline transcription is this
// loop (feed everything, then finish). Fed the same audio in any chunk sizes, a session on packed
// encoder weights (8w, 4w, 8da8w, 8da4w) computes bitwise the offline logits; on float encoder
// weights the encoder's float matmuls may round the last bit differently for another chunking
// (tokens then differ only at exact near-ties; docs/STREAMING.md). One thread at a time per
// session.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "voxtral_rt/model.h"

namespace vrt {

struct SessionOptions {
  int delay_ms = 0;                   // 0 = the model's default (480)
  std::int64_t max_new_tokens = -1;   // stop after this many tokens; -1 = no cap
  // EOS in a live stream: by default the stream goes on (Mistral's guidance: a live stream should
  // not end on EOS); the EOS is reported and the next position is fed [STREAMING_PAD]. With
  // stop_on_eos the session stops generating (offline transcription does this).
  bool stop_on_eos = false;
  // Tokens kept for snapshot()/finish(): -1 keeps all (offline); a live stream that runs for
  // hours sets a bound so memory stays constant (older tokens were already delivered by the
  // callbacks).
  std::int64_t max_kept_tokens = -1;
  std::function<void(const Token&)> on_token;        // every generated token, as decided
  std::function<void(std::string_view)> on_text;     // text deltas, never split inside a UTF-8 character
  StageDump* dump = nullptr;                         // stage outputs (tests, --dump)
  // Teacher forcing: the k-th generated position takes force_tokens[k] as its outcome (the next
  // input, and the EOS / stop decisions) while the reported token is still the model's argmax.
  // For forced alignment of a known transcript and for comparing two models' logits on the same
  // inputs. Positions past the end fall back to greedy decoding.
  std::vector<int> force_tokens;
  // Verification decoding: when audio for several positions is waiting (offline, or a live
  // stream catching up), one decoder pass checks up to this many positions, guessing that each
  // writes [STREAMING_PAD]; the output is exactly greedy decoding's. 0 = the default
  // (kDefaultVerifyTokens), 1 = one position per pass, at most kMaxVerifyTokens.
  int verify_tokens = 0;
  // 4: on the real model's token streams a pass accepts 2.0 positions at k = 4 and 2.35 at 8,
  // and the cheapest time per position at 8da4w was k = 4 (docs/PERFORMANCE.md).
  static constexpr int kDefaultVerifyTokens = 4;
  static constexpr int kMaxVerifyTokens = 16;
  // Start from the model's cached state after the constant prefix (the 32 silent tokens and the
  // prompt positions they feed, computed once per model and delay) instead of computing it:
  // the same values, bitwise. Sessions with a `dump` always compute it (the dump shows it).
  bool prefix_cache = true;
};

// Live-stream measurements. Latency: from the moment the audio a token depends on was fed (the
// feed() call delivering the last sample of its position plus the 40-sample mel look-ahead) to
// the moment the token was decided. Step: compute time per decoder position (encoder share
// included). Percentiles over the last 10,000 tokens.
struct StreamStats {
  std::int64_t tokens = 0;
  double latency_p50_ms = 0, latency_p95_ms = 0, latency_max_ms = 0;
  double step_p50_ms = 0, step_p95_ms = 0;
};

class Session {
 public:
  virtual ~Session() = default;
  // Appends 16 kHz mono samples (any count, including 0) and runs every step they complete.
  virtual void feed(std::span<const float> samples_16k) = 0;
  // The same for audio at another rate (resampled with soxr, chunk by chunk; the rate must stay
  // the same for the whole stream).
  virtual void feed(std::span<const float> samples, int sample_rate_hz) = 0;
  // Makes pending text come out without ending the stream: appends the silence that the end
  // of a stream gets (to a whole token, plus delay + 11 tokens), so everything said so far is
  // decided (all positions but the last silent one, whose final mel frame needs 40 samples of
  // what comes next); the stream then continues after that silence, and token times count it.
  virtual void flush() = 0;
  // Ends the stream (right padding per spec §8.2), runs the remaining steps and returns the
  // whole transcript. Further feed() calls throw bad_state until reset().
  virtual Transcript finish() = 0;
  // Forgets everything; the session starts a new stream with the same options.
  virtual void reset() = 0;
  // The transcript so far (tokens, text, words and segments of what is decided).
  virtual Transcript snapshot() const = 0;
  // Samples fed so far (excluding padding) and positions run.
  virtual std::int64_t samples_fed() const = 0;
  virtual StreamStats stream_stats() const = 0;
};

}  // namespace vrt
