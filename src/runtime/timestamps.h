// Word and segment timing from the generated token stream (docs/TIMESTAMPS.md explains the rule).
//
// Generated token k is decided at decoder position P-1+k, after the model has seen real audio
// up to (k + delay + 1) x 80 ms. Measured against forced alignment (spec §8.2), the first text
// token of a word at index k marks the word's end at about (k - 1) x 80 ms: text lags speech by
// the delay plus two frames. So token k refers to audio time max(0, k - 1) x 80 ms.
#pragma once

#include <vector>

#include "voxtral_rt/model.h"

namespace vrt {

// The audio time (seconds) generated token k refers to.
double token_time_s(std::int64_t k, double seconds_per_token);

// Words: a word starts at a text piece with a leading space or after [STREAMING_WORD]; its end
// is the time of its first text token, its start the previous word's end (or its end minus the
// longest plausible word, 1 s, for the first word and after pauses).
std::vector<Word> words_from_tokens(const std::vector<Token>& tokens, int streaming_word_id);

// Segments for subtitles: runs of words closed by . ! ? or a pause of 1 s or more, or when the
// text would pass 84 characters; each lasts at least 0.5 s unless the next one starts sooner.
std::vector<Segment> segments_from_words(const std::vector<Word>& words);

}  // namespace vrt
