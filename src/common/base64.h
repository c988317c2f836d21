// Strict RFC 4648 base64 (standard alphabet, padded), for tekken.json `token_bytes`.
//
// Lenient decoders (Python's b64decode without validate=True) skip junk characters and accept
// non-canonical padding bits, so two different strings could name the same token and slip past
// the uniqueness check. Only the canonical encoding of a byte string is accepted here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vrt::base64 {

// Decodes `in`; nullopt unless it is the canonical padded encoding of some bytes (length a
// multiple of 4, alphabet A-Z a-z 0-9 + /, '=' only as the last one or two characters, unused
// low bits zero). The empty string decodes to empty bytes.
std::optional<std::string> decode_strict(std::string_view in);

// Canonical padded encoding.
std::string encode(std::string_view bytes);

}  // namespace vrt::base64
