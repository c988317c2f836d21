// The server's single place where model compute happens.
//
// Connections (I/O threads) queue audio and end-of-utterance markers on a Stream; one compute
// thread owned by the Scheduler works in rounds: each round takes at most one quantum of audio
// (or one end of utterance) from every runnable stream, feeds the audio through each session's
// mel front end, then computes all the streams' new audio together: one encoder call for the
// streams' new frames stacked (packed encoder weights; float ones run per session in feed())
// and one decoder pass per step over every stream with a pending position (cross-session
// batching, Model::step), so each weight matrix is read once per call
// for all of them. The
// model's own thread pool parallelizes inside each call. So every stream gets an equal share,
// a stream that falls behind shows it as lag (queued, unprocessed audio) instead of starving
// the others, and tokens are bitwise those of the stream decoded alone (batches stay within
// the rows for which the kernels are batch-independent). With batch = false each session
// runs its encoder and decoder inside its own feed() (no batching, for comparison).
//
// Memory per stream is bounded: append() reports `pause` once the backlog reaches its limit and
// the connection stops reading its socket (TCP backpressure) until on_resume; live sessions keep
// at most max_kept_tokens tokens. close() frees the session on the compute thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "voxtral_rt/model.h"
#include "voxtral_rt/session.h"

namespace vrt::server {

class Scheduler;

// Called on the compute thread: must not block (post to the connection's executor).
struct StreamHandlers {
  std::function<void(const Token&)> on_token;
  std::function<void(std::string_view)> on_text;
  std::function<void(Transcript&&)> on_done;           // an utterance finished (Session::finish)
  std::function<void(const std::string&)> on_error;    // feed/finish threw; the stream is dead
  std::function<void()> on_resume;                     // backlog fell to half the limit after a pause
};

struct StreamLimits {
  std::size_t max_backlog_samples = 10 * 16000;  // 0 = unbounded (HTTP: the upload is bounded)
};

class Stream {
 public:
  enum class AppendResult { ok, pause, closed };

  const std::string& id() const { return id_; }
  // Session options (delay, stop_on_eos, ...); false once the session was created.
  bool configure(const SessionOptions& options);
  // Audio is processed only after start() (the realtime protocol validates the model first).
  void start();
  // Queues 16 kHz samples. `pause`: the backlog is at its limit, stop reading until on_resume.
  AppendResult append(std::vector<float> samples);
  // Ends the current utterance: after the audio queued so far, finish() runs and on_done fires;
  // then the session is reset for the next utterance.
  void end_utterance();
  // Drops queued work and frees the session (on the compute thread). Idempotent.
  void close();
  // Seconds of queued, unprocessed audio.
  double lag_s() const;
  bool started() const;

  ~Stream();

 private:
  friend class Scheduler;
  struct Item {
    std::vector<float> audio;
    std::size_t offset = 0;
    bool end = false;  // end-of-utterance marker
  };
  Stream(std::weak_ptr<Scheduler> owner, std::string id, StreamHandlers handlers, StreamLimits limits);

  std::weak_ptr<Scheduler> owner_;  // weak: the last owner may be the compute thread itself
  const std::string id_;
  StreamHandlers handlers_;
  StreamLimits limits_;
  // Guarded by the scheduler's mutex:
  SessionOptions options_;
  std::deque<Item> queue_;
  std::size_t backlog_ = 0;
  bool started_ = false;
  bool busy_ = false;     // the compute thread is working on it
  bool closed_ = false;
  bool paused_ = false;   // append() said pause; on_resume owed
  bool failed_ = false;
  bool has_session_ = false;
  // Compute thread only:
  std::unique_ptr<Session> session_;
};

struct SchedulerOptions {
  int max_streams = 8;
  std::size_t quantum_samples = 8 * 1280;  // most audio per stream per turn: 8 decoder positions
  bool batch = true;                       // cross-session batched encoder and decoder
  int max_batch_rows = 0;                  // rows per batched pass (at most, and 0 =, max_batch_rows(model))
  int verify_tokens = 0;                   // SessionOptions::verify_tokens of sessions that leave it 0
  std::vector<int> replay_tokens;          // ServerOptions::replay_tokens (benchmarks only)
};

struct SchedulerStats {
  int active_streams = 0;
  std::int64_t steps_total = 0;          // decoder tokens generated, all streams
  double steps_per_s = 0;                // over the last ~10 s
  // Compute seconds per second of audio processed over the last ~10 s (0 when idle): above 1,
  // the compute thread cannot keep up with the audio it is given.
  double real_time_factor = 0;
  double backlog_s = 0;                  // audio received but not yet processed, all streams
  double audio_s_total = 0;              // audio processed
  double compute_s_total = 0;            // time the compute thread spent in feed/finish
  std::int64_t utterances_total = 0;
  std::int64_t rounds_total = 0;         // compute rounds (one turn per runnable stream each)
  struct Lag {
    std::string id;
    double lag_s;
  };
  std::vector<Lag> lags;
};

class Scheduler : public std::enable_shared_from_this<Scheduler> {
 public:
  static std::shared_ptr<Scheduler> create(std::shared_ptr<const Model> model, SchedulerOptions options);
  ~Scheduler();

  // A new stream, or nullptr when max_streams are open (admission control).
  std::shared_ptr<Stream> open(StreamHandlers handlers, StreamLimits limits = {});
  // Stops the compute thread after the work in progress; queued work is dropped.
  void stop();
  SchedulerStats stats() const;
  // Whether open() would refuse now (a hint: another caller may take or free a slot next).
  bool full() const;
  const Model& model() const { return *model_; }
  int max_streams() const { return options_.max_streams; }

 private:
  friend class Stream;
  Scheduler(std::shared_ptr<const Model> model, SchedulerOptions options);
  void loop();
  // One stream's part of a round: a quantum of audio, or the end of an utterance.
  struct Turn {
    std::shared_ptr<Stream> stream;
    Stream::Item work;
    bool have_audio = false, finish = false, resume = false, create = false, ok = true;
    SessionOptions options;
  };
  // Feeds every turn's audio, decodes all of them (batched), then finishes utterances.
  void run_round(std::vector<Turn>& turns);
  void fail(Turn& t, const std::string& message);
  bool runnable_locked() const;
  void note_round_locked(std::int64_t steps);

  std::shared_ptr<const Model> model_;
  SchedulerOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Stream>> streams_;
  std::size_t rr_ = 0;
  bool stop_ = false;
  std::int64_t turn_steps_ = 0;  // compute thread only: tokens generated in the current round
  std::int64_t sessions_created_ = 0;  // compute thread only: replay offsets
  std::thread thread_;
  // Stats (guarded by mu_).
  std::int64_t steps_total_ = 0;
  std::int64_t samples_total_ = 0;
  double compute_s_ = 0;
  std::int64_t utterances_ = 0;
  std::int64_t rounds_ = 0;
  // Totals sampled at most every 100 ms over the last ~10 s: the windowed rates of stats().
  struct Mark {
    std::chrono::steady_clock::time_point t;
    std::int64_t steps;
    std::int64_t samples;
    double compute_s;
  };
  std::deque<Mark> marks_;
};

}  // namespace vrt::server
