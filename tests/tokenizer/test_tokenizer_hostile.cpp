// Hostile tekken.json files (../shared/docs/hardening.md §1c): each breaks one invariant of
// mistral-common's Tekkenizer or one JSON rule, and must give Error(bad_tokenizer) with a
// message naming the problem, never a crash or another exception type. The files are small
// synthetic ones from the writer, edited as JSON or as text.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "common/base64.h"
#include "tokenizer/tekken_writer.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/tokenizer.h"

namespace vrt {
namespace {

using nlohmann::ordered_json;

const std::string& valid_text() {
  static const std::string text = make_synthetic_tekken_json(300, 1, StreamingConfig{});
  return text;
}

std::string edited(const std::function<void(ordered_json&)>& edit) {
  auto doc = ordered_json::parse(valid_text());
  edit(doc);
  return doc.dump(2);
}

std::string replaced(const std::string& from, const std::string& to) {
  std::string text = valid_text();
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// Loads `text` and expects Error(status) whose message contains `needle`.
void expect_rejected(const std::string& text, const std::string& needle,
                     Status status = Status::bad_tokenizer) {
  try {
    (void)Tokenizer::from_json(text, "hostile.json");
    ADD_FAILURE() << "accepted; expected an error mentioning \"" << needle << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message \"" << e.what() << "\" does not mention \"" << needle << "\"";
    EXPECT_NE(std::string(e.what()).find("hostile.json"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a vrt::Error: " << e.what();
  }
}

TEST(TokenizerHostile, ValidBaseLoads) {
  const auto t = Tokenizer::from_json(valid_text(), "valid.json");
  EXPECT_EQ(t.num_text_ranks(), 300);
}

struct Case {
  const char* name;
  std::function<std::string()> text;
  const char* needle;
  Status status = Status::bad_tokenizer;
};

std::string nested(int depth) {
  return "{\"x\": " + std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']') + "}";
}

const std::vector<Case>& cases() {
  static const std::vector<Case> list = {
      {"not JSON", [] { return std::string("tekken, but not JSON"); }, "invalid JSON"},
      {"empty file", [] { return std::string(); }, "invalid JSON"},
      {"truncated", [] { return valid_text().substr(0, valid_text().size() / 2); }, "invalid JSON"},
      {"trailing garbage", [] { return valid_text() + "}"; }, "invalid JSON"},
      {"comment", [] { return "/* c */" + valid_text(); }, "invalid JSON"},
      {"invalid UTF-8 in a string", [] { return replaced("\"v7\"", "\"v\xFF\""); }, "invalid JSON"},
      {"top level is an array", [] { return std::string("[1, 2]"); }, "expected a JSON object"},
      {"deep nesting", [] { return nested(100); }, "nesting deeper"},
      {"duplicate JSON key", [] { return replaced("\"version\": \"v7\"", "\"version\": \"v7\", \"version\": \"v7\""); },
       "duplicate key \"version\""},
      {"duplicate top-level key", [] { return replaced("\"audio\": {", "\"vocab\": [], \"audio\": {"); },
       "duplicate key \"vocab\""},
      {"missing config", [] { return edited([](auto& d) { d.erase("config"); }); }, "config"},
      {"unknown version", [] { return edited([](auto& d) { d["config"]["version"] = "v4"; }); },
       "unknown tokenizer version \"v4\""},
      {"version not a string", [] { return edited([](auto& d) { d["config"]["version"] = 7; }); },
       "version"},
      {"pattern does not compile", [] { return edited([](auto& d) { d["config"]["pattern"] = "(["; }); },
       "pattern"},
      {"missing vocab", [] { return edited([](auto& d) { d.erase("vocab"); }); }, "vocab"},
      {"vocab not an array", [] { return edited([](auto& d) { d["vocab"] = ordered_json::object(); }); },
       "vocab: expected an array"},
      {"vocab entry not an object", [] { return edited([](auto& d) { d["vocab"][7] = "x"; }); },
       "vocab[7]: expected an object"},
      {"vocab entry with extra key", [] { return edited([](auto& d) { d["vocab"][260]["extra"] = 1; }); },
       "vocab[260]: unexpected key \"extra\""},
      {"vocab entry missing token_str", [] { return edited([](auto& d) { d["vocab"][3].erase("token_str"); }); },
       "vocab[3]: missing \"token_str\""},
      {"vocab entry duplicate key", [] { return replaced("\"rank\": 261,", "\"rank\": 261, \"rank\": 261,"); },
       "vocab[261]: duplicate key \"rank\""},
      {"vocab entry nested object", [] { return edited([](auto& d) { d["vocab"][2]["token_str"] = ordered_json::object(); }); },
       "vocab[2].token_str"},
      {"rank != index", [] { return edited([](auto& d) { d["vocab"][260]["rank"] = 261; }); },
       "vocab[260]: rank 261 differs from its index"},
      {"rank is a float", [] { return edited([](auto& d) { d["vocab"][10]["rank"] = 10.0; }); },
       "vocab[10].rank: expected an integer"},
      {"negative rank", [] { return edited([](auto& d) { d["vocab"][0]["rank"] = -1; }); },
       "vocab[0]: rank -1"},
      {"byte rank 5 is not byte 5", [] { return edited([](auto& d) { d["vocab"][5]["token_bytes"] = base64::encode("\x06"); }); },
       "vocab[5] must be the single byte 5"},
      {"byte rank holds two bytes", [] { return edited([](auto& d) { d["vocab"][65]["token_bytes"] = base64::encode("AA"); }); },
       "vocab[65] must be the single byte 65"},
      {"bad base64 character", [] { return edited([](auto& d) { d["vocab"][270]["token_bytes"] = "!!!!"; }); },
       "vocab[270].token_bytes: not canonical base64"},
      {"base64 without padding", [] { return edited([](auto& d) { d["vocab"][270]["token_bytes"] = "QUI"; }); },
       "not canonical base64"},
      {"base64 with non-zero pad bits", [] { return edited([](auto& d) { d["vocab"][270]["token_bytes"] = "QUJ="; }); },
       "not canonical base64"},
      {"base64 with embedded newline", [] { return edited([](auto& d) { d["vocab"][270]["token_bytes"] = "QU\nJD"; }); },
       "not canonical base64"},
      {"empty token", [] { return edited([](auto& d) { d["vocab"][270]["token_bytes"] = ""; }); },
       "vocab[270].token_bytes: empty token"},
      {"token too long", [] { return edited([](auto& d) { d["vocab"][270]["token_bytes"] = base64::encode(std::string(2000, 'q')); }); },
       "longer than 1024 bytes"},
      {"duplicate token_bytes", [] { return edited([](auto& d) { d["vocab"][280]["token_bytes"] = d["vocab"][279]["token_bytes"]; }); },
       "vocab[280].token_bytes duplicates vocab[279]"},
      {"too few vocab entries", [] { return edited([](auto& d) { d["config"]["default_vocab_size"] = 1301; }); },
       "vocab has 300 entries"},
      {"fewer than 256 text ranks", [] { return edited([](auto& d) { d["config"]["default_vocab_size"] = 1255; }); },
       "default_vocab_size"},
      {"missing special_tokens", [] { return edited([](auto& d) { d.erase("special_tokens"); }); },
       "special_tokens"},
      {"too few special tokens", [] { return edited([](auto& d) { d["special_tokens"].erase(999); }); },
       "special_tokens has 999 entries"},
      {"duplicate special string", [] { return edited([](auto& d) { d["special_tokens"][40]["token_str"] = "<s>"; }); },
       "special_tokens[40].token_str: \"<s>\" duplicates special_tokens[1]"},
      {"special rank out of order", [] { return edited([](auto& d) { d["special_tokens"][40]["rank"] = 41; }); },
       "special_tokens[40].rank"},
      {"special with extra key", [] { return edited([](auto& d) { d["special_tokens"][3]["x"] = true; }); },
       "special_tokens[3]: expected exactly the keys"},
      {"special is_control not bool", [] { return edited([](auto& d) { d["special_tokens"][3]["is_control"] = 1; }); },
       "special_tokens[3].is_control"},
      {"empty special string", [] { return edited([](auto& d) { d["special_tokens"][3]["token_str"] = ""; }); },
       "special_tokens[3].token_str"},
      {"missing audio block", [] { return edited([](auto& d) { d.erase("audio"); }); },
       "no \"audio\" block"},
      {"audio not an object", [] { return edited([](auto& d) { d["audio"] = 3; }); }, "audio"},
      {"negative delay", [] { return edited([](auto& d) { d["audio"]["transcription_delay_ms"] = -480; }); },
       "audio.transcription_delay_ms"},
      {"delay not a whole token", [] { return edited([](auto& d) { d["audio"]["transcription_delay_ms"] = 500; }); },
       "transcription_delay_ms: is not a whole number"},
      {"zero frame rate", [] { return edited([](auto& d) { d["audio"]["frame_rate"] = 0; }); },
       "audio.frame_rate"},
      {"fractional samples per token", [] { return edited([](auto& d) { d["audio"]["frame_rate"] = 12.3; }); },
       "audio.frame_rate"},
      {"missing mel bins", [] { return edited([](auto& d) { d["audio"]["audio_encoding_config"].erase("num_mel_bins"); }); },
       "audio.audio_encoding_config.num_mel_bins: missing"},
      {"negative left pad", [] { return edited([](auto& d) { d["audio"]["streaming_n_left_pad_tokens"] = -1; }); },
       "streaming_n_left_pad_tokens"},
      {"non-streaming format", [] { return edited([](auto& d) { d["audio"]["transcription_format"] = "instruct"; }); },
       "transcription_format", Status::unsupported_model},
  };
  return list;
}

TEST(TokenizerHostile, EveryCaseIsRejectedWithItsReason) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    expect_rejected(c.text(), c.needle, c.status);
  }
}

TEST(TokenizerHostile, FileLevel) {
  const test::TempDir dir;
  try {
    (void)Tokenizer::from_file(dir.file("absent.json"));
    ADD_FAILURE() << "missing file accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::not_found) << e.what();
  }
  test::write_text(dir.file("empty.json"), "");
  try {
    (void)Tokenizer::from_file(dir.file("empty.json"));
    ADD_FAILURE() << "empty file accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::bad_tokenizer) << e.what();
    EXPECT_NE(std::string(e.what()).find("empty.json"), std::string::npos) << e.what();
  }
  // 65 MiB, sparse: refused on its size before anything is read.
  const auto big = dir.file("big.json");
  test::write_text(big, "{");
  std::filesystem::resize_file(big, std::uintmax_t{65} << 20);
  try {
    (void)Tokenizer::from_file(big);
    ADD_FAILURE() << "oversized file accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::bad_tokenizer) << e.what();
  }
}

TEST(TokenizerHostile, MissingNamedSpecialsFailOnUse) {
  const auto text = edited([](auto& d) { d["special_tokens"][32]["token_str"] = "<SPECIAL_32>"; });
  const auto t = Tokenizer::from_json(text, "renamed.json");
  EXPECT_EQ(t.bos_id(), 1);
  try {
    (void)t.streaming_pad_id();
    ADD_FAILURE() << "no [STREAMING_PAD], yet an id came back";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::bad_tokenizer);
    EXPECT_NE(std::string(e.what()).find("[STREAMING_PAD]"), std::string::npos) << e.what();
  }
}

TEST(TokenizerHostile, UnusedTailEntriesNeedOnlyBeWellFormed) {
  // Entries past default_vocab_size - specials are ignored, as mistral-common truncates: a
  // duplicate there is fine (the shared real file relies on the same rule, having fewer
  // entries than num_vocab_tokens).
  const auto text = edited([](auto& d) {
    d["config"]["default_vocab_size"] = 1290;
    d["vocab"][295]["token_bytes"] = d["vocab"][280]["token_bytes"];
  });
  const auto t = Tokenizer::from_json(text, "tail.json");
  EXPECT_EQ(t.num_text_ranks(), 290);
  EXPECT_EQ(t.vocab_size(), 1290);
  EXPECT_THROW((void)t.token_bytes(1290), Error);
}

// Random corruption: every mutated file either loads or is refused with a vrt::Error.
TEST(TokenizerHostile, RandomCorruptionNeverCrashes) {
  std::mt19937 rng(1234);
  const std::string& base = valid_text();
  int refused = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0: text[at] = static_cast<char>(rng() & 0xFF); break;
        case 1: text.erase(at, 1 + rng() % 8); break;
        case 2: text.insert(at, 1, "{}[]\",:0-e\\"[rng() % 11]); break;
        default: text.resize(at); break;
      }
      if (text.empty()) break;
    }
    try {
      (void)Tokenizer::from_json(text, "fuzz.json");
    } catch (const Error& e) {
      ++refused;
      EXPECT_TRUE(e.status() == Status::bad_tokenizer || e.status() == Status::unsupported_model)
          << e.what();
    }
  }
  EXPECT_GT(refused, 200);
}

}  // namespace
}  // namespace vrt
