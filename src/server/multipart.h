// Strict, bounded multipart/form-data parsing (RFC 7578 over RFC 2046) for
// POST /v1/audio/transcriptions. Beast has no multipart support.
//
// The body is untrusted: every step is linear in its size (no backtracking, no regex; cf.
// python-multipart CVE-2024-53981 and CVE-2024-24762), part count and header lines are capped,
// and anything malformed is an error rather than a best guess. Parts are views into the body.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vrt::server {

class MultipartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MultipartLimits {
  std::size_t max_parts = 16;              // hardening.md 3b
  std::size_t max_header_lines = 16;       // per part
  std::size_t max_header_bytes = 8192;     // per part, all lines together
  std::size_t max_preamble_bytes = 1024;   // text before the first delimiter (curl sends none)
};

struct FormPart {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // present for file fields (never used as a path)
  std::string content_type;             // "" when absent
  std::string_view data;                // points into the parsed body
};

// The boundary parameter of a Content-Type header value. Requires media type
// multipart/form-data (case-insensitive) and a boundary of 1-70 RFC 2046 bchars, quoted or not.
std::string multipart_boundary(std::string_view content_type);

// Splits `body` into its parts. Throws MultipartError naming what is wrong: a missing first
// delimiter, a truncated body (no closing delimiter), a part without a form-data
// Content-Disposition and name, too many parts or header lines, malformed header lines.
std::vector<FormPart> parse_multipart(std::string_view body, std::string_view boundary,
                                      const MultipartLimits& limits = {});

}  // namespace vrt::server
