// A transcription session (include/voxtral_rt/session.h): the public face of one Stream
// (runtime/stream.h), adding what a caller sees: resampling, the kept tokens, incremental text,
// the callbacks, the transcript.
#include <chrono>
#include <deque>

#include "runtime/model_impl.h"
#include "runtime/stream.h"
#include "runtime/timestamps.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/session.h"

namespace vrt {

struct Session::Impl {
  Impl(const Model::Impl& m, std::shared_ptr<const Model> owner, const SessionOptions& o)
      : keep_alive(std::move(owner)),
        options(o),
        tok(m.tokenizer()),
        rate_hz(m.config().encoder.audio.sampling_rate),
        text(tok),
        stream(m, o, [this](int id) { on_token(id); }) {}

  void on_token(int id) {
    Token t;
    t.id = id;
    t.special = tok.is_special(id);
    t.piece = tok.piece(id);
    t.time_s = token_time_s(stream.generated() - 1, stream.seconds_per_token());
    tokens.push_back(t);
    if (options.max_kept_tokens >= 0 && static_cast<std::int64_t>(tokens.size()) > options.max_kept_tokens)
      tokens.pop_front();
    if (options.on_token) options.on_token(t);
    if (options.on_text) {
      const std::string delta = text.push(id);
      if (!delta.empty()) options.on_text(delta);
    }
  }

  void check_open(const char* call) const {
    const StreamState s = stream.state();
    if (s == StreamState::ended || s == StreamState::finished)
      throw Error(Status::bad_state, std::string(call) + " after the end of the stream: call reset() to start a new one");
  }

  void feed(std::span<const float> samples) {
    check_open("feed()");
    samples_fed += static_cast<std::int64_t>(samples.size());
    stream.push(samples);
  }

  void end_audio() {
    check_open("end_audio()");
    if (resampler) {  // the resampler's delayed tail belongs to the audio
      resampler->flush(resampled);
      feed(resampled);
      resampled.clear();
    }
    stream.end();
  }

  Transcript snapshot() const {
    Transcript t;
    t.tokens.assign(tokens.begin(), tokens.end());
    std::vector<int> ids;
    for (const auto& k : t.tokens) ids.push_back(k.id);
    t.text = tok.decode(ids);
    t.words = words_from_tokens(t.tokens, tok.streaming_word_id());
    t.segments = segments_from_words(t.words);
    t.stats = stream.stats();
    t.stats.audio_s = static_cast<double>(samples_fed) / rate_hz;
    t.stats.generated_tokens = stream.generated();
    return t;
  }

  std::shared_ptr<const Model> keep_alive;
  SessionOptions options;
  const Tokenizer& tok;
  int rate_hz;
  IncrementalDecoder text;
  std::deque<Token> tokens;  // the kept tail (all of them unless max_kept_tokens is set)
  std::int64_t samples_fed = 0;
  std::unique_ptr<StreamResampler> resampler;
  std::vector<float> resampled;
  Stream stream;  // last: it reports tokens to the members above
};

std::unique_ptr<Session> RuntimeAccess::make_session(std::unique_ptr<Session::Impl> impl) {
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Stream& session_stream(Session& session) { return RuntimeAccess::impl(session).stream; }

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

void Session::feed(std::span<const float> samples) { impl_->feed(samples); }

void Session::feed(std::span<const float> samples, int sample_rate_hz) {
  Impl& s = *impl_;
  if (sample_rate_hz == s.rate_hz) return s.feed(samples);
  s.check_open("feed()");
  const AudioLimits limits;
  if (sample_rate_hz < limits.min_sample_rate_hz || sample_rate_hz > limits.max_sample_rate_hz)
    throw Error(Status::invalid_argument, "sample rate " + std::to_string(sample_rate_hz) + " Hz outside " +
                                              std::to_string(limits.min_sample_rate_hz) + ".." +
                                              std::to_string(limits.max_sample_rate_hz));
  if (!s.resampler) s.resampler = std::make_unique<StreamResampler>(sample_rate_hz, s.rate_hz);
  if (s.resampler->from_hz() != sample_rate_hz)
    throw Error(Status::invalid_argument, "the sample rate changed mid-stream (" + std::to_string(s.resampler->from_hz()) +
                                              " -> " + std::to_string(sample_rate_hz) + " Hz)");
  s.resampler->process(samples, s.resampled);
  s.feed(s.resampled);
  s.resampled.clear();
}

void Session::captured(std::int64_t samples_16k, std::chrono::steady_clock::time_point when) {
  if (samples_16k < 0) throw Error(Status::invalid_argument, "captured(): a negative sample count");
  impl_->stream.captured(samples_16k, when);
}

void Session::flush() {
  impl_->check_open("flush()");
  impl_->stream.push_silence(impl_->stream.end_padding());
}

void Session::end_audio() { impl_->end_audio(); }

Transcript Session::finish() {
  Impl& s = *impl_;
  if (s.stream.state() == StreamState::finished) throw Error(Status::bad_state, "finish() called twice");
  if (s.stream.state() != StreamState::ended) s.end_audio();
  s.stream.complete();
  s.stream.set_finished();
  const std::string tail = s.text.finish();
  if (!tail.empty() && s.options.on_text) s.options.on_text(tail);
  Transcript t = s.snapshot();
  if (StageDump* d = s.options.dump) d->mel = to_channel_major(d->mel, s.stream.model().config().encoder.audio.num_mel_bins);
  return t;
}

void Session::reset() {
  Impl& s = *impl_;
  s.tokens.clear();
  s.text = IncrementalDecoder(s.tok);
  s.samples_fed = 0;
  s.resampler.reset();
  s.stream.reset();
}

Transcript Session::snapshot() const { return impl_->snapshot(); }
std::int64_t Session::samples_fed() const { return impl_->samples_fed; }
StreamStats Session::stream_stats() const { return impl_->stream.latency().stats(impl_->stream.generated()); }

std::unique_ptr<Session> Model::new_session(const SessionOptions& options) const {
  return RuntimeAccess::make_session(std::make_unique<Session::Impl>(*impl_, shared_from_this(), options));
}

// The offline schedule (spec §8.2) as one session: feed everything, then finish.
Transcript Model::transcribe(std::span<const float> audio, const TranscribeOptions& o) const {
  using Clock = std::chrono::steady_clock;
  if (o.max_new_tokens == 0) return {};
  SessionOptions so;
  so.delay_ms = o.delay_ms;
  so.max_new_tokens = o.max_new_tokens;
  so.stop_on_eos = true;
  so.on_token = o.on_token;
  so.dump = o.dump;
  so.force_tokens = o.force_tokens;
  so.replay_tokens = o.replay_tokens;
  so.replay_offset = o.replay_offset;
  so.verify_tokens = o.verify_tokens;
  so.prefix_cache = o.prefix_cache;
  const auto t0 = Clock::now();
  const auto session = RuntimeAccess::make_session(std::make_unique<Session::Impl>(*impl_, nullptr, so));
  const std::size_t piece = static_cast<std::size_t>(Impl::kEncoderChunkTokens * config().samples_per_token());
  for (std::size_t i = 0; i < audio.size(); i += piece) {
    const std::size_t n = std::min(piece, audio.size() - i);
    session->feed(audio.subspan(i, n));
    if (o.on_progress) o.on_progress(static_cast<double>(i + n) / static_cast<double>(audio.size()));
  }
  Transcript t = session->finish();
  t.stats.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (o.on_progress) o.on_progress(1.0);
  return t;
}

}  // namespace vrt
