// Tests against the real Voxtral-Mini-4B-Realtime-2602 tekken.json (vocab cut to the 130072
// used ranks, ../shared/data/SOURCES.md note 1): published and derived encode vectors, the
// golden decoded token streams, the special ids, the `audio` block, and UTF-8 handling on real
// tokens that split characters.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tokenizer/bpe.h"
#include "tokenizer/tekken_writer.h"
#include "tokenizer/utf8.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt {
namespace {

// Loaded once per process (ctest runs each test in its own process, so once per test).
const Tokenizer& real() {
  static const Tokenizer tok = Tokenizer::from_file(
      test::shared_data("tokenizer/tekken_voxtral_mini_4b_realtime_2602.vocab130072.json"));
  return tok;
}

nlohmann::json read_json(const std::string& relative) {
  return nlohmann::json::parse(test::read_text(test::shared_data(relative)));
}

const std::string kReplacement(utf8::kReplacement);

std::string incremental(const Tokenizer& tok, const std::vector<int>& ids) {
  IncrementalDecoder dec(tok);
  std::string out;
  for (int id : ids) out += dec.push(id);
  out += dec.finish();
  return out;
}

TEST(TokenizerReal, SizesAndVersion) {
  const auto& t = real();
  EXPECT_EQ(t.vocab_size(), 131072);
  EXPECT_EQ(t.num_special_tokens(), 1000);
  EXPECT_EQ(t.num_text_ranks(), 130072);
  EXPECT_EQ(t.version(), "v7");
  EXPECT_EQ(t.pattern(), kTekkenPattern) << "the writer's copy of the pattern is the real one";
}

TEST(TokenizerReal, EncodeVectors) {
  const auto& t = real();
  const auto doc = read_json("tokenizer/tekken_encode_vectors.json");
  int checked = 0;
  auto check = [&](const nlohmann::json& c) {
    const auto text = c.at("text").get<std::string>();
    const auto want = c.at("ids").get<std::vector<int>>();
    const auto got = t.encode(text);
    EXPECT_EQ(got, want) << "text: \"" << text << "\"";
    EXPECT_EQ(t.decode(got), text);
    ++checked;
  };
  for (const auto& c : doc.at("published")) check(c);
  for (const auto& c : doc.at("derived").at("cases")) check(c);
  EXPECT_EQ(checked, 6 + 39);
}

TEST(TokenizerReal, GoldenStreamsDecode) {
  const auto& t = real();
  for (const char* clip : {"8297-275156-0000", "8297-275156-0001", "8297-275156-0002"}) {
    const auto doc = read_json(std::string("reference/voxtral_realtime_tokens_") + clip + ".json");
    const auto ids = doc.at("tokens").get<std::vector<int>>();
    const auto text = doc.at("text").get<std::string>();
    // Word tokens carry their leading space; the reference text is stripped.
    EXPECT_EQ(t.decode(ids), " " + text) << clip;
    EXPECT_EQ(incremental(t, ids), " " + text) << clip;
    EXPECT_EQ(t.encode(" " + text).size(),
              static_cast<std::size_t>(std::count_if(ids.begin(), ids.end(),
                                                     [&](int id) { return !t.is_special(id); })))
        << clip << ": re-encoding the text gives the stream's text tokens";
  }
}

TEST(TokenizerReal, SpecialTokensMatchTsv) {
  const auto& t = real();
  std::istringstream tsv(test::read_text(
      test::shared_data("tokenizer/voxtral_realtime_special_tokens.tsv")));
  std::string line;
  int rows = 0;
  while (std::getline(tsv, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("id\t", 0) == 0) continue;
    std::istringstream fields(line);
    std::string id_text, name, control;
    std::getline(fields, id_text, '\t');
    std::getline(fields, name, '\t');
    const int id = std::stoi(id_text);
    EXPECT_TRUE(t.is_special(id));
    EXPECT_EQ(t.special_name(id), name);
    EXPECT_EQ(t.special_id(name), id);
    EXPECT_EQ(t.piece(id), name);
    EXPECT_EQ(t.token_bytes(id), "");
    ++rows;
  }
  EXPECT_EQ(rows, 35);
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.streaming_pad_id(), 32);
  EXPECT_EQ(t.streaming_word_id(), 33);
  EXPECT_EQ(t.special_name(35), "<SPECIAL_35>");
  EXPECT_EQ(t.special_name(999), "<SPECIAL_999>");
  EXPECT_TRUE(t.is_special(0));
  EXPECT_TRUE(t.is_special(999));
  EXPECT_FALSE(t.is_special(1000));
  EXPECT_FALSE(t.is_special(-1));
  EXPECT_FALSE(t.special_id("[TRANSCRIBE]").has_value());
  EXPECT_EQ(t.token_bytes(1000), std::string(1, '\0'));
  EXPECT_EQ(t.token_bytes(1000 + 'A'), "A");
  EXPECT_EQ(t.piece(1000 + 'a'), "a");
  EXPECT_EQ(t.decode(std::vector<int>{1, 32, 33, 2}), "");
}

