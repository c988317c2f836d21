// Every limit of the safetensors reader (docs/LIMITS.md) crossed by one step, with the value just
// inside it accepted (or failing for another, later reason): the limit sits exactly where the
// table says. Plus the regressions found by fuzz/fuzz_safetensors.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

// u64 LE length + header text (space-padded to 8 unless `declared` overrides the length) + data.
std::vector<std::uint8_t> file_of(std::string header, std::size_t data_bytes,
                                  std::uint64_t declared = ~std::uint64_t{0}) {
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::uint64_t n = declared == ~std::uint64_t{0} ? header.size() : declared;
  std::vector<std::uint8_t> f(8 + header.size() + data_bytes, 0);
  for (int i = 0; i < 8; ++i)
    f[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  std::memcpy(f.data() + 8, header.data(), header.size());
  return f;
}

std::string parse_error(const std::vector<std::uint8_t>& f, const SafetensorsLimits& limits = {}) {
  try {
    (void)SafetensorsHeader::parse(f, "limits.safetensors", limits);
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::bad_checkpoint) << e.what();
    EXPECT_NE(std::string(e.what()).find("limits.safetensors"), std::string::npos) << e.what();
    return e.what();
  }
  return "";
}

std::string tensor(const std::string& name, const std::string& shape, std::uint64_t begin,
                   std::uint64_t end, const char* dtype = "U8") {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(end) + "]}";
}

TEST(SafetensorsLimits, HeaderLengthCapIs16MiB) {
  const SafetensorsLimits defaults;
  ASSERT_EQ(defaults.max_header_bytes, std::uint64_t{16} << 20);
  // Declared lengths only: the cap is checked before the file size, so no 16 MiB file is needed.
  const auto over = parse_error(file_of("{}", 0, (std::uint64_t{16} << 20) + 1));
  EXPECT_NE(over.find("header length 16777217 exceeds the limit of 16777216"), std::string::npos)
      << over;
  const auto at = parse_error(file_of("{}", 0, std::uint64_t{16} << 20));
  EXPECT_NE(at.find("runs past the end of the file"), std::string::npos) << at;
}

TEST(SafetensorsLimits, HeaderLengthCapIsConfigurable) {
  SafetensorsLimits limits;
  const auto f = file_of("{" + tensor("a", "[8]", 0, 8) + "}", 8);
  const std::uint64_t n = f.size() - 8 - 8;
  limits.max_header_bytes = n;
  EXPECT_EQ(parse_error(f, limits), "");
  limits.max_header_bytes = n - 1;
  EXPECT_NE(parse_error(f, limits).find("exceeds the limit of " + std::to_string(n - 1)),
            std::string::npos);
}

TEST(SafetensorsLimits, TensorCountCapIs65536) {
  // Zero-sized tensors all at offset 0: a header that is big in entries but has no data.
  auto header_with = [](std::size_t count) {
    std::string h = "{";
    for (std::size_t i = 0; i < count; ++i)
      h += (i ? "," : "") + tensor("t" + std::to_string(i), "[0]", 0, 0);
    return h + "}";
  };
  const SafetensorsLimits defaults;
  ASSERT_EQ(defaults.max_tensors, 65536u);
  EXPECT_EQ(parse_error(file_of(header_with(65536), 0)), "");
  // 65,537 tensors are refused with or without __metadata__, which is not a tensor: 65,536
  // tensors plus metadata pass. (Without metadata, 65,537 tensors used to pass: the cap
  // allowed one extra entry for a __metadata__ that might not be there.)
  const auto over = parse_error(file_of(header_with(65537), 0));
  EXPECT_NE(over.find("lists 65537 tensors, above the limit of 65536"), std::string::npos) << over;
  auto with_metadata = [&](std::size_t count) {
    std::string h = header_with(count);
    h.insert(1, "\"__metadata__\":{\"format\":\"pt\"},");
    return h;
  };
  EXPECT_EQ(parse_error(file_of(with_metadata(65536), 0)), "");
  EXPECT_NE(parse_error(file_of(with_metadata(65537), 0)).find("lists 65537 tensors"),
            std::string::npos);
}

TEST(SafetensorsLimits, RankCapIs8) {
  EXPECT_EQ(parse_error(file_of("{" + tensor("r", "[1,1,1,1,1,1,1,2]", 0, 2) + "}", 2)), "");
  const auto over = parse_error(file_of("{" + tensor("r", "[1,1,1,1,1,1,1,1,2]", 0, 2) + "}", 2));
  EXPECT_NE(over.find("rank 9 exceeds 8"), std::string::npos) << over;
}

