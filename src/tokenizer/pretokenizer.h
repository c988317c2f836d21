// The regex split that precedes BPE (tiktoken's "pattern"), run with PCRE2.
//
// The tekken pattern needs Unicode properties and a negative look-ahead, which std::regex and
// RE2 cannot do; PCRE2 in UTF + UCP mode can, and its JIT makes the split cheap. The compiled
// pattern is immutable, so one Pretokenizer serves every thread.
//
// Known difference from tiktoken (Rust regex, \s = Unicode White_Space): PCRE2's UCP \s also
// matches U+180E MONGOLIAN VOWEL SEPARATOR, so text containing it may split differently. No
// transcript or test vector contains it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace vrt {

class Pretokenizer {
 public:
  // Compiles `pattern`; throws Error(bad_tokenizer) naming `where` if PCRE2 rejects it.
  Pretokenizer(const std::string& pattern, const std::string& where);
  ~Pretokenizer();
  Pretokenizer(const Pretokenizer&) = delete;
  Pretokenizer& operator=(const Pretokenizer&) = delete;

  // Calls `piece` for each regex match in order, like Python's re.finditer, and also for each
  // stretch of bytes no match covers (bytes that are not valid UTF-8, which Python strings
  // cannot hold), so the pieces always concatenate back to `text`. Throws
  // Error(invalid_argument) if PCRE2 reports a resource limit.
  void split(std::string_view text, const std::function<void(std::string_view)>& piece) const;

  bool jit() const { return jit_; }

 private:
  struct Code;
  std::unique_ptr<Code> code_;
  bool jit_ = false;
};

}  // namespace vrt
