#include "runtime/timestamps.h"

#include "voxtral_rt/subtitles.h"

#include <algorithm>

namespace vrt {
namespace {

constexpr double kMaxWordSeconds = 1.0;
constexpr double kPauseSeconds = 1.0;
constexpr std::size_t kMaxSegmentChars = 84;  // two subtitle lines of 42
constexpr double kMinSegmentSeconds = 0.5;

bool ends_sentence(const std::string& w) {
  return !w.empty() && (w.back() == '.' || w.back() == '!' || w.back() == '?');
}

}  // namespace

double token_time_s(std::int64_t k, double seconds_per_token) {
  return static_cast<double>(std::max<std::int64_t>(0, k - 1)) * seconds_per_token;
}

std::vector<Word> words_from_tokens(const std::vector<Token>& tokens, int streaming_word_id) {
  std::vector<Word> words;
  bool new_word = true;
  for (const auto& t : tokens) {
    if (t.special) {
      if (t.id == streaming_word_id) new_word = true;
      continue;
    }
    if (t.piece.empty()) continue;
    const bool space = t.piece[0] == ' ';
    if (new_word || space || words.empty()) {
      Word w;
      w.end_s = t.time_s;
      const double prev_end = words.empty() ? 0.0 : words.back().end_s;
      w.start_s = std::max(prev_end, w.end_s - kMaxWordSeconds);
      words.push_back(w);
      new_word = false;
    }
    words.back().text += t.piece;
  }
  // Leading spaces belong to the word boundary, not the word.
  for (auto& w : words) {
    const auto first = w.text.find_first_not_of(' ');
    w.text = first == std::string::npos ? std::string() : w.text.substr(first);
  }
  words.erase(std::remove_if(words.begin(), words.end(), [](const Word& w) { return w.text.empty(); }),
              words.end());
  return words;
}

void SegmentBuilder::emit(double next_start_s, std::vector<Segment>& out) {
  // A subtitle needs time on screen: at least kMinSegmentSeconds, without running into the next.
  current_.end_s = std::max(current_.end_s, std::min(current_.start_s + kMinSegmentSeconds, next_start_s));
  out.push_back(std::move(current_));
  current_ = {};
  have_ = false;
}

void SegmentBuilder::push(const Word& w, std::vector<Segment>& out) {
  const bool pause = have_ && w.start_s - current_.end_s >= kPauseSeconds;
  const bool too_long = have_ && current_.text.size() + 1 + w.text.size() > kMaxSegmentChars;
  if (!open_ || pause || too_long) {
    if (have_) emit(w.start_s, out);
    current_ = {w.text, w.start_s, w.end_s};
    have_ = true;
  } else {
    current_.text += " " + w.text;
    current_.end_s = w.end_s;
  }
  open_ = !ends_sentence(w.text);
}

void SegmentBuilder::finish(std::vector<Segment>& out) {
  if (have_) emit(current_.start_s + kMinSegmentSeconds, out);
  open_ = false;
}

std::vector<Segment> segments_from_words(const std::vector<Word>& words) {
  std::vector<Segment> segs;
  SegmentBuilder b;
  for (const auto& w : words) b.push(w, segs);
  b.finish(segs);
  return segs;
}

}  // namespace vrt
