// A transcription session: the one path from audio to tokens, for live streams and offline files.
//
// Stream layout (spec §8.2, §9.4):
//   32 tokens of zeros (the left pad, fed at the start) + audio as it arrives
//   [+ silence inserted by flush()] + at finish(): zeros to a whole token + (delay + 11) tokens
// Every 1280 samples of that stream are one decoder position p. Mel frames come from the
// incremental mel (bit-identical to the offline transform); each whole token of frames (8) runs
// through the encoder (in chunks of up to kEncoderChunkTokens) and the adapter, giving a[p].
// The decoder prefills positions 0..P-1 with a[p] + E[prompt] (P = 33 + delay) as soon as they
// exist, then runs each later position with a[p] + E[previous token]. Because every stage is
// causal and carries its state, any chunking of the same audio gives the same tokens.
#include <algorithm>
#include <chrono>
#include <deque>
#include <unordered_map>

#include "kernels/kernels.h"
#include "runtime/model_impl.h"
#include "runtime/timestamps.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/session.h"

namespace vrt {

// The session state after the constant prefix (Model::Impl::prefix).
struct PrefixState {
  StreamingLogMel mel;
  std::vector<float> mel_frames;  // frames not yet consumed by the encoder
  EncoderState enc;
  DecoderState dec;
  std::int64_t stream_samples = 0;
};

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

class SessionImpl final : public Session {
 public:
  // build_prefix: compute the start of the stream instead of taking the model's prefix state.
  SessionImpl(const Model::Impl& m, std::shared_ptr<const Model> keep_alive, const SessionOptions& o,
              bool build_prefix = false)
      : keep_alive_(std::move(keep_alive)), m_(m), o_(o), cfg_(m.config()),
        tok_(m.tokenizer()), mel_(*m.mel), text_(tok_) {
    const auto& s = tok_.streaming();
    const int delay_ms = o.delay_ms == 0 ? s.transcription_delay_ms : o.delay_ms;
    validate_delay_ms(delay_ms);
    delay_tokens_ = delay_tokens_for_ms(delay_ms, s.sampling_rate, s.hop_length, s.samples_per_token());
    ada_ = &m.ada_scales(delay_tokens_);
    spt_ = cfg_.samples_per_token();
    frames_per_token_ = spt_ / cfg_.encoder.audio.hop_length;
    seconds_per_token_ = 1.0 / cfg_.encoder.audio.frame_rate;
    prompt_.assign(static_cast<std::size_t>(1 + s.streaming_n_left_pad_tokens + delay_tokens_), tok_.streaming_pad_id());
    prompt_[0] = tok_.bos_id();
    left_pad_samples_ = std::int64_t{s.streaming_n_left_pad_tokens} * spt_;
    const_positions_ = constant_positions();
    // Stage dumps must show the prefix's stages too: such sessions compute it.
    use_prefix_ = !build_prefix && o_.prefix_cache && o_.dump == nullptr;
    if (o_.verify_tokens < 0 || o_.verify_tokens > SessionOptions::kMaxVerifyTokens)
      throw Error(Status::invalid_argument, "verify_tokens " + std::to_string(o_.verify_tokens) + " outside 0.." +
                                                std::to_string(SessionOptions::kMaxVerifyTokens));
    verify_k_ = o_.verify_tokens == 0 ? SessionOptions::kDefaultVerifyTokens : o_.verify_tokens;
    for (const int t : o_.force_tokens)
      if (t < 0 || t >= cfg_.vocab_size)
        throw Error(Status::invalid_argument, "forced token id " + std::to_string(t) + " outside the vocabulary");
    reset();
  }

  void feed(std::span<const float> samples) override {
    if (finished_ || ended_) throw Error(Status::bad_state, "feed() after finish(): call reset() to start a new stream");
    samples_fed_ += static_cast<std::int64_t>(samples.size());
    stats_.audio_s = static_cast<double>(samples_fed_) / cfg_.encoder.audio.sampling_rate;
    push(samples);
  }