TEST(TokenizerReal, IdsOutsideTheVocabAreInvalidArguments) {
  const auto& t = real();
  for (int id : {-1, 131072, 1 << 30, std::numeric_limits<int>::min()}) {
    auto expect_invalid = [&](auto&& f) {
      try {
        f();
        ADD_FAILURE() << "id " << id << " accepted";
      } catch (const Error& e) {
        EXPECT_EQ(e.status(), Status::invalid_argument);
      }
    };
    expect_invalid([&] { (void)t.token_bytes(id); });
    expect_invalid([&] { (void)t.piece(id); });
    expect_invalid([&] { (void)t.special_name(id); });
    expect_invalid([&] { (void)t.decode(std::vector<int>{1000, id}); });
    IncrementalDecoder dec(t);
    expect_invalid([&] { (void)dec.push(id); });
  }
  EXPECT_EQ(t.token_bytes(131071).empty(), false);
}

TEST(TokenizerReal, StreamingBlock) {
  const auto& s = real().streaming();
  EXPECT_EQ(s.sampling_rate, 16000);
  EXPECT_DOUBLE_EQ(s.frame_rate, 12.5);
  EXPECT_EQ(s.num_mel_bins, 128);
  EXPECT_EQ(s.hop_length, 160);
  EXPECT_EQ(s.window_size, 400);
  EXPECT_EQ(s.transcription_delay_ms, 480);
  EXPECT_DOUBLE_EQ(s.streaming_look_ahead_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.streaming_look_back_ms, 52.5);
  EXPECT_EQ(s.streaming_n_left_pad_tokens, 32);
  EXPECT_EQ(s.transcription_format, "streaming");
  EXPECT_EQ(s.samples_per_token(), 1280);
}

TEST(TokenizerReal, MultiByteCharactersAcrossTokens) {
  const auto& t = real();
  const std::string text = "h\xC3\xA9llo w\xC3\xB6rld \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x98\x80";
  const auto ids = t.encode(text);
  std::string joined;
  int partial = 0;
  for (int id : ids) {
    const auto bytes = t.token_bytes(id);
    joined += bytes;
    if (!utf8::is_valid(bytes)) ++partial;
  }
  EXPECT_EQ(joined, text);
  EXPECT_GT(partial, 0) << "expected the emoji or the CJK characters to be split across tokens";
  EXPECT_EQ(t.decode(ids), text);
  EXPECT_EQ(incremental(t, ids), text);

  // Every token of the stream on its own: a partial token decodes to U+FFFD, and the
  // incremental decoder emits nothing until the character completes.
  IncrementalDecoder dec(t);
  std::string streamed;
  for (int id : ids) {
    const auto out = dec.push(id);
    EXPECT_TRUE(utf8::is_valid(out));
    EXPECT_EQ(out.find(kReplacement), std::string::npos);
    streamed += out;
    if (!utf8::is_valid(t.token_bytes(id))) {
      EXPECT_NE(t.decode(std::vector<int>{id}).find(kReplacement), std::string::npos);
    }
  }
  EXPECT_EQ(dec.pending_bytes(), 0u);
  EXPECT_EQ(streamed + dec.finish(), text);
}

TEST(TokenizerReal, InvalidBytesBecomeReplacementCharacters) {
  const auto& t = real();
  const int byte = t.num_special_tokens();  // id of byte 0 (rank 0)
  EXPECT_EQ(t.decode(std::vector<int>{byte + 0xFF}), kReplacement);
  EXPECT_EQ(t.decode(std::vector<int>{byte + 0xE6, byte + 0x97}), kReplacement);
  EXPECT_EQ(t.decode(std::vector<int>{byte + 0xE6, byte + 0x97, 32, byte + 0xA5}), "\xE6\x97\xA5")
      << "a special between the bytes of a character is dropped without breaking it";
  EXPECT_EQ(t.decode(std::vector<int>{byte + 0xC3, byte + 'A'}), kReplacement + "A");

  IncrementalDecoder dec(t);
  EXPECT_EQ(dec.push(byte + 0xE6), "");
  EXPECT_EQ(dec.push(byte + 0x97), "");
  EXPECT_EQ(dec.pending_bytes(), 2u);
  EXPECT_EQ(dec.push(byte + 'A'), kReplacement + "A") << "known bad as soon as 'A' arrives";
  EXPECT_EQ(dec.push(byte + 0xFF), kReplacement);
  EXPECT_EQ(dec.push(byte + 0xF0), "");
  EXPECT_EQ(dec.finish(), kReplacement);
  EXPECT_EQ(dec.pending_bytes(), 0u);
  EXPECT_EQ(dec.push(byte + 'z'), "z") << "reusable after finish";
  EXPECT_EQ(dec.finish(), "");
}

