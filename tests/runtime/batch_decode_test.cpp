// Cross-session batched decoding (decode_batch): streams with different delays and chunkings,
// decoded together in shared decoder passes, give bitwise the tokens and logits of each stream
// decoded alone (offline), for float and quantized weights and any cap on rows per pass.
#include <gtest/gtest.h>

#include <random>

#include "runtime/model_impl.h"
#include "synth.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/session.h"

namespace vrt {
namespace {

const char* const kClips[] = {"jfk.wav", "librispeech_dev-clean_1272-128104-0000.wav",
                              "librispeech_dev-clean_8297-275156-0000.wav", "librispeech_dev-clean_8297-275156-0001.wav",
                              "librispeech_dev-clean_8297-275156-0002.wav", "jfk.wav"};
const int kDelays[] = {480, 240, 800, 480, 240, 1200};

class BatchDecode : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    synth::SynthOptions so;
    so.preset = "tiny";
    so.seed = 21;
    so.weight_scale = 2.0;  // varied tokens
    synth::write_checkpoint(dir_->file("model"), so);
    for (const char* c : kClips) audio_.push_back(load_audio_16k_mono(test::shared_data(std::string("audio/") + c)).samples);
  }
  static void TearDownTestSuite() {
    delete dir_;
    audio_.clear();
  }
  static std::shared_ptr<const Model> load(WeightScheme scheme) {
    LoadOptions lo;
    lo.threads = 2;
    lo.quant.linear = scheme;
    return Model::load(dir_->file("model"), lo);
  }

  struct Run {
    std::vector<int> tokens;       // every on_token, in order
    std::vector<Transcript> done;  // finish()
    std::vector<StageDump> dumps;
  };
  // All clips as concurrent streams, each fed in its own random chunk sizes (seed 0: the
  // offline schedule's pieces of kEncoderChunkTokens tokens); after each round of feeds,
  // decode_batch (batched) or nothing (each session decoded inside feed).
  static std::vector<Run> run_streams(const Model& model, bool batched, bool stop_on_eos, std::int64_t max_rows,
                                      std::uint32_t seed) {
    const std::size_t n = audio_.size();
    std::vector<Run> runs(n);
    std::vector<std::unique_ptr<Session>> sessions;
    for (std::size_t i = 0; i < n; ++i) {
      runs[i].dumps.resize(1);
      SessionOptions so;
      so.delay_ms = kDelays[i];
      so.stop_on_eos = stop_on_eos;
      so.dump = stop_on_eos ? &runs[i].dumps[0] : nullptr;  // a dump also turns the prefix cache off
      so.on_token = [r = &runs[i]](const Token& t) { r->tokens.push_back(t.id); };
      sessions.push_back(model.new_session(so));
      if (batched) set_batched_decoding(*sessions.back(), true);
    }
    std::mt19937 rng(seed);
    std::vector<std::size_t> pos(n, 0);
    for (bool more = true; more;) {
      more = false;
      std::vector<Session*> fed;
      for (std::size_t i = 0; i < n; ++i) {
        if (pos[i] == audio_[i].size()) continue;
        // Mostly live-sized chunks, sometimes several positions' worth (verification rows).
        const std::size_t want = seed == 0 ? static_cast<std::size_t>(Model::Impl::kEncoderChunkTokens * 1280)
                                 : rng() % 4 == 0 ? 1 + rng() % 12000 : 1 + rng() % 2600;
        const std::size_t k = std::min(audio_[i].size() - pos[i], want);
        sessions[i]->feed(std::span<const float>(audio_[i]).subspan(pos[i], k));
        pos[i] += k;
        fed.push_back(sessions[i].get());
        more = true;
      }
      if (batched && !fed.empty()) decode_batch(model.impl(), fed, max_rows);
    }
    if (batched) {  // the end padding's positions decoded together too
      std::vector<Session*> all;
      for (auto& p : sessions) {
        end_stream_audio(*p);
        all.push_back(p.get());
      }
      decode_batch(model.impl(), all, max_rows);
    }
    for (std::size_t i = 0; i < n; ++i) runs[i].done.push_back(sessions[i]->finish());
    return runs;
  }

