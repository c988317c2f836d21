// The scheduler on a tiny synthetic model: concurrent streams give the offline transcripts,
// admission control, backpressure, and closing frees the slot.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <random>

#include "server/scheduler.h"
#include "synth.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"

namespace vrt::server {
namespace {

class SchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    synth::SynthOptions o;
    o.preset = "tiny";
    o.weight_scale = 2.0;
    o.seed = 21;
    synth::write_checkpoint(dir_->path(), o);
    model_ = new std::shared_ptr<const Model>(Model::load(dir_->path(), {.threads = 1}));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete dir_;
  }
  static std::vector<float> clip(const char* name) {
    return load_audio_16k_mono(test::shared_data(std::string("audio/") + name)).samples;
  }
  static const std::shared_ptr<const Model>& model() { return *model_; }
  static test::TempDir* dir_;
  static std::shared_ptr<const Model>* model_;
};
test::TempDir* SchedulerTest::dir_ = nullptr;
std::shared_ptr<const Model>* SchedulerTest::model_ = nullptr;

TEST_F(SchedulerTest, ConcurrentStreamsGiveTheOfflineTranscripts) {
  const std::vector<const char*> names = {"librispeech_dev-clean_8297-275156-0000.wav", "jfk.wav",
                                          "librispeech_dev-clean_8297-275156-0002.wav"};
  auto sched = Scheduler::create(model(), {.max_streams = 3, .quantum_samples = 1280});
  struct Result {
    std::promise<Transcript> done;
    std::string text;
  };
  std::vector<std::unique_ptr<Result>> results;
  std::vector<std::shared_ptr<Stream>> streams;
  for (std::size_t i = 0; i < names.size(); ++i) {
    results.push_back(std::make_unique<Result>());
    auto* r = results.back().get();
    StreamHandlers h;
    h.on_text = [r](std::string_view d) { r->text += d; };
    h.on_done = [r](Transcript&& t) { r->done.set_value(std::move(t)); };
    h.on_error = [r](const std::string& m) { r->done.set_exception(std::make_exception_ptr(std::runtime_error(m))); };
    streams.push_back(sched->open(std::move(h), {.max_backlog_samples = 0}));
    ASSERT_TRUE(streams.back());
    SessionOptions so;
    so.stop_on_eos = true;
    ASSERT_TRUE(streams.back()->configure(so));
    streams.back()->start();
  }
  EXPECT_FALSE(sched->open({}));  // full
  // Interleaved appends in random chunk sizes.
  std::mt19937 rng(5);
  std::vector<std::vector<float>> audio;
  std::vector<std::size_t> pos(names.size(), 0);
  for (const auto* n : names) audio.push_back(clip(n));
  for (bool more = true; more;) {
    more = false;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (pos[i] == audio[i].size()) continue;
      const std::size_t n = std::min<std::size_t>(audio[i].size() - pos[i], 1 + rng() % 9000);
      EXPECT_EQ(streams[i]->append({audio[i].begin() + static_cast<std::ptrdiff_t>(pos[i]),
                                    audio[i].begin() + static_cast<std::ptrdiff_t>(pos[i] + n)}),
                Stream::AppendResult::ok);
      pos[i] += n;
      more = true;
    }
  }
  for (auto& s : streams) s->end_utterance();
  for (std::size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    auto f = results[i]->done.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
    const Transcript t = f.get();
    const Transcript ref = model()->transcribe(audio[i]);
    ASSERT_EQ(t.tokens.size(), ref.tokens.size());
    for (std::size_t k = 0; k < t.tokens.size(); ++k) EXPECT_EQ(t.tokens[k].id, ref.tokens[k].id) << k;
    EXPECT_EQ(t.text, ref.text);
    EXPECT_EQ(results[i]->text, ref.text);
  }
  const auto st = sched->stats();
  EXPECT_EQ(st.utterances_total, 3);
  EXPECT_GT(st.steps_total, 0);
  for (auto& s : streams) s->close();
  for (int i = 0; i < 200 && sched->stats().active_streams; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(sched->stats().active_streams, 0);
  EXPECT_TRUE(sched->open({}));  // slots are free again
  sched->stop();
}

