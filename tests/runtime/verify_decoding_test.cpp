// Verification decoding (several positions per decoder pass, guessed inputs, rollback) gives
// exactly greedy decoding's tokens and logits, for every test clip, k, weight scheme and
// chunking of a live stream.
#include <gtest/gtest.h>

#include <set>

#include "synth.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/session.h"

namespace vrt {
namespace {

const char* const kClips[] = {"jfk.wav", "librispeech_dev-clean_1272-128104-0000.wav",
                              "librispeech_dev-clean_8297-275156-0000.wav", "librispeech_dev-clean_8297-275156-0001.wav"};

std::vector<int> ids(const Transcript& t) {
  std::vector<int> v;
  for (const auto& k : t.tokens) v.push_back(k.id);
  return v;
}

class VerifyDecoding : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    synth::SynthOptions so;
    so.preset = "tiny";
    so.seed = 21;
    so.weight_scale = 2.0;  // varied tokens, so guesses fail at different places
    synth::write_checkpoint(dir_->file("model"), so);
  }
  static void TearDownTestSuite() { delete dir_; }
  static test::TempDir* dir_;
};
test::TempDir* VerifyDecoding::dir_ = nullptr;

TEST_F(VerifyDecoding, EqualsGreedyOnEveryClipSchemeAndK) {
  std::int64_t passes = 0, steps = 0;
  for (const WeightScheme scheme : {WeightScheme::native, WeightScheme::a8w4, WeightScheme::w8}) {
    LoadOptions lo;
    lo.threads = 2;
    lo.quant.linear = scheme;
    const auto model = Model::load(dir_->file("model"), lo);
    for (const char* clip : kClips) {
      const auto audio = load_audio_16k_mono(test::shared_data(std::string("audio/") + clip)).samples;
      StageDump greedy_dump;
      TranscribeOptions g;
      g.verify_tokens = 1;
      g.dump = &greedy_dump;
      const Transcript greedy = model->transcribe(audio, g);
      EXPECT_EQ(greedy.stats.decode_passes, greedy.stats.decode_steps);
      const auto greedy_ids = ids(greedy);
      const std::set<int> distinct(greedy_ids.begin(), greedy_ids.end());
      ASSERT_GE(distinct.size(), 5u) << clip;  // guesses must fail sometimes
      for (const int k : {2, 3, 8, 16}) {
        SCOPED_TRACE(std::string(weight_scheme_name(scheme)) + " " + clip + " k=" + std::to_string(k));
        StageDump dump;
        TranscribeOptions o;
        o.verify_tokens = k;
        o.dump = &dump;
        const Transcript t = model->transcribe(audio, o);
        EXPECT_EQ(ids(t), ids(greedy));
        EXPECT_EQ(dump.logits, greedy_dump.logits);
        EXPECT_EQ(t.text, greedy.text);
        EXPECT_EQ(t.stats.decode_steps, greedy.stats.decode_steps);
        EXPECT_LE(t.stats.decode_passes, greedy.stats.decode_passes);
        passes += t.stats.decode_passes;
        steps += t.stats.decode_steps;
      }
    }
  }
  std::printf("verification: %lld positions in %lld passes\n", static_cast<long long>(steps), static_cast<long long>(passes));
  EXPECT_LT(passes * 10, steps * 9);  // guesses were right often enough to batch (and reject)
}

TEST_F(VerifyDecoding, LiveStreamCatchingUpEqualsGreedy) {
  const auto model = Model::load(dir_->file("model"), {.threads = 1});
  const auto audio = load_audio_16k_mono(test::shared_data("audio/jfk.wav")).samples;
  TranscribeOptions g;
  g.verify_tokens = 1;
  const auto greedy = ids(model->transcribe(audio, g));
  // Chunks of 5 s leave many positions waiting per feed; 700 samples leave at most one.
  for (const std::size_t chunk : {std::size_t{80000}, std::size_t{700}}) {
    SessionOptions so;
    so.stop_on_eos = true;
    so.verify_tokens = 16;
    auto s = model->new_session(so);
    for (std::size_t i = 0; i < audio.size(); i += chunk)
      s->feed(std::span<const float>(audio).subspan(i, std::min(chunk, audio.size() - i)));
    EXPECT_EQ(ids(s->finish()), greedy) << chunk;
  }
}

TEST_F(VerifyDecoding, MaxNewTokensAndBadKAreHonoured) {
  const auto model = Model::load(dir_->file("model"), {.threads = 1});
  const auto audio = load_audio_16k_mono(test::shared_data("audio/jfk.wav")).samples;
  TranscribeOptions o;
  o.verify_tokens = 16;
  o.max_new_tokens = 13;
  EXPECT_EQ(model->transcribe(audio, o).tokens.size(), 13u);
  o.verify_tokens = 17;
  EXPECT_THROW(model->transcribe(audio, o), Error);
  o.verify_tokens = -1;
  EXPECT_THROW(model->transcribe(audio, o), Error);
}

}  // namespace
}  // namespace vrt
