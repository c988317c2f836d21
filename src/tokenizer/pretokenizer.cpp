// PCRE2 wrapper for the tekken pre-tokenizer regex; see pretokenizer.h for why PCRE2.
#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "voxtral_rt/error.h"

namespace vrt {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  const int n = pcre2_get_error_message(code, buf, sizeof buf);
  if (n < 0) return "PCRE2 error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* p) const { pcre2_match_data_free(p); }
};

}  // namespace

struct Pretokenizer::Code {
  pcre2_code* re = nullptr;
  ~Code() { pcre2_code_free(re); }
};

Pretokenizer::Pretokenizer(const std::string& pattern, const std::string& where)
    : code_(std::make_unique<Code>()) {
  // UCP makes \s, \d, \w and POSIX classes Unicode-aware, as in Python's and Rust's regex.
  // MATCH_INVALID_UTF lets arbitrary bytes through: they never match, and split() keeps them
  // as their own pieces instead of failing the whole text.
  std::uint32_t options = PCRE2_UTF | PCRE2_UCP;
#ifdef PCRE2_MATCH_INVALID_UTF
  options |= PCRE2_MATCH_INVALID_UTF;
#endif
  int err = 0;
  PCRE2_SIZE offset = 0;
  code_->re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                            &err, &offset, nullptr);
  if (code_->re == nullptr)
    throw Error(Status::bad_tokenizer, where + ": the pattern does not compile at offset " +
                                           std::to_string(offset) + ": " + pcre2_message(err));
  // JIT is an optimisation only; the interpreter gives the same matches.
  jit_ = pcre2_jit_compile(code_->re, PCRE2_JIT_COMPLETE) == 0;
}

Pretokenizer::~Pretokenizer() = default;

void Pretokenizer::split(std::string_view text,
                         const std::function<void(std::string_view)>& piece) const {
  if (text.empty()) return;
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(
      pcre2_match_data_create_from_pattern(code_->re, nullptr));
  if (!md) throw Error(Status::out_of_memory, "tokenizer: cannot allocate PCRE2 match data");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const std::size_t n = text.size();
  std::size_t covered = 0;  // text[0, covered) has been handed out
  std::size_t start = 0;    // where the next search begins
  std::uint32_t match_options = 0;
  while (start < n) {
    int rc = pcre2_match(code_->re, subject, n, start, match_options, md.get(), nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // The JIT's default stack is small; the interpreter keeps its backtracking on the heap.
      rc = pcre2_match(code_->re, subject, n, start, match_options | PCRE2_NO_JIT, md.get(),
                       nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0)
      throw Error(Status::invalid_argument,
                  "tokenizer: cannot split the text at byte " + std::to_string(start) + ": " +
                      pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    const std::size_t ms = ov[0], me = ov[1];
    if (ms > covered) piece(text.substr(covered, ms - covered));
    if (me > ms) {
      piece(text.substr(ms, me - ms));
      covered = me;
      start = me;
    } else {
      // An empty match (no alternative of the real pattern allows one): step over one byte so
      // the loop advances; the byte is handed out with the next gap or match.
      covered = ms;
      start = ms + 1;
      while (start < n && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
    }
    // Validated (or not needed) once; later searches start on character boundaries.
    match_options = PCRE2_NO_UTF_CHECK;
  }
  if (covered < n) piece(text.substr(covered));
}

}  // namespace vrt
