// Cross-session batching (Model::step): streams with different delays and chunkings,
// decoded together in shared decoder passes, give bitwise the tokens and logits of each stream
// decoded alone (offline), for float and quantized weights and any cap on rows per pass.
#include <gtest/gtest.h>

#include <random>

#include "runtime/model_impl.h"  // the encoder itself, for the stacked-segments test
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
  // Model::step (batched) or nothing (each session decoded inside feed).
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
      so.batched = batched;
      sessions.push_back(model.new_session(so));
    }
    std::mt19937 rng(seed);
    std::vector<std::size_t> pos(n, 0);
    for (bool more = true; more;) {
      more = false;
      std::vector<Session*> fed;
      for (std::size_t i = 0; i < n; ++i) {
        if (pos[i] == audio_[i].size()) continue;
        // Mostly live-sized chunks, sometimes several positions' worth (verification rows).
        const std::size_t want = seed == 0 ? static_cast<std::size_t>(32 * 1280)  // offline: 32-token pieces
                                 : rng() % 4 == 0 ? 1 + rng() % 12000 : 1 + rng() % 2600;
        const std::size_t k = std::min(audio_[i].size() - pos[i], want);
        sessions[i]->feed(std::span<const float>(audio_[i]).subspan(pos[i], k));
        pos[i] += k;
        fed.push_back(sessions[i].get());
        more = true;
      }
      if (batched && !fed.empty()) model.step(fed, max_rows);
    }
    if (batched) {  // the end padding's positions decoded together too
      std::vector<Session*> all;
      for (auto& p : sessions) {
        p->end_audio();
        all.push_back(p.get());
      }
      model.step(all, max_rows);
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
    const std::int64_t cap = model->max_batch_rows();
    EXPECT_EQ(cap, scheme == WeightScheme::native ? 16 : 64);  // float heads tile differently above 16 rows
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
        // Packed encoders run stacked over the streams in Model::step: same bits as offline.
        EXPECT_TRUE(runs[i].dumps[0].encoder == ref_dump.encoder);
        EXPECT_TRUE(runs[i].dumps[0].adapter == ref_dump.adapter);
      }
    }
  }
}

// Encoder::forward_segments with packed weights: streams stacked in one call (of different
// lengths, one empty, chunked differently in each call) give bitwise the encoder output of each
// stream alone in one piece. Float weights are not batch-independent (their tiling changes
// above 16 rows), so sessions do not stack them.
TEST_F(BatchDecode, StackedEncoderSegmentsEqualEachStreamAlone) {
  EXPECT_FALSE(RuntimeAccess::impl(*load(WeightScheme::native)).encoder->rows_batch_independent());
  const auto model = load(WeightScheme::a8w4);
  const auto& m = RuntimeAccess::impl(*model);
  const Encoder& enc = *m.encoder;
  ASSERT_TRUE(enc.rows_batch_independent());
  const std::int64_t nm = m.config().encoder.audio.num_mel_bins, d = m.config().encoder.dim;
  // Per stream: the mel frames of each of its calls (even counts; 0 = not in that call).
  const std::vector<std::vector<std::int64_t>> calls = {{16, 2, 64, 8}, {0, 32, 6, 0}, {64, 64, 2, 48}};
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<std::vector<float>> mel(calls.size()), alone(calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    std::int64_t frames = 0;
    for (const auto f : calls[i]) frames += f;
    for (std::int64_t k = 0; k < frames * nm; ++k) mel[i].push_back(nd(rng));
    EncoderState st = enc.new_state();
    enc.forward(st, mel[i].data(), frames, alone[i], &m.pool);
  }
  std::vector<EncoderState> states;
  for (std::size_t i = 0; i < calls.size(); ++i) states.push_back(enc.new_state());
  std::vector<std::vector<float>> stacked(calls.size());
  std::vector<std::int64_t> at(calls.size(), 0);
  std::vector<float> out;
  for (std::size_t c = 0; c < calls[0].size(); ++c) {
    std::vector<EncoderSegment> segs;
    for (std::size_t i = 0; i < calls.size(); ++i) segs.push_back({&states[i], mel[i].data() + at[i] * nm, calls[i][c]});
    enc.forward_segments(segs, out, &m.pool);
    std::int64_t row = 0;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      const std::int64_t n = calls[i][c] / 2;
      stacked[i].insert(stacked[i].end(), out.begin() + row * d, out.begin() + (row + n) * d);
      row += n;
      at[i] += calls[i][c];
    }
    EXPECT_EQ(row * d, static_cast<std::int64_t>(out.size()));
  }
  for (std::size_t i = 0; i < calls.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(states[i].next_frame, at[i] / 2);
    ASSERT_EQ(stacked[i].size(), alone[i].size());
    EXPECT_TRUE(stacked[i] == alone[i]);  // bitwise
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
    for (const std::int64_t rows : {model->max_batch_rows(), std::int64_t{3}}) {
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
    const auto batched = run_streams(*model, /*batched=*/true, /*stop_on_eos=*/false, model->max_batch_rows(), 11);
    for (std::size_t i = 0; i < audio_.size(); ++i) {
      SCOPED_TRACE(kClips[i]);
      EXPECT_EQ(batched[i].tokens, alone[i].tokens);
      EXPECT_EQ(test::token_ids(batched[i].done[0]), test::token_ids(alone[i].done[0]));
      EXPECT_EQ(batched[i].done[0].stats.decode_steps, alone[i].done[0].stats.decode_steps);
    }
  }
}

