// Raw headerless PCM input (s16le / f32le), for audio piped on stdin: a byte-level decoder that
// carries partial frames across arbitrary read boundaries, and a reader that pulls bounded
// blocks from a file descriptor and hands back fixed-size 16 kHz chunks.
//
// Pipes deliver bytes in whatever pieces the writer and kernel choose, so a sample can be split
// between two reads; the stream may be endless, so nothing here ever holds more than about one
// chunk plus one read block (hardening.md §2, raw PCM on stdin).
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "audio/sample_convert.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

constexpr int kMaxPcmChannels = 8;
// Upper bound on one read(); a block is about one output chunk of input otherwise.
constexpr std::size_t kMaxReadBytes = std::size_t{1} << 20;
constexpr std::size_t kMinReadBytes = 4096;
constexpr int kMaxChunkSamples = kModelSampleRateHz * 600;

struct PcmFormatInfo {
  PcmFormat format;
  const char* name;
  audio::SampleType type;
};
constexpr PcmFormatInfo kPcmFormats[] = {
    {PcmFormat::s16le, "s16le", audio::SampleType::s16}, {PcmFormat::f32le, "f32le", audio::SampleType::f32},
    {PcmFormat::s32le, "s32le", audio::SampleType::s32}, {PcmFormat::f16le, "f16le", audio::SampleType::f16},
    {PcmFormat::mulaw, "mulaw", audio::SampleType::mulaw}, {PcmFormat::alaw, "alaw", audio::SampleType::alaw},
};

const PcmFormatInfo* info(PcmFormat f) {
  for (const auto& i : kPcmFormats)
    if (i.format == f) return &i;
  return nullptr;
}

audio::SampleType sample_type(PcmFormat f) { return info(f)->type; }  // f was checked by the constructor

}  // namespace

const char* pcm_format_name(PcmFormat format) {
  const PcmFormatInfo* i = info(format);
  return i != nullptr ? i->name : "?";
}

std::optional<PcmFormat> pcm_format_from_name(std::string_view name) {
  for (const auto& i : kPcmFormats)
    if (name == i.name) return i.format;
  return std::nullopt;
}

std::size_t PcmDecoder::bytes_per_sample(PcmFormat format) {
  return audio::sample_bytes(sample_type(format));
}

PcmDecoder::PcmDecoder(PcmFormat format, int channels) : format_(format), channels_(channels) {
  if (info(format) == nullptr) {
    throw Error(Status::invalid_argument, "PcmDecoder: unknown PCM format");
  }
  if (channels < 1 || channels > kMaxPcmChannels) {
    throw Error(Status::invalid_argument, "PcmDecoder: " + std::to_string(channels) +
                                              " channels is not in 1.." +
                                              std::to_string(kMaxPcmChannels));
  }
  frame_bytes_ = bytes_per_sample(format) * static_cast<std::size_t>(channels);
  static_assert(sizeof(pending_) >= 4 * kMaxPcmChannels, "pending_ must hold a partial frame");
}

void PcmDecoder::decode_frames(const std::uint8_t* data, std::size_t frames,
                               std::vector<float>& out) const {
  audio::decode_frames_append(data, frames, channels_, sample_type(format_), out);
}

void PcmDecoder::push_bytes(std::span<const std::uint8_t> bytes, std::vector<float>& out) {
  if (pending_size_ > 0) {
    const std::size_t take = std::min(frame_bytes_ - pending_size_, bytes.size());
    std::memcpy(pending_ + pending_size_, bytes.data(), take);
    pending_size_ += take;
    bytes = bytes.subspan(take);
    if (pending_size_ < frame_bytes_) return;
    decode_frames(pending_, 1, out);
    pending_size_ = 0;
  }
  const std::size_t frames = bytes.size() / frame_bytes_;
  out.reserve(out.size() + frames);
  decode_frames(bytes.data(), frames, out);
  const std::size_t used = frames * frame_bytes_;
  pending_size_ = bytes.size() - used;
  if (pending_size_ > 0) std::memcpy(pending_, bytes.data() + used, pending_size_);
}