  void feed(std::span<const float> samples, int sample_rate_hz) override {
    if (sample_rate_hz == cfg_.encoder.audio.sampling_rate) return feed(samples);
    const AudioLimits limits;
    if (sample_rate_hz < limits.min_sample_rate_hz || sample_rate_hz > limits.max_sample_rate_hz)
      throw Error(Status::invalid_argument, "sample rate " + std::to_string(sample_rate_hz) + " Hz outside " +
                                                std::to_string(limits.min_sample_rate_hz) + ".." +
                                                std::to_string(limits.max_sample_rate_hz));
    if (!resampler_) resampler_ = std::make_unique<StreamResampler>(sample_rate_hz, cfg_.encoder.audio.sampling_rate);
    if (resampler_->from_hz() != sample_rate_hz)
      throw Error(Status::invalid_argument, "the sample rate changed mid-stream (" + std::to_string(resampler_->from_hz()) +
                                                " -> " + std::to_string(sample_rate_hz) + " Hz)");
    resampler_->process(samples, resampled_);
    feed(resampled_);
    resampled_.clear();
  }

  StreamStats stream_stats() const override {
    StreamStats r;
    r.tokens = total_tokens_;
    auto pct = [](std::vector<double> v, double q) {
      if (v.empty()) return 0.0;
      const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
      return v[k];
    };
    const std::vector<double> lat(latency_ms_.begin(), latency_ms_.end()), step(step_ms_.begin(), step_ms_.end());
    r.latency_p50_ms = pct(lat, 0.5);
    r.latency_p95_ms = pct(lat, 0.95);
    r.latency_max_ms = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
    r.step_p50_ms = pct(step, 0.5);
    r.step_p95_ms = pct(step, 0.95);
    return r;
  }

  void flush() override {
    if (finished_ || ended_) throw Error(Status::bad_state, "flush() after finish()");
    push_silence(end_padding());
  }

  Transcript finish() override {
    if (finished_) throw Error(Status::bad_state, "finish() called twice");
    if (!ended_) end_stream();
    if (defer_encoder_ || deferred_) {  // what decode_batch has not computed, computed alone
      std::lock_guard<std::mutex> lock(m_.pool_mutex);
      if (defer_encoder_) {
        defer_encoder_ = false;
        run_encoder();
      }
      deferred_ = false;
      run_decoder();
    }
    finished_ = true;
    const std::string tail = text_.finish();
    if (!tail.empty() && o_.on_text) o_.on_text(tail);
    Transcript t = snapshot();
    if (o_.dump) o_.dump->mel = to_channel_major(o_.dump->mel, cfg_.encoder.audio.num_mel_bins);
    return t;
  }

  void reset() override {
    mel_.reset();
    enc_ = m_.encoder->new_state();
    dec_ = m_.decoder->new_state();
    mel_frames_.clear();
    mel_used_ = 0;
    pending_.clear();
    tokens_.clear();
    total_tokens_ = 0;
    text_ = IncrementalDecoder(tok_);
    stats_ = {};
    samples_fed_ = 0;
    stream_samples_ = 0;
    resampler_.reset();
    arrivals_.clear();
    latency_ms_.clear();
    step_ms_.clear();
    stopped_ = finished_ = ended_ = false;
    defer_to_batch();
    followers_.clear();
    if (o_.dump) *o_.dump = {};
    // Every stream starts with the same 32 tokens of silence and the same prompt.
    const auto prefix = use_prefix_ ? m_.prefix(delay_tokens_) : nullptr;
    if (prefix) {
      restore(*prefix);
    } else {
      push_silence(left_pad_samples_);
    }
  }

  // The state after the constant prefix, when the stream start really is constant.
  std::shared_ptr<const PrefixState> export_prefix() const {
    if (dec_.next_pos != const_positions_ || !pending_.empty() || mel_used_ != 0) return nullptr;
    return std::make_shared<const PrefixState>(PrefixState{mel_, mel_frames_, enc_, dec_, stream_samples_});
  }

  Transcript snapshot() const override {
    Transcript t;
    t.tokens.assign(tokens_.begin(), tokens_.end());
    std::vector<int> ids;
    for (const auto& k : t.tokens) ids.push_back(k.id);
    t.text = tok_.decode(ids);
    t.words = words_from_tokens(t.tokens, tok_.streaming_word_id());
    t.segments = segments_from_words(t.words);
    t.stats = stats_;
    t.stats.generated_tokens = total_tokens_;
    return t;
  }

  std::int64_t samples_fed() const override { return samples_fed_; }

