// multipart/form-data: well-formed bodies as curl and browsers write them, and hostile ones.
#include <gtest/gtest.h>

#include <chrono>

#include "server/multipart.h"

namespace vrt::server {
namespace {

std::string part(const std::string& b, const std::string& headers, const std::string& data) {
  return "--" + b + "\r\n" + headers + "\r\n" + data + "\r\n";
}

TEST(MultipartBoundary, AcceptsPlainAndQuoted) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=------------------------abc123"),
            "------------------------abc123");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"a b'()+_,-./:=?\""), "a b'()+_,-./:=?");
  EXPECT_EQ(multipart_boundary("multipart/form-data; charset=utf-8; boundary=x;"), "x");
}

TEST(MultipartBoundary, RejectsBadValues) {
  for (const char* ct : {"application/json", "multipart/form-data", "multipart/form-data; boundary=",
                         "multipart/form-data; boundary=\"\"", "multipart/mixed; boundary=x",
                         "multipart/form-data; boundary=a; boundary=b", "multipart/form-data; boundary=\"unterminated",
                         "multipart/form-data; boundary=\"bad\x01\"", "multipart/form-data; boundary=\"ends with space \"",
                         "multipart/form-data; boundary=\"semi;colon\"", "multipart/form-data boundary=x", ""}) {
    EXPECT_THROW(multipart_boundary(ct), MultipartError) << ct;
  }
  EXPECT_THROW(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')), MultipartError);
  EXPECT_NO_THROW(multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'a')));
}

TEST(Multipart, ParsesACurlUpload) {
  const std::string b = "------------------------d74496d66958873e";
  const std::string audio("RIFF\0\0\r\n--\r\nbinary\xff", 20);
  const std::string body = part(b, "Content-Disposition: form-data; name=\"file\"; filename=\"../../etc/passwd\"\r\nContent-Type: audio/wav\r\n", audio) +
                           part(b, "Content-Disposition: form-data; name=\"model\"\r\n", "voxtral") +
                           part(b, "content-disposition: form-data; name=\"response_format\"\r\n", "srt") + "--" + b + "--\r\n";
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].name, "file");
  EXPECT_EQ(parts[0].filename.value_or(""), "../../etc/passwd");  // kept as text, never used as a path
  EXPECT_EQ(parts[0].content_type, "audio/wav");
  EXPECT_EQ(parts[0].data, audio);
  EXPECT_EQ(parts[1].name, "model");
  EXPECT_FALSE(parts[1].filename);
  EXPECT_EQ(parts[1].data, "voxtral");
  EXPECT_EQ(parts[2].data, "srt");
}

TEST(Multipart, PreambleEpilogueEmptyDataAndEscapes) {
  const std::string b = "XyZ";
  const std::string body = "preamble text\r\n" + part(b, "Content-Disposition: form-data; name=\"a\\\"q\"\r\n", "") +
                           "--" + b + "--  epilogue\r\n--XyZ junk";
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].name, "a\"q");
  EXPECT_EQ(parts[0].data, "");
  EXPECT_TRUE(parse_multipart("--" + b + "--", b).empty());
}

