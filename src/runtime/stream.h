// One stream's schedule: the path from 16 kHz samples to greedy tokens, for live streams and
// offline files alike (spec §8.2, §9.4). A Session (session.cpp) wraps it with resampling, text
// and callbacks; cross-session batching (batch.cpp) drives several through the batch interface.
//
// Stream layout:
//   32 tokens of zeros (the left pad, fed at the start) + audio as it arrives
//   [+ silence inserted by flush()] + at end(): zeros to a whole token + (delay + 11) tokens
// Every 1280 samples of that stream are one decoder position p. Mel frames come from the
// incremental mel (bit-identical to the offline transform); each whole token of frames (8) runs
// through the encoder (in chunks of up to kEncoderChunkTokens) and the adapter, giving a[p].
// The decoder prefills positions 0..P-1 with a[p] + E[prompt] (P = 33 + delay) as soon as they
// exist, then runs each later position with a[p] + E[previous token], several per pass with
// verification decoding (runtime/verify.h). Because every stage is causal and carries its state,
// any chunking of the same audio gives the same tokens.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "model/decoder.h"
#include "model/encoder.h"
#include "runtime/latency.h"
#include "runtime/model_impl.h"
#include "runtime/verify.h"
#include "voxtral_rt/mel.h"
#include "voxtral_rt/session.h"

namespace vrt {

// The state after the constant prefix (Model::Impl::prefix), shared by every stream of a delay.
struct PrefixState {
  StreamingLogMel mel;
  std::vector<float> mel_frames;  // frames not yet consumed by the encoder
  EncoderState enc;
  DecoderState dec;
  std::int64_t stream_samples = 0;
};

enum class StreamState {
  streaming,  // audio accepted; positions decoded as it arrives
  stopped,    // generation over (EOS with stop_on_eos, or max_new_tokens): audio accepted, ignored
  ended,      // end(): no more audio; what is left decodes in Model::step or complete()
  finished,   // the session returned its transcript; reset() starts a new stream
};

class Stream {
 public:
  using Clock = std::chrono::steady_clock;
  // Called with each token as it is decided (its greedy id); generation may stop right after.
  using TokenSink = std::function<void(int id)>;

  // build_prefix: compute the start of the stream instead of taking the model's prefix state.
  // Throws invalid_argument for options outside their contract.
  Stream(const Model::Impl& model, const SessionOptions& options, TokenSink sink, bool build_prefix = false);

  // Forgets everything and starts a new stream (from the model's prefix state when allowed).
  void reset();
  // Appends samples of the stream (audio or padding) and runs the steps they complete.
  void push(std::span<const float> samples);
  void push_silence(std::int64_t n);
  // The next n samples pushed were captured at real speed, the last one at t (Session::captured).
  void captured(std::int64_t n, Clock::time_point t);
  // Zeros to the next token boundary plus delay + 11 tokens (spec §8.3): what the end of a
  // stream gets, and what flush() inserts.
  std::int64_t end_padding() const;
  // No more audio: appends the end padding and runs it through mel (and the encoder unless it
  // is batched). State ended.
  void end();
  // Computes what a batched stream left for the batch (encoder chunks, decoder positions).
  void complete();
  void set_finished() { state_ = StreamState::finished; }

  StreamState state() const { return state_; }
  std::int64_t stream_samples() const { return stream_samples_; }
  std::int64_t generated() const { return generated_; }
  const TranscribeStats& stats() const { return stats_; }
  const LatencyStats& latency() const { return latency_; }
  double seconds_per_token() const { return seconds_per_token_; }
  const Model::Impl& model() const { return m_; }
  // The state after the constant prefix, when the stream start really is constant.
  std::shared_ptr<const PrefixState> export_prefix() const;

