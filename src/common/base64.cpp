// Strict base64; see base64.h for why lenient decoding is a hole.
#include "common/base64.h"

#include <array>
#include <cstdint>

namespace vrt::base64 {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<std::uint8_t>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kTable = make_table();

int value(char c) { return kTable[static_cast<std::uint8_t>(c)]; }

}  // namespace

std::optional<std::string> decode_strict(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    const int pad = last ? (in[i + 3] == '=') + (in[i + 3] == '=' && in[i + 2] == '=') : 0;
    int v[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4 - pad; ++k) {
      v[k] = value(in[i + static_cast<std::size_t>(k)]);
      if (v[k] < 0) return std::nullopt;  // junk, or '=' where data is due
    }
    const std::uint32_t word = (static_cast<std::uint32_t>(v[0]) << 18) |
                               (static_cast<std::uint32_t>(v[1]) << 12) |
                               (static_cast<std::uint32_t>(v[2]) << 6) |
                               static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<char>((word >> 16) & 0xFF));
    if (pad == 2) {
      if ((word & 0xFFFF) != 0) return std::nullopt;  // non-canonical: unused bits set
      break;
    }
    out.push_back(static_cast<char>((word >> 8) & 0xFF));
    if (pad == 1) {
      if ((word & 0xFF) != 0) return std::nullopt;
      break;
    }
    out.push_back(static_cast<char>(word & 0xFF));
  }
  return out;
}

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t w = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kAlphabet[(w >> 18) & 63]);
    out.push_back(kAlphabet[(w >> 12) & 63]);
    out.push_back(kAlphabet[(w >> 6) & 63]);
    out.push_back(kAlphabet[w & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t w = byte(i) << 16;
    if (rest == 2) w |= byte(i + 1) << 8;
    out.push_back(kAlphabet[(w >> 18) & 63]);
    out.push_back(kAlphabet[(w >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(w >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace vrt::base64