TEST(Multipart, RejectsMalformedBodies) {
  const std::string b = "bnd";
  const std::string cd = "Content-Disposition: form-data; name=\"f\"\r\n";
  const std::string good = part(b, cd, "data") + "--" + b + "--\r\n";
  ASSERT_NO_THROW(parse_multipart(good, b));
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"empty", ""},
      {"no boundary at all", "just some text"},
      {"truncated: no closing boundary", part(b, cd, "data")},
      {"truncated in data", "--bnd\r\n" + cd + "\r\ndata without end"},
      {"truncated in headers", "--bnd\r\nContent-Disposition: form-data; name=\"f\""},
      {"truncated after delimiter", "--bnd"},
      {"delimiter not followed by CRLF", "--bndX\r\n" + cd + "\r\nx\r\n--bnd--"},
      {"missing Content-Disposition", part(b, "Content-Type: text/plain\r\n", "x") + "--bnd--"},
      {"no headers", part(b, "", "x") + "--bnd--"},
      {"not form-data", part(b, "Content-Disposition: attachment; name=\"f\"\r\n", "x") + "--bnd--"},
      {"no name", part(b, "Content-Disposition: form-data; filename=\"a\"\r\n", "x") + "--bnd--"},
      {"duplicate disposition", part(b, cd + cd, "x") + "--bnd--"},
      {"duplicate parameter", part(b, "Content-Disposition: form-data; name=\"a\"; name=\"b\"\r\n", "x") + "--bnd--"},
      {"header without colon", part(b, cd + "Bogus header\r\n", "x") + "--bnd--"},
      {"folded header", part(b, cd + " continued\r\n", "x") + "--bnd--"},
      {"bare LF in header", part(b, "Content-Disposition: form-data; name=\"f\"\nX: y\r\n", "x") + "--bnd--"},
      {"NUL in header", part(b, std::string("X-A: a\0b\r\n", 10) + cd, "x") + "--bnd--"},
      {"unterminated quote", part(b, "Content-Disposition: form-data; name=\"f\r\n", "x") + "--bnd--"},
      {"long preamble", std::string(2000, 'p') + "\r\n" + good},
  };
  for (const auto& [what, body] : cases) EXPECT_THROW(parse_multipart(body, b), MultipartError) << what;
}

TEST(Multipart, EnforcesPartAndHeaderLimits) {
  const std::string b = "b";
  std::string body;
  for (int i = 0; i < 17; ++i) body += part(b, "Content-Disposition: form-data; name=\"p\"\r\n", "v");
  body += "--b--";
  EXPECT_THROW(parse_multipart(body, b), MultipartError);  // 17 > 16 parts
  MultipartLimits more;
  more.max_parts = 17;
  EXPECT_EQ(parse_multipart(body, b, more).size(), 17u);

  std::string headers = "Content-Disposition: form-data; name=\"p\"\r\n";
  for (int i = 0; i < 16; ++i) headers += "X-H: v\r\n";
  EXPECT_THROW(parse_multipart(part(b, headers, "v") + "--b--", b), MultipartError);  // 17 lines
  const std::string huge = "Content-Disposition: form-data; name=\"p\"\r\nX-Long: " + std::string(9000, 'a') + "\r\n";
  EXPECT_THROW(parse_multipart(part(b, huge, "v") + "--b--", b), MultipartError);
  // A header block without any CRLF must stop at the limit, not scan to the end.
  EXPECT_THROW(parse_multipart("--b\r\n" + std::string(1 << 20, 'h'), b), MultipartError);
}

TEST(Multipart, HostileInputsStayLinear) {
  // CR/LF runs and near-boundaries (python-multipart CVE-2024-53981 style) on 8 MiB.
  const std::string b(70, '-');
  std::string data;
  data.reserve(8u << 20);
  while (data.size() < (8u << 20)) data += "\r\n" + std::string(69, '-') + "\r\r\n\n";
  const std::string body = part(b, "Content-Disposition: form-data; name=\"file\"\r\n", data) + "--" + b + "--";
  const auto t0 = std::chrono::steady_clock::now();
  const auto parts = parse_multipart(body, b);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].data.size(), data.size());
  EXPECT_LT(s, 2.0);
  EXPECT_THROW(parse_multipart(std::string(8u << 20, '\r'), b), MultipartError);
  EXPECT_THROW(parse_multipart("--" + b + "\r\n" + std::string(8u << 20, '\n'), b), MultipartError);
}

TEST(Multipart, BoundaryInsideDataEndsThePart) {
  // By definition the delimiter cannot occur in the data; a body that contains it is split there
  // and what follows must again be a well-formed part.
  const std::string b = "zz";
  const std::string body = "--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nab\r\n--zz\r\nnot a header\r\n\r\nx\r\n--zz--";
  EXPECT_THROW(parse_multipart(body, b), MultipartError);
}

}  // namespace
}  // namespace vrt::server
