// Unit tests of the tokenizer's parts: strict base64, UTF-8 replacement decoding, the two BPE
// merge loops, and the PCRE2 pre-tokenizer. The real-vocabulary tests are in
// test_tokenizer_real.cpp; these use small hand-made tables so each failure points at one part.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/base64.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tekken_writer.h"
#include "tokenizer/utf8.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

TEST(TokenizerBase64, DecodesCanonicalStrings) {
  EXPECT_EQ(base64::decode_strict(""), std::string());
  EXPECT_EQ(base64::decode_strict("AA=="), std::string(1, '\0'));
  EXPECT_EQ(base64::decode_strict("/w=="), std::string(1, '\xff'));
  EXPECT_EQ(base64::decode_strict("IHRoZQ=="), std::string(" the"));
  EXPECT_EQ(base64::decode_strict("Zm9vYg=="), std::string("foob"));
  EXPECT_EQ(base64::decode_strict("Zm9vYmE="), std::string("fooba"));
  EXPECT_EQ(base64::decode_strict("Zm9vYmFy"), std::string("foobar"));
  EXPECT_EQ(base64::decode_strict("5pel"), std::string("\xE6\x97\xA5"));
}

TEST(TokenizerBase64, RejectsJunkAndNonCanonicalPadding) {
  for (const char* bad : {"A", "AA", "AAA", "AA=", "A===", "====", "AA==AA==", "A=A=", "AB=C",
                          "QR==", "QUF=", "Zm9v\n", " Zm9v", "Zm-v", "Zm_v", "Zm9v====",
                          "Zm9vYg", "Zm9vYg=", "\xc3\xa9\xc3\xa9"}) {
    EXPECT_FALSE(base64::decode_strict(bad).has_value()) << bad;
  }
}

TEST(TokenizerBase64, EncodeRoundTripsEveryLength) {
  std::mt19937 rng(7);
  for (int n = 0; n < 64; ++n) {
    std::string bytes;
    for (int i = 0; i < n; ++i) bytes.push_back(static_cast<char>(rng() & 0xFF));
    const auto enc = base64::encode(bytes);
    EXPECT_EQ(enc.size() % 4, 0u);
    EXPECT_EQ(base64::decode_strict(enc), bytes);
  }
}

struct Utf8Case {
  const char* in;
  const char* out;
};
constexpr Utf8Case kPythonReplaceCases[] = {
#include "utf8_replace_vectors.inc"
};

TEST(TokenizerUtf8, MatchesPythonErrorsReplace) {
  for (const auto& c : kPythonReplaceCases) {
    std::string out;
    const std::string_view in(c.in);
    EXPECT_EQ(utf8::decode_replace(in, out, /*final=*/true), in.size());
    EXPECT_EQ(out, c.out) << "input of " << in.size() << " bytes";
    EXPECT_EQ(utf8::is_valid(in), out == in);
  }
}