  // The end of the stream's audio (the padding finish() appends), through mel and encoder;
  // in batched mode its positions are left for decode_batch. finish() completes.
  void end_stream() {
    if (resampler_) {  // the resampler's delayed tail belongs to the audio
      resampler_->flush(resampled_);
      feed(resampled_);
      resampled_.clear();
    }
    push_silence(end_padding());
    {
      const auto t = Clock::now();
      mel_.finish(mel_frames_);
      stats_.mel_ms += ms_since(t);
    }
    push({});
    ended_ = true;
  }

  // Batched mode (decode_batch): positions are decoded by the caller's passes, and when the
  // encoder's rows are batch-independent its chunks are computed by the caller's batched calls.
  void set_batched(bool on) {
    batched_ = on;
    defer_to_batch();
  }
  bool encoder_deferred() const { return defer_encoder_; }
  // The next encoder chunk: whole tokens of buffered mel frames, at most kEncoderChunkTokens
  // (0 when none is ready). Its frames start at chunk_mel().
  std::int64_t chunk_frames() const {
    if (stopped_) return 0;
    const std::int64_t nm = cfg_.encoder.audio.num_mel_bins;
    const std::int64_t frames = static_cast<std::int64_t>(mel_frames_.size()) / nm - mel_used_;
    return std::min(Model::Impl::kEncoderChunkTokens * frames_per_token_, frames / frames_per_token_ * frames_per_token_);
  }
  const float* chunk_mel() const { return mel_frames_.data() + mel_used_ * cfg_.encoder.audio.num_mel_bins; }
  EncoderState& encoder_state() { return enc_; }
  // Takes the chunk's results: encoder output enc [f / 2, encoder dim] and audio embeddings
  // emb [f / frames_per_token, dim], computed in enc_ms; runs the prompt positions they complete
  // (and, unless deferred, the decoder).
  void take_chunk(std::int64_t f, const float* enc, const float* emb, double enc_ms) {
    const std::int64_t n_tokens = f / frames_per_token_;
    if (o_.dump) {
      const float* mel = chunk_mel();
      o_.dump->mel.insert(o_.dump->mel.end(), mel, mel + f * cfg_.encoder.audio.num_mel_bins);
      o_.dump->encoder.insert(o_.dump->encoder.end(), enc, enc + f / 2 * cfg_.encoder.dim);
      o_.dump->adapter.insert(o_.dump->adapter.end(), emb, emb + n_tokens * cfg_.dim);
    }
    stats_.encoder_ms += enc_ms;
    const double share = enc_ms / static_cast<double>(n_tokens);
    for (std::int64_t r = 0; r < n_tokens; ++r)
      pending_.push_back({std::vector<float>(emb + r * cfg_.dim, emb + (r + 1) * cfg_.dim), share});
    mel_used_ += f;
    run_decoder();
  }
  // Drops the mel frames the encoder has consumed (all of them once the stream stopped).
  void compact_mel() {
    const std::int64_t nm = cfg_.encoder.audio.num_mel_bins;
    if (stopped_) mel_used_ = static_cast<std::int64_t>(mel_frames_.size()) / nm;
    mel_frames_.erase(mel_frames_.begin(), mel_frames_.begin() + mel_used_ * nm);
    mel_used_ = 0;
  }
  // Rows this session would put in the next pass: its verification block, once past the prompt.
  std::int64_t rows_wanted() const {
    if (stopped_ || dec_.next_pos < static_cast<std::int64_t>(prompt_.size())) return 0;
    return std::min<std::int64_t>(verify_k_, static_cast<std::int64_t>(pending_.size()));
  }
  DecoderSegment segment(std::int64_t k) { return {&dec_, k, ada_}; }
  // The k input rows of a verification pass over the next k pending positions into x [k, dim].
  void prepare_rows(std::int64_t k, float* x) {
    const std::int64_t d = cfg_.dim;
    pass_p0_ = dec_.next_pos;
    guesses_.assign(static_cast<std::size_t>(k), next_input_);
    for (std::int64_t j = 0; j < k; ++j) {
      if (j > 0) {
        const std::int64_t idx = total_tokens_ + j - 1;  // the generated token that feeds row j
        guesses_[static_cast<std::size_t>(j)] = idx < static_cast<std::int64_t>(o_.force_tokens.size())
                                                    ? o_.force_tokens[static_cast<std::size_t>(idx)]
                                                    : guess_after(guesses_[static_cast<std::size_t>(j - 1)]);
      }
      const auto& e = pending_[static_cast<std::size_t>(j)].embedding;
      std::copy(e.begin(), e.end(), x + j * d);
      m_.decoder->add_embedding(guesses_[static_cast<std::size_t>(j)], x + j * d);
    }
  }
  // The logits [k, vocab] of the prepared rows (after the forward pass): rows are accepted in
  // order while the guess feeding the next one was right; the rest is rolled back. pass_ms:
  // this session's share of the pass. Returns the tokens emitted.
  std::int64_t accept_rows(const float* logits, std::int64_t k, double pass_ms) {
    std::int64_t accepted = 0;
    while (accepted < k) {
      step_compute_ms_ = pending_.front().encoder_ms + pass_ms / static_cast<double>(k);
      pending_.pop_front();
      emit(logits + accepted * cfg_.vocab_size, Clock::now());
      ++accepted;
      if (stopped_ || (accepted < k && next_input_ != guesses_[static_cast<std::size_t>(accepted)])) break;
    }
    dec_.next_pos = pass_p0_ + accepted;  // roll back the rejected positions
    stats_.decode_steps += accepted;
    ++stats_.decode_passes;
    return accepted;
  }
  void add_batched_ms(double ms, bool decoder = true) {
    if (decoder) stats_.decode_ms += ms;
    stats_.total_ms += ms;
  }

