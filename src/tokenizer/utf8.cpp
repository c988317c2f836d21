// UTF-8 state machine with maximal-subpart replacement; see utf8.h for why it is shared.
#include "tokenizer/utf8.h"

#include <cstdint>

namespace vrt::utf8 {
namespace {

// Number of continuation bytes a lead byte announces, or -1 for a byte that can never start a
// sequence (continuation bytes, C0/C1 overlongs, F5..FF).
int continuation_count(std::uint8_t b) {
  if (b < 0x80) return 0;
  if (b >= 0xC2 && b <= 0xDF) return 1;
  if (b >= 0xE0 && b <= 0xEF) return 2;
  if (b >= 0xF0 && b <= 0xF4) return 3;
  return -1;
}

// Allowed range of the first continuation byte; the lead byte narrows it to exclude overlongs,
// surrogates and code points above U+10FFFF. Later continuation bytes are always 80..BF.
bool first_continuation_ok(std::uint8_t lead, std::uint8_t b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
  }
}

}  // namespace

std::size_t decode_replace(std::string_view in, std::string& out, bool final) {
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    const auto lead = static_cast<std::uint8_t>(in[i]);
    const int need = continuation_count(lead);
    if (need == 0) {
      out.push_back(in[i]);
      ++i;
      continue;
    }
    if (need < 0) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    // Count how many following bytes continue the sequence correctly.
    std::size_t good = 0;
    bool broken = false;
    while (good < static_cast<std::size_t>(need)) {
      const std::size_t j = i + 1 + good;
      if (j >= n) break;  // input ends inside the sequence
      const auto b = static_cast<std::uint8_t>(in[j]);
      const bool ok = good == 0 ? first_continuation_ok(lead, b) : (b >= 0x80 && b <= 0xBF);
      if (!ok) {
        broken = true;
        break;
      }
      ++good;
    }
    if (good == static_cast<std::size_t>(need)) {
      out.append(in.substr(i, 1 + good));
      i += 1 + good;
    } else if (broken || final) {
      // The lead and its valid continuations form one maximal subpart: one U+FFFD, then
      // restart at the offending byte.
      out.append(kReplacement);
      i += 1 + good;
    } else {
      return i;  // a valid prefix cut by the end of input: wait for more bytes
    }
  }
  return i;
}

bool is_valid(std::string_view s) {
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const auto lead = static_cast<std::uint8_t>(s[i]);
    const int need = continuation_count(lead);
    if (need < 0 || n - i - 1 < static_cast<std::size_t>(need)) return false;
    for (int k = 1; k <= need; ++k) {
      const auto b = static_cast<std::uint8_t>(s[i + static_cast<std::size_t>(k)]);
      if (k == 1 ? !first_continuation_ok(lead, b) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += 1 + static_cast<std::size_t>(need);
  }
  return true;
}

}  // namespace vrt::utf8
