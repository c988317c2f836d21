// safetensors reader: the format's rules and the hostile inputs of ../shared/docs/hardening.md §1a.
#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "test_util.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

// File bytes = u64 LE header length + header text + `data_bytes` bytes of data.
// The header is space-padded to a multiple of 8 (as writers do) unless `pad` is false.
std::vector<std::uint8_t> make_file(std::string header, std::size_t data_bytes,
                                    std::uint64_t declared_len = ~std::uint64_t{0}, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  const std::uint64_t n = declared_len == ~std::uint64_t{0} ? header.size() : declared_len;
  std::vector<std::uint8_t> f(8 + header.size() + data_bytes, 0);
  for (std::size_t i = 0; i < 8; ++i) f[i] = static_cast<std::uint8_t>(n >> (8 * i));
  for (std::size_t i = 0; i < header.size(); ++i) f[8 + i] = static_cast<std::uint8_t>(header[i]);
  return f;
}

SafetensorsHeader parse(const std::vector<std::uint8_t>& f) {
  return SafetensorsHeader::parse(f, "test.safetensors");
}

// Expects a bad_checkpoint error whose message contains `needle`.
void expect_bad(const std::vector<std::uint8_t>& f, const std::string& needle) {
  try {
    parse(f);
    ADD_FAILURE() << "accepted; expected an error containing: " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::bad_checkpoint) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message: " << e.what() << "\nexpected to contain: " << needle;
  }
}

TEST(Safetensors, ParsesValidHeader) {
  // [2,3] BF16 = 12 bytes, then [4] F32 = 16 bytes; header padded to 8 for alignment.
  const std::string h = R"({"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},)"
                        R"("b":{"dtype":"F32","shape":[4],"data_offsets":[12,28]}})";
  // b starts at 8 + N + 12, which is 4-aligned because N is a multiple of 8.
  const auto hdr = parse(make_file(h, 28));
  ASSERT_EQ(hdr.tensors.size(), 2u);
  EXPECT_EQ(hdr.tensors[0].name, "a");
  EXPECT_EQ(hdr.tensors[0].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(hdr.tensors[1].dtype, StDtype::F32);
  EXPECT_EQ(hdr.tensors[1].begin, 12u);
  EXPECT_EQ(hdr.metadata.at("format"), "pt");
  EXPECT_EQ(hdr.data_start % 8, 0u);
  EXPECT_GE(hdr.data_start, 8 + h.size());
}

TEST(Safetensors, ZeroSizedAndScalarTensorsAreAllowed) {
  std::string h = R"({"z":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})";
  h.append((8 - h.size() % 8) % 8, ' ');
  const auto hdr = parse(make_file(h, 4));
  ASSERT_EQ(hdr.tensors.size(), 2u);
}

struct Hostile {
  const char* label;
  std::vector<std::uint8_t> bytes;
  const char* needle;
};