 private:
  // In batched mode the decoder (and a batch-independent encoder) wait for decode_batch.
  void defer_to_batch() {
    deferred_ = batched_;
    defer_encoder_ = batched_ && m_.encoder->rows_batch_independent();
  }

  // Decoder positions computed from the left-pad silence alone (so the same for every stream).
  // Mel frame f covers samples [hop f - n_fft/2, hop f + n_fft/2): frames f <= F are silence,
  // F = (left_pad - n_fft/2) / hop. conv1 frame t reads mel t-2..t, conv2 frame i reads conv1
  // 2i-1..2i+1: encoder frames i <= (F - 1) / 2 are constant (causal attention keeps them so
  // in every layer), and position p stacks encoder frames 4p..4p+3. The prompt covers more
  // positions than that, so their inputs are constant too; the last prompt position stays
  // out (it yields the first logits). Real model: F = 254, 127 encoder frames, 31 positions.
  std::int64_t constant_positions() const {
    const auto& a = cfg_.encoder.audio;
    const std::int64_t f = (left_pad_samples_ - a.window_size / 2) / a.hop_length;
    if (f < 1) return 0;
    const std::int64_t enc_frames = (f - 1) / 2 + 1;
    return std::min<std::int64_t>(enc_frames / cfg_.downsample_factor, static_cast<std::int64_t>(prompt_.size()) - 1);
  }

  void restore(const PrefixState& p) {
    mel_ = p.mel;
    mel_frames_ = p.mel_frames;
    enc_ = p.enc;
    dec_ = p.dec;
    stream_samples_ = p.stream_samples;
    arrivals_.push_back({stream_samples_, Clock::now()});
    stats_.cached_positions = p.dec.next_pos;
  }

  // Zeros to the next token boundary of the stream, plus delay + 1 + 10 tokens (spec §8.3).
  std::int64_t end_padding() const {
    return (spt_ - stream_samples_ % spt_) % spt_ + std::int64_t{right_pad_tokens(delay_tokens_)} * spt_;
  }

  void push_silence(std::int64_t n) {
    const std::vector<float> zeros(static_cast<std::size_t>(std::min<std::int64_t>(n, 1 << 16)), 0.0f);
    for (std::int64_t done = 0; done < n;) {
      const auto k = static_cast<std::size_t>(std::min<std::int64_t>(n - done, static_cast<std::int64_t>(zeros.size())));
      push({zeros.data(), k});
      done += static_cast<std::int64_t>(k);
    }
  }

  void push(std::span<const float> samples) {
    const auto t0 = Clock::now();
    stream_samples_ += static_cast<std::int64_t>(samples.size());
    if (stopped_) arrivals_.clear();  // no token will consume them
    arrivals_.push_back({stream_samples_, t0});
    if (!samples.empty()) {
      const auto t = Clock::now();
      mel_.feed(samples, mel_frames_);
      stats_.mel_ms += ms_since(t);
    }
    if (!defer_encoder_) {
      std::lock_guard<std::mutex> lock(m_.pool_mutex);  // sessions share the compute threads
      run_encoder();
    }
    stats_.total_ms += ms_since(t0);  // compute time; transcribe() reports wall time instead
  }

