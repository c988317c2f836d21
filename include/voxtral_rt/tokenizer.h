// voxtral-rt: the tekken tokenizer (Mistral's tiktoken-style byte-level BPE) of tekken.json.
//
// Transcription only needs ids -> text (special ids are dropped, text ids map to raw bytes, and
// a streaming printer must hold back UTF-8 sequences split across tokens); encode() exists for
// tests and tools. Token ids follow mistral-common: ids 0..S-1 are the S special tokens, id
// S + r is BPE rank r (S = 1000 for Voxtral). The tokenizer also carries the `audio` block of
// tekken.json, which sets the streaming schedule. See ../shared/docs/voxtral-spec.md §4.
//
// A Tokenizer is immutable after loading; copies share one table and every const method may be
// called from several threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "voxtral_rt/config.h"

namespace vrt {

class Tokenizer {
 public:
  // Reads tekken.json (capped at 64 MiB). Throws vrt::Error: not_found / io_error for the file,
  // bad_tokenizer for anything malformed or violating the format's invariants (the message
  // names the file and the offending entry), unsupported_model for a well-formed `audio` block
  // this engine does not run.
  static Tokenizer from_file(const std::string& path);
  // The same from text already in memory; `source` names it in error messages.
  static Tokenizer from_json(std::string_view text, const std::string& source = "tekken.json");

  int vocab_size() const;          // default_vocab_size: specials + text ranks (131072)
  int num_special_tokens() const;  // default_num_special_tokens (1000)
  int num_text_ranks() const;      // vocab_size() - num_special_tokens() (130072)
  const std::string& version() const;  // config.version, e.g. "v7"
  const std::string& pattern() const;  // the pre-tokenizer regex
  const StreamingConfig& streaming() const;  // the `audio` block

  // Ids. Functions taking an id throw Error(invalid_argument) when it is outside
  // [0, vocab_size()), except is_special(), which just answers false.
  bool is_special(int id) const;
  std::string_view special_name(int id) const;  // invalid_argument unless is_special(id)
  std::optional<int> special_id(std::string_view name) const;
  // The ids the realtime model uses, looked up by name; Error(bad_tokenizer) if the file lacks it.
  int bos_id() const;             // <s>
  int eos_id() const;             // </s>
  int streaming_pad_id() const;   // [STREAMING_PAD]
  int streaming_word_id() const;  // [STREAMING_WORD]

  // Raw bytes of a text token (possibly a fragment of a UTF-8 character); empty for specials.
  std::string_view token_bytes(int id) const;
  // For display: the raw bytes of a text token, the name of a special one.
  std::string piece(int id) const;

  // Drops special ids, concatenates the bytes of the rest and decodes them as UTF-8, each
  // maximal ill-formed subsequence becoming U+FFFD (Python's errors="replace", as tiktoken).
  std::string decode(std::span<const int> ids) const;
  // Plain text to ids: pre-tokenize with pattern() (PCRE2, Unicode mode), then rank BPE on each
  // piece, as tiktoken does. Special-token strings in the text are ordinary text. Bytes that are
  // not valid UTF-8 are kept (encoded byte-wise), so the tokens' bytes always concatenate back
  // to `text`. Throws Error(invalid_argument) if the regex engine gives up on the text.
  std::vector<int> encode(std::string_view text) const;

  // Copies (and moves, which are copies) share the immutable table: there is no empty state.
  ~Tokenizer();
  Tokenizer(const Tokenizer&) noexcept;
  Tokenizer& operator=(const Tokenizer&) noexcept;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
  friend class IncrementalDecoder;
};

// Turns a stream of ids into text as it arrives. A character whose bytes are split across
// tokens is held back until it is complete; an ill-formed sequence becomes U+FFFD as soon as
// it is known to be ill-formed. The concatenation of every push() and the final finish() equals
// Tokenizer::decode() of the whole stream. Keeps the tokenizer's table alive by itself.
class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const Tokenizer& tokenizer);

  // Text completed by this token (often empty). Specials produce nothing. Throws
  // Error(invalid_argument) for an id outside the vocabulary, leaving the state unchanged.
  std::string push(int id);
  // Flushes: a held-back incomplete sequence becomes U+FFFD. The decoder is then empty and
  // may be reused for a new stream.
  std::string finish();
  // Bytes held back (0..3).
  std::size_t pending_bytes() const { return pending_.size(); }

 private:
  std::shared_ptr<const Tokenizer::Impl> impl_;
  std::string pending_;
};

}  // namespace vrt