TEST(SafetensorsLimits, NameLengthIs1To1024Bytes) {
  EXPECT_EQ(parse_error(file_of("{" + tensor(std::string(1024, 'n'), "[4]", 0, 4) + "}", 4)), "");
  const auto over =
      parse_error(file_of("{" + tensor(std::string(1025, 'n'), "[4]", 0, 4) + "}", 4));
  EXPECT_NE(over.find("1025 bytes long (limit 1024)"), std::string::npos) << over;
  EXPECT_NE(parse_error(file_of("{" + tensor("", "[4]", 0, 4) + "}", 4)).find("empty name"),
            std::string::npos);
  // A NUL escaped in JSON (the raw byte is refused earlier) is not a name either.
  EXPECT_NE(parse_error(file_of("{" + tensor("a\\u0000b", "[4]", 0, 4) + "}", 4))
                .find("name contains a NUL character"),
            std::string::npos);
}

TEST(SafetensorsLimits, IntegersAreCappedAt2To48Minus1) {
  // 2^48 - 1 passes the integer check and fails later (the file is not that big); 2^48 fails on
  // the integer itself, in offsets and in shapes alike.
  const std::uint64_t max = (std::uint64_t{1} << 48) - 1;
  const auto at = parse_error(file_of("{" + tensor("a", "[0]", max, max) + "}", 0));
  EXPECT_EQ(at.find("exceeds 2^48-1"), std::string::npos) << at;
  EXPECT_NE(at.find("past the end of the data section"), std::string::npos) << at;
  const auto off = parse_error(file_of("{" + tensor("a", "[0]", max + 1, max + 1) + "}", 0));
  EXPECT_NE(off.find("= 281474976710656 exceeds 2^48-1"), std::string::npos) << off;
  const auto dim = parse_error(file_of("{" + tensor("a", "[281474976710656]", 0, 0) + "}", 0));
  EXPECT_NE(dim.find("exceeds 2^48-1"), std::string::npos) << dim;
}

TEST(SafetensorsLimits, JsonDepthCapIs8) {
  // Only __metadata__ can nest (and its values must be strings): depth 8 gets past the parser
  // to the metadata check, depth 9 is refused by the parser.
  auto nested = [](int depth) {  // the top-level object and __metadata__ are 2 of the levels
    return "{\"__metadata__\":{\"k\":" + std::string(static_cast<std::size_t>(depth - 2), '[') +
           std::string(static_cast<std::size_t>(depth - 2), ']') + "}}";
  };
  const auto at = parse_error(file_of(nested(8), 0));
  EXPECT_NE(at.find("must be a string"), std::string::npos) << at;
  const auto over = parse_error(file_of(nested(9), 0));
  EXPECT_NE(over.find("nesting deeper than 8"), std::string::npos) << over;
}

TEST(SafetensorsLimits, SizeArithmeticNeverWraps) {
  // Element count x dtype size just over 2^64 (2^61 F64 elements = 2^64 bytes) is refused.
  const auto wrap =
      parse_error(file_of("{" + tensor("a", "[2147483648,1073741824]", 0, 0, "F64") + "}", 0));
  EXPECT_NE(wrap.find("overflows 64 bits"), std::string::npos) << wrap;
  // A product over 2^64 before a zero dimension is refused too (as the reference reader's
  // checked fold does), rather than wrapping to an accepted size.
  const auto early =
      parse_error(file_of("{" + tensor("a", "[281474976710655,281474976710655,0]", 0, 0) + "}", 0));
  EXPECT_NE(early.find("overflows 64 bits"), std::string::npos) << early;
}

// Found by fuzz/fuzz_safetensors (fuzz/regressions/fuzz_safetensors/zero_dim_elements_overflow):
// [160737488355327, 65536, 0] is a valid empty tensor (its product before the 0 fits 64 unsigned
// bits), but TensorInfo::elements() multiplied in int64 and overflowed (UB) before reaching the
// zero. It must count 0 elements, as every other empty tensor does.
TEST(SafetensorsLimits, ZeroSizedTensorWithHugeDimsCountsZeroElements) {
  const auto f = file_of("{" + tensor("a", "[160737488355327,65536,0]", 0, 0, "F32") + "}", 0);
  const auto h = SafetensorsHeader::parse(f, "zero.safetensors");
  ASSERT_EQ(h.tensors.size(), 1u);
  EXPECT_EQ(h.tensors[0].nbytes, 0u);
  EXPECT_EQ(h.tensors[0].elements(), 0);
  TensorInfo t;
  t.shape = {std::int64_t{1} << 47, std::int64_t{1} << 20, 0};
  EXPECT_EQ(t.elements(), 0);
}

}  // namespace
}  // namespace vrt
