// Whole-file audio decoding: magic sniffing, a RIFF header gate, then libsndfile over a bounded
// in-memory buffer, a format allow-list and a read loop that enforces the duration cap.
//
// Why this shape (hardening.md §2): libsndfile's CVEs sit in ADPCM codecs, chunk parsers and
// Ogg, so only the magic numbers of the formats we need reach it at all (including what hides
// behind an ID3 tag), WAV headers are vetted first by our own parser (which refuses ADPCM by
// format tag, before libsndfile's codec init runs), libsndfile reads through
// sf_open_virtual from memory with clamped seeks (as its OSS-Fuzz harness does) instead of from
// the path, and the decoded result is re-checked against the allow-list, the channel and
// sample-rate bounds, and the duration cap block by block.
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "audio/sample_convert.h"
#include "audio/wav_format.h"
#include "common/file_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

using audio::downmix_append;

enum class Container { wav, rf64, flac, ogg, mpeg };

const char* container_name(Container c) {
  switch (c) {
    case Container::wav: return "WAV";
    case Container::rf64: return "RF64";
    case Container::flac: return "FLAC";
    case Container::ogg: return "Ogg";
    case Container::mpeg: return "MPEG audio";
  }
  return "?";
}

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw Error(Status::bad_audio, "'" + name + "': " + what);
}

std::string hex_bytes(std::span<const std::uint8_t> b) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string s;
  for (std::size_t i = 0; i < b.size() && i < 8; ++i) {
    if (i > 0) s += ' ';
    s += kHex[b[i] >> 4];
    s += kHex[b[i] & 15];
  }
  return s;
}

bool starts_with(std::span<const std::uint8_t> b, std::size_t at, const char* magic) {
  const std::size_t n = std::strlen(magic);
  return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
}

// An MPEG-1/2/2.5 audio frame header: 11 sync bits, then no reserved version, layer, bitrate or
// sample-rate code. ADTS AAC shares the sync but has layer bits 00.
bool is_mpeg_audio_frame(std::span<const std::uint8_t> b) {
  if (b.size() < 4 || b[0] != 0xFF || (b[1] & 0xE0) != 0xE0) return false;
  const int version = (b[1] >> 3) & 3;
  const int layer = (b[1] >> 1) & 3;
  const int bitrate = b[2] >> 4;
  const int rate = (b[2] >> 2) & 3;
  return version != 1 && layer != 0 && bitrate != 15 && rate != 3;
}

Container sniff(std::span<const std::uint8_t> b, const std::string& name);

// libsndfile skips any number of leading ID3v2 tags and then guesses the format again, so an ID3
// tag could smuggle in any format it reads (an ADPCM WAV, say) past the magic check. Skip the
// tags the same way (size = 4 x 7 bits, +10 for a footer) and allow only MP3 or FLAC behind them.
Container sniff_after_id3(std::span<const std::uint8_t> b, const std::string& name) {
  std::size_t off = 0;
  for (int tags = 0; starts_with(b, off, "ID3"); ++tags) {
    if (tags == 16) fail(name, "more than 16 ID3 tags");
    if (b.size() - off < 10) fail(name, "file cut inside its ID3 tag");
    const std::uint8_t* h = b.data() + off;
    const std::size_t size = (std::size_t{h[6] & 0x7Fu} << 21) | (std::size_t{h[7] & 0x7Fu} << 14) |
                             (std::size_t{h[8] & 0x7Fu} << 7) | std::size_t{h[9] & 0x7Fu};
    const std::size_t total = 10 + size + ((h[5] & 0x10) != 0 ? 10 : 0);
    if (total > b.size() - off) fail(name, "ID3 tag of " + std::to_string(total) +
                                               " bytes runs past the end of the file");
    off += total;
  }
  const std::span<const std::uint8_t> rest = b.subspan(off);
  if (starts_with(rest, 0, "fLaC")) return Container::flac;
  // MP3 writers may pad between the tag and the first frame; mpg123 resyncs over zeros.
  std::size_t frame = 0;
  while (frame < rest.size() && frame < 4096 && rest[frame] == 0) ++frame;
  if (is_mpeg_audio_frame(rest.subspan(frame))) return Container::mpeg;
  if (rest.size() >= 4) {
    const Container inner = sniff(rest, name);  // names what it is (and fails if unknown)
    fail(name, std::string("ID3 tag followed by ") + container_name(inner) +
                   " data (only MP3 or FLAC may follow an ID3 tag)");
  }
  fail(name, "ID3 tag with no audio after it");
}

