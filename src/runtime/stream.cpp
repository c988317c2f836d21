#include "runtime/stream.h"

#include <algorithm>
#include <mutex>
#include <string>

#include "kernels/kernels.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

constexpr std::int64_t kLookAheadSamples = 40;  // the last mel frame's half window past a token

}  // namespace

Stream::Stream(const Model::Impl& m, const SessionOptions& o, TokenSink sink, bool build_prefix)
    : m_(m),
      cfg_(m.config()),
      sink_(std::move(sink)),
      dump_(o.dump),
      stop_on_eos_(o.stop_on_eos),
      max_new_tokens_(o.max_new_tokens),
      mel_(*m.mel),
      policy_(m.tokenizer().streaming_pad_id(), m.tokenizer().eos_id(), o.force_tokens) {
  const Tokenizer& tok = m.tokenizer();
  const auto& s = tok.streaming();
  const int delay_ms = o.delay_ms == 0 ? s.transcription_delay_ms : o.delay_ms;
  validate_delay_ms(delay_ms);
  if (o.verify_tokens < 0 || o.verify_tokens > SessionOptions::kMaxVerifyTokens)
    throw Error(Status::invalid_argument, "verify_tokens " + std::to_string(o.verify_tokens) + " outside 0.." +
                                              std::to_string(SessionOptions::kMaxVerifyTokens));
  for (const int t : o.force_tokens)
    if (t < 0 || t >= cfg_.vocab_size)
      throw Error(Status::invalid_argument, "forced token id " + std::to_string(t) + " outside the vocabulary");
  if (!o.replay_tokens.empty() && !o.force_tokens.empty())
    throw Error(Status::invalid_argument, "replay_tokens and force_tokens exclude each other");
  if (o.replay_offset < 0) throw Error(Status::invalid_argument, "replay_offset must be >= 0");
  for (const int t : o.replay_tokens)
    if (t < 0 || t >= cfg_.vocab_size)
      throw Error(Status::invalid_argument, "replayed token id " + std::to_string(t) + " outside the vocabulary");
  replay_ = o.replay_tokens;
  if (!replay_.empty()) replay_offset_ = o.replay_offset % static_cast<std::int64_t>(replay_.size());
  delay_tokens_ = delay_tokens_for_ms(delay_ms, s.sampling_rate, s.hop_length, s.samples_per_token());
  ada_ = &m.ada_scales(delay_tokens_);
  spt_ = cfg_.samples_per_token();
  frames_per_token_ = spt_ / cfg_.encoder.audio.hop_length;
  seconds_per_token_ = 1.0 / cfg_.encoder.audio.frame_rate;
  prompt_.assign(static_cast<std::size_t>(1 + s.streaming_n_left_pad_tokens + delay_tokens_), tok.streaming_pad_id());
  prompt_[0] = tok.bos_id();
  left_pad_samples_ = std::int64_t{s.streaming_n_left_pad_tokens} * spt_;
  const_positions_ = constant_positions();
  // Stage dumps must show the prefix's stages too: such streams compute it.
  use_prefix_ = !build_prefix && o.prefix_cache && o.dump == nullptr;
  verify_k_ = o.verify_tokens == 0 ? SessionOptions::kDefaultVerifyTokens : o.verify_tokens;
  batched_ = o.batched;
  batch_encoder_ = batched_ && m.encoder->rows_batch_independent();
  reset();
}

void Stream::reset() {
  state_ = StreamState::streaming;
  mel_.reset();
  mel_frames_.clear();
  mel_used_ = 0;
  enc_ = m_.encoder->new_state();
  dec_ = m_.decoder->new_state();
  pending_.clear();
  policy_.reset();
  generated_ = 0;
  stream_samples_ = 0;
  captured_end_ = 0;
  stats_ = {};
  latency_.clear();
  if (dump_) *dump_ = {};
  // Every stream starts with the same 32 tokens of silence and the same prompt.
  const auto prefix = use_prefix_ ? m_.prefix(delay_tokens_) : nullptr;
  if (prefix) {
    restore(*prefix);
  } else {
    push_silence(left_pad_samples_);
  }
}

