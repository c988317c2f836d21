// Fuzz target: strict RFC 4648 base64 (src/tokenizer/base64), used for tekken.json token bytes
// and meant for the realtime protocol's audio payloads.
//
// Invariants: decode_strict accepts exactly the canonical encodings, i.e. whenever it returns
// bytes, encode(bytes) gives back the input character for character (so two strings never name
// the same bytes); encode's output always decodes back to its input; decoded size = 3/4 of the
// input minus the padding.
#include "fuzz_util.h"
#include "common/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = vrt::fuzz::as_text({data, size});
  if (const auto bytes = vrt::base64::decode_strict(in)) {
    VRT_FUZZ_CHECK(vrt::base64::encode(*bytes) == in);
    VRT_FUZZ_CHECK(in.size() % 4 == 0);
    const std::size_t pad =
        in.empty() ? 0 : (in.back() == '=') + (in.size() > 1 && in[in.size() - 2] == '=');
    VRT_FUZZ_CHECK(bytes->size() == in.size() / 4 * 3 - pad);
  }
  const std::string enc = vrt::base64::encode(in);
  VRT_FUZZ_CHECK(enc.size() == (in.size() + 2) / 3 * 4);
  const auto back = vrt::base64::decode_strict(enc);
  VRT_FUZZ_CHECK(back.has_value() && *back == in);
  return 0;
}