void PcmDecoder::finish() {
  const std::size_t left = pending_size_;
  pending_size_ = 0;
  if (left > 0) {
    throw Error(Status::bad_audio,
                std::string("raw ") + pcm_format_name(format_) + " stream: odd byte count: " +
                    std::to_string(left) + " trailing bytes do not make a whole " +
                    std::to_string(frame_bytes_) + "-byte frame and were dropped");
  }
}

PcmStreamReader::PcmStreamReader(int fd, PcmFormat format, int sample_rate_hz, int chunk_samples,
                                 int channels)
    : fd_(fd), sample_rate_hz_(sample_rate_hz), decoder_(format, channels) {
  if (fd < 0) throw Error(Status::invalid_argument, "PcmStreamReader: invalid file descriptor");
  const AudioLimits limits;
  if (sample_rate_hz < limits.min_sample_rate_hz || sample_rate_hz > limits.max_sample_rate_hz) {
    throw Error(Status::invalid_argument,
                "PcmStreamReader: sample rate " + std::to_string(sample_rate_hz) +
                    " Hz is not in " + std::to_string(limits.min_sample_rate_hz) + ".." +
                    std::to_string(limits.max_sample_rate_hz));
  }
  if (chunk_samples < 1 || chunk_samples > kMaxChunkSamples) {
    throw Error(Status::invalid_argument, "PcmStreamReader: chunk of " +
                                              std::to_string(chunk_samples) +
                                              " samples is not in 1.." +
                                              std::to_string(kMaxChunkSamples));
  }
  chunk_samples_ = static_cast<std::size_t>(chunk_samples);
  if (sample_rate_hz != kModelSampleRateHz) {
    resampler_ = std::make_unique<StreamResampler>(sample_rate_hz, kModelSampleRateHz);
  }
  // About one output chunk of input per read, in whole frames.
  const std::size_t frames =
      static_cast<std::size_t>(chunk_samples) * static_cast<std::size_t>(sample_rate_hz) /
          kModelSampleRateHz + 1;
  const std::size_t bytes =
      std::clamp(frames * decoder_.frame_bytes(), kMinReadBytes, kMaxReadBytes);
  read_buf_.resize(bytes / decoder_.frame_bytes() * decoder_.frame_bytes());
}

PcmStreamReader::~PcmStreamReader() = default;

bool PcmStreamReader::fill_block() {
  ssize_t n = 0;
  while (true) {
    n = ::read(fd_, read_buf_.data(), read_buf_.size());
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // A non-blocking descriptor: wait for data rather than spin.
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, -1) < 0 && errno != EINTR) {
        throw Error(Status::io_error, std::string("poll on PCM input failed: ") +
                                          std::strerror(errno));
      }
      continue;
    }
    throw Error(Status::io_error, std::string("reading PCM input failed: ") + std::strerror(errno));
  }
  if (n == 0) {
    eof_ = true;
    trailing_bytes_dropped_ = decoder_.pending_bytes();
    decoder_.reset();
    if (resampler_) resampler_->flush(pending_);
    return false;
  }
  bytes_read_ += static_cast<std::uint64_t>(n);
  const std::span<const std::uint8_t> got(read_buf_.data(), static_cast<std::size_t>(n));
  if (resampler_) {
    decoded_.clear();
    decoder_.push_bytes(got, decoded_);
    resampler_->process(decoded_, pending_);
  } else {
    decoder_.push_bytes(got, pending_);
  }
  return true;
}

bool PcmStreamReader::read(std::vector<float>& out_16k_chunk) {
  out_16k_chunk.clear();
  while (pending_.size() < chunk_samples_ && !eof_) fill_block();
  if (pending_.empty()) return false;
  const std::size_t n = std::min(chunk_samples_, pending_.size());
  const auto split = pending_.begin() + static_cast<std::ptrdiff_t>(n);
  out_16k_chunk.assign(pending_.begin(), split);
  pending_.erase(pending_.begin(), split);
  return true;
}

}  // namespace vrt