Container sniff(std::span<const std::uint8_t> b, const std::string& name) {
  if (b.size() < 4) {
    fail(name, "file of " + std::to_string(b.size()) + " bytes is too short to be audio");
  }
  if (starts_with(b, 0, "RIFF") || starts_with(b, 0, "RF64")) {
    if (b.size() < 12) fail(name, "WAV file cut inside its 12-byte RIFF header");
    if (!starts_with(b, 8, "WAVE")) {
      fail(name, "RIFF file of type '" + audio::fourcc_text(b.data() + 8) +
                     "' is not WAVE audio");
    }
    return b[1] == 'I' ? Container::wav : Container::rf64;
  }
  if (starts_with(b, 0, "fLaC")) return Container::flac;
  if (starts_with(b, 0, "OggS")) return Container::ogg;
  if (starts_with(b, 0, "ID3")) return sniff_after_id3(b, name);
  if (is_mpeg_audio_frame(b)) return Container::mpeg;

  // Name formats libsndfile (or a user) might expect to work, to make the refusal clear.
  const char* known = nullptr;
  if (starts_with(b, 0, "FORM")) known = "AIFF";
  else if (starts_with(b, 0, ".snd")) known = "AU/SND";
  else if (starts_with(b, 0, "caff")) known = "CAF";
  else if (starts_with(b, 0, "wvpk")) known = "WavPack";
  else if (starts_with(b, 0, "MAC ")) known = "Monkey's Audio";
  else if (starts_with(b, 4, "ftyp")) known = "MP4/M4A";
  else if (b[0] == 0x30 && b[1] == 0x26 && b[2] == 0xB2 && b[3] == 0x75) known = "ASF/WMA";
  else if (b[0] == 0xFF && (b[1] & 0xF6) == 0xF0) known = "AAC (ADTS)";
  const std::string supported = "supported: WAV, RF64, FLAC, Ogg Vorbis/Opus, MP3";
  if (known != nullptr) fail(name, std::string(known) + " audio is not supported (" + supported + ")");
  fail(name, "not a supported audio file (first bytes " + hex_bytes(b) + "; " + supported + ")");
}

// libsndfile's virtual I/O over a read-only buffer. Every seek is clamped to [0, size], so no
// header field can send a read outside the buffer.
// An optional 4-byte overlay rewrites one header field on the fly (a WAV data size of 0 left by a
// pipe writer becomes 0xFFFFFFFF, which libsndfile reads as "to the end of the file") without
// copying the file.
struct MemoryReader {
  const std::uint8_t* data;
  sf_count_t size;
  sf_count_t pos;
  sf_count_t overlay_at = -1;
  std::uint8_t overlay[4] = {};
};

sf_count_t vio_get_filelen(void* user) { return static_cast<MemoryReader*>(user)->size; }

sf_count_t vio_seek(sf_count_t offset, int whence, void* user) {
  auto* r = static_cast<MemoryReader*>(user);
  sf_count_t base = 0;
  switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = r->pos; break;
    case SEEK_END: base = r->size; break;
    default: return -1;
  }
  sf_count_t target = 0;
  if (__builtin_add_overflow(base, offset, &target)) {
    target = offset < 0 ? 0 : r->size;
  }
  r->pos = std::clamp<sf_count_t>(target, 0, r->size);
  return r->pos;
}

sf_count_t vio_read(void* ptr, sf_count_t count, void* user) {
  auto* r = static_cast<MemoryReader*>(user);
  if (count <= 0) return 0;
  const sf_count_t n = std::min(count, r->size - r->pos);
  if (n <= 0) return 0;
  auto* dst = static_cast<std::uint8_t*>(ptr);
  std::memcpy(dst, r->data + r->pos, static_cast<std::size_t>(n));
  for (sf_count_t i = 0; r->overlay_at >= 0 && i < 4; ++i) {
    const sf_count_t at = r->overlay_at + i;
    if (at >= r->pos && at < r->pos + n) dst[at - r->pos] = r->overlay[i];
  }
  r->pos += n;
  return n;
}

sf_count_t vio_write(const void*, sf_count_t, void*) { return 0; }

sf_count_t vio_tell(void* user) { return static_cast<MemoryReader*>(user)->pos; }

struct SfCloser {
  void operator()(SNDFILE* sf) const { sf_close(sf); }
};

const char* major_name(int major) {
  switch (major) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX: return "WAV";
    case SF_FORMAT_RF64: return "RF64";
    case SF_FORMAT_FLAC: return "FLAC";
    case SF_FORMAT_OGG: return "OGG";
    case SF_FORMAT_MPEG: return "MPEG";
    default: return nullptr;
  }
}

