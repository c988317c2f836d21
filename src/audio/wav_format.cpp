// RIFF/WAVE 'fmt ' validation and the pre-libsndfile header walk (see wav_format.h for why).
#include "audio/wav_format.h"

#include <cstdio>

#include "voxtral_rt/error.h"

namespace vrt::audio {
namespace {

constexpr std::uint16_t kTagPcm = 0x0001;
constexpr std::uint16_t kTagFloat = 0x0003;
constexpr std::uint16_t kTagExtensible = 0xFFFE;

// The 14 bytes after the 2-byte format code in a KSDATAFORMAT_SUBTYPE_* GUID.
constexpr std::uint8_t kKsGuidTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                          0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

std::string hex4(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04X", static_cast<unsigned>(v));
  return buf;
}

std::string tag_name(std::uint16_t tag) {
  switch (tag) {
    case 0x0002: return "MS ADPCM";
    case 0x0006: return "A-law";
    case 0x0007: return "mu-law";
    case 0x0011: return "IMA ADPCM";
    case 0x0022: return "NMS ADPCM";
    case 0x0031: return "GSM 6.10";
    case 0x0040: return "G.721 ADPCM";
    case 0x0045: return "G.726 ADPCM";
    case 0x0050: return "MPEG";
    case 0x0055: return "MPEG layer 3";
    default: return "format tag " + hex4(tag);
  }
}

bool is_letter(std::uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Whether bytes are exactly a sequence of chunks with letter ids and sizes that fit, as after a
// genuinely empty data chunk; PCM samples almost never look like that.
bool is_chunk_chain(std::span<const std::uint8_t> b) {
  std::size_t pos = 0;
  while (pos < b.size()) {
    if (b.size() - pos < 8) return false;
    for (int i = 0; i < 4; ++i) {
      const std::uint8_t c = b[pos + i];
      if (!is_letter(c) && !(c >= '0' && c <= '9') && c != ' ') return false;
    }
    const std::uint64_t n = load_u32le(b.data() + pos + 4);
    if (n > b.size() - pos - 8) return false;
    pos += 8 + static_cast<std::size_t>(n);
    if ((n & 1) != 0 && pos < b.size()) ++pos;
  }
  return true;
}

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw Error(Status::bad_audio, "'" + name + "': " + what);
}

}  // namespace

std::string fourcc_text(const std::uint8_t* p) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const unsigned c = p[i];
    if (c >= 0x20 && c < 0x7F) {
      s += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      s += buf;
    }
  }
  return s;
}

WavFmt parse_wav_fmt(std::span<const std::uint8_t> body, const AudioLimits& limits,
                     const std::string& name) {
  if (body.size() < 16) {
    fail(name, "WAV 'fmt ' chunk is " + std::to_string(body.size()) +
                   " bytes, shorter than the 16 a format needs");
  }
  const std::uint8_t* p = body.data();
  std::uint16_t tag = load_u16le(p);
  const std::uint16_t channels = load_u16le(p + 2);
  const std::uint32_t rate = load_u32le(p + 4);
  const std::uint16_t block_align = load_u16le(p + 12);
  const std::uint16_t bits = load_u16le(p + 14);

  if (tag == kTagExtensible) {
    // cbSize (22) + valid bits + channel mask + the 16-byte sub-format GUID.
    if (body.size() < 40 || load_u16le(p + 16) < 22) {
      fail(name, "WAV_FORMAT_EXTENSIBLE 'fmt ' chunk is too short (" +
                     std::to_string(body.size()) + " bytes, 40 needed)");
    }
    const std::uint8_t* guid = p + 24;
    for (int i = 0; i < 14; ++i) {
      if (guid[2 + i] != kKsGuidTail[i]) {
        fail(name, "unsupported WAV_FORMAT_EXTENSIBLE sub-format (not a KSDATAFORMAT GUID)");
      }
    }
    tag = load_u16le(guid);
  }
  if (tag != kTagPcm && tag != kTagFloat) {
    fail(name, "unsupported WAV encoding " + tag_name(tag) +
                   " (only integer PCM and IEEE float are accepted)");
  }
  if (channels == 0) fail(name, "WAV header declares 0 channels");
  if (channels > limits.max_channels) {
    fail(name, "WAV header declares " + std::to_string(channels) + " channels, above the limit of " +
                   std::to_string(limits.max_channels));
  }
  if (rate < static_cast<std::uint32_t>(limits.min_sample_rate_hz) ||
      rate > static_cast<std::uint32_t>(limits.max_sample_rate_hz)) {
    fail(name, "WAV sample rate " + std::to_string(rate) + " Hz is outside " +
                   std::to_string(limits.min_sample_rate_hz) + ".." +
                   std::to_string(limits.max_sample_rate_hz) + " Hz");
  }
  WavFmt f;
  if (tag == kTagPcm) {
    switch (bits) {
      case 8: f.sample_type = SampleType::u8; break;
      case 16: f.sample_type = SampleType::s16; break;
      case 24: f.sample_type = SampleType::s24; break;
      case 32: f.sample_type = SampleType::s32; break;
      default: fail(name, "unsupported WAV PCM bit depth " + std::to_string(bits));
    }
  } else {
    switch (bits) {
      case 32: f.sample_type = SampleType::f32; break;
      case 64: f.sample_type = SampleType::f64; break;
      default: fail(name, "unsupported WAV float bit depth " + std::to_string(bits));
    }
  }
  const std::size_t expected_align = channels * sample_bytes(f.sample_type);
  if (block_align != expected_align) {
    fail(name, "WAV block_align is " + std::to_string(block_align) + ", expected " +
                   std::to_string(expected_align) + " (" + std::to_string(channels) +
                   " channels x " + std::to_string(bits) + " bits)");
  }
  f.channels = channels;
  f.sample_rate = static_cast<int>(rate);
  f.block_align = block_align;
  f.format = "WAV " + sample_type_name(f.sample_type);
  return f;
}

