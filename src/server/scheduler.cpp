#include "server/scheduler.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "voxtral_rt/audio.h"

namespace vrt::server {
namespace {

std::string random_id() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lk(mu);
  char buf[40];
  std::snprintf(buf, sizeof buf, "sess-%016llx%08llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng() & 0xffffffffu));
  return buf;
}

}  // namespace

Stream::Stream(std::weak_ptr<Scheduler> owner, std::string id, StreamHandlers handlers, StreamLimits limits)
    : owner_(std::move(owner)), id_(std::move(id)), handlers_(std::move(handlers)), limits_(limits) {}

Stream::~Stream() = default;

bool Stream::configure(const SessionOptions& options) {
  const auto o = owner_.lock();
  if (!o) return false;
  std::lock_guard lk(o->mu_);
  if (has_session_) return false;
  options_ = options;
  options_.on_token = nullptr;  // the scheduler installs the handlers
  options_.on_text = nullptr;
  return true;
}

void Stream::start() {
  const auto o = owner_.lock();
  if (!o) return;
  {
    std::lock_guard lk(o->mu_);
    started_ = true;
  }
  o->cv_.notify_one();
}

bool Stream::started() const {
  const auto o = owner_.lock();
  if (!o) return false;
  std::lock_guard lk(o->mu_);
  return started_;
}

Stream::AppendResult Stream::append(std::vector<float> samples) {
  const auto o = owner_.lock();
  if (!o) return AppendResult::closed;
  AppendResult r = AppendResult::ok;
  {
    std::lock_guard lk(o->mu_);
    if (closed_ || failed_) return AppendResult::closed;
    if (samples.empty()) return AppendResult::ok;
    backlog_ += samples.size();
    queue_.push_back({std::move(samples), 0, false});
    if (limits_.max_backlog_samples && backlog_ >= limits_.max_backlog_samples) {
      paused_ = true;
      r = AppendResult::pause;
    }
  }
  o->cv_.notify_one();
  return r;
}

void Stream::end_utterance() {
  const auto o = owner_.lock();
  if (!o) return;
  {
    std::lock_guard lk(o->mu_);
    if (closed_ || failed_) return;
    queue_.push_back({{}, 0, true});
  }
  o->cv_.notify_one();
}

void Stream::close() {
  const auto o = owner_.lock();
  if (!o) return;
  {
    std::lock_guard lk(o->mu_);
    if (closed_) return;
    closed_ = true;
    queue_.clear();
    backlog_ = 0;
  }
  o->cv_.notify_one();
}

double Stream::lag_s() const {
  const auto o = owner_.lock();
  if (!o) return 0;
  std::lock_guard lk(o->mu_);
  return static_cast<double>(backlog_) / kModelSampleRateHz;
}

std::shared_ptr<Scheduler> Scheduler::create(std::shared_ptr<const Model> model, SchedulerOptions options) {
  std::shared_ptr<Scheduler> s(new Scheduler(std::move(model), options));
  s->thread_ = std::thread([p = s.get()] { p->loop(); });
  return s;
}

Scheduler::Scheduler(std::shared_ptr<const Model> model, SchedulerOptions options)
    : model_(std::move(model)), options_(options) {
  if (options_.quantum_samples == 0) options_.quantum_samples = 1280;
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  std::vector<std::shared_ptr<Stream>> gone;
  {
    std::lock_guard lk(mu_);
    gone.swap(streams_);
  }
  for (auto& s : gone) s->session_.reset();  // the compute thread has stopped
}

std::shared_ptr<Stream> Scheduler::open(StreamHandlers handlers, StreamLimits limits) {
  std::lock_guard lk(mu_);
  if (stop_ || static_cast<int>(streams_.size()) >= options_.max_streams) return nullptr;
  std::shared_ptr<Stream> s(new Stream(weak_from_this(), random_id(), std::move(handlers), limits));
  streams_.push_back(s);
  return s;
}

bool Scheduler::runnable_locked() const {
  for (const auto& s : streams_)
    if (s->closed_ || s->failed_ || (s->started_ && !s->queue_.empty())) return true;
  return false;
}

void Scheduler::note_round_locked(std::int64_t steps) {
  steps_total_ += steps;
  const auto now = std::chrono::steady_clock::now();
  if (marks_.empty() || now - marks_.back().t > std::chrono::milliseconds(100))
    marks_.push_back({now, steps_total_, samples_total_, compute_s_});
  while (marks_.size() > 2 && now - marks_.front().t > std::chrono::seconds(10)) marks_.pop_front();
}

void Scheduler::loop() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stop_ || runnable_locked(); });
    if (stop_) return;
    // Closed and failed streams leave; their sessions (KV caches) are freed outside the lock.
    std::vector<std::unique_ptr<Session>> freed;
    std::erase_if(streams_, [&](const std::shared_ptr<Stream>& s) {
      if (!s->closed_ && !s->failed_) return false;
      freed.push_back(std::move(s->session_));
      return true;
    });
    // The round: one turn for each runnable stream, in an order that rotates between rounds
    // (so callbacks and finishes do not always favour the same stream).
    std::vector<Turn> turns;
    const std::size_t n = streams_.size();
    for (std::size_t k = 0; k < n; ++k) {
      const auto& s = streams_[(rr_ + k) % n];
      if (!s->started_ || s->queue_.empty()) continue;
      Turn t;
      t.stream = s;
      auto& front = s->queue_.front();
      if (front.end) {
        t.finish = true;
        s->queue_.pop_front();
      } else {
        // Up to a quantum from the queued appends (several when the stream is behind: a stream
        // that fell back catches up in larger, cheaper batches), up to its next end marker.
        for (std::size_t want = options_.quantum_samples; want > 0 && !s->queue_.empty() && !s->queue_.front().end;) {
          auto& item = s->queue_.front();
          const std::size_t left = item.audio.size() - item.offset;
          const std::size_t q = std::min(left, want);
          if (t.work.audio.empty() && item.offset == 0 && q == left) {
            t.work.audio = std::move(item.audio);
          } else {
            const auto b = item.audio.begin() + static_cast<std::ptrdiff_t>(item.offset);
            t.work.audio.insert(t.work.audio.end(), b, b + static_cast<std::ptrdiff_t>(q));
            item.offset += q;
          }
          if (q == left) s->queue_.pop_front();
          s->backlog_ -= q;
          want -= q;
        }
        t.have_audio = true;
      }
      t.resume = s->paused_ && s->backlog_ <= s->limits_.max_backlog_samples / 2;
      if (t.resume) s->paused_ = false;
      t.create = !s->has_session_;
      s->has_session_ = true;
      t.options = s->options_;
      s->busy_ = true;
      turns.push_back(std::move(t));
    }
    rr_ = n == 0 ? 0 : (rr_ + 1) % n;
    lk.unlock();

    freed.clear();
    const auto t0 = std::chrono::steady_clock::now();
    turn_steps_ = 0;
    run_round(turns);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    lk.lock();
    for (auto& t : turns) {
      t.stream->busy_ = false;
      if (!t.ok) t.stream->failed_ = true;
      if (t.finish && t.ok) {
        // A fresh session per utterance: options may change in between, memory is returned.
        t.stream->has_session_ = false;
        ++utterances_;
      }
      if (t.have_audio && t.ok) samples_total_ += static_cast<std::int64_t>(t.work.audio.size());
    }
    compute_s_ += dt;
    ++rounds_;
    note_round_locked(turn_steps_);
  }
}

