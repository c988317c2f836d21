// Offline transcription (spec §8.2), run as a stream so memory stays bounded for any length:
//
//   padded audio = 32 tokens of zeros + audio + zeros to a whole token + (delay + 11) tokens
//   T = padded samples / 1280 positions; prompt = BOS + (32 + delay) x [STREAMING_PAD], P tokens
//   positions 0..P-1: a[p] + E[prompt[p]] in one batched pass -> argmax at P-1 = token 0
//   positions P..T-1: a[p] + E[previous token] -> one token each
//
// so T - P + 1 tokens are generated (ceil(samples / 1280) + 11 at 480 ms), fewer when the model
// writes EOS (kept as the last token) or max_new_tokens stops it. The padded audio is fed
// through the incremental mel in pieces; every kEncoderChunkTokens tokens of mel frames go
// through the encoder and adapter, and the decoder consumes audio embeddings as they appear.
#include <algorithm>
#include <chrono>
#include <deque>

#include "kernels/kernels.h"
#include "runtime/model_impl.h"
#include "runtime/timestamps.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

class OfflineRun {
 public:
  OfflineRun(const Model::Impl& m, const TranscribeOptions& o, int delay_tokens)
      : m_(m), o_(o), cfg_(m.checkpoint.config()), tok_(m.checkpoint.tokenizer()),
        mel_(m.mel), enc_state_(m.encoder.new_state()), dec_state_(m.decoder.new_state()),
        ada_(m.ada_scales(delay_tokens)) {
    const auto& s = tok_.streaming();
    prompt_.assign(static_cast<std::size_t>(1 + s.streaming_n_left_pad_tokens + delay_tokens), tok_.streaming_pad_id());
    prompt_[0] = tok_.bos_id();
    frames_per_token_ = cfg_.samples_per_token() / cfg_.encoder.audio.hop_length;
    seconds_per_token_ = 1.0 / cfg_.encoder.audio.frame_rate;
  }

  Transcript run(std::span<const float> audio, int delay_tokens) {
    const auto t_start = Clock::now();
    const int spt = cfg_.samples_per_token();
    const auto& s = tok_.streaming();
    const std::int64_t left = std::int64_t{s.streaming_n_left_pad_tokens} * spt;
    const auto len = static_cast<std::int64_t>(audio.size());
    const std::int64_t right = (spt - len % spt) % spt + std::int64_t{right_pad_tokens(delay_tokens)} * spt;
    total_samples_ = left + len + right;
    result_.stats.audio_s = static_cast<double>(len) / cfg_.encoder.audio.sampling_rate;

    const std::vector<float> zeros(static_cast<std::size_t>(std::max<std::int64_t>(left, right)), 0.0f);
    feed({zeros.data(), static_cast<std::size_t>(left)});
    const std::size_t piece = static_cast<std::size_t>(Model::Impl::kEncoderChunkTokens * spt);
    for (std::size_t i = 0; i < audio.size() && !stopped_; i += piece)
      feed(audio.subspan(i, std::min(piece, audio.size() - i)));
    if (!stopped_) feed({zeros.data(), static_cast<std::size_t>(right)});
    if (!stopped_) {
      const auto t = Clock::now();
      mel_.finish(mel_frames_);
      result_.stats.mel_ms += ms_since(t);
      process(/*final=*/true);
    }
    finish_result(t_start);
    if (o_.on_progress) o_.on_progress(1.0);  // also when EOS or the token cap ended it early
    return std::move(result_);
  }

 private:
  void feed(std::span<const float> samples) {
    const auto t = Clock::now();
    mel_.feed(samples, mel_frames_);
    result_.stats.mel_ms += ms_since(t);
    fed_ += static_cast<std::int64_t>(samples.size());
    process(/*final=*/false);
    if (o_.on_progress) o_.on_progress(static_cast<double>(fed_) / static_cast<double>(total_samples_));
  }

  // Runs the encoder on whole tokens of buffered mel frames, then the decoder on what is ready.
  void process(bool final) {
    const std::int64_t nm = cfg_.encoder.audio.num_mel_bins;
    const std::int64_t chunk = Model::Impl::kEncoderChunkTokens * frames_per_token_;
    std::int64_t frames = static_cast<std::int64_t>(mel_frames_.size()) / nm;
    std::int64_t done = 0;
    while (!stopped_ && frames - done >= (final ? frames_per_token_ : chunk)) {
      const std::int64_t f = std::min(chunk, (frames - done) / frames_per_token_ * frames_per_token_);
      const float* mel = mel_frames_.data() + done * nm;
      if (o_.dump) o_.dump->mel.insert(o_.dump->mel.end(), mel, mel + f * nm);
      auto t = Clock::now();
      m_.encoder.forward(enc_state_, mel, f, enc_out_, &m_.pool);
      if (o_.dump) o_.dump->encoder.insert(o_.dump->encoder.end(), enc_out_.begin(), enc_out_.end());
      m_.encoder.adapter(enc_out_.data(), f / frames_per_token_, emb_, &m_.pool);
      result_.stats.encoder_ms += ms_since(t);
      if (o_.dump) o_.dump->adapter.insert(o_.dump->adapter.end(), emb_.begin(), emb_.end());
      for (std::size_t r = 0; r < emb_.size(); r += static_cast<std::size_t>(cfg_.dim))
        pending_.emplace_back(emb_.begin() + static_cast<std::ptrdiff_t>(r),
                              emb_.begin() + static_cast<std::ptrdiff_t>(r) + cfg_.dim);
      done += f;
      decode_ready();
    }
    mel_frames_.erase(mel_frames_.begin(), mel_frames_.begin() + done * nm);
  }