TEST(TokenizerUtf8, MaximalSubpartsByHand) {
  auto fix = [](std::string_view s) {
    std::string out;
    utf8::decode_replace(s, out, true);
    return out;
  };
  const std::string r(utf8::kReplacement);
  EXPECT_EQ(fix("\xF0\x80\x80"), r + r + r);  // F0 needs 90..BF next
  EXPECT_EQ(fix("\xED\xA0\x80"), r + r + r);  // surrogate
  EXPECT_EQ(fix("\xE1\x80"), r);              // truncated: one subpart
  EXPECT_EQ(fix("\xE6\x97" "A"), r + "A");
  EXPECT_EQ(fix("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(fix("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(fix("\xEF\xBF\xBD"), r);  // a real U+FFFD passes through
}

TEST(TokenizerUtf8, NonFinalHoldsBackOnlyValidPrefixes) {
  std::string out;
  EXPECT_EQ(utf8::decode_replace("ab\xE6\x97", out, false), 2u);
  EXPECT_EQ(out, "ab");
  out.clear();
  EXPECT_EQ(utf8::decode_replace("ab\xE6" "A", out, false), 4u);  // known bad: replaced now
  EXPECT_EQ(out, std::string("ab") + std::string(utf8::kReplacement) + "A");
  out.clear();
  EXPECT_EQ(utf8::decode_replace("\xF0\x9F\x98", out, false), 0u);
  EXPECT_EQ(out, "");
  out.clear();
  EXPECT_EQ(utf8::decode_replace("\xF0\x80", out, false), 2u);  // F0 80 can never complete
  EXPECT_EQ(out, std::string(utf8::kReplacement) + std::string(utf8::kReplacement));
}

// A toy rank table: the bytes plus a few merges with deliberate overlaps. The map's views point
// into store_, which is complete before the map is built, so they never dangle.
class ToyRanks {
 public:
  ToyRanks() {
    for (int b = 0; b < 256; ++b) store_.emplace_back(1, static_cast<char>(b));
    for (const char* t : {"ab", "bc", "abc", "aa", "aaa", "aaaa", "cd", "bcd", "abcd", "ba",
                          "bab", "abab", "ababab"})
      store_.emplace_back(t);
    for (std::size_t i = 0; i < store_.size(); ++i)
      map_.emplace(std::string_view(store_[i]), static_cast<int>(i));
  }
  ToyRanks(const ToyRanks&) = delete;
  ToyRanks& operator=(const ToyRanks&) = delete;
  const bpe::RankMap& map() const { return map_; }
  const std::string& text(int rank) const { return store_[static_cast<std::size_t>(rank)]; }

 private:
  std::vector<std::string> store_;
  bpe::RankMap map_;
};

std::string join(const ToyRanks& t, const std::vector<int>& ranks) {
  std::string s;
  for (int r : ranks) s += t.text(r);
  return s;
}

TEST(TokenizerBpe, MergesLowestRankLeftmostFirst) {
  const ToyRanks t;
  std::vector<int> out;
  bpe::merge_quadratic("abcd", t.map(), out);
  // "ab"(256) beats "bc"(257); then "abc"(258) vs "cd"(262): abc; then "abcd".
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(t.text(out[0]), "abcd");
  out.clear();
  bpe::merge_quadratic("aaaaa", t.map(), out);
  // a|a|a|a|a -> aa|a|a|a (leftmost "aa") -> aa|aa|a ("aa" beats "aaa") -> aa|aaa ("aaa" beats
  // "aaaa"); "aaaaa" is no token.
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(t.text(out[0]), "aa");
  EXPECT_EQ(t.text(out[1]), "aaa");
}

TEST(TokenizerBpe, HeapAndQuadraticAgreeOnRandomPieces) {
  const ToyRanks t;
  std::mt19937 rng(11);
  const std::string alphabet = "abcdx\xC3\xA9";
  for (int iter = 0; iter < 3000; ++iter) {
    std::string piece;
    const int n = 1 + static_cast<int>(rng() % 200);
    for (int i = 0; i < n; ++i) piece.push_back(alphabet[rng() % alphabet.size()]);
    std::vector<int> a, b;
    bpe::merge_quadratic(piece, t.map(), a);
    bpe::merge_heap(piece, t.map(), b);
    ASSERT_EQ(a, b) << piece;
    EXPECT_EQ(join(t, a), piece);
  }
}

TEST(TokenizerBpe, LongPieceIsFast) {
  const ToyRanks t;
  const std::string piece(1 << 20, 'a');
  std::vector<int> out;
  bpe::encode_piece(piece, t.map(), out);  // quadratic would take minutes
  EXPECT_EQ(join(t, out), piece);
}

std::vector<std::string> split(const Pretokenizer& p, std::string_view text) {
  std::vector<std::string> pieces;
  p.split(text, [&](std::string_view s) { pieces.emplace_back(s); });
  return pieces;
}

TEST(TokenizerPretokenizer, SplitsLikeTiktoken) {
  const Pretokenizer p(std::string(kTekkenPattern), "test");
  using V = std::vector<std::string>;
  EXPECT_EQ(split(p, "Hello world!"), (V{"Hello", " world", "!"}));
  EXPECT_EQ(split(p, "don't"), (V{"don", "'t"}));
  EXPECT_EQ(split(p, "a  b"), (V{"a", " ", " b"}));  // \s+(?!\S) leaves the last space
  EXPECT_EQ(split(p, "x\n\n\ny"), (V{"x", "\n\n\n", "y"}));
  EXPECT_EQ(split(p, "2025"), (V{"2", "0", "2", "5"}));
  EXPECT_EQ(split(p, "CamelCase"), (V{"Camel", "Case"}));
  EXPECT_EQ(split(p, "trail   "), (V{"trail", "   "}));
  EXPECT_EQ(split(p, " h\xC3\xA9llo"), (V{" h\xC3\xA9llo"}));
  EXPECT_EQ(split(p, ""), V{});
}

TEST(TokenizerPretokenizer, KeepsInvalidBytesAsPieces) {
  const Pretokenizer p(std::string(kTekkenPattern), "test");
  for (const std::string& text : {std::string("ab\xFF" "cd"), std::string("\xE6\x97"),
                                 std::string("x \xC3 y\xF0\x9F\x98"), std::string("\x80\x80")}) {
    std::string joined;
    for (const auto& s : split(p, text)) {
      EXPECT_FALSE(s.empty());
      joined += s;
    }
    EXPECT_EQ(joined, text);
  }
}

TEST(TokenizerPretokenizer, BadPatternIsBadTokenizer) {
  try {
    Pretokenizer p("([unclosed", "tekken.json: config.pattern");
    FAIL() << "compiled";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::bad_tokenizer);
    EXPECT_NE(std::string(e.what()).find("config.pattern"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vrt