void Scheduler::fail(Turn& t, const std::string& message) {
  if (!t.ok) return;
  t.ok = false;
  {
    std::lock_guard g(mu_);  // refuse further appends before the owner hears of it
    t.stream->failed_ = true;
  }
  if (t.stream->handlers_.on_error) t.stream->handlers_.on_error(message);
}

void Scheduler::run_round(std::vector<Turn>& turns) {
  std::vector<Session*> decode;
  std::vector<Turn*> decoding;
  for (auto& t : turns) {
    Stream& s = *t.stream;
    if (t.resume && s.handlers_.on_resume) s.handlers_.on_resume();
    try {
      if (t.create) {
        SessionOptions opts = t.options;
        if (opts.verify_tokens == 0) opts.verify_tokens = options_.verify_tokens;
        if (!options_.replay_tokens.empty()) {  // benchmarks: each session elsewhere in the recording
          opts.replay_tokens = options_.replay_tokens;
          opts.replay_offset = 97 * sessions_created_++;
        }
        opts.on_token = [this, h = &s.handlers_](const Token& tok) {
          ++turn_steps_;
          if (h->on_token) h->on_token(tok);
        };
        opts.on_text = s.handlers_.on_text;
        opts.batched = options_.batch;
        s.session_ = model_->new_session(opts);
      }
      if (t.have_audio) s.session_->feed(t.work.audio);  // batched: mel, encoder and prompt only
      // The end padding's positions (delay + 11 of them) decode in the shared passes too.
      if (t.finish && options_.batch) s.session_->end_audio();
      if ((t.have_audio || t.finish) && options_.batch) {
        decode.push_back(s.session_.get());
        decoding.push_back(&t);
      }
    } catch (const std::exception& e) {
      fail(t, e.what());
    }
  }
  if (!decode.empty()) {
    try {
      // Model::step keeps rows within the model's cap (beyond it rows would not compute as alone).
      model_->step(decode, options_.max_batch_rows);
    } catch (const std::exception& e) {
      // The pass was shared: every stream in it is in an unknown state.
      for (Turn* t : decoding) fail(*t, e.what());
    }
  }
  for (auto& t : turns) {
    if (!t.finish || !t.ok) continue;
    Stream& s = *t.stream;
    try {
      Transcript tr = s.session_->finish();
      s.session_.reset();
      if (s.handlers_.on_done) s.handlers_.on_done(std::move(tr));
    } catch (const std::exception& e) {
      fail(t, e.what());
    }
  }
}

bool Scheduler::full() const {
  std::lock_guard lk(mu_);
  return static_cast<int>(streams_.size()) >= options_.max_streams;
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lk(mu_);
  SchedulerStats st;
  st.active_streams = static_cast<int>(streams_.size());
  st.steps_total = steps_total_;
  const auto now = std::chrono::steady_clock::now();
  if (!marks_.empty()) {
    const Mark& m = marks_.front();
    const double span = std::chrono::duration<double>(now - m.t).count();
    if (span > 0.5 && span < 20) st.steps_per_s = static_cast<double>(steps_total_ - m.steps) / span;
    const double audio_s = static_cast<double>(samples_total_ - m.samples) / kModelSampleRateHz;
    if (span < 20 && audio_s > 0) st.real_time_factor = (compute_s_ - m.compute_s) / audio_s;
  }
  st.audio_s_total = static_cast<double>(samples_total_) / kModelSampleRateHz;
  st.compute_s_total = compute_s_;
  st.utterances_total = utterances_;
  st.rounds_total = rounds_;
  for (const auto& s : streams_)
    if (!s->closed_) {
      st.lags.push_back({s->id_, static_cast<double>(s->backlog_) / kModelSampleRateHz});
      st.backlog_s += st.lags.back().lag_s;
    }
  return st;
}

}  // namespace vrt::server
