// Fixtures for the audio tests: signals with known content, files written through libsndfile in
// every format we accept (and some we refuse), hand-made WAV headers for hostile cases, and the
// arithmetic used to check results (tone amplitude by a single-bin DFT, cross-correlation).
#pragma once

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"

namespace vrt::test {

inline constexpr double kPi = 3.14159265358979323846;

// amplitude * sin(2 pi f n / rate), n = 0..frames-1.
inline std::vector<float> sine(double freq_hz, double amplitude, int rate, std::size_t frames) {
  std::vector<float> s(frames);
  for (std::size_t n = 0; n < frames; ++n) {
    s[n] = static_cast<float>(amplitude * std::sin(2.0 * kPi * freq_hz * static_cast<double>(n) / rate));
  }
  return s;
}

// A linear chirp from f0 to f1 Hz over `frames` samples: unlike a sine it has a single best
// alignment, so it reveals codec delay.
inline std::vector<float> chirp(double f0, double f1, double amplitude, int rate, std::size_t frames) {
  std::vector<float> s(frames);
  const double dur = static_cast<double>(frames) / rate;
  for (std::size_t n = 0; n < frames; ++n) {
    const double t = static_cast<double>(n) / rate;
    s[n] = static_cast<float>(amplitude * std::sin(2.0 * kPi * (f0 * t + 0.5 * (f1 - f0) / dur * t * t)));
  }
  return s;
}

// Interleaves equal-length channels.
inline std::vector<float> interleave(const std::vector<std::vector<float>>& channels) {
  std::vector<float> out(channels.size() * channels[0].size());
  for (std::size_t i = 0; i < channels[0].size(); ++i) {
    for (std::size_t c = 0; c < channels.size(); ++c) out[i * channels.size() + c] = channels[c][i];
  }
  return out;
}

// Amplitude of the freq_hz component of x[begin, begin+len): 2|X(f)|/len, exact for a sine whose
// period count over the window is an integer.
inline double tone_amplitude(std::span<const float> x, int rate, double freq_hz, std::size_t begin,
                             std::size_t len) {
  double re = 0.0;
  double im = 0.0;
  for (std::size_t n = 0; n < len; ++n) {
    const double ph = 2.0 * kPi * freq_hz * static_cast<double>(n) / rate;
    re += x[begin + n] * std::cos(ph);
    im -= x[begin + n] * std::sin(ph);
  }
  return 2.0 * std::sqrt(re * re + im * im) / static_cast<double>(len);
}

// Normalized cross-correlation of a and b shifted by lag (b[i + lag] against a[i]) over their
// overlap.
inline double ncc_at(std::span<const float> a, std::span<const float> b, long lag) {
  double ab = 0.0, aa = 0.0, bb = 0.0;
  for (long i = 0; i < static_cast<long>(a.size()); ++i) {
    const long j = i + lag;
    if (j < 0 || j >= static_cast<long>(b.size())) continue;
    ab += static_cast<double>(a[i]) * b[j];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[j]) * b[j];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

struct BestLag {
  long lag = 0;
  double ncc = -2.0;
};

inline BestLag best_lag(std::span<const float> a, std::span<const float> b, long max_lag,
                        long step = 1) {
  BestLag best;
  for (long lag = -max_lag; lag <= max_lag; lag += step) {
    const double c = ncc_at(a, b, lag);
    if (c > best.ncc) best = {lag, c};
  }
  return best;
}

// Writes interleaved float frames with libsndfile. Returns false (after explaining why) when this
// libsndfile cannot write `format`, so a test can skip honestly.
inline bool write_sndfile(const std::string& path, int format, int rate, int channels,
                          std::span<const float> interleaved, std::string* why = nullptr) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  if (sf_format_check(&info) == 0) {
    if (why != nullptr) *why = "sf_format_check rejects format 0x" + std::to_string(format);
    return false;
  }
  SNDFILE* sf = sf_open(path.c_str(), SFM_WRITE, &info);
  if (sf == nullptr) {
    if (why != nullptr) *why = std::string("sf_open for writing failed: ") + sf_strerror(nullptr);
    return false;
  }
  const auto frames = static_cast<sf_count_t>(interleaved.size() / static_cast<std::size_t>(channels));
  const sf_count_t written = sf_writef_float(sf, interleaved.data(), frames);
  sf_close(sf);
  if (written != frames) {
    if (why != nullptr) *why = "sf_writef_float wrote " + std::to_string(written) + " frames";
    return false;
  }
  return true;
}

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(f), {});
}

inline void write_bytes(const std::string& path, std::span<const std::uint8_t> bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void put_u16(std::vector<std::uint8_t>& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void put_u32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  put_u16(b, v & 0xFFFF);
  put_u16(b, v >> 16);
}
inline void put_id(std::vector<std::uint8_t>& b, const char* id) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(id[i]));
}

struct WavHeader {
  std::uint16_t tag = 1;  // 1 PCM, 3 float
  std::uint16_t channels = 1;
  std::uint32_t rate = 16000;
  std::uint16_t bits = 16;
  int block_align = -1;  // -1: channels * bits / 8
  std::int64_t data_size = -1;  // -1: the payload's size
};

// A canonical 44-byte-header WAV around `payload`.
inline std::vector<std::uint8_t> make_wav(const WavHeader& h, std::span<const std::uint8_t> payload) {
  const std::uint16_t align = h.block_align >= 0 ? static_cast<std::uint16_t>(h.block_align)
                                                 : static_cast<std::uint16_t>(h.channels * h.bits / 8);
  const auto data_size = h.data_size >= 0 ? static_cast<std::uint32_t>(h.data_size)
                                          : static_cast<std::uint32_t>(payload.size());
  std::vector<std::uint8_t> b;
  put_id(b, "RIFF");
  put_u32(b, static_cast<std::uint32_t>(36 + payload.size()));
  put_id(b, "WAVE");
  put_id(b, "fmt ");
  put_u32(b, 16);
  put_u16(b, h.tag);
  put_u16(b, h.channels);
  put_u32(b, h.rate);
  put_u32(b, h.rate * align);
  put_u16(b, align);
  put_u16(b, h.bits);
  put_id(b, "data");
  put_u32(b, data_size);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

inline std::vector<std::uint8_t> s16_bytes(std::span<const std::int16_t> v) {
  std::vector<std::uint8_t> b;
  for (std::int16_t x : v) put_u16(b, static_cast<std::uint16_t>(x));
  return b;
}

inline std::vector<std::uint8_t> f32_bytes(std::span<const float> v) {
  std::vector<std::uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());  // the tests run on little-endian hosts
  return b;
}

// Runs fn, expecting vrt::Error with `status` whose message contains `needle`.
inline void expect_error(const std::function<void()>& fn, Status status, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown; expected " << status_name(status) << " containing '" << needle
                  << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message '" << e.what() << "' lacks '" << needle << "'";
  }
}

}  // namespace vrt::test
