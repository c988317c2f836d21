// Synthetic tekken.json writer; see tekken_writer.h for what the vocabulary guarantees.
#include "tokenizer/tekken_writer.h"

#include <array>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "tokenizer/utf8.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

constexpr std::array<SpecialTokenInfo, 35> kNamedSpecials = {{
    {"<unk>", true},           {"<s>", true},
    {"</s>", true},            {"[INST]", true},
    {"[/INST]", true},         {"[AVAILABLE_TOOLS]", true},
    {"[/AVAILABLE_TOOLS]", true}, {"[TOOL_RESULTS]", true},
    {"[/TOOL_RESULTS]", true}, {"[TOOL_CALLS]", true},
    {"[IMG]", true},           {"<pad>", true},
    {"[IMG_BREAK]", true},     {"[IMG_END]", true},
    {"[PREFIX]", true},        {"[MIDDLE]", true},
    {"[SUFFIX]", true},        {"[SYSTEM_PROMPT]", true},
    {"[/SYSTEM_PROMPT]", true}, {"[TOOL_CONTENT]", true},
    {"[BBOX]", false},         {"[/BBOX]", false},
    {"[STEP]", true},          {"[/STEP]", true},
    {"[AUDIO]", true},         {"[BEGIN_AUDIO]", true},
    {"[OUTPUT_AUDIO]", true},  {"[REF]", false},
    {"[/REF]", false},         {"[REASONING]", true},
    {"[VERIFICATION]", true},  {"[SCORE]", true},
    {"[STREAMING_PAD]", true}, {"[STREAMING_WORD]", true},
    {"[REPEAT_AUDIO_TEXT]", false},
}};

// Strings whose every prefix becomes a token (when there is room), in this order. Prefixes that
// end inside a character give the partial-UTF-8 tokens real vocabularies have.
constexpr std::array<std::string_view, 12> kSeedWords = {
    " the", " and", " hello", " world", " h\xC3\xA9llo", " w\xC3\xB6rld",
    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",  // 日本語
    " \xE6\x97\xA5\xE6\x9C\xAC",             // " 日本"
    "\xF0\x9F\x98\x80",                      // 😀
    "\xE2\x82\xAC",                          // €
    "\xC3\xB1",                              // ñ
    " caf\xC3\xA9",                          // " café"
};

constexpr std::size_t kMaxRandomTokenBytes = 16;

// splitmix64: a tiny generator with the same output on every platform (the standard
// distributions are implementation-defined, so std::mt19937 + uniform_int_distribution is not).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

bool is_lower(std::string_view s) {
  for (const char c : s)
    if (c < 'a' || c > 'z') return false;
  return !s.empty();
}
bool is_space_word(std::string_view s) { return s.size() >= 2 && s[0] == ' ' && is_lower(s.substr(1)); }

class VocabBuilder {
 public:
  explicit VocabBuilder(std::size_t size) : size_(size) {
    tokens_.reserve(size);
    for (int b = 0; b < 256; ++b) add(std::string(1, static_cast<char>(b)));
  }
  bool full() const { return tokens_.size() >= size_; }
  // Adds `t` unless present; returns whether it was new.
  bool add(std::string t) {
    if (full() || !seen_.insert(t).second) return false;
    if (is_lower(t)) letters_.push_back(tokens_.size());
    if (is_space_word(t) || is_lower(t)) heads_.push_back(tokens_.size());
    tokens_.push_back(std::move(t));
    return true;
  }
  void add_prefixes(std::string_view word) {
    for (std::size_t n = 2; n <= word.size() && !full(); ++n) add(std::string(word.substr(0, n)));
  }
  // Fills the rest: mostly word-like merges (letters, or a space then letters), some arbitrary
  // merges of printable ASCII, and, when those run dry, any two tokens.
  void fill(Rng& rng) {
    for (char c = 'a'; c <= 'z' && !full(); ++c) add(std::string(" ") + c);
    std::size_t misses = 0;
    while (!full()) {
      std::string t;
      const std::size_t kind = rng.below(100);
      if (kind < 85 && misses < 1000) {
        t = tokens_[heads_[rng.below(heads_.size())]] + tokens_[letters_[rng.below(letters_.size())]];
      } else if (kind < 95 && misses < 1000) {
        t = tokens_[0x20 + rng.below(95)] + tokens_[0x20 + rng.below(95)];  // printable pairs
      } else {
        t = tokens_[rng.below(tokens_.size())] + tokens_[rng.below(tokens_.size())];
      }
      if (t.size() > kMaxRandomTokenBytes || !add(std::move(t))) {
        ++misses;
      } else {
        misses = 0;
      }
    }
  }
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  std::size_t size_;
  std::vector<std::string> tokens_;
  std::unordered_set<std::string> seen_;
  std::vector<std::size_t> letters_;  // indices of all-lowercase tokens
  std::vector<std::size_t> heads_;    // indices of lowercase or " lowercase" tokens
};

}  // namespace