  // Whole tokens of buffered mel frames -> encoder -> adapter -> decoder.
  void run_encoder() {
    while (const std::int64_t f = chunk_frames()) {
      const auto t = Clock::now();
      m_.encoder->forward(enc_, chunk_mel(), f, enc_out_, &m_.pool);
      m_.encoder->adapter(enc_out_.data(), f / frames_per_token_, emb_, &m_.pool);
      take_chunk(f, enc_out_.data(), emb_.data(), ms_since(t));
    }
    compact_mel();
  }

  // The prompt runs in two blocks whatever the cache does, so that cached and computed starts
  // are the same computation: positions [0, const_positions_) (the model's prefix state), then
  // the rest of the prompt once its audio exists, which yields the first token.
  void run_decoder() {
    const auto n_prompt = static_cast<std::int64_t>(prompt_.size());
    if (dec_.next_pos == 0 && const_positions_ > 0) {
      if (static_cast<std::int64_t>(pending_.size()) < const_positions_) return;
      const auto t = Clock::now();
      prompt_block(const_positions_);
      stats_.prefill_ms += ms_since(t);
    }
    if (dec_.next_pos == const_positions_) {
      if (static_cast<std::int64_t>(pending_.size()) < n_prompt - const_positions_) return;
      const auto t = Clock::now();
      step_compute_ms_ = 0;
      const std::vector<float> x = prompt_block(n_prompt - const_positions_);
      logits_.resize(static_cast<std::size_t>(cfg_.vocab_size));
      m_.decoder->logits(x.data() + (n_prompt - const_positions_ - 1) * cfg_.dim, 1, logits_.data(), &m_.pool);
      emit(logits_.data(), t);
      stats_.prefill_ms += ms_since(t);
      stats_.prefill_positions = n_prompt;
    }
    while (!deferred_ && !stopped_ && !pending_.empty()) decode_block();
  }

  // The next n prompt positions in one decoder pass; returns their hidden states.
  std::vector<float> prompt_block(std::int64_t n) {
    const std::int64_t p0 = dec_.next_pos;
    std::vector<float> x(static_cast<std::size_t>(n * cfg_.dim));
    for (std::int64_t j = 0; j < n; ++j) {
      const auto& e = pending_.front().embedding;
      std::copy(e.begin(), e.end(), x.begin() + j * cfg_.dim);
      step_compute_ms_ += pending_.front().encoder_ms;
      pending_.pop_front();
      m_.decoder->add_embedding(prompt_[static_cast<std::size_t>(p0 + j)], x.data() + j * cfg_.dim);
    }
    m_.decoder->forward(dec_, x.data(), n, *ada_, &m_.pool);
    return x;
  }

  // One decoder pass over k positions (verification decoding): row 0 takes the previous token,
  // row j > 0 a guess of the token row j - 1 will produce (the forced token when teacher
  // forcing; else the majority follower of row j - 1's input so far, [STREAMING_PAD] for a
  // token not seen yet: most positions write pads, and pads follow pads). Rows are accepted in order while the guess
  // feeding the next row was right; the cache entries of the rest are overwritten later
  // (positions index the ring, and nothing still needed is evicted since k <= kMaxDecoderBlock).
  // Each row's values do not depend on k, so tokens and logits are bitwise those of one
  // position per pass; k = 1 is plain greedy decoding.
  void decode_block() {
    const auto t = Clock::now();
    const std::int64_t k = std::min<std::int64_t>(verify_k_, static_cast<std::int64_t>(pending_.size()));
    std::vector<float> x(static_cast<std::size_t>(k * cfg_.dim));
    prepare_rows(k, x.data());
    m_.decoder->forward(dec_, x.data(), k, *ada_, &m_.pool);
    logits_.resize(static_cast<std::size_t>(k * cfg_.vocab_size));
    m_.decoder->logits(x.data(), k, logits_.data(), &m_.pool);
    accept_rows(logits_.data(), k, ms_since(t));
    stats_.decode_ms += ms_since(t);
  }