  // --- The batch interface (batch.cpp): a batched stream leaves its encoder chunks (when the
  // encoder's rows are batch-independent) and its decoder positions past the prompt to it.
  bool batched() const { return batched_; }
  // The next encoder chunk when the batch runs this stream's encoder (t_mel = 0: none ready):
  // whole tokens of buffered mel frames, at most kEncoderChunkTokens.
  EncoderSegment encoder_chunk();
  // Takes a chunk's results: encoder output enc [f / 2, encoder dim] and audio embeddings emb
  // [f / frames_per_token, dim], computed in enc_ms; runs the prompt positions they complete
  // (and, unless batched, the decoder).
  void take_chunk(std::int64_t f, const float* enc, const float* emb, double enc_ms);
  // Drops the mel frames the encoder has consumed.
  void compact_mel();
  // Rows this stream would put in the next pass: its verification block, once past the prompt.
  std::int64_t rows_wanted() const;
  // The k input rows of a pass over the next k pending positions into x [k, dim]; returns the
  // stream's segment of the pass.
  DecoderSegment prepare_rows(std::int64_t k, float* x);
  // The pass's logits [k, vocab] for the prepared rows: rows accepted in order while the guess
  // feeding the next one was right, the rest rolled back. pass_ms: this stream's share of the
  // pass. Returns the tokens decided.
  std::int64_t accept_rows(const float* logits, std::int64_t k, double pass_ms);
  // Compute time the batch spent for this stream (encoder share or decoder share).
  void add_batched_ms(double ms, bool decoder);

 private:
  std::int64_t constant_positions() const;
  void restore(const PrefixState& p);
  void run_encoder();
  // alone: decode every pending position here even when batched (complete()).
  void run_decoder(bool alone = false);
  std::vector<float> prompt_block(std::int64_t n);
  void decode_block();
  void emit(const float* logits, std::int64_t position, double compute_ms);
  // Stage times into the stream's stats and the model's counters.
  void add_mel_ms(double ms);
  void add_prefill_ms(double ms);
  void stop();

  const Model::Impl& m_;
  const ModelConfig& cfg_;
  TokenSink sink_;
  // Options and the stream layout, fixed for the stream's life.
  StageDump* dump_;
  bool stop_on_eos_;
  std::int64_t max_new_tokens_;
  int delay_tokens_ = 6;
  const std::vector<std::vector<float>>* ada_ = nullptr;
  std::int64_t spt_ = 1280;
  std::int64_t frames_per_token_ = 8;
  double seconds_per_token_ = 0.08;
  std::int64_t left_pad_samples_ = 0;
  std::vector<int> prompt_;
  std::int64_t const_positions_ = 0;  // decoder positions of the constant prefix
  std::int64_t verify_k_ = 1;         // positions per decoder pass
  bool use_prefix_ = false;           // start from the model's prefix state
  bool batched_ = false;              // the batch decodes past the prompt
  bool batch_encoder_ = false;        // ... and runs the encoder (batch-independent rows)

  StreamState state_ = StreamState::streaming;
  StreamingLogMel mel_;
  std::vector<float> mel_frames_;  // [frames, n_mels], from mel_used_ on not yet encoded
  std::int64_t mel_used_ = 0;
  EncoderState enc_;
  DecoderState dec_;
  std::vector<float> enc_out_, emb_, logits_;
  struct Pending {
    std::vector<float> embedding;  // a[p]
    double encoder_ms;             // its share of the encoder chunk's compute
  };
  std::deque<Pending> pending_;  // audio embeddings the decoder has not consumed yet
  VerifyPolicy policy_;
  std::vector<int> replay_;          // SessionOptions::replay_tokens
  std::int64_t replay_offset_ = 0;
  std::vector<int> rows_;          // the input token of each row of the current pass
  std::int64_t pass_p0_ = 0;       // the first position of the current pass
  std::int64_t generated_ = 0;
  std::int64_t stream_samples_ = 0;
  std::int64_t captured_end_ = 0;  // stream samples whose capture time was given (captured())
  double step_compute_ms_ = 0;     // the prompt's encoder shares, for its token's compute time
  TranscribeStats stats_;
  LatencyStats latency_;
};

// The constant start of every stream, computed once per model and delay.
std::shared_ptr<const PrefixState> build_prefix(const Model::Impl& model, int delay_tokens);

// The stream behind a public session (session.cpp).
Stream& session_stream(Session& session);

}  // namespace vrt
