// The C API (include/vrt.h), called from C++: results equal the C++ API's for the same input,
// callbacks, caps, every error path (status + vrt_last_error()), ownership and threads. The pure
// C side lives in c_header_test.c (compiled as C99, including vrt.h alone).
#include "vrt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "voxtral_rt/system.h"
#include "synth.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/session.h"

extern "C" int vrt_c_header_test(const char* model_dir, const char* audio_path);

namespace vrt {
namespace {

constexpr const char* kClip = "audio/librispeech_dev-clean_8297-275156-0000.wav";

std::string last_error() { return vrt_last_error(); }

// Owns a vrt_transcript (the C handle) for the length of a test.
struct TranscriptPtr {
  vrt_transcript* t = nullptr;
  ~TranscriptPtr() { vrt_transcript_free(t); }
};

// One synthetic checkpoint for the suite, loaded through both APIs with the same thread count.
class Capi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    synth::SynthOptions o;
    o.preset = "tiny";
    o.weight_scale = 2.0;
    synth::write_checkpoint(dir_->path(), o);
    vrt_model_params p = vrt_model_default_params();
    p.threads = 2;
    ASSERT_EQ(vrt_model_load(dir_->path().c_str(), &p, &model_), VRT_STATUS_OK) << vrt_last_error();
    cpp_model_ = new std::shared_ptr<const Model>(Model::load(dir_->path(), {.threads = 2}));
    audio_ = new std::vector<float>(load_audio_16k_mono(test::shared_data(kClip)).samples);
  }
  static void TearDownTestSuite() {
    vrt_model_free(model_);
    model_ = nullptr;
    delete cpp_model_;
    delete audio_;
    delete dir_;
  }

  static const Model& cpp() { return **cpp_model_; }

  static test::TempDir* dir_;
  static vrt_model* model_;
  static std::shared_ptr<const Model>* cpp_model_;
  static std::vector<float>* audio_;
};
test::TempDir* Capi::dir_ = nullptr;
vrt_model* Capi::model_ = nullptr;
std::shared_ptr<const Model>* Capi::cpp_model_ = nullptr;
std::vector<float>* Capi::audio_ = nullptr;

// Every field the C accessors expose equals the C++ Transcript (timings aside).
// Chunked feeding decides the same tokens in more, smaller passes, so `same_passes` is off there.
void expect_same(const vrt_transcript* c, const Transcript& cpp, bool same_passes = true) {
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(std::string(vrt_transcript_text(c), vrt_transcript_text_len(c)), cpp.text);
  EXPECT_STREQ(vrt_transcript_text(c), cpp.text.c_str());

  ASSERT_EQ(vrt_transcript_n_tokens(c), cpp.tokens.size());
  for (std::size_t i = 0; i < cpp.tokens.size(); ++i) {
    vrt_token t{};
    ASSERT_EQ(vrt_transcript_token(c, i, &t), VRT_STATUS_OK);
    EXPECT_EQ(t.id, cpp.tokens[i].id) << "token " << i;
    EXPECT_EQ(std::string(t.piece, t.piece_len), cpp.tokens[i].piece) << "token " << i;
    EXPECT_EQ(t.piece[t.piece_len], '\0');
    EXPECT_EQ(t.special, cpp.tokens[i].special ? 1 : 0) << "token " << i;
    EXPECT_EQ(t.time_s, cpp.tokens[i].time_s) << "token " << i;
  }

  ASSERT_EQ(vrt_transcript_n_words(c), cpp.words.size());
  for (std::size_t i = 0; i < cpp.words.size(); ++i) {
    vrt_word w{};
    ASSERT_EQ(vrt_transcript_word(c, i, &w), VRT_STATUS_OK);
    EXPECT_EQ(std::string(w.text, w.text_len), cpp.words[i].text) << "word " << i;
    EXPECT_EQ(w.start_s, cpp.words[i].start_s) << "word " << i;
    EXPECT_EQ(w.end_s, cpp.words[i].end_s) << "word " << i;
  }

  ASSERT_EQ(vrt_transcript_n_segments(c), cpp.segments.size());
  for (std::size_t i = 0; i < cpp.segments.size(); ++i) {
    vrt_segment s{};
    ASSERT_EQ(vrt_transcript_segment(c, i, &s), VRT_STATUS_OK);
    EXPECT_EQ(std::string(s.text, s.text_len), cpp.segments[i].text) << "segment " << i;
    EXPECT_EQ(s.start_s, cpp.segments[i].start_s) << "segment " << i;
    EXPECT_EQ(s.end_s, cpp.segments[i].end_s) << "segment " << i;
  }

  vrt_stats st{};
  st.size = sizeof st;
  ASSERT_EQ(vrt_transcript_stats(c, &st), VRT_STATUS_OK);
  EXPECT_EQ(st.audio_s, cpp.stats.audio_s);
  if (same_passes) {
    EXPECT_EQ(st.cached_positions, cpp.stats.cached_positions);
    EXPECT_EQ(st.decode_passes, cpp.stats.decode_passes);
  }
  EXPECT_EQ(st.prefill_positions, cpp.stats.prefill_positions);
  EXPECT_EQ(st.decode_steps, cpp.stats.decode_steps);
  EXPECT_EQ(st.generated_tokens, cpp.stats.generated_tokens);
  EXPECT_GE(st.total_ms, 0.0);
  EXPECT_GE(st.decode_ms, 0.0);
}

