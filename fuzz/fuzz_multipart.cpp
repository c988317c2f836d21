// Fuzz target: the HTTP multipart/form-data parser of POST /v1/audio/transcriptions
// (src/server/multipart): parse_multipart and multipart_boundary.
//
// Input: a flags byte (bit 0: small limits, so the caps are crossed by inputs of fuzzing size),
// a boundary length byte n (n % 80: lengths 0 and 71-79 must be refused), n boundary bytes, then
// the body. The boundary is also given to multipart_boundary inside a Content-Type header, bare
// and quoted.
//
// Invariants (recomputed from the body, not from the parser's state): only MultipartError is
// thrown; a boundary outside 1-70 bytes is refused; on success at most max_parts parts, in order,
// each a view inside the body that is followed by the delimiter CRLF "--" boundary and contains
// none; the body starts with "--" boundary or has it within max_preamble_bytes; each part's
// header block (from the CRLF after its delimiter to its data) is at most max_header_bytes + 2
// bytes and max_header_lines + 1 lines; the last delimiter is the close delimiter ("--" after
// it); header values hold no CR, LF; an accepted Content-Type boundary has 1-70 RFC 2046
// characters, does not end in a space, and equals the one given when it was a plain token.
#include "fuzz_util.h"
#include "server/multipart.h"

namespace {

namespace srv = vrt::server;

bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_bchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

void check_content_type(std::string_view boundary) {
  for (const bool quoted : {false, true}) {
    const std::string ct = "Multipart/Form-Data; boundary=" + std::string(quoted ? "\"" : "") + std::string(boundary) +
                           (quoted ? "\"" : "");
    try {
      const std::string b = srv::multipart_boundary(ct);
      VRT_FUZZ_CHECK(!b.empty() && b.size() <= 70 && b.back() != ' ');
      VRT_FUZZ_CHECK(std::all_of(b.begin(), b.end(), is_bchar));
      // What was given comes back unless quoting changed it (escapes) or it was not one token.
      const bool plain = quoted ? boundary.find_first_of("\"\\") == std::string_view::npos
                                : std::all_of(boundary.begin(), boundary.end(), is_tchar);
      if (plain) VRT_FUZZ_CHECK(b == boundary);
    } catch (const srv::MultipartError& e) {
      VRT_FUZZ_CHECK(*e.what() != '\0');
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vrt::fuzz::Reader r(data, size);
  const std::uint8_t flags = r.u8();
  const std::string boundary(vrt::fuzz::as_text(r.take(r.u8() % 80)));
  const std::string body(vrt::fuzz::as_text(r.rest()));  // exactly sized: ASan sees over-reads
  srv::MultipartLimits limits;
  if (flags & 1) {
    limits.max_parts = 2;
    limits.max_header_lines = 2;
    limits.max_header_bytes = 64;
    limits.max_preamble_bytes = 8;
  }
  check_content_type(boundary);

  std::vector<srv::FormPart> parts;
  try {
    parts = srv::parse_multipart(body, boundary, limits);
  } catch (const srv::MultipartError& e) {
    VRT_FUZZ_CHECK(*e.what() != '\0');
    return 0;
  }
  VRT_FUZZ_CHECK(!boundary.empty() && boundary.size() <= 70);
  VRT_FUZZ_CHECK(parts.size() <= limits.max_parts);
  const std::string delim = "\r\n--" + boundary;
  const std::string_view b(body);

  // The first delimiter: at the start (without its CRLF) or within the preamble cap.
  std::size_t after;  // just after the current delimiter
  if (b.substr(0, delim.size() - 2) == std::string_view(delim).substr(2)) {
    after = delim.size() - 2;
  } else {
    const std::size_t d = b.find(delim);
    VRT_FUZZ_CHECK(d != std::string_view::npos && d <= limits.max_preamble_bytes);
    after = d + delim.size();
  }
  for (const auto& p : parts) {
    VRT_FUZZ_CHECK(p.data.data() >= body.data() && p.data.data() + p.data.size() <= body.data() + body.size());
    const auto begin = static_cast<std::size_t>(p.data.data() - body.data());
    const std::size_t end = begin + p.data.size();
    // Transport padding, CRLF, then the header block up to the data.
    std::size_t h = after;
    while (h < b.size() && (b[h] == ' ' || b[h] == '\t')) ++h;
    VRT_FUZZ_CHECK(b.substr(h, 2) == "\r\n");
    h += 2;
    VRT_FUZZ_CHECK(h <= begin && begin - h <= limits.max_header_bytes + 2);
    std::size_t lines = 0;
    for (std::size_t i = b.find("\r\n", h); i != std::string_view::npos && i < begin; i = b.find("\r\n", i + 2)) ++lines;
    // At least the Content-Disposition line and the empty line ending the block.
    VRT_FUZZ_CHECK(lines >= 2 && lines <= limits.max_header_lines + 1);
    VRT_FUZZ_CHECK(b.substr(begin - 4, 4) == "\r\n\r\n");
    // The data holds no delimiter and is followed by one.
    VRT_FUZZ_CHECK(p.data.find(delim) == std::string_view::npos);
    VRT_FUZZ_CHECK(b.substr(end, delim.size()) == delim);
    VRT_FUZZ_CHECK(p.content_type.find_first_of("\r\n") == std::string::npos);
    VRT_FUZZ_CHECK(p.name.find_first_of("\r\n") == std::string::npos);
    if (p.filename) VRT_FUZZ_CHECK(p.filename->find_first_of("\r\n") == std::string::npos);
    after = end + delim.size();
  }
  VRT_FUZZ_CHECK(b.substr(after, 2) == "--");
  return 0;
}
