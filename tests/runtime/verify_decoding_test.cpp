// The decoding schedule. Verification decoding (several positions per decoder pass, guessed
// inputs, rollback) gives exactly greedy decoding's tokens and logits, for every test clip, k,
// weight scheme and chunking of a live stream; the constant-prefix cache gives exactly the
// computed results.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>
#include <set>

#include "synth.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/profile.h"
#include "voxtral_rt/session.h"

namespace vrt {
namespace {

const char* const kClips[] = {"jfk.wav", "librispeech_dev-clean_1272-128104-0000.wav",
                              "librispeech_dev-clean_1272-141231-0002.wav", "librispeech_dev-clean_8297-275156-0000.wav",
                              "librispeech_dev-clean_8297-275156-0001.wav"};

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
      const auto greedy_ids = test::token_ids(greedy);
      const std::set<int> distinct(greedy_ids.begin(), greedy_ids.end());
      ASSERT_GE(distinct.size(), 5u) << clip;  // guesses must fail sometimes
      for (const int k : {2, 3, 8, 16}) {
        SCOPED_TRACE(std::string(weight_scheme_name(scheme)) + " " + clip + " k=" + std::to_string(k));
        StageDump dump;
        TranscribeOptions o;
        o.verify_tokens = k;
        o.dump = &dump;
        const Transcript t = model->transcribe(audio, o);
        EXPECT_EQ(test::token_ids(t), test::token_ids(greedy));
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

// Every published clip (speech, music-free film dialogue, up to 89 s) at the default k.
TEST_F(VerifyDecoding, EqualsGreedyOnEveryPublishedClip) {
  const char* const all[] = {"jfk.wav",
                             "librispeech_dev-clean_1272-128104-0000.wav",
                             "librispeech_dev-clean_1272-141231-0002.wav",
                             "librispeech_dev-clean_8297-275156-0000.wav",
                             "librispeech_dev-clean_8297-275156-0001.wav",
                             "librispeech_dev-clean_8297-275156-0002.wav",
                             "night1968_5s_dont_worry_about_him.wav",
                             "night1968_15s_there_are_two_of_them_out_there.wav",
                             "night1968_45s_right_through_the_billboard.wav",
                             "night1968_60s_i_dont_want_anyones_life_on_my_hands.wav",
                             "night1968_89s_ill_come_back_down_as_soon_as.wav",
                             "voxtral_c_test_speech.wav"};
  for (const WeightScheme scheme : {WeightScheme::native, WeightScheme::a8w4}) {
    LoadOptions lo;
    lo.threads = 2;
    lo.quant.linear = scheme;
    const auto model = Model::load(dir_->file("model"), lo);
    for (const char* clip : all) {
      const auto audio = load_audio_16k_mono(test::shared_data(std::string("audio/") + clip)).samples;
      TranscribeOptions g;
      g.verify_tokens = 1;
      EXPECT_EQ(test::token_ids(model->transcribe(audio, {})), test::token_ids(model->transcribe(audio, g)))
          << weight_scheme_name(scheme) << " " << clip;
    }
  }
}

TEST_F(VerifyDecoding, LiveStreamCatchingUpEqualsGreedy) {
  const auto model = Model::load(dir_->file("model"), {.threads = 1});
  const auto audio = load_audio_16k_mono(test::shared_data("audio/jfk.wav")).samples;
  TranscribeOptions g;
  g.verify_tokens = 1;
  const auto greedy = test::token_ids(model->transcribe(audio, g));
  // Chunks of 5 s leave many positions waiting per feed; 700 samples leave at most one.
  for (const std::size_t chunk : {std::size_t{80000}, std::size_t{700}}) {
    SessionOptions so;
    so.stop_on_eos = true;
    so.verify_tokens = 16;
    auto s = model->new_session(so);
    for (std::size_t i = 0; i < audio.size(); i += chunk)
      s->feed(std::span<const float>(audio).subspan(i, std::min(chunk, audio.size() - i)));
    EXPECT_EQ(test::token_ids(s->finish()), greedy) << chunk;
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

// The constant prefix computed once per model and delay gives the same tokens as computing it in
// every session, for every clip, delay and scheme, across resets and interleaved sessions; and
// it makes a session's start cheaper.
TEST_F(VerifyDecoding, PrefixCacheGivesTheComputedResults) {
  for (const WeightScheme scheme : {WeightScheme::native, WeightScheme::a8w4}) {
    LoadOptions lo;
    lo.threads = 2;
    lo.quant.linear = scheme;
    const auto model = Model::load(dir_->file("model"), lo);
    for (const int delay : {80, 480, 1200, 2400}) {
      for (const char* clip : kClips) {
        SCOPED_TRACE(std::string(weight_scheme_name(scheme)) + " delay " + std::to_string(delay) + " " + clip);
        const auto audio = load_audio_16k_mono(test::shared_data(std::string("audio/") + clip)).samples;
        TranscribeOptions off;
        off.delay_ms = delay;
        off.prefix_cache = false;
        TranscribeOptions on = off;
        on.prefix_cache = true;
        const Transcript a = model->transcribe(audio, off), b = model->transcribe(audio, on);
        EXPECT_EQ(test::token_ids(a), test::token_ids(b));
        EXPECT_EQ(a.text, b.text);
        EXPECT_EQ(a.stats.prefill_positions, b.stats.prefill_positions);
      }
    }
    // A session reset onto the cache, interleaved with another one, still matches.
    const auto audio = load_audio_16k_mono(test::shared_data("audio/jfk.wav")).samples;
    TranscribeOptions off;
    off.prefix_cache = false;
    const auto want = test::token_ids(model->transcribe(audio, off));
    SessionOptions so;
    so.stop_on_eos = true;
    auto s1 = model->new_session(so), s2 = model->new_session(so);
    for (int round = 0; round < 2; ++round) {
      for (std::size_t i = 0; i < audio.size(); i += 16000) {
        const auto piece = std::span<const float>(audio).subspan(i, std::min<std::size_t>(16000, audio.size() - i));
        s1->feed(piece);
        s2->feed(piece);
      }
      EXPECT_EQ(test::token_ids(s1->finish()), want);
      EXPECT_EQ(test::token_ids(s2->finish()), want);
      s1->reset();
      s2->reset();
    }
  }
}

// With the cache, a session's first positions need no work: the tiny model has the real
// left pad (32 tokens) and windows, so 31 positions come from the cache (encoder frames
// 0..123 and decoder positions 0..30) and the rest of the prompt is computed.
TEST_F(VerifyDecoding, PrefixCacheSkipsTheSilentStart) {
  const auto model = Model::load(dir_->file("model"), {.threads = 1});
  const auto audio = load_audio_16k_mono(test::shared_data("audio/jfk.wav")).samples;
  const Transcript t = model->transcribe(audio, {});
  EXPECT_EQ(t.stats.cached_positions, 31);
  EXPECT_EQ(t.stats.prefill_positions, 39);
  TranscribeOptions off;
  off.prefix_cache = false;
  EXPECT_EQ(model->transcribe(audio, off).stats.cached_positions, 0);
  StageDump dump;
  TranscribeOptions dumped;
  dumped.dump = &dump;  // a dump shows the prefix's stages, so it is computed
  EXPECT_EQ(model->transcribe(audio, dumped).stats.cached_positions, 0);
}

// With packed encoder and decoder weights every stage computes each row the same way whatever
// the batch (the float conv stem runs row-stable), so a live stream fed in any chunks gives the
// offline logits bitwise, not only the tokens; with fp32 and with f16 KV caches.
TEST_F(VerifyDecoding, PackedSchemesMakeAnyChunkingBitwiseOffline) {
  for (const KvCacheType kv : {KvCacheType::f32, KvCacheType::f16}) {
    SCOPED_TRACE(kv_cache_type_name(kv));
    LoadOptions lo;
    lo.threads = 2;
    lo.quant.linear = WeightScheme::a8w4;
    lo.kv_cache = kv;
    const auto model = Model::load(dir_->file("model"), lo);
    std::mt19937 rng(11);
    for (const char* clip : kClips) {
      const auto audio = load_audio_16k_mono(test::shared_data(std::string("audio/") + clip)).samples;
      StageDump offline_dump;
      TranscribeOptions o;
      o.dump = &offline_dump;
      const auto want = test::token_ids(model->transcribe(audio, o));
      for (int trial = 0; trial < 2; ++trial) {
        StageDump dump;
        SessionOptions so;
        so.stop_on_eos = true;
        so.dump = &dump;
        auto s = model->new_session(so);
        std::uniform_int_distribution<std::size_t> len(1, trial == 0 ? 3000 : 60000);
        for (std::size_t i = 0; i < audio.size();) {
          const std::size_t n = std::min(len(rng), audio.size() - i);
          s->feed(std::span<const float>(audio).subspan(i, n));
          i += n;
        }
        EXPECT_EQ(test::token_ids(s->finish()), want) << clip;
        EXPECT_EQ(dump.encoder, offline_dump.encoder) << clip;
        EXPECT_EQ(dump.logits, offline_dump.logits) << clip;
      }
    }
  }
}

// A batched session fed its whole audio, ended and stepped once: every position exists before
// the decoder runs (the simulation's chunk 0).
Transcript whole_audio_then_step(const Model& model, SessionOptions o, const std::vector<float>& audio) {
  o.batched = true;
  const auto session = model.new_session(o);
  session->feed(audio);
  session->end_audio();
  Session* one[] = {session.get()};
  model.step(one);
  return session->finish();
}

// The policy is written once (runtime/verify.h): replaying it on the tokens a session produced
// (vrt::replay_verification, what `bench` reports) gives exactly the passes the runtime made when
// availability does not bind: a batched session fed its whole audio, ended, and stepped once has
// every position available (chunk 0). Independent check of the replay: with k = 1 every
// position is one pass. Offline (positions arriving in 32-token encoder chunks, boundaries
// shifted by the mel look-ahead) the default chunk = 32 is an approximation: same positions,
// passes within one per chunk.
TEST_F(VerifyDecoding, ReplayOfTheTokensCountsTheRuntimesPasses) {
  LoadOptions lo;
  lo.threads = 2;
  lo.quant.linear = WeightScheme::a8w4;
  const auto model = Model::load(dir_->file("model"), lo);
  for (const char* clip : kClips) {
    const auto audio = load_audio_16k_mono(test::shared_data(std::string("audio/") + clip)).samples;
    for (const int k : {1, 2, 4, 8, 16}) {
      SCOPED_TRACE(std::string(clip) + " k=" + std::to_string(k));
      SessionOptions so;
      so.verify_tokens = k;
      so.stop_on_eos = true;
      const Transcript t = whole_audio_then_step(*model, so, audio);
      const auto ids = test::token_ids(t);
      ASSERT_GT(ids.size(), 10u);
      const VerificationReplay r = replay_verification(model->tokenizer(), ids, k, 0, /*chunk=*/0);
      EXPECT_EQ(r.positions, t.stats.decode_steps);
      EXPECT_EQ(r.passes, t.stats.decode_passes);
      if (k == 1) EXPECT_EQ(r.passes, static_cast<std::int64_t>(ids.size()) - 1);
      std::int64_t rows = 0, passes = 0;
      for (const auto& [n, count] : r.pass_rows) rows += n * count, passes += count;
      EXPECT_EQ(passes, r.passes);
      EXPECT_GE(rows, r.positions);  // rejected rows are computed and thrown away

      TranscribeOptions o;
      o.verify_tokens = k;
      const Transcript offline = model->transcribe(audio, o);
      EXPECT_EQ(test::token_ids(offline), ids);
      const VerificationReplay approx = replay_verification(model->tokenizer(), ids, k);
      EXPECT_EQ(approx.positions, offline.stats.decode_steps);
      const std::int64_t chunks = static_cast<std::int64_t>(ids.size()) / 32 + 2;
      EXPECT_LE(std::abs(approx.passes - offline.stats.decode_passes), chunks);
    }
  }
}

// Replay (SessionOptions::replay_tokens, measurement only) on the real tokenizer: each greedy
// choice is the recording's, so the transcript is the golden stream's (tokens and text from
// shared/data/reference), and the work (positions, passes) is what the simulation of the same
// recording predicts (replay_verification with every position available: a batched session fed
// its whole audio and stepped once). Offline, the same tokens; a recording shorter than the
// stream is cycled from the offset.
TEST(Replay, OutputIsTheRecordingAndTheWorkIsTheSimulations) {
  test::TempDir dir;
  synth::SynthOptions so;
  so.preset = "tiny";
  so.seed = 21;
  so.tekken_path = test::shared_data("tokenizer/tekken_voxtral_mini_4b_realtime_2602.vocab130072.json");
  synth::write_checkpoint(dir.file("model"), so);
  LoadOptions lo;
  lo.threads = 2;
  lo.quant.linear = WeightScheme::a8w4;
  const auto model = Model::load(dir.file("model"), lo);
  for (const char* id : {"0000", "0001", "0002"}) {
    const auto golden = nlohmann::json::parse(test::read_text(test::shared_data(std::string("reference/voxtral_realtime_tokens_8297-275156-") + id + ".json")));
    const auto recorded = golden.at("tokens").get<std::vector<int>>();
    const auto audio =
        load_audio_16k_mono(test::shared_data(std::string("audio/librispeech_dev-clean_8297-275156-") + id + ".wav")).samples;
    for (const int k : {1, 2, 4, 8}) {
      SCOPED_TRACE(std::string(id) + " k=" + std::to_string(k));
      SessionOptions o;
      o.verify_tokens = k;
      o.replay_tokens = recorded;
      const Transcript t = whole_audio_then_step(*model, o, audio);
      EXPECT_EQ(test::token_ids(t), recorded);  // the clip's positions are the recording's
      EXPECT_EQ(t.text, " " + golden.at("text").get<std::string>());
      const VerificationReplay r = replay_verification(model->tokenizer(), recorded, k, 0, /*chunk=*/0);
      EXPECT_EQ(t.stats.decode_steps, r.positions);
      EXPECT_EQ(t.stats.decode_passes, r.passes);

      TranscribeOptions to;
      to.verify_tokens = k;
      to.replay_tokens = recorded;
      EXPECT_EQ(test::token_ids(model->transcribe(audio, to)), recorded);
    }
  }
  // Cycled from an offset: 11 s of audio, 149 generated positions, over a 56-token recording.
  const auto recorded =
      nlohmann::json::parse(test::read_text(test::shared_data("reference/voxtral_realtime_tokens_8297-275156-0000.json"))).at("tokens").get<std::vector<int>>();
  TranscribeOptions to;
  to.replay_tokens = recorded;
  to.replay_offset = 60;  // = 4 (mod 56)
  const auto ids = test::token_ids(model->transcribe(load_audio_16k_mono(test::shared_data("audio/jfk.wav")).samples, to));
  // 32 silent + 138 (176000 samples, to whole tokens of 1280) + 17 end positions, less the
  // first 38 (the prompt's last position gives the first token)
  ASSERT_EQ(ids.size(), 149u);
  for (std::size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(ids[i], recorded[(i + 4) % recorded.size()]) << i;
  // Bad replays are refused.
  to.replay_tokens = {32, static_cast<int>(model->config().vocab_size)};
  EXPECT_THROW(model->transcribe({}, to), Error);
  to.replay_tokens = {32};
  to.force_tokens = {32};
  EXPECT_THROW(model->transcribe({}, to), Error);
}

}  // namespace
}  // namespace vrt
