// The public transcription API: token cap, callback, delays, threads and concurrent use.
#include <gtest/gtest.h>

#include <thread>

#include "synth.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/model.h"

namespace vrt {
namespace {

class TranscribeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    synth::SynthOptions o;
    o.preset = "tiny";
    o.weight_scale = 2.0;
    o.seed = 11;
    synth::write_checkpoint(dir_->path(), o);
    model_ = Model::load(dir_->path(), {.threads = 2});
    audio_ = load_audio_16k_mono(test::shared_data("audio/librispeech_dev-clean_8297-275156-0000.wav")).samples;
  }
  static void TearDownTestSuite() {
    model_.reset();
    delete dir_;
  }
  static std::vector<int> ids(const Transcript& t) {
    std::vector<int> v;
    for (const auto& k : t.tokens) v.push_back(k.id);
    return v;
  }
  static test::TempDir* dir_;
  static std::shared_ptr<const Model> model_;
  static std::vector<float> audio_;
};
test::TempDir* TranscribeTest::dir_ = nullptr;
std::shared_ptr<const Model> TranscribeTest::model_;
std::vector<float> TranscribeTest::audio_;

TEST_F(TranscribeTest, ScheduleLengthAndText) {
  const auto t = model_->transcribe(audio_);
  // 57,280 samples: ceil(57280 / 1280) + 11 = 56 tokens (the golden stream's length), unless EOS.
  if (t.tokens.back().id != model_->tokenizer().eos_id()) EXPECT_EQ(t.tokens.size(), 56u);
  EXPECT_EQ(t.text, model_->tokenizer().decode(ids(t)));
  EXPECT_EQ(t.stats.prefill_positions, 39);  // BOS + 32 + 6 prompt tokens at 480 ms
  EXPECT_EQ(t.stats.generated_tokens, static_cast<std::int64_t>(t.tokens.size()));
  for (std::size_t k = 0; k < t.tokens.size(); ++k)
    EXPECT_DOUBLE_EQ(t.tokens[k].time_s, k < 1 ? 0.0 : static_cast<double>(k - 1) * 0.08);
}

TEST_F(TranscribeTest, MaxNewTokensCapsExactly) {
  const auto full = ids(model_->transcribe(audio_));
  for (std::int64_t cap : {0, 1, 2, 17}) {
    TranscribeOptions o;
    o.max_new_tokens = cap;
    const auto t = ids(model_->transcribe(audio_, o));
    ASSERT_EQ(static_cast<std::int64_t>(t.size()), std::min<std::int64_t>(cap, static_cast<std::int64_t>(full.size())));
    EXPECT_TRUE(std::equal(t.begin(), t.end(), full.begin())) << "cap " << cap;
  }
}

TEST_F(TranscribeTest, CallbackSeesEveryTokenInOrder) {
  std::vector<int> seen;
  TranscribeOptions o;
  o.on_token = [&](const Token& k) { seen.push_back(k.id); };
  double last_progress = -1;
  o.on_progress = [&](double f) {
    EXPECT_GE(f, last_progress);
    last_progress = f;
  };
  const auto t = model_->transcribe(audio_, o);
  EXPECT_EQ(seen, ids(t));
  EXPECT_DOUBLE_EQ(last_progress, 1.0);
}

TEST_F(TranscribeTest, Delays) {
  for (int bad : {-80, 40, 100, 1280, 2000, 4800}) {
    TranscribeOptions o;
    o.delay_ms = bad;
    EXPECT_THROW(model_->transcribe(audio_, o), Error) << bad;
  }
  for (int good : {80, 1200, 2400}) {
    TranscribeOptions o;
    o.delay_ms = good;
    const auto t = model_->transcribe(audio_, o);
    EXPECT_EQ(t.stats.prefill_positions, 33 + good / 80);
    if (t.tokens.back().id != model_->tokenizer().eos_id()) EXPECT_EQ(t.tokens.size(), 56u);  // any delay
  }
}

TEST_F(TranscribeTest, EmptyAndSilentAudio) {
  const auto empty = model_->transcribe({});
  // No audio: 32 + 0 + 17 positions, 49 - 39 + 1 = 11 tokens.
  if (empty.tokens.back().id != model_->tokenizer().eos_id()) EXPECT_EQ(empty.tokens.size(), 11u);
  const std::vector<float> one(1, 0.0f);
  const auto t = model_->transcribe(one);
  if (t.tokens.back().id != model_->tokenizer().eos_id()) EXPECT_EQ(t.tokens.size(), 12u);
}

TEST_F(TranscribeTest, ThreadCountsAndConcurrentCallsAgree) {
  const auto ref = ids(model_->transcribe(audio_));
  const auto one = Model::load(dir_->path(), {.threads = 1});
  EXPECT_EQ(ids(one->transcribe(audio_)), ref);
  std::vector<std::vector<int>> got(3);
  std::vector<std::thread> th;
  for (int i = 0; i < 3; ++i) th.emplace_back([&, i] { got[static_cast<std::size_t>(i)] = ids(model_->transcribe(audio_)); });
  for (auto& x : th) x.join();
  for (const auto& g : got) EXPECT_EQ(g, ref);
}

}  // namespace
}  // namespace vrt
