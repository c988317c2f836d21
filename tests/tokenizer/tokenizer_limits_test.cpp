// The tekken.json limits of docs/LIMITS.md crossed by one step, with the value at the limit
// accepted: JSON depth 32, vocabulary 4,194,304, 65,536 special tokens, special strings of 256
// bytes, tokens of 1024 bytes, a pattern of 4096 bytes, ids range-checked.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "common/base64.h"
#include "tokenizer/tekken_writer.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt {
namespace {

using nlohmann::ordered_json;

const std::string& base_text() {
  static const std::string text = make_synthetic_tekken_json(300, 5, StreamingConfig{});
  return text;
}

std::string edited(const std::function<void(ordered_json&)>& edit) {
  auto doc = ordered_json::parse(base_text());
  edit(doc);
  return doc.dump();
}

// The load error for `text` ("" when it loads); the status must be `status`.
std::string load_error(const std::string& text, Status status = Status::bad_tokenizer) {
  try {
    (void)Tokenizer::from_json(text, "limits/tekken.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    EXPECT_NE(std::string(e.what()).find("limits/tekken.json"), std::string::npos) << e.what();
    return e.what();
  }
  return "";
}

TEST(TokenizerLimits, JsonDepthCapIs32) {
  // An unknown top-level key holding nested arrays: 32 levels in all load, 33 do not.
  auto nested = [](int depth) {
    std::string text = edited([](ordered_json&) {});
    text.pop_back();
    return text + ",\"x\":" + std::string(static_cast<std::size_t>(depth - 1), '[') +
           std::string(static_cast<std::size_t>(depth - 1), ']') + "}";
  };
  EXPECT_EQ(load_error(nested(32)), "");
  EXPECT_NE(load_error(nested(33)).find("nesting deeper than 32 levels"), std::string::npos);
}

TEST(TokenizerLimits, VocabularyCapIs4194304) {
  // default_vocab_size above the cap is refused by range, before the (short) vocab is counted.
  const auto over =
      load_error(edited([](auto& d) { d["config"]["default_vocab_size"] = 4194305; }));
  EXPECT_NE(over.find("default_vocab_size: value 4194305 outside [1256, 4194304]"),
            std::string::npos)
      << over;
  // At the cap the range check passes and the vocab count is what fails.
  const auto at = load_error(edited([](auto& d) { d["config"]["default_vocab_size"] = 4194304; }));
  EXPECT_NE(at.find("vocab has 300 entries"), std::string::npos) << at;
}

TEST(TokenizerLimits, SpecialTokenCountCapIs65536) {
  const auto over =
      load_error(edited([](auto& d) { d["config"]["default_num_special_tokens"] = 65537; }));
  EXPECT_NE(over.find("default_num_special_tokens: value 65537 outside [1, 65536]"),
            std::string::npos)
      << over;
  const auto zero =
      load_error(edited([](auto& d) { d["config"]["default_num_special_tokens"] = 0; }));
  EXPECT_NE(zero.find("outside [1, 65536]"), std::string::npos) << zero;
}

TEST(TokenizerLimits, SpecialStringsAre1To256Bytes) {
  EXPECT_EQ(load_error(edited(
                [](auto& d) { d["special_tokens"][50]["token_str"] = std::string(256, 's'); })),
            "");
  const auto over = load_error(
      edited([](auto& d) { d["special_tokens"][50]["token_str"] = std::string(257, 's'); }));
  EXPECT_NE(over.find("special_tokens[50].token_str: must hold 1..256 bytes"), std::string::npos)
      << over;
}

TEST(TokenizerLimits, TokensAre1To1024Bytes) {
  // Entry 299 is the last used rank; its bytes only have to be unique.
  EXPECT_EQ(load_error(edited([](auto& d) {
              d["vocab"][299]["token_bytes"] = base64::encode(std::string(1024, '\x01'));
            })),
            "");
  const auto over = load_error(edited(
      [](auto& d) { d["vocab"][299]["token_bytes"] = base64::encode(std::string(1025, '\x01')); }));
  EXPECT_NE(over.find("vocab[299].token_bytes: token longer than 1024 bytes"), std::string::npos)
      << over;
}

TEST(TokenizerLimits, PatternIs1To4096Bytes) {
  // A valid regex padded to exactly n bytes with a PCRE2 comment group.
  auto pattern_of = [](std::size_t n) {
    const std::string head = "\\s+|\\S+(?#";
    return head + std::string(n - head.size() - 1, 'c') + ")";
  };
  ASSERT_EQ(pattern_of(4096).size(), 4096u);
  EXPECT_EQ(load_error(edited([&](auto& d) { d["config"]["pattern"] = pattern_of(4096); })), "");
  const auto over = load_error(edited([&](auto& d) { d["config"]["pattern"] = pattern_of(4097); }));
  EXPECT_NE(over.find("config.pattern: must hold 1..4096 bytes"), std::string::npos) << over;
  const auto empty = load_error(edited([](auto& d) { d["config"]["pattern"] = ""; }));
  EXPECT_NE(empty.find("config.pattern: must hold 1..4096 bytes"), std::string::npos) << empty;
}

TEST(TokenizerLimits, EveryIdIsRangeChecked) {
  const auto tok = Tokenizer::from_json(base_text());
  ASSERT_EQ(tok.vocab_size(), 1300);
  for (const int id :
       {-1, 1300, std::numeric_limits<int>::max(), std::numeric_limits<int>::min()}) {
    SCOPED_TRACE(id);
    for (const auto& call : std::vector<std::function<void()>>{
             [&] { (void)tok.piece(id); }, [&] { (void)tok.token_bytes(id); },
             [&] {
               (void)tok.decode(std::vector<int>{1000, id});
             },
             [&] { IncrementalDecoder(tok).push(id); }}) {
      try {
        call();
        ADD_FAILURE() << "id accepted";
      } catch (const Error& e) {
        EXPECT_EQ(e.status(), Status::invalid_argument) << e.what();
      }
    }
    EXPECT_FALSE(tok.is_special(id));
  }
  EXPECT_NO_THROW((void)tok.piece(1299));
  EXPECT_NO_THROW((void)tok.piece(0));
}

}  // namespace
}  // namespace vrt
