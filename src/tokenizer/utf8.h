// UTF-8 decoding with replacement, shared by Tokenizer::decode and IncrementalDecoder.
//
// Tokens are byte strings, so decoded text can be ill-formed or cut inside a character. Both
// decoders run the same state machine (Unicode Table 3-7 well-formed sequences), which is what
// makes the incremental output equal to the batch output by construction.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vrt::utf8 {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Appends `in` to `out` as well-formed UTF-8, replacing each maximal subpart of an ill-formed
// sequence by U+FFFD (the Unicode "substitution of maximal subparts" practice, which Python's
// errors="replace" follows). With final=false, a trailing sequence that is a valid but
// incomplete prefix is left unconsumed. Returns the number of bytes of `in` consumed.
std::size_t decode_replace(std::string_view in, std::string& out, bool final);

// True if `s` is entirely well-formed UTF-8.
bool is_valid(std::string_view s);

}  // namespace vrt::utf8