TEST(CapiBasics, StatusNamesMatchTheCppList) {
  const vrt_status all[] = {VRT_STATUS_OK,           VRT_STATUS_INVALID_ARGUMENT, VRT_STATUS_NOT_FOUND,
                            VRT_STATUS_IO_ERROR,     VRT_STATUS_BAD_CHECKPOINT,   VRT_STATUS_UNSUPPORTED_MODEL,
                            VRT_STATUS_BAD_TOKENIZER, VRT_STATUS_BAD_AUDIO,        VRT_STATUS_BAD_STATE,
                            VRT_STATUS_OUT_OF_MEMORY, VRT_STATUS_INTERNAL};
  int n = 0;
#define VRT_X(name) ++n;
  VRT_STATUS_LIST(VRT_X)
#undef VRT_X
  ASSERT_EQ(std::size(all), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(static_cast<int>(all[i]), i);
    EXPECT_EQ(std::string(vrt_status_name(all[i])), std::string(status_name(static_cast<Status>(i))));
  }
  EXPECT_STREQ(vrt_status_name(VRT_STATUS_OK), "ok");
  EXPECT_STREQ(vrt_status_name(VRT_STATUS_INVALID_ARGUMENT), "invalid_argument");
  EXPECT_STREQ(vrt_status_name(VRT_STATUS_BAD_AUDIO), "bad_audio");
  EXPECT_STREQ(vrt_status_name(static_cast<vrt_status>(n)), "unknown");
}

TEST(CapiBasics, VersionAndSystemInfo) {
  const std::string expected = std::to_string(VRT_VERSION_MAJOR) + "." + std::to_string(VRT_VERSION_MINOR) + "." +
                               std::to_string(VRT_VERSION_PATCH);
  EXPECT_EQ(std::string(vrt_version()), expected);
  EXPECT_EQ(std::string(vrt_version()), "0.2.0");
  const std::string info = vrt_system_info();
  EXPECT_NE(info.find("voxtral-rt " + expected), std::string::npos) << info;
  EXPECT_NE(info.find(std::string("isa ") + kernel_table()), std::string::npos) << info;
  EXPECT_NE(info.find("hardware threads "), std::string::npos) << info;
}

TEST(CapiBasics, DefaultParams) {
  const vrt_model_params mp = vrt_model_default_params();
  EXPECT_EQ(mp.size, sizeof(vrt_model_params));
  EXPECT_EQ(mp.threads, 0);
  EXPECT_EQ(mp.kv_cache, VRT_KV_CACHE_F32);
  EXPECT_EQ(mp.group_size, 32);
  EXPECT_EQ(mp.qlinear, nullptr);
  EXPECT_EQ(mp.qlinear_encoder, nullptr);
  EXPECT_EQ(mp.qembedding, nullptr);
  EXPECT_EQ(mp.qhead, nullptr);
  const vrt_transcribe_params tp = vrt_transcribe_default_params();
  EXPECT_EQ(tp.size, sizeof(vrt_transcribe_params));
  EXPECT_EQ(tp.delay_ms, 0);
  EXPECT_EQ(tp.max_new_tokens, -1);
  EXPECT_EQ(tp.on_token, nullptr);
  EXPECT_EQ(tp.user_data, nullptr);
  EXPECT_EQ(tp.verify_tokens, 0);
  const vrt_session_params sp = vrt_session_default_params();
  EXPECT_EQ(sp.size, sizeof(vrt_session_params));
  EXPECT_EQ(sp.verify_tokens, 0);
}

TEST(CapiBasics, MissingDirectoryIsNotFound) {
  vrt_model* m = reinterpret_cast<vrt_model*>(0x1);  // must be overwritten with NULL
  EXPECT_EQ(vrt_model_load("/nonexistent/voxtral-capi-test", nullptr, &m), VRT_STATUS_NOT_FOUND);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(last_error().find("vrt_model_load"), std::string::npos) << last_error();
  EXPECT_NE(last_error().find("/nonexistent/voxtral-capi-test"), std::string::npos) << last_error();
}

TEST(CapiBasics, EmptyDirectoryIsNotFound) {
  test::TempDir d;
  vrt_model* m = nullptr;
  EXPECT_EQ(vrt_model_load(d.path().c_str(), nullptr, &m), VRT_STATUS_NOT_FOUND);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(last_error().find(d.path()), std::string::npos) << last_error();
}