// The public batching entry refuses what it cannot batch, with a clear error, and a batched
// session ended with end_audio() takes no more audio.
TEST_F(BatchDecode, StepRefusesSessionsItCannotBatch) {
  const auto model = load(WeightScheme::a8w4);
  const auto other = load(WeightScheme::a8w4);
  SessionOptions so;
  so.batched = true;
  auto a = model->new_session(so);
  auto foreign = other->new_session(so);
  auto alone = model->new_session({});
  auto expect_status = [](auto&& f, Status want) {
    try {
      f();
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), want) << e.what();
    }
  };
  Session* not_batched[] = {a.get(), alone.get()};
  expect_status([&] { model->step(not_batched); }, Status::invalid_argument);
  Session* mixed[] = {a.get(), foreign.get()};
  expect_status([&] { model->step(mixed); }, Status::invalid_argument);
  Session* null[] = {a.get(), nullptr};
  expect_status([&] { model->step(null); }, Status::invalid_argument);
  EXPECT_EQ(model->step({}), 0);

  a->feed(audio_[0]);
  Session* one[] = {a.get()};
  EXPECT_GT(model->step(one), 0);  // 11 s of speech: tokens come out of the shared passes
  a->end_audio();
  expect_status([&] { a->feed(audio_[0]); }, Status::bad_state);
  expect_status([&] { a->end_audio(); }, Status::bad_state);
  expect_status([&] { a->flush(); }, Status::bad_state);
  model->step(one);
  const Transcript t = a->finish();
  EXPECT_GT(t.tokens.size(), 10u);
  expect_status([&] { model->step(one); }, Status::bad_state);
  expect_status([&] { a->finish(); }, Status::bad_state);
  a->reset();  // a new stream
  a->feed(audio_[0]);
  EXPECT_EQ(test::token_ids(a->finish()), test::token_ids(t));
}

// A token cap reached while the end padding runs (the prompt completes only then: 0.3 s of
// audio is 4 of the 7 positions past the 32-token left pad) stops the stream for good: exactly
// max_new_tokens tokens, batched or not, float or packed encoder (a float encoder runs in feed(),
// so a batched stream's prompt token comes out inside end_audio()).
TEST_F(BatchDecode, TokenCapReachedDuringTheEndPaddingStopsEverything) {
  const std::vector<float> audio(audio_[0].begin(), audio_[0].begin() + 4800);
  for (const WeightScheme scheme : {WeightScheme::native, WeightScheme::a8w4}) {
    const auto model = load(scheme);
    for (const bool batched : {false, true}) {
      for (const std::int64_t cap : {1, 3}) {
        SCOPED_TRACE(std::string(weight_scheme_name(scheme)) + (batched ? " batched" : "") + " cap " + std::to_string(cap));
        SessionOptions so;
        so.max_new_tokens = cap;
        so.batched = batched;
        std::int64_t reported = 0;
        so.on_token = [&](const Token&) { ++reported; };
        auto s = model->new_session(so);
        s->feed(audio);
        s->end_audio();
        Session* one[] = {s.get()};
        if (batched) model->step(one);
        const Transcript t = s->finish();
        EXPECT_EQ(static_cast<std::int64_t>(t.tokens.size()), cap);
        EXPECT_EQ(reported, cap);
        EXPECT_EQ(t.stats.generated_tokens, cap);
      }
    }
  }
}

}  // namespace
}  // namespace vrt