// The incremental decoder must equal decode() however the bytes are cut into tokens.
TEST(TokenizerReal, IncrementalEqualsBatchOnRandomStreams) {
  const auto& t = real();
  std::mt19937 rng(2602);
  const std::vector<std::string> atoms = {"a", " ", "Z", "\xC3\xA9", "\xE6\x97\xA5", "\xF0\x9F\x98\x80",
                                          "\xFF", "\x80", "\xE6\x97", "\xF0\x9F", "\xED\xA0\x80"};
  const int byte = t.num_special_tokens();
  for (int iter = 0; iter < 300; ++iter) {
    // Text from atoms, then cut into byte-level tokens at random points, with specials mixed in;
    // or real tokens from encode(); or random ids from the whole vocabulary.
    std::vector<int> ids;
    const int kind = iter % 3;
    if (kind < 2) {
      std::string text;
      const int n = 1 + static_cast<int>(rng() % 30);
      for (int i = 0; i < n; ++i) text += atoms[rng() % atoms.size()];
      if (kind == 0) {
        for (unsigned char c : text) {
          ids.push_back(byte + c);
          if (rng() % 5 == 0) ids.push_back(static_cast<int>(rng() % 1000));
        }
      } else {
        ids = t.encode(text);
        std::string joined;
        for (int id : ids) joined += t.token_bytes(id);
        EXPECT_EQ(joined, text) << "encode keeps every byte, valid UTF-8 or not";
      }
    } else {
      const int n = 1 + static_cast<int>(rng() % 40);
      for (int i = 0; i < n; ++i) ids.push_back(static_cast<int>(rng() % 131072));
    }
    const auto batch = t.decode(ids);
    EXPECT_TRUE(utf8::is_valid(batch));
    ASSERT_EQ(incremental(t, ids), batch) << "iteration " << iter;
  }
}

TEST(TokenizerReal, EncodeRoundTripsAndHeapAgrees) {
  const auto& t = real();
  const std::string text =
      "Transcription: \"Hello, World!\"\r\n\ttabs  and   spaces\n\n"
      "Ünïcödé façade — naïve coöperation; 東京 2026年; emoji 👍🏽🎉; "
      "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 <s>[INST]</s> end ";
  EXPECT_EQ(t.decode(t.encode(text)), text);
  EXPECT_EQ(t.encode(""), std::vector<int>{});
  const std::string with_nul("a\0b\0", 4);
  EXPECT_EQ(t.decode(t.encode(with_nul)), with_nul);

  // Long single pieces go through the heap loop; both loops must agree with the real ranks.
  bpe::RankMap ranks;
  for (int r = 0; r < t.num_text_ranks(); ++r)
    ranks.emplace(t.token_bytes(r + t.num_special_tokens()), r);
  std::mt19937 rng(5);
  const std::string letters = "abcdefghijklmnopqrstuvwxyz";
  for (int iter = 0; iter < 40; ++iter) {
    std::string piece = " ";
    const int n = 65 + static_cast<int>(rng() % 400);
    for (int i = 0; i < n; ++i) piece.push_back(letters[rng() % (iter % 2 ? 3 : 26)]);
    std::vector<int> q, h;
    bpe::merge_quadratic(piece, ranks, q);
    bpe::merge_heap(piece, ranks, h);
    ASSERT_EQ(q, h) << piece;
    std::vector<int> ids = t.encode(piece);
    for (auto& id : ids) id -= t.num_special_tokens();
    EXPECT_EQ(ids, q) << "encode() of one long piece equals the quadratic loop";
  }
  const std::string huge(200000, 'e');
  EXPECT_EQ(t.decode(t.encode(huge)), huge);
}

TEST(TokenizerReal, ConcurrentUseOfOneTokenizer) {
  const auto& t = real();
  const std::string text = "Concurrent tokenization, \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E and \xF0\x9F\x98\x80!";
  const auto want = t.encode(text);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const auto ids = t.encode(text);
        if (ids != want || t.decode(ids) != text) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(TokenizerReal, CopiesShareTheTable) {
  Tokenizer copy = real();
  EXPECT_EQ(copy.vocab_size(), real().vocab_size());
  IncrementalDecoder dec(copy);
  copy = Tokenizer(real());
  EXPECT_EQ(dec.push(1000 + 'x'), "x");
}

}  // namespace
}  // namespace vrt