TEST(CapiBasics, LoadNullArguments) {
  vrt_model* m = nullptr;
  EXPECT_EQ(vrt_model_load(nullptr, nullptr, &m), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(last_error().find("model is NULL"), std::string::npos) << last_error();
  EXPECT_EQ(vrt_model_load("/tmp", nullptr, nullptr), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("out is NULL"), std::string::npos) << last_error();
}

TEST(CapiBasics, NullHandlesNeverCrash) {
  vrt_model_free(nullptr);
  vrt_transcript_free(nullptr);
  EXPECT_EQ(vrt_model_sample_rate(nullptr), 0);
  EXPECT_NE(last_error().find("vrt_model_sample_rate: model is NULL"), std::string::npos) << last_error();
  EXPECT_EQ(vrt_model_vocab_size(nullptr), 0);
  EXPECT_EQ(vrt_model_default_delay_ms(nullptr), 0);
  EXPECT_EQ(vrt_model_threads(nullptr), 0);
  EXPECT_STREQ(vrt_transcript_text(nullptr), "");
  EXPECT_EQ(vrt_transcript_text_len(nullptr), 0u);
  EXPECT_EQ(vrt_transcript_n_tokens(nullptr), 0u);
  EXPECT_EQ(vrt_transcript_n_words(nullptr), 0u);
  EXPECT_EQ(vrt_transcript_n_segments(nullptr), 0u);
  vrt_token tok{};
  vrt_word w{};
  vrt_segment s{};
  vrt_stats st{};
  EXPECT_EQ(vrt_transcript_token(nullptr, 0, &tok), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("transcript is NULL"), std::string::npos) << last_error();
  EXPECT_EQ(vrt_transcript_word(nullptr, 0, &w), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(vrt_transcript_segment(nullptr, 0, &s), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(vrt_transcript_stats(nullptr, &st), VRT_STATUS_INVALID_ARGUMENT);
  vrt_transcript* t = nullptr;
  const float x[4] = {};
  EXPECT_EQ(vrt_transcribe(nullptr, x, 4, nullptr, &t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("vrt_transcribe: model is NULL"), std::string::npos) << last_error();
  EXPECT_EQ(t, nullptr);
  EXPECT_EQ(vrt_transcribe_file(nullptr, "x.wav", nullptr, &t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(t, nullptr);
}

TEST(CapiBasics, LastErrorIsPerThread) {
  vrt_model* m = nullptr;
  ASSERT_EQ(vrt_model_load(nullptr, nullptr, &m), VRT_STATUS_INVALID_ARGUMENT);
  const std::string mine = last_error();
  std::string other_before, other_after;
  std::thread th([&] {
    other_before = vrt_last_error();
    vrt_model* m2 = nullptr;
    vrt_model_load("/nonexistent/other-thread", nullptr, &m2);
    other_after = vrt_last_error();
  });
  th.join();
  EXPECT_EQ(other_before, "");  // a fresh thread has no failure yet
  EXPECT_NE(other_after.find("/nonexistent/other-thread"), std::string::npos) << other_after;
  EXPECT_EQ(last_error(), mine);
  // A successful call leaves the message alone.
  EXPECT_STREQ(vrt_status_name(VRT_STATUS_OK), "ok");
  vrt_model_params p = vrt_model_default_params();
  (void)p;
  EXPECT_EQ(last_error(), mine);
}

TEST_F(Capi, Getters) {
  EXPECT_EQ(vrt_model_sample_rate(model_), 16000);
  EXPECT_EQ(vrt_model_vocab_size(model_), cpp().tokenizer().vocab_size());
  EXPECT_EQ(vrt_model_default_delay_ms(model_), 480);
  EXPECT_EQ(vrt_model_threads(model_), 2);
}

TEST_F(Capi, NegativeThreadsIsInvalidArgument) {
  vrt_model_params p = vrt_model_default_params();
  p.threads = -1;
  vrt_model* m = nullptr;
  EXPECT_EQ(vrt_model_load(dir_->path().c_str(), &p, &m), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(last_error().find("threads"), std::string::npos) << last_error();
}

// ---- The version rule (vrt.h, Conventions) ----------------------------------------------------

// vrt_transcribe_params as a caller built before verify_tokens was appended declares it.
struct TranscribeParamsBeforeVerify {
  std::uint32_t size;
  std::int32_t delay_ms;
  std::int64_t max_new_tokens;
  vrt_token_callback on_token;
  void* user_data;
};
static_assert(sizeof(TranscribeParamsBeforeVerify) == offsetof(vrt_transcribe_params, verify_tokens));

TEST_F(Capi, OldSizeParamsWorkAndTheLibraryReadsNoFurther) {
  // The old struct's fields count (a 5-token cap), the later ones take their defaults, and the
  // bytes after the old struct (0xFF: verify_tokens -1 if read) are never looked at.
  std::vector<unsigned char> buf(sizeof(vrt_transcribe_params) + 16, 0xFF);
  TranscribeParamsBeforeVerify old{};
  old.size = sizeof old;
  old.max_new_tokens = 5;
  std::memcpy(buf.data(), &old, sizeof old);
  TranscriptPtr t;
  ASSERT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(),
                           reinterpret_cast<const vrt_transcribe_params*>(buf.data()), &t.t),
            VRT_STATUS_OK)
      << last_error();
  EXPECT_EQ(vrt_transcript_n_tokens(t.t), 5u);
  // The model params of the first versioned layout's first field only: threads.
  struct ModelParamsThreadsOnly {
    std::uint32_t size;
    std::int32_t threads;
  } mp{sizeof(ModelParamsThreadsOnly), 1};
  vrt_model* m = nullptr;
  ASSERT_EQ(vrt_model_load(dir_->path().c_str(), reinterpret_cast<const vrt_model_params*>(&mp), &m), VRT_STATUS_OK)
      << last_error();
  EXPECT_EQ(vrt_model_threads(m), 1);
  EXPECT_EQ(vrt_model_kv_cache(m), VRT_KV_CACHE_F32);
  vrt_model_free(m);
  // vrt_stats, an output: an old caller's shorter struct is filled up to its size, no further.
  std::vector<unsigned char> stats(sizeof(vrt_stats) + 8, 0xAB);
  const std::uint32_t old_stats = offsetof(vrt_stats, cached_positions);
  std::memcpy(stats.data(), &old_stats, sizeof old_stats);
  ASSERT_EQ(vrt_transcript_stats(t.t, reinterpret_cast<vrt_stats*>(stats.data())), VRT_STATUS_OK);
  vrt_stats got{};
  std::memcpy(&got, stats.data(), old_stats);
  EXPECT_EQ(got.size, old_stats);
  EXPECT_EQ(got.generated_tokens, 5);
  for (std::size_t i = old_stats; i < stats.size(); ++i) EXPECT_EQ(stats[i], 0xAB) << "byte " << i;
}

TEST_F(Capi, NewerSizeParamsNeedZeroUnknownBytes) {
  // A newer caller's longer struct: accepted when its extra fields are zero (their defaults),
  // refused when it sets one this library cannot honour.
  std::vector<unsigned char> buf(sizeof(vrt_session_params) + 16, 0);
  vrt_session_params p = vrt_session_default_params();
  p.size = static_cast<std::uint32_t>(buf.size());
  std::memcpy(buf.data(), &p, sizeof p);
  const auto* newer = reinterpret_cast<const vrt_session_params*>(buf.data());
  vrt_session* s = nullptr;
  ASSERT_EQ(vrt_session_new(model_, newer, &s), VRT_STATUS_OK) << last_error();
  vrt_session_free(s);
  buf[sizeof(vrt_session_params) + 3] = 1;
  EXPECT_EQ(vrt_session_new(model_, newer, &s), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(s, nullptr);
  EXPECT_NE(last_error().find("needs a newer voxtral-rt"), std::string::npos) << last_error();
  // A zeroed struct (size never set) is refused with a pointer to the defaults function.
  vrt_model_params zero{};
  vrt_model* m = nullptr;
  EXPECT_EQ(vrt_model_load(dir_->path().c_str(), &zero, &m), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("vrt_model_params.size is 0"), std::string::npos) << last_error();
  vrt_transcribe_params tp{};
  TranscriptPtr t;
  EXPECT_EQ(vrt_transcribe(model_, audio_->data(), 100, &tp, &t.t), VRT_STATUS_INVALID_ARGUMENT);
  vrt_stats st{};
  ASSERT_EQ(vrt_transcribe(model_, audio_->data(), 1600, nullptr, &t.t), VRT_STATUS_OK);
  EXPECT_EQ(vrt_transcript_stats(t.t, &st), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("sizeof(vrt_stats)"), std::string::npos) << last_error();
}

// ---- Model options: the C++ API's LoadOptions, by the CLI's names ------------------------------

TEST_F(Capi, WeightSchemesAndKvCacheEqualTheCppLoad) {
  vrt_model_params p = vrt_model_default_params();
  p.threads = 2;
  p.qlinear = "8da4w";
  p.qlinear_encoder = "8w";
  p.qembedding = "8w";
  p.group_size = 64;
  p.kv_cache = VRT_KV_CACHE_F16;
  vrt_model* m = nullptr;
  ASSERT_EQ(vrt_model_load(dir_->path().c_str(), &p, &m), VRT_STATUS_OK) << last_error();
  EXPECT_STREQ(vrt_model_schemes(m), "linear=8da4w encoder=8w embedding=8w head=8da4w group=64");
  EXPECT_EQ(vrt_model_kv_cache(m), VRT_KV_CACHE_F16);
  LoadOptions o;
  o.threads = 2;
  o.kv_cache = KvCacheType::f16;
  o.quant.linear = WeightScheme::a8w4;
  o.quant.encoder = WeightScheme::w8;
  o.quant.embedding = WeightScheme::w8;
  o.quant.group_size = 64;
  const auto cpp_model = Model::load(dir_->path(), o);
  TranscriptPtr t;
  ASSERT_EQ(vrt_transcribe(m, audio_->data(), audio_->size(), nullptr, &t.t), VRT_STATUS_OK) << last_error();
  const Transcript expected = cpp_model->transcribe(*audio_);
  expect_same(t.t, expected);
  vrt_model_free(m);
}

TEST_F(Capi, BadModelOptionsAreInvalidArguments) {
  const auto refused = [&](const vrt_model_params& p, const char* says) {
    vrt_model* m = reinterpret_cast<vrt_model*>(0x1);
    EXPECT_EQ(vrt_model_load(dir_->path().c_str(), &p, &m), VRT_STATUS_INVALID_ARGUMENT) << says;
    EXPECT_EQ(m, nullptr);
    EXPECT_NE(last_error().find(says), std::string::npos) << last_error();
  };
  vrt_model_params p = vrt_model_default_params();
  p.qlinear = "9w";
  refused(p, "unknown weight scheme '9w'");
  p = vrt_model_default_params();
  p.qembedding = "8da4w";
  refused(p, "embedding");
  p = vrt_model_default_params();
  p.kv_cache = 7;
  refused(p, "kv_cache");
  p = vrt_model_default_params();
  p.qlinear = "4w";
  p.group_size = 48;
  refused(p, "group size 48");
}

TEST_F(Capi, RepoIdFromTheHuggingFaceCache) {
  // The hub's layout: models--ORG--NAME/refs/main names the snapshot folder.
  test::TempDir hub;
  const std::string repo = hub.path() + "/models--acme--tiny-voxtral";
  ASSERT_EQ(test::run_command("mkdir -p " + repo + "/refs " + repo + "/snapshots && printf abc123 > " + repo +
                              "/refs/main && cp -r " + dir_->path() + " " + repo + "/snapshots/abc123"),
            0);
  const char* before = std::getenv("HF_HUB_CACHE");
  const std::string saved = before != nullptr ? before : "";
  ::setenv("HF_HUB_CACHE", hub.path().c_str(), 1);
  vrt_model* m = nullptr;
  EXPECT_EQ(vrt_model_load("acme/tiny-voxtral", nullptr, &m), VRT_STATUS_OK) << last_error();
  vrt_model_free(m);
  EXPECT_EQ(vrt_model_load("acme/missing-voxtral", nullptr, &m), VRT_STATUS_NOT_FOUND);
  EXPECT_NE(last_error().find("download-model.sh"), std::string::npos) << last_error();
  if (before != nullptr) ::setenv("HF_HUB_CACHE", saved.c_str(), 1); else ::unsetenv("HF_HUB_CACHE");
}

TEST_F(Capi, VerifyTokensChangePassesNotTokens) {
  // Verification decoding is exact: every k gives greedy decoding's tokens. One position per pass
  // means one pass per decoded position; on this model (its guesses hold) k = 16 needs fewer.
  const Transcript expected = cpp().transcribe(*audio_);
  for (int k : {1, 16}) {
    vrt_transcribe_params p = vrt_transcribe_default_params();
    p.verify_tokens = k;
    TranscriptPtr t;
    ASSERT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), &p, &t.t), VRT_STATUS_OK) << last_error();
    ASSERT_EQ(vrt_transcript_n_tokens(t.t), expected.tokens.size());
    for (std::size_t i = 0; i < expected.tokens.size(); ++i) {
      vrt_token tok{};
      ASSERT_EQ(vrt_transcript_token(t.t, i, &tok), VRT_STATUS_OK);
      EXPECT_EQ(tok.id, expected.tokens[i].id) << "k " << k << " token " << i;
    }
    vrt_stats st{};
    st.size = sizeof st;
    ASSERT_EQ(vrt_transcript_stats(t.t, &st), VRT_STATUS_OK);
    if (k == 1) EXPECT_EQ(st.decode_passes, st.decode_steps);
    if (k == 16) EXPECT_LT(st.decode_passes, st.decode_steps);
  }
  vrt_transcribe_params p = vrt_transcribe_default_params();
  p.verify_tokens = 17;
  TranscriptPtr t;
  EXPECT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), &p, &t.t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("verify_tokens"), std::string::npos) << last_error();
  vrt_session_params sp = vrt_session_default_params();
  sp.verify_tokens = -1;
  vrt_session* s = nullptr;
  EXPECT_EQ(vrt_session_new(model_, &sp, &s), VRT_STATUS_INVALID_ARGUMENT);
}

TEST_F(Capi, TranscribeSamplesEqualsCpp) {
  const Transcript expected = cpp().transcribe(*audio_);
  // The synthetic model's output is gibberish, but it has everything to compare: text and
  // special tokens, words, segments (and invalid UTF-8 that became U+FFFD).
  ASSERT_GT(expected.tokens.size(), 10u);
  ASSERT_GT(expected.words.size(), 1u);
  ASSERT_GT(expected.segments.size(), 0u);
  TranscriptPtr t;
  ASSERT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), nullptr, &t.t), VRT_STATUS_OK) << last_error();
  expect_same(t.t, expected);
}