const char* sub_name(int sub) {
  switch (sub) {
    case SF_FORMAT_PCM_U8: return "PCM_U8";
    case SF_FORMAT_PCM_S8: return "PCM_S8";
    case SF_FORMAT_PCM_16: return "PCM_16";
    case SF_FORMAT_PCM_24: return "PCM_24";
    case SF_FORMAT_PCM_32: return "PCM_32";
    case SF_FORMAT_FLOAT: return "FLOAT";
    case SF_FORMAT_DOUBLE: return "DOUBLE";
    case SF_FORMAT_VORBIS: return "VORBIS";
    case SF_FORMAT_OPUS: return "OPUS";
    case SF_FORMAT_MPEG_LAYER_I: return "LAYER_I";
    case SF_FORMAT_MPEG_LAYER_II: return "LAYER_II";
    case SF_FORMAT_MPEG_LAYER_III: return "LAYER_III";
    default: return nullptr;
  }
}

// libsndfile's own description of a (sub)format it opened but we refuse.
std::string describe_sf_format(int format) {
  SF_FORMAT_INFO info{};
  info.format = format;
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof info) == 0 && info.name != nullptr) {
    return info.name;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%06X", static_cast<unsigned>(format));
  return buf;
}

bool allowed(Container c, int major, int sub) {
  switch (c) {
    case Container::wav:
    case Container::rf64:
      return (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64) &&
             (sub == SF_FORMAT_PCM_U8 || sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_24 ||
              sub == SF_FORMAT_PCM_32 || sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE);
    case Container::flac:
      return major == SF_FORMAT_FLAC &&
             (sub == SF_FORMAT_PCM_S8 || sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_24);
    case Container::ogg:
      return major == SF_FORMAT_OGG && (sub == SF_FORMAT_VORBIS || sub == SF_FORMAT_OPUS);
    case Container::mpeg:
      return major == SF_FORMAT_MPEG &&
             (sub == SF_FORMAT_MPEG_LAYER_I || sub == SF_FORMAT_MPEG_LAYER_II ||
              sub == SF_FORMAT_MPEG_LAYER_III);
  }
  return false;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", s);
  return buf;
}

// Frames per sf_readf_float call: about 1 s at 16 kHz; the duration cap is checked per block.
constexpr sf_count_t kBlockFrames = 16384;

}  // namespace

void AudioLimits::validate() const {
  auto bad = [](const std::string& what) { throw Error(Status::invalid_argument, "AudioLimits: " + what); };
  if (max_file_bytes == 0) bad("max_file_bytes must be positive");
  if (!(max_duration_s > 0.0) || !std::isfinite(max_duration_s)) {
    bad("max_duration_s must be a positive finite number");
  }
  if (min_sample_rate_hz < 1 || max_sample_rate_hz < min_sample_rate_hz ||
      max_sample_rate_hz > 1'000'000) {
    bad("sample-rate range " + std::to_string(min_sample_rate_hz) + ".." +
        std::to_string(max_sample_rate_hz) + " is not within 1..1000000 Hz");
  }
  if (max_channels < 1 || max_channels > audio::kMaxFrameChannels) {
    bad("max_channels must be 1.." + std::to_string(audio::kMaxFrameChannels));
  }
}

