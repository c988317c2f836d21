// Sample conversion shared by every decoding path (libsndfile output, raw PCM, streamed WAV), so
// that the same bytes give bit-identical floats whichever path reads them.
//
// Integer PCM maps to float exactly as libsndfile's normalized reads do: u8 -> (x-128)/128,
// s16 -> x/2^15, s24 -> x/2^23, s32 -> float(x)/2^31 (the int-to-float rounding first, then an
// exact power-of-two scale). Non-finite samples become 0 before channels are averaged, so one
// bad channel does not wipe the others.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common/half.h"

namespace vrt::audio {

// f16, mulaw and alaw come from raw PCM streams only (the Mistral realtime encodings); files
// with them go through libsndfile.
enum class SampleType { u8, s16, s24, s32, f32, f64, f16, mulaw, alaw };

constexpr std::size_t sample_bytes(SampleType t) {
  switch (t) {
    case SampleType::u8: return 1;
    case SampleType::s16: return 2;
    case SampleType::s24: return 3;
    case SampleType::s32: return 4;
    case SampleType::f32: return 4;
    case SampleType::f64: return 8;
    case SampleType::f16: return 2;
    case SampleType::mulaw: return 1;
    case SampleType::alaw: return 1;
  }
  return 0;
}

// G.711 (ITU-T, 11/88) expansion to 16-bit linear PCM, the tables' closed form. mu-law: bits
// inverted, then sign, 3-bit segment and 4-bit step; |x| = ((step << 3) + 0x84) << segment, minus
// the 0x84 bias (range +-32124). A-law: even bits inverted (xor 0x55), sign bit 1 = positive;
// |x| = (step << 4) + 8 in segment 0, else ((step << 4) + 0x108) << (segment - 1) (range +-32256).
inline std::int16_t mulaw_to_s16(std::uint8_t u) {
  u = static_cast<std::uint8_t>(~u);
  const int segment = (u >> 4) & 7;
  const int magnitude = ((((u & 0x0F) << 3) + 0x84) << segment) - 0x84;
  return static_cast<std::int16_t>((u & 0x80) ? -magnitude : magnitude);
}
inline std::int16_t alaw_to_s16(std::uint8_t a) {
  a = static_cast<std::uint8_t>(a ^ 0x55);
  const int segment = (a >> 4) & 7;
  const int step = a & 0x0F;
  const int magnitude = segment == 0 ? (step << 4) + 8 : ((step << 4) + 0x108) << (segment - 1);
  return static_cast<std::int16_t>((a & 0x80) ? magnitude : -magnitude);
}

inline float finite_or_zero(float x) { return std::isfinite(x) ? x : 0.0f; }

// Mean of one interleaved frame. Mono passes through untouched (apart from non-finite values) so
// that a mono file decodes bit-exactly; wider frames are summed in double.
inline float mix_frame(const float* frame, int channels) {
  if (channels == 1) return finite_or_zero(frame[0]);
  double sum = 0.0;
  for (int c = 0; c < channels; ++c) sum += static_cast<double>(finite_or_zero(frame[c]));
  return static_cast<float>(sum / channels);
}

// Appends the mono mix of `frames` interleaved float frames.
inline void downmix_append(const float* interleaved, std::size_t frames, int channels,
                           std::vector<float>& out) {
  const std::size_t ch = static_cast<std::size_t>(channels);
  for (std::size_t i = 0; i < frames; ++i) out.push_back(mix_frame(interleaved + i * ch, channels));
}

// One little-endian sample at p, as a float.
inline float load_sample(const std::uint8_t* p, SampleType t) {
  switch (t) {
    case SampleType::u8: return static_cast<float>(static_cast<int>(p[0]) - 128) * (1.0f / 128.0f);
    case SampleType::s16: {
      const auto v = static_cast<std::int16_t>(static_cast<std::uint16_t>(p[0] | (p[1] << 8)));
      return static_cast<float>(v) * (1.0f / 32768.0f);
    }
    case SampleType::s24: {
      // Assemble in the top 24 bits of a uint32, then an arithmetic shift restores the sign.
      const std::uint32_t u = (static_cast<std::uint32_t>(p[0]) << 8) |
                              (static_cast<std::uint32_t>(p[1]) << 16) |
                              (static_cast<std::uint32_t>(p[2]) << 24);
      return static_cast<float>(static_cast<std::int32_t>(u) >> 8) * (1.0f / 8388608.0f);
    }
    case SampleType::s32: {
      const std::uint32_t u = static_cast<std::uint32_t>(p[0]) |
                              (static_cast<std::uint32_t>(p[1]) << 8) |
                              (static_cast<std::uint32_t>(p[2]) << 16) |
                              (static_cast<std::uint32_t>(p[3]) << 24);
      return static_cast<float>(static_cast<std::int32_t>(u)) * (1.0f / 2147483648.0f);
    }
    case SampleType::f32: {
      const std::uint32_t u = static_cast<std::uint32_t>(p[0]) |
                              (static_cast<std::uint32_t>(p[1]) << 8) |
                              (static_cast<std::uint32_t>(p[2]) << 16) |
                              (static_cast<std::uint32_t>(p[3]) << 24);
      float f = 0.0f;
      std::memcpy(&f, &u, sizeof f);
      return f;
    }
    case SampleType::f16:
      return f16_to_f32(static_cast<std::uint16_t>(p[0] | (p[1] << 8)));
    case SampleType::mulaw: return static_cast<float>(mulaw_to_s16(p[0])) * (1.0f / 32768.0f);
    case SampleType::alaw: return static_cast<float>(alaw_to_s16(p[0])) * (1.0f / 32768.0f);
    case SampleType::f64: {
      std::uint64_t u = 0;
      for (int i = 7; i >= 0; --i) u = (u << 8) | p[i];
      double d = 0.0;
      std::memcpy(&d, &u, sizeof d);
      // Out-of-range doubles become +-inf here and then 0 in mix_frame, like NaN.
      // (A double beyond float's range cannot be cast: that is undefined behaviour.)
      return std::fabs(d) <= static_cast<double>(std::numeric_limits<float>::max())
                 ? static_cast<float>(d)
                 : std::numeric_limits<float>::infinity();
    }
  }
  return 0.0f;
}

// Appends the mono mix of `frames` interleaved little-endian frames of `channels` samples.
// channels must be 1..kMaxFrameChannels (callers validate it against AudioLimits first).
inline constexpr int kMaxFrameChannels = 64;
inline void decode_frames_append(const std::uint8_t* data, std::size_t frames, int channels,
                                 SampleType type, std::vector<float>& out) {
  const std::size_t sb = sample_bytes(type);
  float frame[kMaxFrameChannels];
  for (std::size_t i = 0; i < frames; ++i) {
    for (int c = 0; c < channels; ++c) {
      frame[c] = load_sample(data, type);
      data += sb;
    }
    out.push_back(mix_frame(frame, channels));
  }
}

std::string sample_type_name(SampleType t);  // "PCM_U8", "PCM_16", ..., "FLOAT", "DOUBLE"

}  // namespace vrt::audio