TEST_F(Capi, TranscribeFileEqualsCpp) {
  const Transcript expected = cpp().transcribe(*audio_);
  TranscriptPtr t;
  const vrt_transcribe_params p = vrt_transcribe_default_params();
  ASSERT_EQ(vrt_transcribe_file(model_, test::shared_data(kClip).c_str(), &p, &t.t), VRT_STATUS_OK) << last_error();
  expect_same(t.t, expected);
}

TEST_F(Capi, NonDefaultDelayEqualsCpp) {
  TranscribeOptions o;
  o.delay_ms = 960;
  const Transcript expected = cpp().transcribe(*audio_, o);
  vrt_transcribe_params p = vrt_transcribe_default_params();
  p.delay_ms = 960;
  TranscriptPtr t;
  ASSERT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), &p, &t.t), VRT_STATUS_OK) << last_error();
  expect_same(t.t, expected);
}

struct Collected {
  std::vector<Token> tokens;
  void* seen_user_data = nullptr;
};

TEST_F(Capi, CallbackReceivesEveryTokenInOrder) {
  Collected c;
  vrt_transcribe_params p = vrt_transcribe_default_params();
  p.user_data = &c;
  p.on_token = [](const vrt_token* tok, void* user_data) {
    auto* col = static_cast<Collected*>(user_data);
    col->seen_user_data = user_data;
    Token t;
    t.id = tok->id;
    t.piece.assign(tok->piece, tok->piece_len);
    t.special = tok->special != 0;
    t.time_s = tok->time_s;
    col->tokens.push_back(t);
  };
  TranscriptPtr t;
  ASSERT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), &p, &t.t), VRT_STATUS_OK) << last_error();
  EXPECT_EQ(c.seen_user_data, static_cast<void*>(&c));
  ASSERT_EQ(c.tokens.size(), vrt_transcript_n_tokens(t.t));
  for (std::size_t i = 0; i < c.tokens.size(); ++i) {
    vrt_token tok{};
    ASSERT_EQ(vrt_transcript_token(t.t, i, &tok), VRT_STATUS_OK);
    EXPECT_EQ(c.tokens[i].id, tok.id) << i;
    EXPECT_EQ(c.tokens[i].piece, std::string(tok.piece, tok.piece_len)) << i;
    EXPECT_EQ(c.tokens[i].special, tok.special != 0) << i;
    EXPECT_EQ(c.tokens[i].time_s, tok.time_s) << i;
  }
}

