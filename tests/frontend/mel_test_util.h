// Helpers for the front-end tests: a strict 16-bit PCM WAV reader (the front end must not depend
// on src/audio), the published clips as float samples, and array comparison.
//
// WAV: "RIFF" <u32 size> "WAVE", then chunks <id[4]> <u32 size> <data, padded to even size>;
// "fmt " gives format 1 (PCM) or 0xFFFE (extensible), channels, rate, bits; "data" holds int16
// little-endian samples, converted as s / 32768.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.h"

namespace vrt::test {

inline std::uint32_t le32(const std::string& b, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}
inline std::uint16_t le16(const std::string& b, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(b[at]) |
                                    static_cast<unsigned char>(b[at + 1]) << 8);
}

// Mono 16-bit 16 kHz WAV -> float samples. Throws std::runtime_error on anything else.
inline std::vector<float> read_wav_mono16k(const std::string& path) {
  const std::string b = read_text(path);
  if (b.size() < 12 || b.compare(0, 4, "RIFF") != 0 || b.compare(8, 4, "WAVE") != 0) {
    throw std::runtime_error(path + ": not a RIFF/WAVE file");
  }
  bool have_fmt = false;
  std::vector<float> out;
  bool have_data = false;
  for (std::size_t at = 12; at + 8 <= b.size();) {
    const std::string id = b.substr(at, 4);
    const std::size_t size = le32(b, at + 4);
    const std::size_t body = at + 8;
    if (size > b.size() - body) throw std::runtime_error(path + ": chunk " + id + " overruns file");
    if (id == "fmt ") {
      if (size < 16) throw std::runtime_error(path + ": short fmt chunk");
      const unsigned format = le16(b, body), channels = le16(b, body + 2), bits = le16(b, body + 14);
      const std::uint32_t rate = le32(b, body + 4);
      if ((format != 1 && format != 0xFFFE) || channels != 1 || bits != 16 || rate != 16000) {
        throw std::runtime_error(path + ": not mono 16-bit 16 kHz PCM");
      }
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) throw std::runtime_error(path + ": data before fmt");
      out.resize(size / 2);
      for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<float>(static_cast<std::int16_t>(le16(b, body + 2 * i))) / 32768.0f;
      }
      have_data = true;
    }
    at = body + size + (size & 1);
  }
  if (!have_data) throw std::runtime_error(path + ": no data chunk");
  return out;
}

inline std::vector<float> jfk() { return read_wav_mono16k(shared_data("audio/jfk.wav")); }
inline std::vector<float> librispeech() {
  return read_wav_mono16k(shared_data("audio/librispeech_dev-clean_1272-128104-0000.wav"));
}

// Max |a - b|; +inf when the sizes differ or a value is NaN in one of them only.
inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    if (std::isnan(d)) return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

}  // namespace vrt::test
