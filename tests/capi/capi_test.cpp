// The C API (include/vrt.h), called from C++: results equal the C++ API's for the same input,
// callbacks, caps, every error path (status + vrt_last_error()), ownership and threads. The pure
// C side lives in c_header_test.c (compiled as C99, including vrt.h alone).
#include "vrt.h"

#include <gtest/gtest.h>

#include <cstring>
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
void expect_same(const vrt_transcript* c, const Transcript& cpp) {
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
  ASSERT_EQ(vrt_transcript_stats(c, &st), VRT_STATUS_OK);
  EXPECT_EQ(st.audio_s, cpp.stats.audio_s);
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
  EXPECT_EQ(std::string(vrt_version()), "0.1.0");
  const std::string info = vrt_system_info();
  EXPECT_NE(info.find("voxtral-rt " + expected), std::string::npos) << info;
  EXPECT_NE(info.find(std::string("isa ") + kernel_table()), std::string::npos) << info;
  EXPECT_NE(info.find("hardware threads "), std::string::npos) << info;
}

TEST(CapiBasics, DefaultParams) {
  const vrt_model_params mp = vrt_model_default_params();
  EXPECT_EQ(mp.threads, 0);
  const vrt_transcribe_params tp = vrt_transcribe_default_params();
  EXPECT_EQ(tp.delay_ms, 0);
  EXPECT_EQ(tp.max_new_tokens, -1);
  EXPECT_EQ(tp.on_token, nullptr);
  EXPECT_EQ(tp.user_data, nullptr);
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
  EXPECT_NE(last_error().find("directory is NULL"), std::string::npos) << last_error();
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
  expect_same(t.t, expected);
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
