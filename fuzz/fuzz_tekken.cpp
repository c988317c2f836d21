// Fuzz target: loading tekken.json (Tokenizer::from_json: SAX reader, strict base64, the
// Tekkenizer invariants, PCRE2 pattern compile, audio block), then using what loaded.
//
// Invariants of an accepted tokenizer (docs/LIMITS.md, hardening.md §1c): sizes consistent
// (vocab = specials + text ranks), ids 0..255 after the specials are the 256 bytes, every id
// answers piece()/token_bytes() and out-of-range ids throw invalid_argument; encoding any text
// gives text ids whose bytes concatenate back to the text, and decode() equals the incremental
// decoder's output.
#include <limits>
#include <optional>

#include "fuzz_util.h"
#include "tokenizer/utf8.h"
#include "voxtral_rt/tokenizer.h"

using vrt::Error;
using vrt::Status;

namespace {

void check_round_trip(const vrt::Tokenizer& tok, std::string_view text) {
  std::vector<int> ids;
  try {
    ids = tok.encode(text);
  } catch (const Error& e) {
    // The regex engine may give up on a hostile pattern (match limit): a clear error, not a hang.
    VRT_FUZZ_CHECK(e.status() == Status::invalid_argument);
    return;
  }
  std::string bytes;
  for (const int id : ids) {
    VRT_FUZZ_CHECK(id >= tok.num_special_tokens() && id < tok.vocab_size());
    bytes.append(tok.token_bytes(id));
  }
  VRT_FUZZ_CHECK(bytes == text);
  const std::string decoded = tok.decode(ids);
  VRT_FUZZ_CHECK(vrt::utf8::is_valid(decoded));
  if (vrt::utf8::is_valid(text)) VRT_FUZZ_CHECK(decoded == text);
  vrt::IncrementalDecoder inc(tok);
  std::string streamed;
  for (const int id : ids) streamed += inc.push(id);
  streamed += inc.finish();
  VRT_FUZZ_CHECK(streamed == decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = vrt::fuzz::as_text({data, size});
  std::optional<vrt::Tokenizer> tok;
  try {
    tok.emplace(vrt::Tokenizer::from_json(text, "fuzz/tekken.json"));
  } catch (const Error& e) {
    VRT_FUZZ_CHECK(e.status() == Status::bad_tokenizer || e.status() == Status::unsupported_model);
    return 0;
  }
  const int specials = tok->num_special_tokens();
  VRT_FUZZ_CHECK(specials >= 1 && specials <= 65536);
  VRT_FUZZ_CHECK(tok->num_text_ranks() >= 256);
  VRT_FUZZ_CHECK(tok->vocab_size() == specials + tok->num_text_ranks());
  for (int b = 0; b < 256; ++b) {
    const auto t = tok->token_bytes(specials + b);
    VRT_FUZZ_CHECK(t.size() == 1 && static_cast<unsigned char>(t[0]) == b);
  }
  for (int id = 0; id < tok->vocab_size(); ++id) {
    const auto piece = tok->piece(id);
    if (tok->is_special(id)) {
      VRT_FUZZ_CHECK(tok->special_id(tok->special_name(id)) == id);
      VRT_FUZZ_CHECK(tok->token_bytes(id).empty());
    } else {
      VRT_FUZZ_CHECK(!piece.empty() && piece.size() <= 1024 && piece == tok->token_bytes(id));
    }
  }
  for (const int bad :
       {-1, tok->vocab_size(), std::numeric_limits<int>::max(), std::numeric_limits<int>::min()}) {
    bool refused = false;
    try {
      (void)tok->piece(bad);
    } catch (const Error& e) {
      refused = e.status() == Status::invalid_argument;
    }
    VRT_FUZZ_CHECK(refused);
    VRT_FUZZ_CHECK(!tok->is_special(bad));
  }
  const auto& s = tok->streaming();
  VRT_FUZZ_CHECK(s.samples_per_token() > 0 && s.samples_per_token() % s.hop_length == 0);
  VRT_FUZZ_CHECK(s.num_mel_bins >= 1 && s.num_mel_bins <= s.window_size / 2 + 1);
  for (const char* name : {"<s>", "</s>", "[STREAMING_PAD]", "[STREAMING_WORD]"}) {
    const auto id = tok->special_id(name);
    if (id) VRT_FUZZ_CHECK(tok->is_special(*id) && tok->special_name(*id) == name);
  }

  // The pattern comes from the file: run it on fixed text and on the tail of the input itself
  // (capped, since a hostile pattern may backtrack heavily).
  check_round_trip(*tok, "Hello world! 123 \xC3\xA9t\xC3\xA9  \n\n\xF0\x9F\x98\x80 x\xFFy\xE2\x82");
  check_round_trip(*tok, text.substr(text.size() - std::min<std::size_t>(text.size(), 96)));
  return 0;
}
