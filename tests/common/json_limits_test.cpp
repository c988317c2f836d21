// The strict JSON parser's limits (src/common/json_util): the depth cap is exact, duplicate keys
// are refused at every level, and typed getters refuse out-of-range and non-integer values
// (including unsigned values above INT64_MAX) with the caller's status.
#include <gtest/gtest.h>

#include <string>

#include "common/json_util.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

std::string nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

std::string error_of(const std::string& text, json::ParseLimits limits = {}) {
  try {
    (void)json::parse_strict(text, "limits.json", Status::bad_tokenizer, limits);
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::bad_tokenizer) << e.what();
    EXPECT_NE(std::string(e.what()).find("limits.json"), std::string::npos) << e.what();
    return e.what();
  }
  return "";
}

TEST(JsonLimits, DepthCapIsExact) {
  EXPECT_EQ(json::ParseLimits{}.max_depth, 64);
  EXPECT_EQ(error_of(nested(64)), "");
  EXPECT_NE(error_of(nested(65)).find("nesting deeper than 64"), std::string::npos);
  EXPECT_EQ(error_of(nested(3), {.max_depth = 3}), "");
  EXPECT_NE(error_of(nested(4), {.max_depth = 3}).find("nesting deeper than 3"), std::string::npos);
  EXPECT_NE(error_of("{\"a\":{\"b\":[{}]}}", {.max_depth = 3}).find("nesting"), std::string::npos);
  // Scalars have depth 0: a cap of 0 still parses them.
  EXPECT_EQ(error_of("7", {.max_depth = 0}), "");
}

TEST(JsonLimits, DuplicateKeysAtAnyLevel) {
  EXPECT_NE(error_of(R"({"a":1,"a":1})").find("duplicate key \"a\""), std::string::npos);
  EXPECT_NE(error_of(R"({"x":[{"k":1,"k":2}]})").find("duplicate key \"k\""), std::string::npos);
  // Same key in sibling objects is fine; escapes that spell the same key are duplicates.
  EXPECT_EQ(error_of(R"([{"k":1},{"k":2}])"), "");
  EXPECT_NE(error_of(R"({"k":1,"\u006b":2})").find("duplicate key"), std::string::npos);
}

TEST(JsonLimits, IntegerGettersAreRangeChecked) {
  const auto doc =
      json::parse_strict(R"({"lo":-5,"hi":5,"big":18446744073709551615,"f":2.5,"s":"3","e":1e2})",
                         "x", Status::bad_checkpoint);
  const json::ObjectReader r(doc, "x", Status::bad_checkpoint);
  EXPECT_EQ(r.integer("lo", -5, 5), -5);
  EXPECT_EQ(r.integer("hi", -5, 5), 5);
  auto refused = [&](const char* key, std::int64_t min, std::int64_t max,
                     const std::string& needle) {
    SCOPED_TRACE(key);
    try {
      (void)r.integer(key, min, max);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::bad_checkpoint) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused("lo", -4, 5, "value -5 outside [-4, 5]");
  refused("hi", -5, 4, "value 5 outside [-5, 4]");
  refused("big", 0, std::numeric_limits<std::int64_t>::max(), "18446744073709551615 outside");
  refused("f", 0, 10, "expected an integer, got number");
  refused("s", 0, 10, "expected an integer, got string");
  refused("e", 0, 1000, "expected an integer");  // exponent form is a float in JSON
  refused("missing", 0, 1, "missing");
  EXPECT_THROW((void)r.number("f", 0.0, 2.0), Error);
  EXPECT_EQ(r.number("f", 0.0, 2.5), 2.5);
}

}  // namespace
}  // namespace vrt
