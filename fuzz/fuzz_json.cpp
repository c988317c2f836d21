// Fuzz target: the strict JSON parser every untrusted JSON file goes through
// (src/common/json_util: duplicate keys rejected, nesting capped) and ObjectReader's typed getters.
//
// Invariants: an accepted document equals what nlohmann's plain parser makes of the same text
// (strictness only removes inputs), dumps to text that parses back to the same dump, and is
// accepted at exactly its own depth but not one level lower; getters return values inside the
// requested range or throw vrt::Error with the reader's status.
#include <cmath>

#include "common/json_util.h"
#include "fuzz_util.h"

using vrt::Error;
using vrt::Status;
namespace json = vrt::json;

namespace {

int depth_of(const nlohmann::json& j) {
  if (!j.is_structured()) return 0;
  int d = 0;
  for (const auto& v : j) d = std::max(d, depth_of(v));
  return d + 1;
}

void check_getters(const nlohmann::json& doc) {
  const json::ObjectReader r(doc, "fuzz", Status::bad_checkpoint);
  for (const auto& [key, value] : doc.items()) {
    const char* k = key.c_str();  // a key with a NUL is looked up cut short: then "missing"
    try {
      const auto x = r.integer(k, -1000, 1000);
      VRT_FUZZ_CHECK(x >= -1000 && x <= 1000);
      VRT_FUZZ_CHECK(value.is_number_integer());
    } catch (const Error& e) {
      VRT_FUZZ_CHECK(e.status() == Status::bad_checkpoint);
    }
    try {
      const double x = r.number(k, -1e6, 1e6);
      VRT_FUZZ_CHECK(std::isfinite(x) && x >= -1e6 && x <= 1e6);
    } catch (const Error& e) {
      VRT_FUZZ_CHECK(e.status() == Status::bad_checkpoint);
    }
    try {
      (void)r.boolean(k);
      (void)r.string(k);
    } catch (const Error& e) {
      VRT_FUZZ_CHECK(e.status() == Status::bad_checkpoint);
    }
    try {
      const auto sub = r.object(k);
      VRT_FUZZ_CHECK(value.is_object());
      (void)sub.has("x");
    } catch (const Error& e) {
      VRT_FUZZ_CHECK(e.status() == Status::bad_checkpoint);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc;
  try {
    doc = json::parse_strict(text, "fuzz.json", Status::bad_tokenizer);
  } catch (const Error& e) {
    VRT_FUZZ_CHECK(e.status() == Status::bad_tokenizer);
    return 0;
  }
  VRT_FUZZ_CHECK(nlohmann::json::parse(text) == doc);
  const int depth = depth_of(doc);
  VRT_FUZZ_CHECK(depth <= json::ParseLimits{}.max_depth);

  const std::string once = doc.dump();
  const auto again = json::parse_strict(once, "dump", Status::bad_checkpoint);
  VRT_FUZZ_CHECK(again.dump() == once);

  // The cap is exact: depth d passes max_depth = d and fails at d - 1.
  (void)json::parse_strict(text, "exact depth", Status::bad_checkpoint, {.max_depth = depth});
  if (depth > 0) {
    bool refused = false;
    try {
      (void)json::parse_strict(text, "shallower", Status::bad_checkpoint, {.max_depth = depth - 1});
    } catch (const Error& e) {
      refused = e.status() == Status::bad_checkpoint;
    }
    VRT_FUZZ_CHECK(refused);
  }

  if (doc.is_object()) check_getters(doc);
  return 0;
}
