// Streaming (SAX) reader for tekken.json.
//
// The file is ~15 MB, mostly 150k small vocab objects. nlohmann's callback parser (what
// json::parse_strict uses to catch duplicate keys) takes ~9 s on it against ~0.1 s for the plain
// SAX parser, and a DOM of 150k maps costs ~60 MB. This reader keeps the plain SAX speed: it
// decodes vocab entries on the fly into one byte blob, checking each entry's shape as it goes,
// and builds an ordinary DOM only for the small rest (config, special_tokens, audio). Duplicate
// keys anywhere and nesting deeper than a cap are rejected, as parse_strict does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vrt::tekken {

inline constexpr std::size_t kMaxTokenBytes = 1024;  // the real maximum is 76
inline constexpr int kMaxJsonDepth = 32;             // the real file nests 3 deep

// tekken.json after syntax and per-entry shape checks, before the cross-entry invariants.
struct Document {
  // The top-level value. When "vocab" is an array, its member here is an empty array and the
  // entries are below; any other "vocab" value is kept as is for the validator to reject.
  nlohmann::json root;
  bool vocab_is_array = false;
  // Entry i of "vocab" (already checked: exactly the keys rank, token_bytes, token_str; rank ==
  // i; token_bytes canonical base64 of 1..kMaxTokenBytes bytes; token_str a string or null)
  // holds blob[offsets[i], offsets[i+1]).
  std::string blob;
  std::vector<std::uint32_t> offsets{0};

  std::size_t vocab_entries() const { return offsets.size() - 1; }
  std::string_view token(std::size_t i) const {
    return std::string_view(blob).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
};

// Parses `text`; throws Error(bad_tokenizer) naming `source` and the offending place.
// `text` must be smaller than 4 GiB (callers cap it far lower).
Document parse_document(std::string_view text, const std::string& source);

}  // namespace vrt::tekken
