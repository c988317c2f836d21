// Fuzz target: encoding and decoding arbitrary text and ids with a fixed tokenizer (the real
// tekken pre-tokenizer pattern over a synthetic 4096-rank vocabulary with tokens that cut UTF-8
// characters).
//
// The first input byte picks the mode:
//   even: the rest is text. encode() gives text ids whose bytes concatenate back to the text
//         (invalid UTF-8 included); decode() is valid UTF-8, equals the text when the text is
//         valid UTF-8, and equals the incremental decoder's output; the two BPE merge loops
//         (quadratic and heap) agree on every pre-tokenizer piece.
//   odd:  the rest is little-endian int32 ids, in range or not. decode() throws invalid_argument
//         iff an id is out of range; the incremental decoder refuses exactly those ids without
//         changing its state, and its output over the valid ids equals decode() of them.
#include <limits>
#include <memory>

#include "fuzz_util.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tekken_writer.h"
#include "tokenizer/utf8.h"
#include "voxtral_rt/tokenizer.h"

using vrt::Error;
using vrt::Status;

namespace {

struct Fixture {
  vrt::Tokenizer tok;
  vrt::bpe::RankMap ranks;  // text rank of each token's bytes (views into tok's table)
  vrt::Pretokenizer pre;
  Fixture()
      : tok(vrt::Tokenizer::from_json(vrt::make_synthetic_tekken_json(4096, 7), "synthetic")),
        pre(std::string(vrt::kTekkenPattern), "fuzz") {
    for (int r = 0; r < tok.num_text_ranks(); ++r)
      ranks.emplace(tok.token_bytes(tok.num_special_tokens() + r), r);
  }
};

const Fixture& fixture() {
  static const auto* f = new Fixture();  // never destroyed: the fuzzer exits without cleanup
  return *f;
}

void text_mode(std::string_view text) {
  const auto& f = fixture();
  const auto ids = f.tok.encode(text);
  std::string bytes;
  for (const int id : ids) {
    VRT_FUZZ_CHECK(id >= f.tok.num_special_tokens() && id < f.tok.vocab_size());
    bytes.append(f.tok.token_bytes(id));
  }
  VRT_FUZZ_CHECK(bytes == text);
  const std::string decoded = f.tok.decode(ids);
  VRT_FUZZ_CHECK(vrt::utf8::is_valid(decoded));
  if (vrt::utf8::is_valid(text)) VRT_FUZZ_CHECK(decoded == text);
  vrt::IncrementalDecoder inc(f.tok);
  std::string streamed;
  for (const int id : ids) {
    streamed += inc.push(id);
    VRT_FUZZ_CHECK(inc.pending_bytes() <= 3);
  }
  streamed += inc.finish();
  VRT_FUZZ_CHECK(streamed == decoded);

  std::string pieces;
  f.pre.split(text, [&](std::string_view piece) {
    VRT_FUZZ_CHECK(!piece.empty());
    pieces.append(piece);
    std::vector<int> a, b;
    vrt::bpe::merge_quadratic(piece, f.ranks, a);
    vrt::bpe::merge_heap(piece, f.ranks, b);
    VRT_FUZZ_CHECK(a == b);
  });
  VRT_FUZZ_CHECK(pieces == text);  // the pieces cover the text in order, nothing lost
}

void ids_mode(vrt::fuzz::Reader& r, std::size_t count) {
  const auto& f = fixture();
  const int vocab = f.tok.vocab_size();
  std::vector<int> ids, valid;
  bool any_bad = false;
  for (std::size_t i = 0; i < count; ++i) {
    // Mostly in range (small values), sometimes far out: the low byte picks which.
    const std::uint32_t raw = r.u32();
    const int id =
        (raw & 0x80) != 0 ? static_cast<int>(raw) : static_cast<int>(raw >> 8) % (vocab + 2) - 1;
    ids.push_back(id);
    if (id >= 0 && id < vocab)
      valid.push_back(id);
    else
      any_bad = true;
  }
  bool threw = false;
  std::string all;
  try {
    all = f.tok.decode(ids);
  } catch (const Error& e) {
    VRT_FUZZ_CHECK(e.status() == Status::invalid_argument);
    threw = true;
  }
  VRT_FUZZ_CHECK(threw == any_bad);
  const std::string expected = f.tok.decode(valid);
  VRT_FUZZ_CHECK(vrt::utf8::is_valid(expected));
  vrt::IncrementalDecoder inc(f.tok);
  std::string streamed;
  for (const int id : ids) {
    const std::size_t before = inc.pending_bytes();
    try {
      streamed += inc.push(id);
      VRT_FUZZ_CHECK(id >= 0 && id < vocab);
    } catch (const Error& e) {
      VRT_FUZZ_CHECK(e.status() == Status::invalid_argument && (id < 0 || id >= vocab));
      VRT_FUZZ_CHECK(inc.pending_bytes() == before);
    }
    if (id >= 0 && id < vocab) {
      (void)f.tok.piece(id);
      VRT_FUZZ_CHECK(f.tok.is_special(id) == (id < f.tok.num_special_tokens()));
    }
  }
  streamed += inc.finish();
  VRT_FUZZ_CHECK(streamed == expected);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vrt::fuzz::Reader r(data, size);
  const std::uint8_t mode = r.u8();
  if ((mode & 1) == 0) {
    text_mode(vrt::fuzz::as_text(r.rest()));
  } else {
    ids_mode(r, r.rest().size() / 4);
  }
  return 0;
}