// Decoder positions computed from the left-pad silence alone (so the same for every stream).
// Mel frame f covers samples [hop f - n_fft/2, hop f + n_fft/2): frames f <= F are silence,
// F = (left_pad - n_fft/2) / hop. conv1 frame t reads mel t-2..t, conv2 frame i reads conv1
// 2i-1..2i+1: encoder frames i <= (F - 1) / 2 are constant (causal attention keeps them so
// in every layer), and position p stacks encoder frames 4p..4p+3. The prompt covers more
// positions than that, so their inputs are constant too; the last prompt position stays
// out (it yields the first logits). Real model: F = 254, 127 encoder frames, 31 positions.
std::int64_t Stream::constant_positions() const {
  const auto& a = cfg_.encoder.audio;
  const std::int64_t f = (left_pad_samples_ - a.window_size / 2) / a.hop_length;
  if (f < 1) return 0;
  const std::int64_t enc_frames = (f - 1) / 2 + 1;
  return std::min<std::int64_t>(enc_frames / cfg_.downsample_factor, static_cast<std::int64_t>(prompt_.size()) - 1);
}

void Stream::restore(const PrefixState& p) {
  mel_ = p.mel;
  mel_frames_ = p.mel_frames;
  enc_ = p.enc;
  dec_ = p.dec;
  stream_samples_ = p.stream_samples;
  latency_.arrived(stream_samples_, Clock::now());
  stats_.cached_positions = p.dec.next_pos;
}

std::shared_ptr<const PrefixState> Stream::export_prefix() const {
  if (dec_.next_pos != const_positions_ || !pending_.empty() || mel_used_ != 0) return nullptr;
  return std::make_shared<const PrefixState>(PrefixState{mel_, mel_frames_, enc_, dec_, stream_samples_});
}

std::int64_t Stream::end_padding() const {
  return (spt_ - stream_samples_ % spt_) % spt_ + std::int64_t{right_pad_tokens(delay_tokens_)} * spt_;
}

void Stream::push_silence(std::int64_t n) {
  const std::vector<float> zeros(static_cast<std::size_t>(std::min<std::int64_t>(n, 1 << 16)), 0.0f);
  for (std::int64_t done = 0; done < n;) {
    const auto k = static_cast<std::size_t>(std::min<std::int64_t>(n - done, static_cast<std::int64_t>(zeros.size())));
    push({zeros.data(), k});
    done += static_cast<std::int64_t>(k);
  }
}

void Stream::captured(std::int64_t n, Clock::time_point t) {
  const std::int64_t start = std::max(captured_end_, stream_samples_);
  captured_end_ = start + n;
  if (state_ == StreamState::stopped) return;
  // Captured at real speed: the sample a position's token needs last (its end plus the mel
  // look-ahead) arrived that many samples' duration before t.
  const double rate = cfg_.encoder.audio.sampling_rate;
  for (std::int64_t s = (start - kLookAheadSamples) / spt_ * spt_ + spt_ + kLookAheadSamples; s < captured_end_; s += spt_)
    latency_.arrived(s, t - std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(static_cast<double>(captured_end_ - s) / rate)));
  latency_.arrived(captured_end_, t);
}

void Stream::push(std::span<const float> samples) {
  const auto t0 = Clock::now();
  stream_samples_ += static_cast<std::int64_t>(samples.size());
  // A stopped stream computes nothing more; its arrivals will never be consumed.
  if (state_ == StreamState::stopped) {
    latency_.forget_arrivals();
    return;
  }
  latency_.arrived(stream_samples_, t0);
  if (!samples.empty()) {
    const auto t = Clock::now();
    mel_.feed(samples, mel_frames_);
    add_mel_ms(ms_since(t));
  }
  if (!batch_encoder_) {
    std::lock_guard<std::mutex> lock(m_.pool_mutex);  // sessions share the compute threads
    run_encoder();
  }
  stats_.total_ms += ms_since(t0);  // compute time; transcribe() reports wall time instead
}

void Stream::end() {
  push_silence(end_padding());
  if (state_ != StreamState::stopped) {  // (the padding's positions may stop it too)
    const auto t = Clock::now();
    mel_.finish(mel_frames_);
    add_mel_ms(ms_since(t));
    push({});
  }
  state_ = StreamState::ended;
}

void Stream::complete() {
  if (!batched_) return;  // everything ran as it came
  std::lock_guard<std::mutex> lock(m_.pool_mutex);
  if (batch_encoder_) run_encoder();
  run_decoder(/*alone=*/true);
}