std::span<const SpecialTokenInfo> named_special_tokens() { return kNamedSpecials; }

std::string make_synthetic_tekken_json(int num_text_ranks, std::uint64_t seed,
                                       const StreamingConfig& audio) {
  if (num_text_ranks < 256 || num_text_ranks > (1 << 20))
    throw Error(Status::invalid_argument,
                "make_synthetic_tekken_json: num_text_ranks " + std::to_string(num_text_ranks) +
                    " outside [256, 1048576]");
  VocabBuilder vb(static_cast<std::size_t>(num_text_ranks));
  for (const auto w : kSeedWords) vb.add_prefixes(w);
  Rng rng(seed);
  vb.fill(rng);

  using nlohmann::ordered_json;
  ordered_json config;
  config["pattern"] = std::string(kTekkenPattern);
  config["num_vocab_tokens"] = num_text_ranks;
  config["default_vocab_size"] = num_text_ranks + kTekkenNumSpecialTokens;
  config["default_num_special_tokens"] = kTekkenNumSpecialTokens;
  config["version"] = "v7";

  ordered_json vocab = ordered_json::array();
  const auto& tokens = vb.tokens();
  for (std::size_t r = 0; r < tokens.size(); ++r) {
    ordered_json e;
    e["rank"] = r;
    e["token_bytes"] = base64::encode(tokens[r]);
    e["token_str"] = utf8::is_valid(tokens[r]) ? ordered_json(tokens[r]) : ordered_json(nullptr);
    vocab.push_back(std::move(e));
  }

  ordered_json specials = ordered_json::array();
  for (int i = 0; i < kTekkenNumSpecialTokens; ++i) {
    ordered_json e;
    e["rank"] = i;
    if (static_cast<std::size_t>(i) < kNamedSpecials.size()) {
      e["token_str"] = std::string(kNamedSpecials[static_cast<std::size_t>(i)].name);
      e["is_control"] = kNamedSpecials[static_cast<std::size_t>(i)].is_control;
    } else {
      e["token_str"] = "<SPECIAL_" + std::to_string(i) + ">";
      e["is_control"] = true;
    }
    specials.push_back(std::move(e));
  }

  ordered_json enc;
  enc["num_mel_bins"] = audio.num_mel_bins;
  enc["hop_length"] = audio.hop_length;
  enc["window_size"] = audio.window_size;
  ordered_json a;
  a["sampling_rate"] = audio.sampling_rate;
  a["frame_rate"] = audio.frame_rate;
  a["audio_encoding_config"] = std::move(enc);
  a["transcription_delay_ms"] = audio.transcription_delay_ms;
  a["streaming_look_ahead_ms"] = audio.streaming_look_ahead_ms;
  a["streaming_look_back_ms"] = audio.streaming_look_back_ms;
  a["streaming_n_left_pad_tokens"] = audio.streaming_n_left_pad_tokens;
  a["transcription_format"] = audio.transcription_format;

  ordered_json doc;
  doc["config"] = std::move(config);
  doc["vocab"] = std::move(vocab);
  doc["special_tokens"] = std::move(specials);
  doc["audio"] = std::move(a);
  return doc.dump(2) + "\n";
}

}  // namespace vrt
