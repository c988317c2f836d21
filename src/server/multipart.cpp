#include "server/multipart.h"

#include <algorithm>
#include <functional>

namespace vrt::server {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool is_tchar(char c) {  // RFC 9110 token characters
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_bchar(char c) {  // RFC 2046 bcharsnospace (space is handled separately)
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("'()+_,-./:=?").find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A header value of the form `type *( ";" param "=" ( token / quoted-string ) )`, scanned once
// left to right. Returns the type; params are appended lower-cased by name.
struct Param {
  std::string name, value;
};
std::string parse_params(std::string_view v, std::vector<Param>& params, const char* what) {
  std::size_t i = 0;
  const auto skip_ws = [&] { while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i; };
  const auto fail = [&](const std::string& m) -> MultipartError {
    return MultipartError(std::string(what) + ": " + m);
  };
  skip_ws();
  std::string type;
  while (i < v.size() && (is_tchar(v[i]) || v[i] == '/')) type += lower(v[i++]);
  if (type.empty()) throw fail("missing type");
  for (;;) {
    skip_ws();
    if (i == v.size()) break;
    if (v[i] != ';') throw fail("expected ';' at offset " + std::to_string(i));
    ++i;
    skip_ws();
    if (i == v.size()) break;  // a trailing ';' is common and harmless
    Param p;
    while (i < v.size() && is_tchar(v[i])) p.name += lower(v[i++]);
    if (p.name.empty() || i == v.size() || v[i] != '=') throw fail("malformed parameter at offset " + std::to_string(i));
    ++i;
    if (i < v.size() && v[i] == '"') {
      ++i;
      bool closed = false;
      while (i < v.size()) {
        char c = v[i++];
        if (c == '"') { closed = true; break; }
        if (c == '\\') {
          if (i == v.size()) break;
          c = v[i++];
        }
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') throw fail("control character in a quoted value");
        p.value += c;
      }
      if (!closed) throw fail("unterminated quoted value");
    } else {
      while (i < v.size() && is_tchar(v[i])) p.value += v[i++];
      if (p.value.empty()) throw fail("empty value for parameter '" + p.name + "'");
    }
    for (const auto& q : params)
      if (q.name == p.name) throw fail("duplicate parameter '" + p.name + "'");
    params.push_back(std::move(p));
  }
  return type;
}

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
  std::vector<Param> params;
  const std::string type = parse_params(content_type, params, "Content-Type");
  if (type != "multipart/form-data")
    throw MultipartError("Content-Type must be multipart/form-data, got '" + type + "'");
  for (const auto& p : params) {
    if (p.name != "boundary") continue;
    const std::string& b = p.value;
    if (b.empty() || b.size() > 70) throw MultipartError("multipart boundary must have 1 to 70 characters");
    for (char c : b)
      if (!is_bchar(c) && c != ' ') throw MultipartError("multipart boundary has a character outside RFC 2046");
    if (b.back() == ' ') throw MultipartError("multipart boundary ends with a space");
    return b;
  }
  throw MultipartError("Content-Type multipart/form-data without a boundary");
}

std::vector<FormPart> parse_multipart(std::string_view body, std::string_view boundary, const MultipartLimits& limits) {
  if (boundary.empty() || boundary.size() > 70) throw MultipartError("bad multipart boundary");
  // Every delimiter after the first is CRLF "--" boundary; the first may start the body.
  const std::string delim = "\r\n--" + std::string(boundary);
  const std::boyer_moore_horspool_searcher searcher(delim.begin(), delim.end());
  const auto find_delim = [&](std::size_t from) -> std::size_t {
    const auto it = std::search(body.begin() + static_cast<std::ptrdiff_t>(from), body.end(), searcher);
    return it == body.end() ? std::string_view::npos : static_cast<std::size_t>(it - body.begin());
  };

  std::size_t pos;  // just after a delimiter
  const std::string_view first(delim.data() + 2, delim.size() - 2);
  if (body.substr(0, first.size()) == first) {
    pos = first.size();
  } else {
    const std::size_t d = find_delim(0);
    if (d == std::string_view::npos || d > limits.max_preamble_bytes)
      throw MultipartError("multipart body does not start with its boundary");
    pos = d + delim.size();
  }

  std::vector<FormPart> parts;
  for (;;) {
    if (body.substr(pos, 2) == "--") return parts;  // close delimiter; the epilogue is ignored
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;  // transport padding
    if (body.substr(pos, 2) != "\r\n") {
      if (pos >= body.size()) throw MultipartError("multipart body truncated after a boundary");
      throw MultipartError("multipart boundary not followed by CRLF");
    }
    pos += 2;
    if (parts.size() == limits.max_parts)
      throw MultipartError("too many multipart parts (limit " + std::to_string(limits.max_parts) + ")");

    // Part headers: CRLF-terminated lines up to an empty one.
    FormPart part;
    bool have_disposition = false;
    std::size_t lines = 0;
    const std::size_t headers_start = pos;
    for (;;) {
      const std::size_t window = std::min(body.size(), headers_start + limits.max_header_bytes + 2);
      const std::size_t eol = body.substr(0, window).find("\r\n", pos);
      if (eol == std::string_view::npos) {
        if (window < body.size()) throw MultipartError("multipart part headers too long");
        throw MultipartError("multipart body truncated in part headers");
      }
      const std::string_view line = body.substr(pos, eol - pos);
      pos = eol + 2;
      if (line.empty()) break;
      if (++lines > limits.max_header_lines) throw MultipartError("too many header lines in a multipart part");
      if (line.find_first_of("\r\n") != std::string_view::npos || line.find('\0') != std::string_view::npos)
        throw MultipartError("bare CR, LF or NUL in a multipart header line");
      if (line.front() == ' ' || line.front() == '\t') throw MultipartError("folded multipart header lines are not accepted");
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) throw MultipartError("malformed multipart header line");
      const std::string_view name = line.substr(0, colon);
      if (!std::all_of(name.begin(), name.end(), is_tchar)) throw MultipartError("malformed multipart header name");
      const std::string_view value = trim(line.substr(colon + 1));
      if (iequals(name, "content-disposition")) {
        if (have_disposition) throw MultipartError("duplicate Content-Disposition in a multipart part");
        have_disposition = true;
        std::vector<Param> params;
        if (parse_params(value, params, "Content-Disposition") != "form-data")
          throw MultipartError("multipart part is not form-data");
        bool have_name = false;
        for (auto& p : params) {
          if (p.name == "name") {
            part.name = std::move(p.value);
            have_name = true;
          } else if (p.name == "filename") {
            part.filename = std::move(p.value);
          }
        }
        if (!have_name) throw MultipartError("multipart part without a name");
      } else if (iequals(name, "content-type")) {
        part.content_type = std::string(value);
      }
      // Other headers (Content-Transfer-Encoding is deprecated by RFC 7578) are ignored.
    }
    if (!have_disposition) throw MultipartError("multipart part without Content-Disposition");

    const std::size_t end = find_delim(pos);
    if (end == std::string_view::npos) throw MultipartError("multipart body truncated: no closing boundary");
    part.data = body.substr(pos, end - pos);
    parts.push_back(std::move(part));
    pos = end + delim.size();
  }
}

}  // namespace vrt::server