TEST_F(Capi, MaxNewTokensCapsExactly) {
  TranscriptPtr full;
  ASSERT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), nullptr, &full.t), VRT_STATUS_OK);
  const std::size_t n_full = vrt_transcript_n_tokens(full.t);
  ASSERT_GT(n_full, 7u);
  for (const std::int64_t cap : {std::int64_t{0}, std::int64_t{1}, std::int64_t{7}}) {
    std::size_t calls = 0;
    vrt_transcribe_params p = vrt_transcribe_default_params();
    p.max_new_tokens = cap;
    p.user_data = &calls;
    p.on_token = [](const vrt_token*, void* user_data) { ++*static_cast<std::size_t*>(user_data); };
    TranscriptPtr t;
    ASSERT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), &p, &t.t), VRT_STATUS_OK) << last_error();
    EXPECT_EQ(vrt_transcript_n_tokens(t.t), static_cast<std::size_t>(cap));
    EXPECT_EQ(calls, static_cast<std::size_t>(cap));
    for (std::size_t i = 0; i < static_cast<std::size_t>(cap); ++i) {  // a prefix of the full run
      vrt_token a{}, b{};
      ASSERT_EQ(vrt_transcript_token(t.t, i, &a), VRT_STATUS_OK);
      ASSERT_EQ(vrt_transcript_token(full.t, i, &b), VRT_STATUS_OK);
      EXPECT_EQ(a.id, b.id);
    }
    // Past the cap is out of range, with a helpful message.
    vrt_token tok{};
    EXPECT_EQ(vrt_transcript_token(t.t, static_cast<std::size_t>(cap), &tok), VRT_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("out of range"), std::string::npos) << last_error();
  }
  // Fewer tokens than the cap when the audio ends first: the cap is not a target.
  vrt_transcribe_params p = vrt_transcribe_default_params();
  p.max_new_tokens = static_cast<std::int64_t>(n_full) + 100;
  TranscriptPtr t;
  ASSERT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), &p, &t.t), VRT_STATUS_OK);
  EXPECT_EQ(vrt_transcript_n_tokens(t.t), n_full);
}