  // Greedy choice from the logits of the newest position.
  void emit(const float* logits, Clock::time_point step_start) {
    if (o_.dump) o_.dump->logits.insert(o_.dump->logits.end(), logits, logits + cfg_.vocab_size);
    const int id = static_cast<int>(kernels::argmax(logits, cfg_.vocab_size));
    Token t;
    t.id = id;
    t.special = tok_.is_special(id);
    t.piece = tok_.piece(id);
    t.time_s = token_time_s(total_tokens_++, seconds_per_token_);
    tokens_.push_back(t);
    if (o_.max_kept_tokens >= 0 && static_cast<std::int64_t>(tokens_.size()) > o_.max_kept_tokens) tokens_.pop_front();
    const std::int64_t k = total_tokens_ - 1;
    const int outcome = k < static_cast<std::int64_t>(o_.force_tokens.size()) ? o_.force_tokens[static_cast<std::size_t>(k)] : id;
    const bool eos = outcome == tok_.eos_id();
    const int input = next_input_;
    next_input_ = eos ? tok_.streaming_pad_id() : outcome;  // only reached again when the stream goes on
    learn_follower(input, next_input_);
    record_timing(step_compute_ms_ + ms_since(step_start));
    if (o_.on_token) o_.on_token(t);
    if (o_.on_text) {
      const std::string delta = text_.push(id);
      if (!delta.empty()) o_.on_text(delta);
    }
    if ((eos && o_.stop_on_eos) ||
        (o_.max_new_tokens >= 0 && total_tokens_ >= o_.max_new_tokens))
      stopped_ = true;
  }

  // Majority vote (Boyer-Moore) of the token that followed each input token: O(1) per token,
  // at most one entry per vocabulary id.
  struct Follower {
    int candidate = 0;
    int votes = 0;
  };
  int guess_after(int token) const {
    const auto it = followers_.find(token);
    return it == followers_.end() ? tok_.streaming_pad_id() : it->second.candidate;
  }
  void learn_follower(int token, int next) {
    auto [it, fresh] = followers_.try_emplace(token, Follower{next, 0});
    Follower& f = it->second;
    if (f.candidate == next) {
      ++f.votes;
    } else if (f.votes == 0) {
      f = {next, 1};
    } else {
      --f.votes;
    }
  }

  // Latency of the token just decided (its position is dec_.next_pos - 1) and its compute time
  // (decoder step plus its share of the encoder chunk).
  void record_timing(double compute_ms) {
    const auto now = Clock::now();
    const std::int64_t needed = dec_.next_pos * spt_ + kLookAheadSamples;
    while (arrivals_.size() > 1 && arrivals_.front().stream_end < needed) arrivals_.pop_front();
    if (!arrivals_.empty())
      keep_last(latency_ms_, std::chrono::duration<double, std::milli>(now - arrivals_.front().time).count());
    keep_last(step_ms_, compute_ms);
  }
  static void keep_last(std::deque<double>& d, double v) {
    d.push_back(v);
    if (d.size() > 10000) d.pop_front();
  }

  static constexpr std::int64_t kLookAheadSamples = 40;  // the last mel frame's half window past the token
  struct Arrival {
    std::int64_t stream_end;
    Clock::time_point time;
  };

  std::shared_ptr<const Model> keep_alive_;
  const Model::Impl& m_;
  SessionOptions o_;
  const ModelConfig& cfg_;
  const Tokenizer& tok_;
  int delay_tokens_ = 6;
  const std::vector<std::vector<float>>* ada_ = nullptr;
  int spt_ = 1280;
  std::int64_t frames_per_token_ = 8;
  double seconds_per_token_ = 0.08;
  std::int64_t left_pad_samples_ = 0;
  std::vector<int> prompt_;