// Whole tokens of buffered mel frames -> encoder -> adapter -> decoder.
void Stream::run_encoder() {
  for (EncoderSegment c = encoder_chunk(); c.t_mel > 0; c = encoder_chunk()) {
    const auto t = Clock::now();
    m_.encoder->forward(enc_, c.mel, c.t_mel, enc_out_, &m_.pool);
    m_.encoder->adapter(enc_out_.data(), c.t_mel / frames_per_token_, emb_, &m_.pool);
    take_chunk(c.t_mel, enc_out_.data(), emb_.data(), ms_since(t));
  }
  compact_mel();
}

EncoderSegment Stream::encoder_chunk() {
  const std::int64_t nm = cfg_.encoder.audio.num_mel_bins;
  const std::int64_t frames = static_cast<std::int64_t>(mel_frames_.size()) / nm - mel_used_;
  const std::int64_t f =
      std::min(Model::Impl::kEncoderChunkTokens * frames_per_token_, frames / frames_per_token_ * frames_per_token_);
  return {&enc_, mel_frames_.data() + mel_used_ * nm, f};
}

void Stream::take_chunk(std::int64_t f, const float* enc, const float* emb, double enc_ms) {
  const std::int64_t n_tokens = f / frames_per_token_;
  if (dump_) {
    const float* mel = mel_frames_.data() + mel_used_ * cfg_.encoder.audio.num_mel_bins;
    dump_->mel.insert(dump_->mel.end(), mel, mel + f * cfg_.encoder.audio.num_mel_bins);
    dump_->encoder.insert(dump_->encoder.end(), enc, enc + f / 2 * cfg_.encoder.dim);
    dump_->adapter.insert(dump_->adapter.end(), emb, emb + n_tokens * cfg_.dim);
  }
  stats_.encoder_ms += enc_ms;
  Model::Impl::add_ms(m_.counters.encoder_ns, enc_ms);
  const double share = enc_ms / static_cast<double>(n_tokens);
  for (std::int64_t r = 0; r < n_tokens; ++r)
    pending_.push_back({std::vector<float>(emb + r * cfg_.dim, emb + (r + 1) * cfg_.dim), share});
  mel_used_ += f;
  run_decoder();
}

void Stream::compact_mel() {
  const std::int64_t nm = cfg_.encoder.audio.num_mel_bins;
  mel_frames_.erase(mel_frames_.begin(), mel_frames_.begin() + mel_used_ * nm);
  mel_used_ = 0;
}

// The prompt runs in two blocks whatever the cache does, so that cached and computed starts
// are the same computation: positions [0, const_positions_) (the model's prefix state), then
// the rest of the prompt once its audio exists, which yields the first token.
void Stream::run_decoder(bool alone) {
  const auto n_prompt = static_cast<std::int64_t>(prompt_.size());
  if (dec_.next_pos == 0 && const_positions_ > 0) {
    if (static_cast<std::int64_t>(pending_.size()) < const_positions_) return;
    const auto t = Clock::now();
    prompt_block(const_positions_);
    add_prefill_ms(ms_since(t));
  }
  if (dec_.next_pos == const_positions_) {
    if (static_cast<std::int64_t>(pending_.size()) < n_prompt - const_positions_) return;
    const auto t = Clock::now();
    step_compute_ms_ = 0;
    const std::vector<float> x = prompt_block(n_prompt - const_positions_);
    logits_.resize(static_cast<std::size_t>(cfg_.vocab_size));
    m_.decoder->logits(x.data() + (n_prompt - const_positions_ - 1) * cfg_.dim, 1, logits_.data(), &m_.pool);
    emit(logits_.data(), n_prompt - 1, step_compute_ms_ + ms_since(t));
    add_prefill_ms(ms_since(t));
    stats_.prefill_positions = n_prompt;
  }
  while ((alone || !batched_) && !pending_.empty()) decode_block();
}