  void decode_ready() {
    const auto n_prompt = static_cast<std::int64_t>(prompt_.size());
    if (dec_state_.next_pos == 0) {
      if (static_cast<std::int64_t>(pending_.size()) < n_prompt) return;
      const auto t = Clock::now();
      std::vector<float> x(static_cast<std::size_t>(n_prompt * cfg_.dim));
      for (std::int64_t p = 0; p < n_prompt; ++p) {
        std::copy(pending_.front().begin(), pending_.front().end(), x.begin() + p * cfg_.dim);
        pending_.pop_front();
        m_.decoder.add_embedding(prompt_[static_cast<std::size_t>(p)], x.data() + p * cfg_.dim);
      }
      m_.decoder.forward(dec_state_, x.data(), n_prompt, ada_, &m_.pool);
      emit(x.data() + (n_prompt - 1) * cfg_.dim);
      result_.stats.prefill_ms += ms_since(t);
      result_.stats.prefill_positions = n_prompt;
    }
    while (!stopped_ && !pending_.empty()) {
      const auto t = Clock::now();
      std::vector<float> x = std::move(pending_.front());
      pending_.pop_front();
      m_.decoder.add_embedding(result_.tokens.back().id, x.data());
      m_.decoder.forward(dec_state_, x.data(), 1, ada_, &m_.pool);
      emit(x.data());
      result_.stats.decode_ms += ms_since(t);
      ++result_.stats.decode_steps;
    }
  }

  // Head, greedy choice and bookkeeping for the hidden state of the last position.
  void emit(const float* hidden) {
    logits_.resize(static_cast<std::size_t>(cfg_.vocab_size));
    m_.decoder.logits(hidden, logits_.data(), &m_.pool);
    if (o_.dump) o_.dump->logits.insert(o_.dump->logits.end(), logits_.begin(), logits_.end());
    const int id = static_cast<int>(kernels::argmax(logits_.data(), cfg_.vocab_size));
    Token t;
    t.id = id;
    t.special = tok_.is_special(id);
    t.piece = tok_.piece(id);
    t.time_s = token_time_s(static_cast<std::int64_t>(result_.tokens.size()), seconds_per_token_);
    result_.tokens.push_back(t);
    if (o_.on_token) o_.on_token(result_.tokens.back());
    if (id == tok_.eos_id() ||
        (o_.max_new_tokens >= 0 && static_cast<std::int64_t>(result_.tokens.size()) >= o_.max_new_tokens))
      stopped_ = true;
  }

  void finish_result(Clock::time_point t_start) {
    std::vector<int> ids;
    for (const auto& t : result_.tokens) ids.push_back(t.id);
    result_.text = tok_.decode(ids);
    result_.words = words_from_tokens(result_.tokens, tok_.streaming_word_id());
    result_.segments = segments_from_words(result_.words);
    result_.stats.generated_tokens = static_cast<std::int64_t>(result_.tokens.size());
    result_.stats.total_ms = ms_since(t_start);
    if (o_.dump) o_.dump->mel = to_channel_major(o_.dump->mel, static_cast<int>(cfg_.encoder.audio.num_mel_bins));
  }

  const Model::Impl& m_;
  const TranscribeOptions& o_;
  const ModelConfig& cfg_;
  const Tokenizer& tok_;
  StreamingLogMel mel_;
  EncoderState enc_state_;
  DecoderState dec_state_;
  const std::vector<std::vector<float>>& ada_;
  std::vector<int> prompt_;
  std::int64_t frames_per_token_ = 8;
  double seconds_per_token_ = 0.08;
  std::int64_t total_samples_ = 0, fed_ = 0;
  std::vector<float> mel_frames_, enc_out_, emb_, logits_;
  std::deque<std::vector<float>> pending_;  // audio embeddings not yet consumed by the decoder
  bool stopped_ = false;
  Transcript result_;
};

}  // namespace

Transcript transcribe_offline(const Model::Impl& m, std::span<const float> audio, const TranscribeOptions& o) {
  const auto& s = m.checkpoint.tokenizer().streaming();
  const int delay_ms = o.delay_ms == 0 ? s.transcription_delay_ms : o.delay_ms;
  validate_delay_ms(delay_ms);
  if (o.max_new_tokens == 0) return {};
  const int delay_tokens = delay_tokens_for_ms(delay_ms, s.sampling_rate, s.hop_length, s.samples_per_token());
  if (o.dump) *o.dump = {};
  OfflineRun run(m, o, delay_tokens);
  return run.run(audio, delay_tokens);
}

}  // namespace vrt
