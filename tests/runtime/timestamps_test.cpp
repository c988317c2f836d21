// Word and segment timing from token streams (rule in docs/TIMESTAMPS.md).
#include "runtime/timestamps.h"
#include "voxtral_rt/subtitles.h"

#include <gtest/gtest.h>

namespace vrt {
namespace {

constexpr int kWord = 33;  // [STREAMING_WORD]
constexpr int kPad = 32;   // [STREAMING_PAD]

// Builds a stream: negative = a special token id, else a text piece.
std::vector<Token> stream(const std::vector<std::pair<int, std::string>>& items) {
  std::vector<Token> t;
  for (std::size_t k = 0; k < items.size(); ++k) {
    Token x;
    x.id = items[k].first;
    x.special = x.id < 1000;
    x.piece = items[k].second;
    x.time_s = token_time_s(static_cast<std::int64_t>(k), 0.08);
    t.push_back(x);
  }
  return t;
}

TEST(Timestamps, TokenTimeLagsTheDecisionByOneFrame) {
  // Token k refers to audio ending at (k - 1) x 80 ms, never before 0.
  EXPECT_DOUBLE_EQ(token_time_s(0, 0.08), 0.0);
  EXPECT_DOUBLE_EQ(token_time_s(1, 0.08), 0.0);
  EXPECT_DOUBLE_EQ(token_time_s(2, 0.08), 0.08);
  EXPECT_DOUBLE_EQ(token_time_s(26, 0.08), 2.0);
}

TEST(Timestamps, WordsFromTheGoldenShape) {
  // The shape of voxtral_realtime_tokens_8297-275156-0000.json: PAD..., WORD " What", PAD, WORD " are" ...
  const auto t = stream({{kPad, ""}, {kPad, ""}, {kWord, ""}, {5675, " What"}, {kPad, ""}, {kWord, ""},
                         {1636, " are"}, {kPad, ""}, {kPad, ""}, {kWord, ""}, {3226, " do"}, {1063, "ing"},
                         {1046, "?"}, {kPad, ""}});
  const auto w = words_from_tokens(t, kWord);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].text, "What");
  EXPECT_EQ(w[1].text, "are");
  EXPECT_EQ(w[2].text, "doing?");  // pieces without a space or marker continue the word
  // End = time of the first text token: indices 3, 6, 10 -> 2, 5, 9 frames of 80 ms.
  EXPECT_DOUBLE_EQ(w[0].end_s, 2 * 0.08);
  EXPECT_DOUBLE_EQ(w[1].end_s, 5 * 0.08);
  EXPECT_DOUBLE_EQ(w[2].end_s, 9 * 0.08);
  // Start = previous end (the first word: its end minus at most 1 s, not below 0).
  EXPECT_DOUBLE_EQ(w[0].start_s, 0.0);
  EXPECT_DOUBLE_EQ(w[1].start_s, w[0].end_s);
  EXPECT_DOUBLE_EQ(w[2].start_s, w[1].end_s);
}

TEST(Timestamps, LongPauseStartsAtMostOneSecondBeforeTheEnd) {
  std::vector<std::pair<int, std::string>> items = {{1000, " Hi."}};
  for (int i = 0; i < 50; ++i) items.push_back({kPad, ""});
  items.push_back({1001, " Again"});
  const auto w = words_from_tokens(stream(items), kWord);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_DOUBLE_EQ(w[1].end_s, 50 * 0.08);
  EXPECT_DOUBLE_EQ(w[1].start_s, 50 * 0.08 - 1.0);
}

TEST(Timestamps, SegmentsSplitAtSentencesPausesAndLength) {
  std::vector<Word> w = {{"Hello", 0.0, 0.4}, {"there.", 0.4, 0.8}, {"New", 0.8, 1.0},
                         {"sentence", 1.0, 1.4}, {"after", 3.0, 3.3}, {"pause", 3.3, 3.6}};
  const auto s = segments_from_words(w);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].text, "Hello there.");
  EXPECT_DOUBLE_EQ(s[0].start_s, 0.0);
  EXPECT_DOUBLE_EQ(s[0].end_s, 0.8);
  EXPECT_EQ(s[1].text, "New sentence");
  EXPECT_EQ(s[2].text, "after pause");  // 1.6 s gap >= 1 s
  std::vector<Word> many;
  for (int i = 0; i < 40; ++i) many.push_back({"word", i * 0.3, i * 0.3 + 0.3});
  for (const auto& seg : segments_from_words(many)) EXPECT_LE(seg.text.size(), 84u);
}

}  // namespace
}  // namespace vrt

namespace vrt {
namespace {

TEST(Timestamps, SegmentsLastLongEnoughToBeSeen) {
  // A one-word segment at 0 s has zero length from the words alone: stretched to 0.5 s, but
  // never into the next segment.
  const auto s = segments_from_words({{"Hi.", 0.0, 0.0}, {"Yes.", 0.3, 0.3}, {"Ok.", 5.0, 5.0}});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_DOUBLE_EQ(s[0].end_s, 0.3);
  EXPECT_DOUBLE_EQ(s[1].end_s, 0.8);
  EXPECT_DOUBLE_EQ(s[2].end_s, 5.5);
}

}  // namespace
}  // namespace vrt

namespace vrt {
namespace {

TEST(Timestamps, LiveSegmentsComeOutWhenTheNextWordArrives) {
  // The words of SegmentsSplitAtSentencesPausesAndLength, one at a time: a segment is complete
  // when the first word of the next one arrives (its end may reach to that word), the last at
  // finish(); then the builder serves a new stream.
  const std::vector<Word> w = {{"Hello", 0.0, 0.4}, {"there.", 0.4, 0.8}, {"New", 0.8, 1.0},
                               {"sentence", 1.0, 1.4}, {"after", 3.0, 3.3}, {"pause", 3.3, 3.6}};
  const std::size_t emitted_after[] = {0, 0, 1, 1, 2, 2};  // segments out after each push
  SegmentBuilder b;
  for (int stream = 0; stream < 2; ++stream) {
    std::vector<Segment> out;
    for (std::size_t i = 0; i < w.size(); ++i) {
      b.push(w[i], out);
      EXPECT_EQ(out.size(), emitted_after[i]) << "after word " << i;
    }
    b.finish(out);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].text, "Hello there.");
    EXPECT_DOUBLE_EQ(out[0].end_s, 0.8);
    EXPECT_EQ(out[1].text, "New sentence");
    EXPECT_DOUBLE_EQ(out[1].end_s, 1.4);
    EXPECT_EQ(out[2].text, "after pause");
    EXPECT_DOUBLE_EQ(out[2].start_s, 3.0);
    EXPECT_DOUBLE_EQ(out[2].end_s, 3.6);
    b.finish(out);  // nothing left
    EXPECT_EQ(out.size(), 3u);
  }
}

}  // namespace
}  // namespace vrt