TEST_F(Capi, BadTranscribeParams) {
  vrt_transcript* t = reinterpret_cast<vrt_transcript*>(0x1);
  vrt_transcribe_params p = vrt_transcribe_default_params();
  p.delay_ms = 100;
  EXPECT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), &p, &t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(t, nullptr);
  EXPECT_NE(last_error().find("vrt_transcribe: delay 100 ms"), std::string::npos) << last_error();
  p.delay_ms = -80;
  EXPECT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), &p, &t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("delay -80 ms"), std::string::npos) << last_error();
  p.delay_ms = 1280;
  EXPECT_EQ(vrt_transcribe_file(model_, test::shared_data(kClip).c_str(), &p, &t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("vrt_transcribe_file: delay 1280 ms"), std::string::npos) << last_error();
  p = vrt_transcribe_default_params();
  p.max_new_tokens = -2;
  EXPECT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), &p, &t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("max_new_tokens"), std::string::npos) << last_error();
  EXPECT_EQ(vrt_transcribe(model_, nullptr, 16, nullptr, &t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("samples_16k is NULL"), std::string::npos) << last_error();
  EXPECT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), nullptr, nullptr), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("out is NULL"), std::string::npos) << last_error();
  EXPECT_EQ(vrt_transcribe_file(model_, nullptr, nullptr, &t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("path is NULL"), std::string::npos) << last_error();
  EXPECT_EQ(t, nullptr);
}

TEST_F(Capi, EmptyAudio) {
  TranscriptPtr t;
  ASSERT_EQ(vrt_transcribe(model_, nullptr, 0, nullptr, &t.t), VRT_STATUS_OK) << last_error();
  const Transcript expected = cpp().transcribe({});
  expect_same(t.t, expected);
}

TEST_F(Capi, MissingAudioFileIsNotFound) {
  vrt_transcript* t = nullptr;
  EXPECT_EQ(vrt_transcribe_file(model_, "/nonexistent/clip.wav", nullptr, &t), VRT_STATUS_NOT_FOUND);
  EXPECT_EQ(t, nullptr);
  EXPECT_NE(last_error().find("/nonexistent/clip.wav"), std::string::npos) << last_error();
}

TEST_F(Capi, BrokenAudioFileIsBadAudio) {
  test::TempDir d;
  // A WAV header cut short, and a file that is no audio at all.
  const std::string cut = d.file("cut.wav");
  test::write_text(cut, std::string("RIFF\x24\x00\x00\x00WAVEfmt ", 16));
  const std::string text = d.file("notes.wav");
  test::write_text(text, "these are not audio samples\n");
  for (const std::string& path : {cut, text}) {
    vrt_transcript* t = nullptr;
    EXPECT_EQ(vrt_transcribe_file(model_, path.c_str(), nullptr, &t), VRT_STATUS_BAD_AUDIO) << path;
    EXPECT_EQ(t, nullptr);
    EXPECT_NE(last_error().find("vrt_transcribe_file: "), std::string::npos) << last_error();
    EXPECT_NE(last_error().find(path), std::string::npos) << last_error();
  }
}

// A 16-bit PCM WAV, little-endian, written field by field from the RIFF layout.
std::string wav_s16(const std::vector<std::int16_t>& interleaved, int channels, int rate) {
  std::string out;
  auto u32 = [&](std::uint32_t v) { for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i))); };
  auto u16 = [&](std::uint16_t v) { for (int i = 0; i < 2; ++i) out.push_back(static_cast<char>(v >> (8 * i))); };
  const auto data_bytes = static_cast<std::uint32_t>(interleaved.size() * 2);
  out += "RIFF";
  u32(36 + data_bytes);
  out += "WAVEfmt ";
  u32(16);
  u16(1);  // PCM
  u16(static_cast<std::uint16_t>(channels));
  u32(static_cast<std::uint32_t>(rate));
  u32(static_cast<std::uint32_t>(rate * channels * 2));
  u16(static_cast<std::uint16_t>(channels * 2));
  u16(16);
  out += "data";
  u32(data_bytes);
  for (const std::int16_t v : interleaved) u16(static_cast<std::uint16_t>(v));
  return out;
}

std::vector<std::int32_t> token_ids(const vrt_transcript* t) {
  std::vector<std::int32_t> ids;
  for (std::size_t i = 0; i < vrt_transcript_n_tokens(t); ++i) {
    vrt_token tok{};
    EXPECT_EQ(vrt_transcript_token(t, i, &tok), VRT_STATUS_OK);
    ids.push_back(tok.id);
  }
  return ids;
}