  StreamingLogMel mel_;
  EncoderState enc_;
  DecoderState dec_;
  IncrementalDecoder text_;
  std::vector<float> mel_frames_, enc_out_, emb_, logits_;
  std::int64_t mel_used_ = 0;      // leading frames of mel_frames_ the encoder has consumed
  std::int64_t verify_k_ = 1;      // positions per decoder pass (verification decoding)
  std::int64_t const_positions_ = 0;  // decoder positions of the constant prefix
  bool use_prefix_ = false;           // start from the model's prefix state
  std::vector<int> guesses_;       // the input token of each row of the current pass
  std::int64_t pass_p0_ = 0;       // the first position of the current pass
  bool batched_ = false;           // set_batched: decode_batch decodes past the prompt
  bool deferred_ = false;          // batched_ until finish()
  bool defer_encoder_ = false;     // batched_ with a batch-independent encoder, until finish()
  bool ended_ = false;             // end_stream() ran: no more audio
  std::unordered_map<int, Follower> followers_;  // verification guesses (see guess_after)
  struct Pending {
    std::vector<float> embedding;  // a[p]
    double encoder_ms;             // its share of the encoder chunk's compute
  };
  std::deque<Pending> pending_;  // audio embeddings the decoder has not consumed yet
  std::deque<Token> tokens_;  // the kept tail (all of them unless max_kept_tokens is set)
  std::int64_t total_tokens_ = 0;
  int next_input_ = 0;
  TranscribeStats stats_;
  std::int64_t samples_fed_ = 0, stream_samples_ = 0;
  bool stopped_ = false, finished_ = false;
  std::unique_ptr<StreamResampler> resampler_;
  std::vector<float> resampled_;
  std::deque<Arrival> arrivals_;
  std::deque<double> latency_ms_, step_ms_;
  double step_compute_ms_ = 0;
};

}  // namespace

std::shared_ptr<const PrefixState> build_prefix(const Model::Impl& m, int delay_tokens) {
  const auto& s = m.tokenizer().streaming();
  SessionOptions o;
  // The delay in ms that maps to these tokens (delay_tokens_for_ms inverts it exactly).
  o.delay_ms = static_cast<int>(std::int64_t{delay_tokens} * s.samples_per_token() * 1000 / s.sampling_rate);
  SessionImpl session(m, nullptr, o, /*build_prefix=*/true);
  return session.export_prefix();
}

void set_batched_decoding(Session& session, bool on) {
  auto* s = dynamic_cast<SessionImpl*>(&session);
  if (s == nullptr) throw Error(Status::internal, "set_batched_decoding: not a model session");
  s->set_batched(on);
}

void end_stream_audio(Session& session) {
  auto* s = dynamic_cast<SessionImpl*>(&session);
  if (s == nullptr) throw Error(Status::internal, "end_stream_audio: not a model session");
  s->end_stream();
}

std::int64_t max_batch_rows(const Model::Impl& m) {
  return m.weights.output.quantized() && all_linears_packed(m.weights.decoder) ? Model::Impl::kMaxDecoderBlock : 16;
}

namespace {

// The sessions' buffered whole tokens of mel frames through the encoder and adapter, stacked in
// calls of at most kEncoderBatchTokens tokens (each session's chunk at most kEncoderChunkTokens,
// as alone), so that each encoder matrix is read once per call for all streams. Only sessions
// whose encoder is deferred (batch-independent rows) are here: their chunks give the same bits
// stacked or alone, chunked in any way.
void encode_batch(const Model::Impl& m, const std::vector<SessionImpl*>& sessions) {
  constexpr std::int64_t kEncoderBatchTokens = 4 * Model::Impl::kEncoderChunkTokens;
  const std::int64_t fpt = m.config().samples_per_token() / m.config().encoder.audio.hop_length;
  const std::int64_t enc_dim = m.config().encoder.dim, dim = m.config().dim;
  std::vector<SessionImpl*> in;
  std::vector<std::int64_t> frames;
  std::vector<EncoderSegment> segments;
  std::vector<float> enc, emb;
  std::size_t start = 0;
  for (;;) {
    in.clear();
    frames.clear();
    segments.clear();
    std::int64_t tokens = 0;
    for (std::size_t i = 0; i < sessions.size(); ++i) {  // a rotating first one, as in the passes
      SessionImpl* s = sessions[(start + i) % sessions.size()];
      const std::int64_t f = s->encoder_deferred() ? s->chunk_frames() : 0;
      if (f == 0 || tokens + f / fpt > kEncoderBatchTokens) continue;
      in.push_back(s);
      frames.push_back(f);
      segments.push_back({&s->encoder_state(), s->chunk_mel(), f});
      tokens += f / fpt;
    }
    if (in.empty()) break;
    start = (start + 1) % sessions.size();
    const auto t = Clock::now();
    m.encoder->forward_segments(segments, enc, &m.pool);
    m.encoder->adapter(enc.data(), tokens, emb, &m.pool);
    const double ms = ms_since(t);
    std::int64_t row = 0;  // the segment's first token
    for (std::size_t j = 0; j < in.size(); ++j) {
      const std::int64_t k = frames[j] / fpt;
      const double share = ms * static_cast<double>(k) / static_cast<double>(tokens);
      in[j]->take_chunk(frames[j], enc.data() + row * fpt / 2 * enc_dim, emb.data() + row * dim, share);
      in[j]->add_batched_ms(share, /*decoder=*/false);
      row += k;
    }
  }
  for (SessionImpl* s : sessions)
    if (s->encoder_deferred()) s->compact_mel();
}

}  // namespace

