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
//
// Cross-session batching (a server's streams): sessions created with `batched` leave their
// model compute to Model::step, which runs all of them together, each weight matrix read once
// per pass for every stream, with tokens bitwise those of each session alone:
//
//   opts.batched = true;  auto a = model->new_session(opts), b = model->new_session(opts);
//   a->feed(chunk_a); b->feed(chunk_b);          // mel front end (and float encoders) only
//   Session* both[] = {a.get(), b.get()};
//   model->step(both);                           // encoder + decoder passes for both
//   a->end_audio(); model->step(both); a->finish();
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
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
  // Replay, for measurement only (benchmarks; never on by default, and `serve` takes it only in
  // its --bench mode): generated position k's greedy choice is replay_tokens[(replay_offset + k)
  // % size] (a recorded stream of the real model, cycled) instead of the logits' argmax. The
  // logits and their argmax are still computed, so every weight byte and kernel runs as in
  // production, while verification guesses, rejected rows, EOS and text follow the recording:
  // the work real speech causes (synthetic checkpoints write [STREAMING_PAD] everywhere, which
  // every guess gets right). Reported tokens, text and stop decisions are the recording's.
  // Not with force_tokens.
  std::vector<int> replay_tokens;
  std::int64_t replay_offset = 0;
  // Verification decoding: when audio for several positions is waiting (offline, or a live
  // stream catching up), one decoder pass checks up to this many positions, guessing that each
  // writes [STREAMING_PAD]; the output is exactly greedy decoding's. 0 = the default
  // (kDefaultVerifyTokens), 1 = one position per pass, at most kMaxVerifyTokens.
  int verify_tokens = 0;
  // 4: on the real model's token streams a pass accepts 2.0 positions at k = 4 and 2.35 at 8
  // (replay_verification with 32-position chunks; the offline schedule's own chunk boundaries
  // give about 3% fewer), and the cheapest time per position at 8da4w was k = 4
  // (docs/PERFORMANCE.md).
  static constexpr int kDefaultVerifyTokens = 4;
  static constexpr int kMaxVerifyTokens = 16;
  // Start from the model's cached state after the constant prefix (the 32 silent tokens and the
  // prompt positions they feed, computed once per model and delay) instead of computing it:
  // the same values, bitwise. Sessions with a `dump` always compute it (the dump shows it).
  bool prefix_cache = true;
  // Cross-session batching: feed() runs only the mel front end (plus the encoder when its
  // weights are float) and leaves the rest to Model::step; finish() computes whatever is left.
  bool batched = false;
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
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Appends 16 kHz mono samples (any count, including 0) and runs every step they complete.
  void feed(std::span<const float> samples_16k);
  // The same for audio at another rate (resampled with soxr, chunk by chunk; the rate must stay
  // the same for the whole stream).
  void feed(std::span<const float> samples, int sample_rate_hz);
  // A live source's clock: the next `samples_16k` samples (at 16 kHz) to be fed were captured at
  // real speed, the last one at `when` (each earlier sample its duration before). Token latency
  // (stream_stats) then counts from the capture of the last sample each token needs, so time the
  // audio waited (for the feed, for a busy session) counts too; without it, from the feed() call.
  void captured(std::int64_t samples_16k, std::chrono::steady_clock::time_point when);
  // Makes pending text come out without ending the stream: appends the silence that the end
  // of a stream gets (to a whole token, plus delay + 11 tokens), so everything said so far is
  // decided (all positions but the last silent one, whose final mel frame needs 40 samples of
  // what comes next); the stream then continues after that silence, and token times count it.
  void flush();
  // Ends the audio (right padding per spec §8.2) without returning: the end's positions run
  // here, or in Model::step for a batched session. Then only finish() (or reset()) may follow.
  void end_audio();
  // Ends the stream (end_audio() unless done), runs the remaining steps and returns the whole
  // transcript. Further feed() calls throw bad_state until reset().
  Transcript finish();
  // Forgets everything; the session starts a new stream with the same options.
  void reset();
  // The transcript so far (tokens, text, words and segments of what is decided).
  Transcript snapshot() const;
  // Samples fed so far (excluding padding).
  std::int64_t samples_fed() const;
  StreamStats stream_stats() const;

  struct Impl;

 private:
  friend struct RuntimeAccess;  // the library's own access (src/runtime)
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vrt