TEST_F(Capi, PcmAndMemoryGiveTheTranscriptOfTheSameFile) {
  // The clip's 16-bit samples as a 44.1 kHz stereo file (left: the clip, right: the clip halved),
  // so both the channel mix and the resampler are on the path.
  std::vector<std::int16_t> s16;
  std::vector<float> f32;
  for (const float x : *audio_) {
    const auto left = static_cast<std::int16_t>(std::lround(x * 32768.0f));  // x is already n/32768
    const auto right = static_cast<std::int16_t>(left / 2);
    s16.push_back(left);
    s16.push_back(right);
    f32.push_back(static_cast<float>(left) / 32768.0f);
    f32.push_back(static_cast<float>(right) / 32768.0f);
  }
  test::TempDir d;
  const std::string path = d.file("stereo44k.wav");
  const std::string bytes = wav_s16(s16, 2, 44100);
  test::write_text(path, bytes);

  TranscriptPtr file, memory, pcm;
  ASSERT_EQ(vrt_transcribe_file(model_, path.c_str(), nullptr, &file.t), VRT_STATUS_OK) << last_error();
  ASSERT_EQ(vrt_transcribe_memory(model_, bytes.data(), bytes.size(), nullptr, &memory.t), VRT_STATUS_OK)
      << last_error();
  ASSERT_EQ(vrt_transcribe_pcm(model_, f32.data(), f32.size() / 2, 2, 44100, nullptr, &pcm.t), VRT_STATUS_OK)
      << last_error();
  const std::vector<std::int32_t> ids = token_ids(file.t);
  ASSERT_GT(ids.size(), 10u);
  EXPECT_EQ(token_ids(memory.t), ids);
  EXPECT_EQ(token_ids(pcm.t), ids);
  EXPECT_STREQ(vrt_transcript_text(pcm.t), vrt_transcript_text(file.t));

  // Mono at 16 kHz through vrt_transcribe_pcm is vrt_transcribe.
  TranscriptPtr mono;
  ASSERT_EQ(vrt_transcribe_pcm(model_, audio_->data(), audio_->size(), 1, 16000, nullptr, &mono.t), VRT_STATUS_OK);
  expect_same(mono.t, cpp().transcribe(*audio_));

  // A session fed identical stereo channels in chunks hears the mono clip.
  vrt_session* s = nullptr;
  ASSERT_EQ(vrt_session_new(model_, nullptr, &s), VRT_STATUS_OK);
  std::vector<float> both;
  for (const float x : *audio_) both.insert(both.end(), {x, x});
  for (std::size_t i = 0; i < audio_->size(); i += 1000) {
    const std::size_t n = std::min<std::size_t>(1000, audio_->size() - i);
    ASSERT_EQ(vrt_session_feed_pcm(s, both.data() + 2 * i, n, 2, 0), VRT_STATUS_OK) << last_error();
  }
  TranscriptPtr streamed;
  ASSERT_EQ(vrt_session_finish(s, &streamed.t), VRT_STATUS_OK);
  expect_same(streamed.t, cpp().transcribe(*audio_), /*same_passes=*/false);
  vrt_session_free(s);
}