AudioBuffer decode_audio_memory(std::span<const std::uint8_t> bytes, const std::string& name,
                                const AudioLimits& limits) {
  limits.validate();
  if (bytes.empty()) fail(name, "empty file");
  if (bytes.size() > limits.max_file_bytes) {
    fail(name, std::to_string(bytes.size()) + " bytes, above the limit of " +
                   std::to_string(limits.max_file_bytes));
  }
  const Container container = sniff(bytes, name);
  MemoryReader reader{bytes.data(), static_cast<sf_count_t>(bytes.size()), 0};
  if (container == Container::wav || container == Container::rf64) {
    // Throws on ADPCM and other codecs, bad fields and headers cut short.
    const audio::WavLayout layout = audio::prescan_riff(bytes, limits, name);
    if (layout.data_size_unknown) {
      reader.overlay_at = static_cast<sf_count_t>(layout.data_size_offset);
      std::memset(reader.overlay, 0xFF, sizeof reader.overlay);
    }
  }

  SF_VIRTUAL_IO vio{vio_get_filelen, vio_seek, vio_read, vio_write, vio_tell};
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SfCloser> sf(sf_open_virtual(&vio, SFM_READ, &info, &reader));
  if (!sf) {
    fail(name, std::string("cannot decode as ") + container_name(container) + ": " +
                   sf_error_number(sf_error(nullptr)));
  }

  const int major = info.format & SF_FORMAT_TYPEMASK;
  const int sub = info.format & SF_FORMAT_SUBMASK;
  if (!allowed(container, major, sub)) {
    fail(name, "unsupported audio encoding: " + describe_sf_format(major) + ", " +
                   describe_sf_format(sub) +
                   " (accepted: WAV/RF64 PCM 8-32 bit or float, FLAC, Ogg Vorbis/Opus, MP3)");
  }
  if (info.channels < 1) fail(name, "audio declares " + std::to_string(info.channels) + " channels");
  if (info.channels > limits.max_channels) {
    fail(name, "audio has " + std::to_string(info.channels) + " channels, above the limit of " +
                   std::to_string(limits.max_channels));
  }
  if (info.samplerate < limits.min_sample_rate_hz || info.samplerate > limits.max_sample_rate_hz) {
    fail(name, "sample rate " + std::to_string(info.samplerate) + " Hz is outside " +
                   std::to_string(limits.min_sample_rate_hz) + ".." +
                   std::to_string(limits.max_sample_rate_hz) + " Hz");
  }

  // The cap in frames; max_duration_s * 192 kHz stays far inside 2^63 for any sane limit, and
  // validate() bounds both factors.
  const double cap_d = std::floor(limits.max_duration_s * info.samplerate);
  const auto cap_frames = cap_d >= 9.0e18 ? std::numeric_limits<std::uint64_t>::max()
                                          : static_cast<std::uint64_t>(cap_d);
  const std::string cap_text = "the limit of " + seconds_text(limits.max_duration_s);
  // SF_COUNT_MAX (or a negative count) means libsndfile does not know the length.
  const bool frames_known = info.frames >= 0 && info.frames != SF_COUNT_MAX;
  if (frames_known && static_cast<std::uint64_t>(info.frames) > cap_frames) {
    fail(name, "audio declares " + seconds_text(static_cast<double>(info.frames) / info.samplerate) +
                   ", above " + cap_text);
  }

  AudioBuffer out;
  out.sample_rate = info.samplerate;
  out.channels_in_source = info.channels;
  out.format = std::string(major_name(major)) + " " + sub_name(sub);
  if (frames_known) {
    // A declared length is a claim, not a fact: reserve no more than the input could hold as
    // uncompressed 8-bit PCM, and no more than the cap.
    const auto claim = static_cast<std::uint64_t>(info.frames);
    out.samples.reserve(static_cast<std::size_t>(std::min({claim, cap_frames,
                                                          std::uint64_t{bytes.size()}})));
  }

  const auto channels = static_cast<std::size_t>(info.channels);
  std::vector<float> block(static_cast<std::size_t>(kBlockFrames) * channels);
  std::uint64_t total = 0;
  while (true) {
    const sf_count_t got = sf_readf_float(sf.get(), block.data(), kBlockFrames);
    if (got <= 0) break;
    const auto n = static_cast<std::uint64_t>(std::min(got, kBlockFrames));
    total += n;
    if (total > cap_frames) {
      fail(name, "audio is longer than " + cap_text + " (stopped decoding at " +
                     seconds_text(static_cast<double>(total) / info.samplerate) + ")");
    }
    downmix_append(block.data(), static_cast<std::size_t>(n), info.channels, out.samples);
  }
  const int err = sf_error(sf.get());
  if (err != SF_ERR_NO_ERROR) {
    fail(name, std::string("decoding failed after ") + std::to_string(total) +
                   " frames: " + sf_strerror(sf.get()));
  }
  return out;
}

AudioBuffer decode_audio_file(const std::string& path, const AudioLimits& limits) {
  limits.validate();
  const std::string bytes = read_file_capped(path, limits.max_file_bytes, Status::bad_audio);
  return decode_audio_memory(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                    bytes.size()),
      path, limits);
}

std::vector<float> downmix_to_mono(std::span<const float> interleaved, int channels) {
  const int max_channels = AudioLimits{}.max_channels;  // as a file may have
  if (channels < 1 || channels > max_channels)
    throw Error(Status::invalid_argument, "channels must be 1.." + std::to_string(max_channels) +
                                              ", got " + std::to_string(channels));
  const auto ch = static_cast<std::size_t>(channels);
  if (interleaved.size() % ch != 0)
    throw Error(Status::invalid_argument, std::to_string(interleaved.size()) + " samples are not whole frames of " +
                                              std::to_string(channels) + " channels");
  std::vector<float> out;
  out.reserve(interleaved.size() / ch);
  downmix_append(interleaved.data(), interleaved.size() / ch, channels, out);
  return out;
}

void resample_to_model_rate(AudioBuffer& a) {
  if (a.sample_rate != kModelSampleRateHz) {
    a.samples = resample(a.samples, a.sample_rate, kModelSampleRateHz);
    a.sample_rate = kModelSampleRateHz;
  }
}

AudioBuffer load_audio_16k_mono(const std::string& path, const AudioLimits& limits) {
  AudioBuffer a = decode_audio_file(path, limits);
  resample_to_model_rate(a);
  return a;
}

}  // namespace vrt
