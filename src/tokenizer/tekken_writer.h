// Synthetic tekken.json files for tiny test checkpoints, laid out like the real one.
//
// Tests and the synthetic-checkpoint tool need a tokenizer without Mistral's 15 MB file. The
// generated vocabulary obeys every invariant the loader enforces (ranks 0..255 are the bytes,
// every later token is the concatenation of two earlier ones, all unique) and contains a few
// tokens that cut multi-byte characters, so incremental UTF-8 decoding gets exercised.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "voxtral_rt/config.h"

namespace vrt {

// config.pattern of Voxtral-Mini-4B-Realtime-2602's tekken.json (the tekken pre-tokenizer).
inline constexpr std::string_view kTekkenPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|)"
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}|)"
    R"( ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

inline constexpr int kTekkenNumSpecialTokens = 1000;

struct SpecialTokenInfo {
  std::string_view name;
  bool is_control;
};
// Special ids 0..34 of the real file (named; ../shared/data/tokenizer/
// voxtral_realtime_special_tokens.tsv). Ids 35..999 are "<SPECIAL_N>", all control tokens.
std::span<const SpecialTokenInfo> named_special_tokens();

// A complete tekken.json (indent 2, the real key order): config (the real pattern,
// num_vocab_tokens = num_text_ranks, default_vocab_size = num_text_ranks + 1000,
// default_num_special_tokens 1000, version "v7"), `num_text_ranks` vocab entries built
// deterministically from `seed`, the 1000 special tokens and the `audio` block from `audio`.
// Throws Error(invalid_argument) unless 256 <= num_text_ranks <= 1 << 20.
std::string make_synthetic_tekken_json(int num_text_ranks, std::uint64_t seed,
                                       const StreamingConfig& audio = {});

}  // namespace vrt