TEST_F(Capi, BadPcmIsRefusedWithTheReason) {
  const std::vector<float> ok(3200, 0.01f);
  std::vector<float> nan = ok;
  nan[77] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> inf = ok;
  inf[5] = -std::numeric_limits<float>::infinity();
  TranscriptPtr t;
  EXPECT_EQ(vrt_transcribe(model_, nan.data(), nan.size(), nullptr, &t.t), VRT_STATUS_BAD_AUDIO);
  EXPECT_EQ(t.t, nullptr);
  EXPECT_NE(last_error().find("sample 77 is NaN"), std::string::npos) << last_error();
  EXPECT_EQ(vrt_transcribe_pcm(model_, inf.data(), inf.size() / 2, 2, 16000, nullptr, &t.t), VRT_STATUS_BAD_AUDIO);
  EXPECT_NE(last_error().find("sample 5 is infinite"), std::string::npos) << last_error();
  for (const int channels : {0, -1, 9}) {
    EXPECT_EQ(vrt_transcribe_pcm(model_, ok.data(), 100, channels, 16000, nullptr, &t.t), VRT_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("channels must be 1..8"), std::string::npos) << last_error();
  }
  for (const int rate : {0, -16000, 7999, 192001}) {
    EXPECT_EQ(vrt_transcribe_pcm(model_, ok.data(), ok.size(), 1, rate, nullptr, &t.t), VRT_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("sample_rate_hz must be 8000..192000"), std::string::npos) << last_error();
  }
  EXPECT_EQ(vrt_transcribe_pcm(model_, nullptr, 10, 1, 16000, nullptr, &t.t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(vrt_transcribe_pcm(model_, ok.data(), SIZE_MAX / 2, 2, 16000, nullptr, &t.t), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(vrt_transcribe_memory(model_, nullptr, 10, nullptr, &t.t), VRT_STATUS_INVALID_ARGUMENT);
  const char junk[] = "not audio";
  EXPECT_EQ(vrt_transcribe_memory(model_, junk, sizeof junk, nullptr, &t.t), VRT_STATUS_BAD_AUDIO);
  EXPECT_EQ(t.t, nullptr);

  // A session refuses the bad chunk whole and goes on with the next one.
  vrt_session* s = nullptr;
  ASSERT_EQ(vrt_session_new(model_, nullptr, &s), VRT_STATUS_OK);
  EXPECT_EQ(vrt_session_feed(s, nan.data(), nan.size(), 0), VRT_STATUS_BAD_AUDIO);
  EXPECT_EQ(vrt_session_feed_pcm(s, inf.data(), inf.size(), 1, 0), VRT_STATUS_BAD_AUDIO);
  EXPECT_EQ(vrt_session_feed_pcm(s, ok.data(), ok.size(), 9, 0), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(vrt_session_feed_pcm(nullptr, ok.data(), ok.size(), 1, 0), VRT_STATUS_INVALID_ARGUMENT);
  for (std::size_t i = 0; i < audio_->size(); i += 4000)
    ASSERT_EQ(vrt_session_feed(s, audio_->data() + i, std::min<std::size_t>(4000, audio_->size() - i), 0),
              VRT_STATUS_OK);
  TranscriptPtr streamed;
  ASSERT_EQ(vrt_session_finish(s, &streamed.t), VRT_STATUS_OK);
  expect_same(streamed.t, cpp().transcribe(*audio_), /*same_passes=*/false);
  vrt_session_free(s);
}

TEST_F(Capi, ThrowingCallbackIsCaught) {
  vrt_transcribe_params p = vrt_transcribe_default_params();
  p.on_token = [](const vrt_token*, void*) { throw std::runtime_error("boom"); };
  vrt_transcript* t = nullptr;
  EXPECT_EQ(vrt_transcribe(model_, audio_->data(), audio_->size(), &p, &t), VRT_STATUS_INTERNAL);
  EXPECT_EQ(t, nullptr);
  EXPECT_NE(last_error().find("on_token callback threw"), std::string::npos) << last_error();
  EXPECT_NE(last_error().find("boom"), std::string::npos) << last_error();
}

TEST_F(Capi, TranscriptOutlivesModelAndThreadsShareModel) {
  vrt_model_params mp = vrt_model_default_params();
  mp.threads = 2;
  vrt_model* m = nullptr;
  ASSERT_EQ(vrt_model_load(dir_->path().c_str(), &mp, &m), VRT_STATUS_OK) << last_error();
  // Two threads transcribe on one model at once; both get the C++ API's answer.
  TranscriptPtr a, b;
  vrt_status sa = VRT_STATUS_INTERNAL, sb = VRT_STATUS_INTERNAL;
  std::thread ta([&] { sa = vrt_transcribe(m, audio_->data(), audio_->size(), nullptr, &a.t); });
  std::thread tb([&] { sb = vrt_transcribe(m, audio_->data(), audio_->size(), nullptr, &b.t); });
  ta.join();
  tb.join();
  vrt_model_free(m);
  ASSERT_EQ(sa, VRT_STATUS_OK);
  ASSERT_EQ(sb, VRT_STATUS_OK);
  const Transcript expected = cpp().transcribe(*audio_);
  expect_same(a.t, expected);
  expect_same(b.t, expected);
}

TEST_F(Capi, PureCCaller) {
  EXPECT_EQ(vrt_c_header_test(dir_->path().c_str(), test::shared_data(kClip).c_str()), 0)
      << "the value is the line of the first failed check in c_header_test.c; last error: " << last_error();
}

}  // namespace
}  // namespace vrt

namespace vrt {
namespace {

struct TextCollector {
  std::string text;
  std::vector<int> ids;
};

void collect_text(const char* text, size_t len, void* user_data) {
  static_cast<TextCollector*>(user_data)->text.append(text, len);
}
void collect_token(const vrt_token* token, void* user_data) {
  static_cast<TextCollector*>(user_data)->ids.push_back(token->id);
}

TEST_F(Capi, SessionChunksEqualTheCppSession) {
  // The C++ session fed the whole clip at once is the expectation; the C session gets 700-sample
  // chunks (not a multiple of anything), then finishes.
  auto cpp_session = cpp().new_session({});
  cpp_session->feed(*audio_);
  const Transcript expected = cpp_session->finish();

  TextCollector col;
  vrt_session_params p = vrt_session_default_params();
  p.on_text = collect_text;
  p.on_token = collect_token;
  p.user_data = &col;
  vrt_session* s = nullptr;
  ASSERT_EQ(vrt_session_new(model_, &p, &s), VRT_STATUS_OK) << last_error();
  for (std::size_t i = 0; i < audio_->size(); i += 700)
    ASSERT_EQ(vrt_session_feed(s, audio_->data() + i, std::min<std::size_t>(700, audio_->size() - i), 0), VRT_STATUS_OK);
  TranscriptPtr t;
  ASSERT_EQ(vrt_session_finish(s, &t.t), VRT_STATUS_OK) << last_error();
  expect_same(t.t, expected, /*same_passes=*/false);
  EXPECT_EQ(col.text, expected.text);
  ASSERT_EQ(col.ids.size(), expected.tokens.size());
  // Finished: feeding again is a state error until reset.
  EXPECT_EQ(vrt_session_feed(s, audio_->data(), 10, 0), VRT_STATUS_BAD_STATE);
  EXPECT_NE(std::string(vrt_last_error()).find("reset"), std::string::npos);
  ASSERT_EQ(vrt_session_reset(s), VRT_STATUS_OK);
  ASSERT_EQ(vrt_session_feed(s, audio_->data(), audio_->size(), 16000), VRT_STATUS_OK);
  TranscriptPtr snap;
  ASSERT_EQ(vrt_session_snapshot(s, &snap.t), VRT_STATUS_OK);
  EXPECT_GT(vrt_transcript_n_tokens(snap.t), 0u);
  ASSERT_EQ(vrt_session_flush(s), VRT_STATUS_OK);
  vrt_session_free(s);
}

TEST_F(Capi, SessionBadArguments) {
  vrt_session* s = nullptr;
  EXPECT_EQ(vrt_session_new(nullptr, nullptr, &s), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(vrt_session_new(model_, nullptr, nullptr), VRT_STATUS_INVALID_ARGUMENT);
  vrt_session_params p = vrt_session_default_params();
  p.delay_ms = 100;
  EXPECT_EQ(vrt_session_new(model_, &p, &s), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(vrt_session_feed(nullptr, nullptr, 0, 0), VRT_STATUS_INVALID_ARGUMENT);
  ASSERT_EQ(vrt_session_new(model_, nullptr, &s), VRT_STATUS_OK);
  EXPECT_EQ(vrt_session_feed(s, nullptr, 5, 0), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(vrt_session_feed(s, audio_->data(), 100, -5), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(vrt_session_feed(s, audio_->data(), 100, 1), VRT_STATUS_INVALID_ARGUMENT);  // 1 Hz: no resampler
  EXPECT_EQ(vrt_session_finish(s, nullptr), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(vrt_session_flush(nullptr), VRT_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(vrt_session_reset(nullptr), VRT_STATUS_INVALID_ARGUMENT);
  vrt_session_free(s);
  vrt_session_free(nullptr);
}

}  // namespace
}  // namespace vrt
