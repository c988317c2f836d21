// voxtral-rt: segments (subtitle lines) from words, offline or as a stream goes, and subtitle
// files (SubRip .srt, WebVTT) from a transcript's segments.
#pragma once

#include <string>
#include <vector>

#include "voxtral_rt/model.h"

namespace vrt {

// Segments of a live word stream, by the rule of Transcript::segments (docs/TIMESTAMPS.md): a
// run of words closed by . ! ? or by a pause of 1 s or more, or when its text would pass 84
// characters; each lasts at least 0.5 s unless the next one starts sooner. A segment is complete
// once the word after it arrives (its end may reach to that word's start), or at finish(). Fed
// a transcript's words, it gives exactly Transcript::segments.
class SegmentBuilder {
 public:
  // Appends the segment this word completed, if any (at most one).
  void push(const Word& w, std::vector<Segment>& out);
  // Appends the last segment, if any; then ready for a new stream.
  void finish(std::vector<Segment>& out);

 private:
  void emit(double next_start_s, std::vector<Segment>& out);

  Segment current_;
  bool have_ = false;  // current_ holds words
  bool open_ = false;  // current_ takes more words (no sentence end yet)
};

std::string srt_time(double seconds);  // 00:01:02,345
std::string vtt_time(double seconds);  // 00:01:02.345

std::string to_srt(const Transcript& t);
std::string to_vtt(const Transcript& t);

}  // namespace vrt
