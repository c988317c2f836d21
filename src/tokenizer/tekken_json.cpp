// SAX reader for tekken.json; see tekken_json.h for why not the DOM parser.
#include "tokenizer/tekken_json.h"

#include <limits>

#include "common/base64.h"
#include "voxtral_rt/error.h"

namespace vrt::tekken {
namespace {

using nlohmann::json;

// Implements nlohmann's SAX interface. Every handler either succeeds or throws vrt::Error.
class Reader {
 public:
  Reader(Document& doc, const std::string& source) : doc_(doc), source_(source) {}

  bool null() { return scalar(json(nullptr)); }
  bool boolean(bool v) { return scalar(json(v)); }
  bool number_integer(json::number_integer_t v) { return scalar(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return scalar(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return scalar(json(v)); }
  bool string(json::string_t& v) {
    if (mode_ == Mode::entry && field_ == Field::token_bytes) return token_bytes(v);
    return scalar(json(std::move(v)));
  }
  bool binary(json::binary_t&) { fail("binary values are not JSON"); }

  bool start_object(std::size_t) {
    enter();
    if (mode_ == Mode::vocab) {
      mode_ = Mode::entry;
      entry_ = Entry{};
      return true;
    }
    if (mode_ == Mode::entry) fail(entry_where() + "." + field_name() + ": expected " + field_type());
    open(json::object());
    return true;
  }

  bool key(json::string_t& k) {
    if (mode_ == Mode::entry) return entry_key(k);
    json& top = *stack_.back();
    if (top.contains(k)) fail(names_.back() + ": duplicate key \"" + k + "\"");
    element_ = &top[k];
    last_key_ = std::move(k);
    return true;
  }

  bool end_object() {
    --depth_;
    if (mode_ == Mode::entry) {
      finish_entry();
      mode_ = Mode::vocab;
      return true;
    }
    close();
    return true;
  }

  bool start_array(std::size_t) {
    enter();
    if (mode_ == Mode::vocab) fail(entry_where() + ": expected an object, got an array");
    if (mode_ == Mode::entry) fail(entry_where() + "." + field_name() + ": expected " + field_type());
    if (stack_.size() == 1 && stack_.back() == &doc_.root && last_key_ == "vocab") {
      *element_ = json::array();
      doc_.vocab_is_array = true;
      mode_ = Mode::vocab;
      return true;
    }
    open(json::array());
    return true;
  }

  bool end_array() {
    --depth_;
    if (mode_ == Mode::vocab) {
      mode_ = Mode::dom;
      return true;
    }
    close();
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const json::exception& e) {
    fail(std::string("invalid JSON: ") + e.what());
  }

 private:
  enum class Mode { dom, vocab, entry };
  enum class Field { none, rank, token_bytes, token_str };
  struct Entry {
    bool has_rank = false, has_bytes = false, has_str = false;
    std::int64_t rank = -1;
  };

  [[noreturn]] void fail(const std::string& message) const {
    throw Error(Status::bad_tokenizer, source_ + ": " + message);
  }

  void enter() {
    if (++depth_ > kMaxJsonDepth)
      fail("nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }

  // Opens a DOM container, named for messages by its path ("top level", "audio", "x[2]").
  void open(json&& v) {
    std::string name;
    if (stack_.empty())
      name = "top level";
    else if (stack_.back()->is_array())
      name = names_.back() + "[" + std::to_string(stack_.back()->size()) + "]";
    else
      name = stack_.size() == 1 ? last_key_ : names_.back() + "." + last_key_;
    stack_.push_back(place(std::move(v)));
    names_.push_back(std::move(name));
  }
  void close() {
    stack_.pop_back();
    names_.pop_back();
  }
  std::string entry_where() const { return "vocab[" + std::to_string(index_) + "]"; }
  const char* field_name() const {
    switch (field_) {
      case Field::rank: return "rank";
      case Field::token_bytes: return "token_bytes";
      case Field::token_str: return "token_str";
      case Field::none: break;
    }
    return "?";
  }
  const char* field_type() const {
    switch (field_) {
      case Field::rank: return "an integer";
      case Field::token_bytes: return "a base64 string";
      case Field::token_str: return "a string or null";
      case Field::none: break;
    }
    return "a value";
  }

  // Stores a DOM value where the parser is, returning its address.
  json* place(json&& v) {
    if (stack_.empty()) {
      doc_.root = std::move(v);
      return &doc_.root;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    *element_ = std::move(v);
    return element_;
  }

  bool scalar(json&& v) {
    if (mode_ == Mode::vocab) fail(entry_where() + ": expected an object, got " + v.type_name());
    if (mode_ == Mode::entry) return entry_value(v);
    place(std::move(v));
    return true;
  }

  bool entry_key(const std::string& k) {
    bool* seen = nullptr;
    if (k == "rank") {
      field_ = Field::rank;
      seen = &entry_.has_rank;
    } else if (k == "token_bytes") {
      field_ = Field::token_bytes;
      seen = &entry_.has_bytes;
    } else if (k == "token_str") {
      field_ = Field::token_str;
      seen = &entry_.has_str;
    } else {
      fail(entry_where() + ": unexpected key \"" + k +
           "\" (an entry has exactly rank, token_bytes, token_str)");
    }
    if (*seen) fail(entry_where() + ": duplicate key \"" + k + "\"");
    *seen = true;
    return true;
  }

  bool entry_value(const json& v) {
    switch (field_) {
      case Field::rank:
        if (v.is_number_unsigned()) {
          const auto u = v.get<std::uint64_t>();
          entry_.rank = u > (std::uint64_t{1} << 62) ? std::numeric_limits<std::int64_t>::max()
                                                     : static_cast<std::int64_t>(u);
        } else if (v.is_number_integer() && !v.is_number_unsigned()) {
          entry_.rank = v.get<std::int64_t>();
        } else {
          fail(entry_where() + ".rank: expected an integer, got " + v.dump());
        }
        return true;
      case Field::token_str:
        if (!v.is_null() && !v.is_string())
          fail(entry_where() + ".token_str: expected a string or null, got " + v.type_name());
        return true;
      case Field::token_bytes:
        fail(entry_where() + ".token_bytes: expected a base64 string, got " + v.type_name());
      case Field::none: break;
    }
    fail(entry_where() + ": value without a key");
  }

  bool token_bytes(const std::string& text) {
    constexpr std::size_t kMaxBase64 = (kMaxTokenBytes + 2) / 3 * 4;
    if (text.size() > kMaxBase64)
      fail(entry_where() + ".token_bytes: token longer than " + std::to_string(kMaxTokenBytes) +
           " bytes");
    auto bytes = base64::decode_strict(text);
    if (!bytes)
      fail(entry_where() + ".token_bytes: not canonical base64 (RFC 4648): \"" + text + "\"");
    if (bytes->empty()) fail(entry_where() + ".token_bytes: empty token");
    if (bytes->size() > kMaxTokenBytes)
      fail(entry_where() + ".token_bytes: token longer than " + std::to_string(kMaxTokenBytes) +
           " bytes");
    token_ = std::move(*bytes);
    return true;
  }

  void finish_entry() {
    if (!entry_.has_rank) fail(entry_where() + ": missing \"rank\"");
    if (!entry_.has_bytes) fail(entry_where() + ": missing \"token_bytes\"");
    if (!entry_.has_str) fail(entry_where() + ": missing \"token_str\"");
    if (entry_.rank != static_cast<std::int64_t>(index_))
      fail(entry_where() + ": rank " + std::to_string(entry_.rank) +
           " differs from its index (ranks must be 0, 1, 2, ... in order)");
    doc_.blob.append(token_);
    doc_.offsets.push_back(static_cast<std::uint32_t>(doc_.blob.size()));
    ++index_;
    field_ = Field::none;
  }

  Document& doc_;
  const std::string& source_;
  Mode mode_ = Mode::dom;
  int depth_ = 0;
  std::vector<json*> stack_;     // open DOM containers
  std::vector<std::string> names_;  // their paths
  json* element_ = nullptr;      // slot of the current key in the innermost DOM object
  std::string last_key_;         // that key
  std::size_t index_ = 0;        // vocab entry being read
  Entry entry_;
  Field field_ = Field::none;
  std::string token_;            // decoded token_bytes of the current entry
};

}  // namespace

Document parse_document(std::string_view text, const std::string& source) {
  Document doc;
  Reader reader(doc, source);
  // strict: nothing but whitespace may follow the value; comments are not JSON.
  json::sax_parse(text.begin(), text.end(), &reader, json::input_format_t::json,
                  /*strict=*/true, /*ignore_comments=*/false);
  return doc;
}

}  // namespace vrt::tekken
