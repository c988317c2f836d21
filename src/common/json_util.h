// Strict JSON parsing for untrusted files (params.json, tekken.json, safetensors headers).
//
// On top of nlohmann::json this rejects duplicate object keys (parsers disagree on which one
// wins: a classic parser-differential hole) and caps nesting depth. Typed getters name the
// file and the key path in every error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "voxtral_rt/error.h"

namespace vrt::json {

struct ParseLimits {
  int max_depth = 64;
};

// Parses `text`; throws Error(status) naming `source` on malformed JSON, duplicate keys or
// excessive depth.
nlohmann::json parse_strict(std::string_view text, const std::string& source, Status status,
                            ParseLimits limits = {});

// Typed access to the members of one JSON object. `where` is the path used in messages,
// e.g. "params.json: multimodal.whisper_model_args".
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& obj, std::string where, Status status);

  bool has(const char* key) const;
  bool is_null(const char* key) const;
  const nlohmann::json& at(const char* key) const;  // throws when missing
  ObjectReader object(const char* key) const;        // member that must be an object

  std::int64_t integer(const char* key, std::int64_t min, std::int64_t max) const;
  double number(const char* key, double min, double max) const;
  bool boolean(const char* key) const;
  std::string string(const char* key) const;

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  const std::string& where() const { return where_; }
  Status status() const { return status_; }

 private:
  const nlohmann::json& obj_;
  std::string where_;
  Status status_;
};

}  // namespace vrt::json
