// RIFF/WAVE header parsing shared by the file decoder (a gate before libsndfile sees the file)
// and the streaming WAV parser (which decodes pipes by hand).
//
// Only integer PCM (8/16/24/32-bit) and IEEE float (32/64-bit), plain or WAVE_FORMAT_EXTENSIBLE,
// pass. Everything else, ADPCM above all (the codec class behind most libsndfile CVEs), is
// rejected here by its format tag, before any codec code runs.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "audio/sample_convert.h"
#include "voxtral_rt/audio.h"

namespace vrt::audio {

inline constexpr std::uint32_t fourcc(const char (&s)[5]) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[3])) << 24);
}

inline std::uint16_t load_u16le(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t load_u32le(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

// A printable rendering of a chunk id for error messages ("LIST", "\x00\x01..").
std::string fourcc_text(const std::uint8_t* p);

struct WavFmt {
  SampleType sample_type = SampleType::s16;
  int channels = 0;
  int sample_rate = 0;
  int block_align = 0;  // bytes per frame
  std::string format;   // "WAV PCM_16", "WAV FLOAT", ...
};

// Largest 'fmt ' chunk accepted (WAVE_FORMAT_EXTENSIBLE needs 40 bytes).
inline constexpr std::uint32_t kMaxFmtChunkBytes = 1024;

// Parses and validates the body of a 'fmt ' chunk. Throws Error(bad_audio) naming `name`.
WavFmt parse_wav_fmt(std::span<const std::uint8_t> body, const AudioLimits& limits,
                     const std::string& name);

struct WavLayout {
  WavFmt fmt;
  std::size_t data_size_offset = 0;  // where the data chunk's 32-bit size field sits
  std::uint32_t data_size = 0;       // as declared
  // True when the declared size is 0 but what follows is not a chain of well-formed chunks, i.e.
  // a header written to a pipe (size unknown then) and the samples after it.
  bool data_size_unknown = false;
};

// Walks a complete in-memory RIFF/RF64 file from its 12-byte preamble to the 'data' chunk header
// and returns the validated format and where the data is. Throws bad_audio when the file ends
// inside the header (before a 'data' chunk), when 'fmt ' is missing or invalid, or when a chunk
// before 'data' overruns the file. The data chunk itself may be shorter than declared.
WavLayout prescan_riff(std::span<const std::uint8_t> file, const AudioLimits& limits,
                       const std::string& name);

}  // namespace vrt::audio