// Six streams, four delays, random interleaved chunks, through the batched scheduler (float
// and quantized weights, and with a small row cap): each stream's tokens are exactly those of
// the unbatched scheduler, and (float) its offline tokens.
TEST_F(SchedulerTest, SixStreamsWithDelaysBatchedOrNotGiveTheOfflineTokens) {
  const std::vector<const char*> names = {"librispeech_dev-clean_8297-275156-0000.wav", "jfk.wav",
                                          "librispeech_dev-clean_8297-275156-0002.wav",
                                          "librispeech_dev-clean_1272-128104-0000.wav", "jfk.wav",
                                          "librispeech_dev-clean_8297-275156-0001.wav"};
  const int delays[] = {480, 240, 800, 480, 1200, 240};
  std::vector<std::vector<float>> audio;
  for (const auto* n : names) audio.push_back(clip(n));
  LoadOptions lo;
  lo.threads = 2;
  lo.quant.linear = WeightScheme::a8w4;
  const std::shared_ptr<const Model> quantized = Model::load(dir_->path(), lo);
  struct Case {
    const std::shared_ptr<const Model>* model;
    bool batch;
    int rows;
  };
  std::vector<std::vector<int>> alone;  // the unbatched case of the current model
  for (const Case c : {Case{&model(), false, 0}, Case{&model(), true, 0}, Case{&model(), true, 5},
                       Case{&quantized, false, 0}, Case{&quantized, true, 0}}) {
    const Model& m = **c.model;
    SCOPED_TRACE(std::string(c.model == &model() ? "float" : "a8w4") + (c.batch ? " batched rows " : " unbatched ") +
                 std::to_string(c.rows));
    auto sched = Scheduler::create(*c.model, {.max_streams = 6, .quantum_samples = 4 * 1280, .batch = c.batch,
                                              .max_batch_rows = c.rows});
    std::vector<std::unique_ptr<std::promise<Transcript>>> done;
    std::vector<std::shared_ptr<Stream>> streams;
    for (std::size_t i = 0; i < names.size(); ++i) {
      done.push_back(std::make_unique<std::promise<Transcript>>());
      auto* d = done.back().get();
      StreamHandlers h;
      h.on_done = [d](Transcript&& t) { d->set_value(std::move(t)); };
      h.on_error = [d](const std::string& e) { d->set_exception(std::make_exception_ptr(std::runtime_error(e))); };
      streams.push_back(sched->open(std::move(h), {.max_backlog_samples = 0}));
      ASSERT_TRUE(streams.back());
      SessionOptions so;
      so.stop_on_eos = true;
      so.delay_ms = delays[i];
      ASSERT_TRUE(streams.back()->configure(so));
      streams.back()->start();
    }
    std::mt19937 rng(9);
    std::vector<std::size_t> pos(names.size(), 0);
    for (bool more = true; more;) {
      more = false;
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (pos[i] == audio[i].size()) continue;
        const std::size_t n = std::min<std::size_t>(audio[i].size() - pos[i], 1 + rng() % (i % 2 ? 3000 : 12000));
        streams[i]->append({audio[i].begin() + static_cast<std::ptrdiff_t>(pos[i]),
                            audio[i].begin() + static_cast<std::ptrdiff_t>(pos[i] + n)});
        pos[i] += n;
        more = true;
      }
    }
    for (auto& s : streams) s->end_utterance();
    for (std::size_t i = 0; i < names.size(); ++i) {
      SCOPED_TRACE(names[i]);
      auto f = done[i]->get_future();
      ASSERT_EQ(f.wait_for(std::chrono::seconds(120)), std::future_status::ready);
      const Transcript t = f.get();
      std::vector<int> got;
      for (const auto& k : t.tokens) got.push_back(k.id);
      if (!c.batch) {
        if (i == 0) alone.clear();
        alone.push_back(got);
      }
      EXPECT_EQ(got, alone[i]);
      if (c.model == &model()) {
        TranscribeOptions o;
        o.delay_ms = delays[i];
        const Transcript ref = m.transcribe(audio[i], o);
        ASSERT_EQ(t.tokens.size(), ref.tokens.size());
        for (std::size_t k = 0; k < t.tokens.size(); ++k) ASSERT_EQ(t.tokens[k].id, ref.tokens[k].id) << k;
      }
    }
    sched->stop();
  }
}