WavLayout prescan_riff(std::span<const std::uint8_t> file, const AudioLimits& limits,
                       const std::string& name) {
  if (file.size() < 12) fail(name, "WAV file cut inside its 12-byte RIFF header");
  const std::uint8_t* p = file.data();
  const std::size_t size = file.size();
  std::size_t pos = 12;
  bool have_fmt = false;
  WavFmt fmt;
  // Each step advances by at least 8 bytes, so the walk is bounded by the file size.
  while (true) {
    if (size - pos < 8) {
      fail(name, std::string("WAV file cut inside its header (no 'data' chunk") +
                     (have_fmt ? "" : ", no 'fmt ' chunk") + " before byte " +
                     std::to_string(size) + ")");
    }
    const std::uint32_t id = load_u32le(p + pos);
    const std::uint64_t chunk_size = load_u32le(p + pos + 4);
    const std::size_t body = pos + 8;
    const std::uint64_t left = size - body;
    if (id == fourcc("data")) {
      if (!have_fmt) fail(name, "WAV 'data' chunk comes before any 'fmt ' chunk");
      WavLayout layout;
      layout.fmt = fmt;
      layout.data_size_offset = pos + 4;
      layout.data_size = static_cast<std::uint32_t>(chunk_size);
      layout.data_size_unknown = chunk_size == 0 && body < size && p[1] == 'I' &&
                                 !is_chunk_chain(file.subspan(body));
      return layout;
    }
    if (chunk_size > left) {
      fail(name, "WAV chunk '" + fourcc_text(p + pos) + "' at byte " + std::to_string(pos) +
                     " declares " + std::to_string(chunk_size) + " bytes but only " +
                     std::to_string(left) + " remain (file cut inside its header)");
    }
    if (id == fourcc("fmt ")) {
      if (have_fmt) fail(name, "WAV file has two 'fmt ' chunks");
      if (chunk_size > kMaxFmtChunkBytes) {
        fail(name, "WAV 'fmt ' chunk of " + std::to_string(chunk_size) + " bytes is too large");
      }
      fmt = parse_wav_fmt(file.subspan(body, static_cast<std::size_t>(chunk_size)), limits, name);
      have_fmt = true;
    }
    // Chunks are padded to even sizes. libsndfile requires the pad byte, so the gate does too.
    std::size_t next = body + static_cast<std::size_t>(chunk_size);
    if ((chunk_size & 1) != 0) ++next;
    if (next > size) next = size;
    pos = next;
  }
}

std::string sample_type_name(SampleType t) {
  switch (t) {
    case SampleType::u8: return "PCM_U8";
    case SampleType::s16: return "PCM_16";
    case SampleType::s24: return "PCM_24";
    case SampleType::s32: return "PCM_32";
    case SampleType::f32: return "FLOAT";
    case SampleType::f64: return "DOUBLE";
    case SampleType::f16: return "HALF";
    case SampleType::mulaw: return "ULAW";
    case SampleType::alaw: return "ALAW";
  }
  return "?";
}

}  // namespace vrt::audio