// The next n prompt positions in one decoder pass; returns their hidden states.
std::vector<float> Stream::prompt_block(std::int64_t n) {
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

// One verification pass over the next k pending positions, alone (runtime/verify.h). Rejected
// rows' cache entries are overwritten later (positions index the ring, and nothing still needed
// is evicted since k <= kMaxDecoderBlock).
void Stream::decode_block() {
  const auto t = Clock::now();
  const std::int64_t k = std::min<std::int64_t>(verify_k_, static_cast<std::int64_t>(pending_.size()));
  std::vector<float> x(static_cast<std::size_t>(k * cfg_.dim));
  prepare_rows(k, x.data());
  m_.decoder->forward(dec_, x.data(), k, *ada_, &m_.pool);
  logits_.resize(static_cast<std::size_t>(k * cfg_.vocab_size));
  m_.decoder->logits(x.data(), k, logits_.data(), &m_.pool);
  accept_rows(logits_.data(), k, ms_since(t));
  const double ms = ms_since(t);
  stats_.decode_ms += ms;
  Model::Impl::add_ms(m_.counters.decoder_ns, ms);
  m_.counters.decoder_passes.fetch_add(1, std::memory_order_relaxed);
  m_.counters.decoder_rows.fetch_add(k, std::memory_order_relaxed);
}

void Stream::add_mel_ms(double ms) {
  stats_.mel_ms += ms;
  Model::Impl::add_ms(m_.counters.mel_ns, ms);
}

void Stream::add_prefill_ms(double ms) {
  stats_.prefill_ms += ms;
  Model::Impl::add_ms(m_.counters.decoder_ns, ms);
}

std::int64_t Stream::rows_wanted() const {
  if (dec_.next_pos < static_cast<std::int64_t>(prompt_.size())) return 0;
  return std::min<std::int64_t>(verify_k_, static_cast<std::int64_t>(pending_.size()));
}

DecoderSegment Stream::prepare_rows(std::int64_t k, float* x) {
  const std::int64_t d = cfg_.dim;
  pass_p0_ = dec_.next_pos;
  policy_.plan(k, generated_, rows_);
  for (std::int64_t j = 0; j < k; ++j) {
    const auto& e = pending_[static_cast<std::size_t>(j)].embedding;
    std::copy(e.begin(), e.end(), x + j * d);
    m_.decoder->add_embedding(rows_[static_cast<std::size_t>(j)], x + j * d);
  }
  return {&dec_, k, ada_};
}

std::int64_t Stream::accept_rows(const float* logits, std::int64_t k, double pass_ms) {
  std::int64_t accepted = 0;
  while (accepted < k) {
    const double compute_ms = pending_.front().encoder_ms + pass_ms / static_cast<double>(k);
    pending_.pop_front();
    emit(logits + accepted * cfg_.vocab_size, pass_p0_ + accepted, compute_ms);
    ++accepted;
    if (state_ == StreamState::stopped || pending_.empty() ||
        (accepted < k && policy_.next_input() != rows_[static_cast<std::size_t>(accepted)]))
      break;
  }
  dec_.next_pos = pass_p0_ + accepted;  // roll back the rejected positions
  stats_.decode_steps += accepted;
  ++stats_.decode_passes;
  return accepted;
}

void Stream::add_batched_ms(double ms, bool decoder) {
  if (decoder) stats_.decode_ms += ms;
  stats_.total_ms += ms;
}

// The greedy choice from the logits of `position`, decided now after compute_ms of compute.
void Stream::emit(const float* logits, std::int64_t position, double compute_ms) {
  if (dump_) dump_->logits.insert(dump_->logits.end(), logits, logits + cfg_.vocab_size);
  int id = static_cast<int>(kernels::argmax(logits, cfg_.vocab_size));
  const std::int64_t index = generated_++;
  if (!replay_.empty())  // measurement only: the recording's choice (the argmax above still ran)
    id = replay_[static_cast<std::size_t>((replay_offset_ + index) % static_cast<std::int64_t>(replay_.size()))];
  const int outcome = policy_.record(id, index);
  latency_.decided((position + 1) * spt_ + kLookAheadSamples, compute_ms);
  sink_(id);
  if ((policy_.is_eos(outcome) && stop_on_eos_) || (max_new_tokens_ >= 0 && generated_ >= max_new_tokens_)) stop();
}

// Generation is over: nothing buffered will be computed.
void Stream::stop() {
  if (state_ == StreamState::streaming) state_ = StreamState::stopped;
  pending_.clear();
  mel_frames_.clear();
  mel_used_ = 0;
}

std::shared_ptr<const PrefixState> build_prefix(const Model::Impl& m, int delay_tokens) {
  const auto& s = m.tokenizer().streaming();
  SessionOptions o;
  // The delay in ms that maps to these tokens (delay_tokens_for_ms inverts it exactly).
  o.delay_ms = static_cast<int>(std::int64_t{delay_tokens} * s.samples_per_token() * 1000 / s.sampling_rate);
  Stream stream(m, o, [](int) {}, /*build_prefix=*/true);
  return stream.export_prefix();
}

}  // namespace vrt