  static test::TempDir* dir_;
  static std::vector<std::vector<float>> audio_;
};
test::TempDir* BatchDecode::dir_ = nullptr;
std::vector<std::vector<float>> BatchDecode::audio_;

// Fed in the offline schedule's pieces (so the encoder runs the same chunks), streams decoded
// together give bitwise the offline tokens and logits.
TEST_F(BatchDecode, ConcurrentStreamsGiveTheOfflineTokensAndLogits) {
  for (const WeightScheme scheme : {WeightScheme::native, WeightScheme::a8w4}) {
    const auto model = load(scheme);
    const std::int64_t cap = max_batch_rows(model->impl());
    EXPECT_EQ(cap, model->impl().weights.output.quantized() ? 32 : 16);
    for (const std::int64_t rows : {cap, std::int64_t{3}}) {
      const auto runs = run_streams(*model, /*batched=*/true, /*stop_on_eos=*/true, rows, 0);
      for (std::size_t i = 0; i < audio_.size(); ++i) {
        SCOPED_TRACE(std::string(weight_scheme_name(scheme)) + " " + kClips[i] + " delay " +
                     std::to_string(kDelays[i]) + " rows " + std::to_string(rows));
        StageDump ref_dump;
        TranscribeOptions o;
        o.delay_ms = kDelays[i];
        o.dump = &ref_dump;
        const Transcript ref = model->transcribe(audio_[i], o);
        ASSERT_GT(ref.tokens.size(), 10u);
        EXPECT_EQ(test::token_ids(runs[i].done[0]), test::token_ids(ref));
        EXPECT_EQ(runs[i].tokens, test::token_ids(ref));
        EXPECT_EQ(runs[i].done[0].text, ref.text);
        EXPECT_TRUE(runs[i].dumps[0].logits == ref_dump.logits);  // bitwise
      }
    }
  }
}

// Any chunking (each stream its own): batched decoding gives bitwise the tokens and logits of
// the same sessions decoding alone. (The encoder's float matmuls tile differently for other
// chunk sizes, so a live stream's logits may differ from offline in the last bits; batching
// adds no difference of its own.)
TEST_F(BatchDecode, AnyChunkingSameAsUnbatched) {
  for (const WeightScheme scheme : {WeightScheme::native, WeightScheme::a8w4}) {
    const auto model = load(scheme);
    const auto alone = run_streams(*model, /*batched=*/false, /*stop_on_eos=*/true, 0, 7);
    for (const std::int64_t rows : {max_batch_rows(model->impl()), std::int64_t{3}}) {
      const auto runs = run_streams(*model, /*batched=*/true, /*stop_on_eos=*/true, rows, 7);
      for (std::size_t i = 0; i < audio_.size(); ++i) {
        SCOPED_TRACE(std::string(weight_scheme_name(scheme)) + " " + kClips[i] + " rows " + std::to_string(rows));
        EXPECT_EQ(test::token_ids(runs[i].done[0]), test::token_ids(alone[i].done[0]));
        EXPECT_EQ(runs[i].tokens, alone[i].tokens);
        EXPECT_TRUE(runs[i].dumps[0].logits == alone[i].dumps[0].logits);  // bitwise
      }
    }
  }
}

TEST_F(BatchDecode, LiveTokenStreamsAreTheSameWithAndWithoutBatching) {
  for (const WeightScheme scheme : {WeightScheme::native, WeightScheme::a8w4}) {
    SCOPED_TRACE(weight_scheme_name(scheme));
    const auto model = load(scheme);
    const auto alone = run_streams(*model, /*batched=*/false, /*stop_on_eos=*/false, 0, 11);
    const auto batched = run_streams(*model, /*batched=*/true, /*stop_on_eos=*/false, max_batch_rows(model->impl()), 11);
    for (std::size_t i = 0; i < audio_.size(); ++i) {
      SCOPED_TRACE(kClips[i]);
      EXPECT_EQ(batched[i].tokens, alone[i].tokens);
      EXPECT_EQ(test::token_ids(batched[i].done[0]), test::token_ids(alone[i].done[0]));
      EXPECT_EQ(batched[i].done[0].stats.decode_steps, alone[i].done[0].stats.decode_steps);
    }
  }
}

}  // namespace
}  // namespace vrt