// A stream that is behind (here: all its 80 ms appends queued before it starts) is processed a
// quantum at a time, gathered over many appends, not one append per round; the transcript is
// still the offline one.
TEST_F(SchedulerTest, BehindStreamCatchesUpAQuantumPerRound) {
  const auto audio = clip("jfk.wav");
  const std::size_t quantum = 8 * 1280, append = 1280;
  auto sched = Scheduler::create(model(), {.max_streams = 1, .quantum_samples = quantum});
  std::promise<Transcript> done;
  StreamHandlers h;
  h.on_done = [&](Transcript&& t) { done.set_value(std::move(t)); };
  h.on_error = [&](const std::string& e) { done.set_exception(std::make_exception_ptr(std::runtime_error(e))); };
  auto stream = sched->open(std::move(h), {.max_backlog_samples = 0});
  ASSERT_TRUE(stream);
  SessionOptions so;
  so.stop_on_eos = true;
  ASSERT_TRUE(stream->configure(so));
  for (std::size_t i = 0; i < audio.size(); i += append)
    stream->append({audio.begin() + static_cast<std::ptrdiff_t>(i),
                    audio.begin() + static_cast<std::ptrdiff_t>(std::min(audio.size(), i + append))});
  stream->end_utterance();
  stream->start();
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  const Transcript t = f.get();
  EXPECT_EQ(test::token_ids(t), test::token_ids(model()->transcribe(audio)));
  // ceil(samples / quantum) audio rounds and one for the end marker (one per append would be
  // 138 rounds for these 11 s). on_done fires inside the last round, which is counted just
  // after it: wait for that.
  const auto rounds = static_cast<std::int64_t>((audio.size() + quantum - 1) / quantum) + 1;
  for (int i = 0; i < 500 && sched->stats().rounds_total < rounds; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const auto st = sched->stats();
  EXPECT_EQ(st.rounds_total, rounds);
  EXPECT_NEAR(st.audio_s_total, static_cast<double>(audio.size()) / kModelSampleRateHz, 1e-9);
  sched->stop();
}

TEST_F(SchedulerTest, BacklogPausesAndResumes) {
  auto sched = Scheduler::create(model(), {.max_streams = 1});
  std::mutex mu;
  std::condition_variable cv;
  int resumes = 0;
  bool done = false;
  StreamHandlers h;
  h.on_resume = [&] {
    std::lock_guard lk(mu);
    ++resumes;
    cv.notify_all();
  };
  h.on_done = [&](Transcript&&) {
    std::lock_guard lk(mu);
    done = true;
    cv.notify_all();
  };
  auto s = sched->open(std::move(h), {.max_backlog_samples = 16000});
  // Not started yet: nothing is processed, so the backlog builds up and append says pause.
  EXPECT_EQ(s->append(std::vector<float>(8000, 0.f)), Stream::AppendResult::ok);
  EXPECT_EQ(s->append(std::vector<float>(8000, 0.f)), Stream::AppendResult::pause);
  EXPECT_DOUBLE_EQ(s->lag_s(), 1.0);
  EXPECT_FALSE(s->started());
  s->end_utterance();
  s->start();
  std::unique_lock lk(mu);
  ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(30), [&] { return done; }));
  EXPECT_EQ(resumes, 1);
  EXPECT_DOUBLE_EQ(s->lag_s(), 0.0);
  lk.unlock();
  s->close();
  EXPECT_EQ(s->append(std::vector<float>(10, 0.f)), Stream::AppendResult::closed);
}

TEST_F(SchedulerTest, ProcessingErrorsReachTheStream) {
  auto sched = Scheduler::create(model(), {.max_streams = 1});
  std::promise<std::string> err;
  StreamHandlers h;
  h.on_error = [&](const std::string& m) { err.set_value(m); };
  auto s = sched->open(std::move(h));
  SessionOptions so;
  so.delay_ms = 100;  // invalid: new_session throws on the compute thread
  ASSERT_TRUE(s->configure(so));
  s->start();
  s->append(std::vector<float>(1280, 0.f));
  auto f = err.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(f.get().empty());
  EXPECT_EQ(s->append(std::vector<float>(10, 0.f)), Stream::AppendResult::closed);
}

}  // namespace
}  // namespace vrt::server
