#include "common/json_util.h"

#include <cmath>
#include <set>
#include <vector>

namespace vrt::json {

nlohmann::json parse_strict(std::string_view text, const std::string& source, Status status,
                            ParseLimits limits) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  std::string error;
  auto cb = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (depth > limits.max_depth) {
      error = "nesting deeper than " + std::to_string(limits.max_depth);
      throw Error(status, source + ": " + error);
    }
    if (event == E::object_start) {
      keys.emplace_back();
    } else if (event == E::object_end) {
      if (!keys.empty()) keys.pop_back();
    } else if (event == E::key && !keys.empty()) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (!keys.back().insert(k).second)
        throw Error(status, source + ": duplicate key \"" + k + "\"");
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true,
                                 /*ignore_comments=*/false);
  } catch (const nlohmann::json::exception& e) {
    throw Error(status, source + ": invalid JSON: " + e.what());
  }
}

ObjectReader::ObjectReader(const nlohmann::json& obj, std::string where, Status status)
    : obj_(obj), where_(std::move(where)), status_(status) {
  if (!obj_.is_object()) throw Error(status_, where_ + ": expected a JSON object");
}

void ObjectReader::fail(const std::string& key, const std::string& message) const {
  throw Error(status_, where_ + (key.empty() ? "" : "." + key) + ": " + message);
}

bool ObjectReader::has(const char* key) const { return obj_.contains(key); }

bool ObjectReader::is_null(const char* key) const {
  auto it = obj_.find(key);
  return it == obj_.end() || it->is_null();
}

const nlohmann::json& ObjectReader::at(const char* key) const {
  auto it = obj_.find(key);
  if (it == obj_.end()) fail(key, "missing");
  return *it;
}

ObjectReader ObjectReader::object(const char* key) const {
  const auto& v = at(key);
  if (!v.is_object()) fail(key, "expected an object");
  return ObjectReader(v, where_ + "." + key, status_);
}

std::int64_t ObjectReader::integer(const char* key, std::int64_t min, std::int64_t max) const {
  const auto& v = at(key);
  std::int64_t x = 0;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max))
      fail(key, "value " + std::to_string(u) + " outside [" + std::to_string(min) + ", " +
                    std::to_string(max) + "]");
    x = static_cast<std::int64_t>(u);
  } else if (v.is_number_integer()) {
    x = v.get<std::int64_t>();
  } else {
    fail(key, std::string("expected an integer, got ") + v.type_name());
  }
  if (x < min || x > max)
    fail(key, "value " + std::to_string(x) + " outside [" + std::to_string(min) + ", " +
                  std::to_string(max) + "]");
  return x;
}

double ObjectReader::number(const char* key, double min, double max) const {
  const auto& v = at(key);
  if (!v.is_number()) fail(key, std::string("expected a number, got ") + v.type_name());
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < min || x > max)
    fail(key, "value " + std::to_string(x) + " outside [" + std::to_string(min) + ", " +
                  std::to_string(max) + "]");
  return x;
}

bool ObjectReader::boolean(const char* key) const {
  const auto& v = at(key);
  if (!v.is_boolean()) fail(key, std::string("expected true or false, got ") + v.type_name());
  return v.get<bool>();
}

std::string ObjectReader::string(const char* key) const {
  const auto& v = at(key);
  if (!v.is_string()) fail(key, std::string("expected a string, got ") + v.type_name());
  return v.get<std::string>();
}

}  // namespace vrt::json