std::vector<Hostile> hostile_cases() {
  const std::string ok1 = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::vector<Hostile> c;
  c.push_back({"empty file", {}, "too small"});
  c.push_back({"7 bytes", std::vector<std::uint8_t>(7, 0), "too small"});
  c.push_back({"header length high bytes set", make_file(ok1, 8, 0xFF00000000000010ull), "exceeds the limit"});
  c.push_back({"header length past EOF", make_file(ok1, 8, ok1.size() + 100), "past the end"});
  c.push_back({"header length 1000 MB", make_file(ok1, 8, 1000ull << 20), "exceeds the limit"});
  c.push_back({"header \\xff", make_file("\xff", 0, ~std::uint64_t{0}, false), "cannot hold"});
  c.push_back({"header { alone", make_file("{", 0, ~std::uint64_t{0}, false), "cannot hold"});
  c.push_back({"header not JSON", make_file("{not json}", 0), "invalid JSON"});
  c.push_back({"header invalid UTF-8", make_file("{\"\xff\xfe\":1}", 0), "invalid JSON"});
  c.push_back({"header is an array", make_file("[1,2]   ", 0), "start with '{'"});
  c.push_back({"NUL padding", make_file(ok1 + std::string(3, '\0'), 8, ~std::uint64_t{0}, false), "NUL"});
  c.push_back({"trailing extra bytes", make_file(ok1, 10), "trailing"});
  c.push_back({"two missing bytes", make_file(ok1, 6), "past the end of the data section"});
  c.push_back({"shape and size disagree (I32 [2,2] in 4 bytes)",
               make_file(R"({"a":{"dtype":"I32","shape":[2,2],"data_offsets":[0,4]}})", 4), "16 bytes"});
  c.push_back({"shape [2, 2^64-2]",
               make_file(R"({"a":{"dtype":"F32","shape":[2,18446744073709551614],"data_offsets":[0,8]}})", 8),
               "2^48-1"});
  c.push_back({"shape [2, 2^47] overflows bytes",
               make_file(R"({"a":{"dtype":"F64","shape":[281474976710655,281474976710655],"data_offsets":[0,8]}})", 8),
               "overflows"});
  c.push_back({"negative dim", make_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "negative"});
  c.push_back({"float dim", make_file(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8), "float"});
  c.push_back({"exponent dim", make_file(R"({"a":{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}})", 8), "float"});
  c.push_back({"unknown dtype", make_file(R"({"a":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}})", 8), "unknown dtype"});
  c.push_back({"dtype not a string", make_file(R"({"a":{"dtype":5,"shape":[2],"data_offsets":[0,8]}})", 8), "not a string"});
  c.push_back({"data_offsets with 1 item", make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}})", 8), "[begin, end]"});
  c.push_back({"data_offsets with 3 items", make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}})", 8), "[begin, end]"});
  c.push_back({"end before begin", make_file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8), "< begin"});
  c.push_back({"missing field", make_file(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "needs dtype"});
  c.push_back({"unknown field", make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8), "unknown field"});
  c.push_back({"tensor not an object", make_file(R"({"a":[1,2]})", 8), "not an object"});
  c.push_back({"empty name", make_file(R"({"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8), "empty name"});
  c.push_back({"very long name",
               make_file("{\"" + std::string(5000, 'x') + R"(":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8),
               "bytes long"});
  c.push_back({"duplicate key",
               make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16),
               "duplicate key"});
  c.push_back({"__metadata__ with a number", make_file(R"({"__metadata__":{"n":1}})", 0), "must be a string"});
  c.push_back({"__metadata__ shaped like a tensor",
               make_file(R"({"__metadata__":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8), "must be a string"});
  c.push_back({"overlapping tensors",
               make_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16),
               "overlaps"});
  c.push_back({"gap between tensors",
               make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})", 20),
               "gap"});
  c.push_back({"first tensor not at 0", make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "gap"});
  {
    // Ten tensors sharing offsets [0,16] (safetensors test_json_attack).
    std::string h = "{";
    for (int i = 0; i < 10; ++i)
      h += (i ? "," : "") + std::string("\"t") + std::to_string(i) +
           R"(":{"dtype":"F32","shape":[4],"data_offsets":[0,16]})";
    h += "}";
    c.push_back({"json attack: shared offsets", make_file(h, 16), "overlaps"});
  }
  {
    std::string deep(100, '[');
    c.push_back({"deep nesting", make_file("{\"a\":" + deep + std::string(100, ']') + "}", 0), "nesting"});
  }
  // Misaligned: header of odd length puts an F32 tensor at an odd file offset.
  c.push_back({"unaligned data", make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} )", 8, ~std::uint64_t{0}, false), "aligned"});
  return c;
}

TEST(Safetensors, HostileInputsGiveClearErrors) {
  for (const auto& h : hostile_cases()) {
    SCOPED_TRACE(h.label);
    expect_bad(h.bytes, h.needle);
  }
}

TEST(Safetensors, EveryTruncationOfAValidFileIsRejected) {
  std::string h = R"({"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[4],"data_offsets":[12,28]}})";
  h.append((8 - h.size() % 8) % 8, ' ');
  const auto full = make_file(h, 28);
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(parse(cut), Error) << "truncated to " << n << " bytes";
  }
}

TEST(Safetensors, WriterRoundTripsThroughTheReader) {
  test::TempDir dir;
  const std::vector<TensorDecl> decl = {{"x.weight", StDtype::BF16, {3, 5}},
                                        {"y.bias", StDtype::F32, {7}},
                                        {"z", StDtype::F16, {2, 2, 2}}};
  // Byte k of tensor i is (i * 31 + k) mod 251: a pattern the reader must return unchanged.
  write_safetensors(dir.file("m.safetensors"), decl,
                    [&](std::size_t i, std::uint64_t element0, std::span<std::uint8_t> out) {
                      const auto es = static_cast<std::uint64_t>(st_dtype_size(decl[i].dtype));
                      for (std::size_t k = 0; k < out.size(); ++k)
                        out[k] = static_cast<std::uint8_t>((i * 31 + element0 * es + k) % 251);
                    });
  const auto f = SafetensorsFile::open(dir.file("m.safetensors"));
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  for (std::size_t i = 0; i < decl.size(); ++i) {
    const auto* t = f.find(decl[i].name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->shape, decl[i].shape);
    EXPECT_EQ(t->dtype, decl[i].dtype);
    const auto bytes = f.data(*t);
    for (std::size_t k = 0; k < bytes.size(); ++k)
      ASSERT_EQ(bytes[k], static_cast<std::uint8_t>((i * 31 + k) % 251)) << decl[i].name << " byte " << k;
  }
  EXPECT_EQ(f.find("nope"), nullptr);
}

TEST(Safetensors, MissingFileIsNotFound) {
  try {
    SafetensorsFile::open("/nonexistent/x.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::not_found);
  }
}

}  // namespace
}  // namespace vrt
