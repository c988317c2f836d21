// The synthetic tekken.json writer: its files load, are deterministic by seed, have the
// requested sizes and the real special-token table, and round-trip text through encode/decode.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tokenizer/tekken_writer.h"
#include "tokenizer/utf8.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt {
namespace {

TEST(TokenizerWriter, LoadsWithRequestedSizes) {
  for (int n : {256, 257, 1000, 5000}) {
    const auto t = Tokenizer::from_json(make_synthetic_tekken_json(n, 42, {}), "synthetic");
    EXPECT_EQ(t.num_text_ranks(), n);
    EXPECT_EQ(t.num_special_tokens(), 1000);
    EXPECT_EQ(t.vocab_size(), n + 1000);
    EXPECT_EQ(t.version(), "v7");
    EXPECT_EQ(t.pattern(), kTekkenPattern);
    EXPECT_EQ(t.bos_id(), 1);
    EXPECT_EQ(t.eos_id(), 2);
    EXPECT_EQ(t.streaming_pad_id(), 32);
    EXPECT_EQ(t.streaming_word_id(), 33);
  }
}

TEST(TokenizerWriter, RejectsImpossibleSizes) {
  EXPECT_THROW(make_synthetic_tekken_json(255, 1, {}), Error);
  EXPECT_THROW(make_synthetic_tekken_json(-1, 1, {}), Error);
}

TEST(TokenizerWriter, DeterministicBySeed) {
  const auto a = make_synthetic_tekken_json(3000, 7, {});
  EXPECT_EQ(a, make_synthetic_tekken_json(3000, 7, {}));
  EXPECT_NE(a, make_synthetic_tekken_json(3000, 8, {}));
}

TEST(TokenizerWriter, LayoutLikeTheRealFile) {
  const auto doc = nlohmann::ordered_json::parse(make_synthetic_tekken_json(400, 3, {}));
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"config", "vocab", "special_tokens", "audio"}));
  EXPECT_EQ(doc["config"]["num_vocab_tokens"], 400);
  EXPECT_EQ(doc["config"]["default_vocab_size"], 1400);
  std::vector<std::string> audio_keys;
  for (const auto& [k, v] : doc["audio"].items()) audio_keys.push_back(k);
  EXPECT_EQ(audio_keys, (std::vector<std::string>{
                            "sampling_rate", "frame_rate", "audio_encoding_config",
                            "transcription_delay_ms", "streaming_look_ahead_ms",
                            "streaming_look_back_ms", "streaming_n_left_pad_tokens",
                            "transcription_format"}));
  // token_str is the text when the bytes are valid UTF-8, null otherwise; some are null.
  int nulls = 0;
  std::set<std::string> seen;
  for (const auto& e : doc["vocab"]) {
    EXPECT_TRUE(seen.insert(e["token_bytes"].get<std::string>()).second);
    if (e["token_str"].is_null()) ++nulls;
  }
  EXPECT_GT(nulls, 128) << "bytes 0x80..0xFF and partial characters";
}

TEST(TokenizerWriter, SpecialTableMatchesTsv) {
  std::istringstream tsv(test::read_text(
      test::shared_data("tokenizer/voxtral_realtime_special_tokens.tsv")));
  std::string line;
  std::size_t rows = 0;
  const auto table = named_special_tokens();
  while (std::getline(tsv, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("id\t", 0) == 0) continue;
    std::istringstream fields(line);
    std::string id, name, control;
    std::getline(fields, id, '\t');
    std::getline(fields, name, '\t');
    std::getline(fields, control, '\t');
    const auto i = static_cast<std::size_t>(std::stoi(id));
    ASSERT_LT(i, table.size());
    EXPECT_EQ(table[i].name, name);
    EXPECT_EQ(table[i].is_control, control == "true") << name;
    ++rows;
  }
  EXPECT_EQ(rows, table.size());
  const auto doc = nlohmann::json::parse(make_synthetic_tekken_json(256, 1, {}));
  EXPECT_EQ(doc["special_tokens"][500]["token_str"], "<SPECIAL_500>");
  EXPECT_EQ(doc["special_tokens"][500]["is_control"], true);
  EXPECT_EQ(doc["special_tokens"][20]["is_control"], false);  // [BBOX]
}

TEST(TokenizerWriter, AudioBlockRoundTrips) {
  StreamingConfig s;
  s.transcription_delay_ms = 960;
  s.streaming_n_left_pad_tokens = 8;
  s.num_mel_bins = 64;
  s.streaming_look_back_ms = 10.0;
  const auto t = Tokenizer::from_json(make_synthetic_tekken_json(300, 1, s), "synthetic");
  EXPECT_EQ(t.streaming().transcription_delay_ms, 960);
  EXPECT_EQ(t.streaming().streaming_n_left_pad_tokens, 8);
  EXPECT_EQ(t.streaming().num_mel_bins, 64);
  EXPECT_DOUBLE_EQ(t.streaming().streaming_look_back_ms, 10.0);
  EXPECT_DOUBLE_EQ(t.streaming().frame_rate, 12.5);
}

TEST(TokenizerWriter, RoundTripsTextAndMergesWords) {
  const auto t = Tokenizer::from_json(make_synthetic_tekken_json(4000, 99, {}), "synthetic");
  const std::string ascii = "Hello world, the quick brown fox! 123 and\tthe\nend  ";
  const auto ids = t.encode(ascii);
  EXPECT_EQ(t.decode(ids), ascii);
  EXPECT_LT(ids.size(), ascii.size()) << "merges happen";
  // Seed words are whole tokens; partial-character tokens exist.
  EXPECT_EQ(t.encode(" hello").size(), 1u);
  EXPECT_EQ(t.encode(" w\xC3\xB6rld").size(), 1u);
  EXPECT_EQ(t.encode("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E").size(), 1u);
  int partial = 0;
  for (int id = 1000; id < t.vocab_size(); ++id)
    if (!utf8::is_valid(t.token_bytes(id))) ++partial;
  EXPECT_GT(partial, 128);
  // Incremental decoding over random id soup equals decode().
  std::mt19937 rng(3);
  for (int iter = 0; iter < 200; ++iter) {
    std::vector<int> soup;
    for (int i = 0; i < 20; ++i) soup.push_back(static_cast<int>(rng() % static_cast<unsigned>(t.vocab_size())));
    IncrementalDecoder dec(t);
    std::string out;
    for (int id : soup) out += dec.push(id);
    out += dec.finish();
    ASSERT_EQ(out, t.decode(soup));
  }
}

TEST(TokenizerWriter, WritesAFileThatLoadsFromDisk) {
  const test::TempDir dir;
  test::write_text(dir.file("tekken.json"), make_synthetic_tekken_json(512, 5, {}));
  const auto t = Tokenizer::from_file(dir.file("tekken.json"));
  EXPECT_EQ(t.num_text_ranks(), 512);
}

}  // namespace
}  // namespace vrt