std::int64_t decode_batch(const Model::Impl& m, std::span<Session* const> sessions, std::int64_t max_rows) {
  std::vector<SessionImpl*> s;
  for (Session* p : sessions) {
    auto* si = dynamic_cast<SessionImpl*>(p);
    if (si == nullptr) throw Error(Status::internal, "decode_batch: not a model session");
    s.push_back(si);
  }
  const std::size_t n = s.size();
  const std::int64_t d = m.config().dim, vocab = m.config().vocab_size;
  max_rows = std::max<std::int64_t>(1, max_rows);
  std::vector<std::int64_t> want(n), rows(n);
  std::vector<DecoderSegment> segments;
  std::vector<float> x, logits;
  std::int64_t tokens = 0;
  std::size_t start = 0;
  std::lock_guard<std::mutex> lock(m.pool_mutex);
  encode_batch(m, s);
  for (;;) {
    // One row for every session first (starting from a rotating one, so that when the cap
    // leaves sessions out it is not always the same ones), then more verification rows each.
    std::int64_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      want[i] = s[i]->rows_wanted();
      rows[i] = 0;
    }
    for (std::size_t i = 0; i < n && total < max_rows; ++i) {
      const std::size_t j = (start + i) % n;
      if (want[j] > 0) rows[j] = 1, ++total;
    }
    if (total == 0) break;
    start = (start + 1) % n;
    for (bool more = true; more && total < max_rows;) {
      more = false;
      for (std::size_t j = 0; j < n && total < max_rows; ++j)
        if (rows[j] > 0 && rows[j] < want[j]) ++rows[j], ++total, more = true;
    }
    const auto t = Clock::now();
    x.assign(static_cast<std::size_t>(total * d), 0.0f);
    segments.clear();
    std::int64_t r = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (rows[j] == 0) continue;
      s[j]->prepare_rows(rows[j], x.data() + r * d);
      segments.push_back(s[j]->segment(rows[j]));
      r += rows[j];
    }
    m.decoder->forward_segments(segments, x.data(), &m.pool);
    logits.resize(static_cast<std::size_t>(total * vocab));
    m.decoder->logits(x.data(), total, logits.data(), &m.pool);
    const double pass_ms = ms_since(t);
    r = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (rows[j] == 0) continue;
      const double share = pass_ms * static_cast<double>(rows[j]) / static_cast<double>(total);
      tokens += s[j]->accept_rows(logits.data() + r * vocab, rows[j], share);
      s[j]->add_batched_ms(share);
      r += rows[j];
    }
  }
  return tokens;
}

std::unique_ptr<Session> make_session(const Model::Impl& m, std::shared_ptr<const Model> keep_alive,
                                      const SessionOptions& o) {
  return std::make_unique<SessionImpl>(m, std::move(keep_alive), o);
}

Transcript transcribe_offline(const Model::Impl& m, std::span<const float> audio, const TranscribeOptions& o) {
  if (o.max_new_tokens == 0) return {};
  SessionOptions so;
  so.delay_ms = o.delay_ms;
  so.max_new_tokens = o.max_new_tokens;
  so.stop_on_eos = true;
  so.on_token = o.on_token;
  so.dump = o.dump;
  so.force_tokens = o.force_tokens;
  so.verify_tokens = o.verify_tokens;
  so.prefix_cache = o.prefix_cache;
  const auto t0 = Clock::now();
  SessionImpl s(m, nullptr, so);
  const std::size_t piece = static_cast<std::size_t>(Model::Impl::kEncoderChunkTokens * m.config().samples_per_token());
  for (std::size_t i = 0; i < audio.size(); i += piece) {
    const std::size_t n = std::min(piece, audio.size() - i);
    s.feed(audio.subspan(i, n));
    if (o.on_progress) o.on_progress(static_cast<double>(i + n) / static_cast<double>(audio.size()));
  }
  Transcript t = s.finish();
  t.stats.total_ms = ms_since(t0);
  if (o.on_progress) o.on_progress(1.0);
  return t;
}

}  // namespace vrt
