// Incremental RIFF/WAVE parsing for pipes (ffmpeg -f wav -, arecord), written by hand because
// libsndfile needs to seek and a pipe cannot.
//
// The parser is a small state machine fed arbitrary byte pieces: RIFF preamble -> chunk headers
// ('fmt ' and RF64's 'ds64' buffered; 'fmt ' validated by the same parse_wav_fmt as the file path, other chunks
// skipped within a budget) -> sample data decoded as it arrives. Writers that stream cannot know
// the final size, so a data size of 0 or 0xFFFFFFFF (and RF64's placeholder) means "until EOF";
// a real size is honoured and anything after it ignored. Memory is bounded: the only buffers are
// the 'fmt ' body (<= 1 KiB) and one partial frame.
#include <algorithm>
#include <cmath>
#include <limits>

#include "audio/sample_convert.h"
#include "audio/wav_format.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

constexpr const char* kName = "WAV stream";
// Metadata (LIST, fact, bext, ...) allowed before the data chunk. Real headers use a few KiB;
// a bogus size must not make us swallow the audio that follows.
constexpr std::uint64_t kMaxSkippedBytes = std::uint64_t{1} << 20;

bool is_letter(std::uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

}  // namespace

WavStreamParser::WavStreamParser(const AudioLimits& limits) : limits_(limits) {
  limits_.validate();
}

void WavStreamParser::push_bytes(std::span<const std::uint8_t> bytes, std::vector<float>& out) {
  if (state_ == State::failed) {
    throw Error(Status::bad_state, "WavStreamParser: push_bytes after an error");
  }
  try {
    step(bytes, out);
  } catch (...) {
    state_ = State::failed;
    throw;
  }
}

void WavStreamParser::step(std::span<const std::uint8_t> bytes, std::vector<float>& out) {
  std::size_t off = 0;
  auto take_into_buf = [&](std::size_t want) {
    const std::size_t n = std::min(want - buf_.size(), bytes.size() - off);
    buf_.insert(buf_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(off),
                bytes.begin() + static_cast<std::ptrdiff_t>(off + n));
    off += n;
    offset_ += n;
    return buf_.size() == want;
  };
  while (off < bytes.size()) {
    switch (state_) {
      case State::riff:
        if (take_into_buf(12)) on_riff();
        break;
      case State::chunk_header:
        if (pad_pending_ && buf_.empty()) {
          // The pad byte after an odd-sized chunk; some writers omit it, and then a chunk id
          // (letters) follows directly.
          pad_pending_ = false;
          if (!is_letter(bytes[off])) {
            ++off;
            ++offset_;
          }
          break;
        }
        if (take_into_buf(8)) on_chunk_header();
        break;
      case State::body:
        if (take_into_buf(chunk_size_)) on_body();
        break;
      case State::skip: {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(chunk_left_, bytes.size() - off));
        off += n;
        offset_ += n;
        chunk_left_ -= n;
        if (chunk_left_ == 0) state_ = State::chunk_header;
        break;
      }
      case State::data:
        consume_data(bytes.subspan(off), out);
        offset_ += bytes.size() - off;
        off = bytes.size();
        break;
      case State::done:
      case State::failed:
        off = bytes.size();
        break;
    }
  }
}

void WavStreamParser::on_riff() {
  const std::uint32_t magic = audio::load_u32le(buf_.data());
  if (magic != audio::fourcc("RIFF") && magic != audio::fourcc("RF64")) {
    throw Error(Status::bad_audio, std::string(kName) + ": not a WAV stream (starts with '" +
                                       audio::fourcc_text(buf_.data()) + "', expected 'RIFF')");
  }
  if (audio::load_u32le(buf_.data() + 8) != audio::fourcc("WAVE")) {
    throw Error(Status::bad_audio, std::string(kName) + ": RIFF stream of type '" +
                                       audio::fourcc_text(buf_.data() + 8) +
                                       "' is not WAVE audio");
  }
  rf64_ = magic == audio::fourcc("RF64");
  buf_.clear();
  state_ = State::chunk_header;
}

void WavStreamParser::on_chunk_header() {
  const std::uint32_t id = audio::load_u32le(buf_.data());
  const std::uint32_t size = audio::load_u32le(buf_.data() + 4);
  const std::string id_text = audio::fourcc_text(buf_.data());
  buf_.clear();
  const std::uint64_t at = offset_ - 8;
  if (id == audio::fourcc("data")) {
    if (!fmt_seen_) {
      throw Error(Status::bad_audio, std::string(kName) +
                                         ": 'data' chunk before any 'fmt ' chunk (byte " +
                                         std::to_string(at) + ")");
    }
    data_left_ = size;
    if (rf64_ && size == 0xFFFFFFFFu && ds64_data_size_ != 0) data_left_ = ds64_data_size_;
    data_unbounded_ = data_left_ == 0 || data_left_ == 0xFFFFFFFFu ||
                      data_left_ == std::numeric_limits<std::uint64_t>::max();
    const double cap = std::floor(limits_.max_duration_s * sample_rate_);
    max_frames_ = cap >= 9.0e18 ? std::numeric_limits<std::uint64_t>::max()
                                : static_cast<std::uint64_t>(cap);
    partial_.reserve(frame_bytes_);
    state_ = State::data;
    return;
  }
  const bool is_fmt = id == audio::fourcc("fmt ");
  if (is_fmt || (rf64_ && id == audio::fourcc("ds64"))) {
    if (is_fmt && fmt_seen_) {
      throw Error(Status::bad_audio, std::string(kName) + ": second 'fmt ' chunk at byte " +
                                         std::to_string(at));
    }
    const std::uint32_t min_size = is_fmt ? 16 : 24;
    if (size < min_size || size > audio::kMaxFmtChunkBytes) {
      throw Error(Status::bad_audio, std::string(kName) + ": '" + id_text + "' chunk of " +
                                         std::to_string(size) + " bytes (expected " +
                                         std::to_string(min_size) + ".." +
                                         std::to_string(audio::kMaxFmtChunkBytes) + ")");
    }
    body_id_ = id;
    chunk_size_ = size;
    state_ = State::body;
    return;
  }
  skipped_bytes_ += size;
  if (skipped_bytes_ > kMaxSkippedBytes) {
    throw Error(Status::bad_audio,
                std::string(kName) + ": chunk '" + id_text + "' at byte " + std::to_string(at) +
                    " declares " + std::to_string(size) +
                    " bytes; more than 1 MiB of metadata before the 'data' chunk");
  }
  pad_pending_ = (size & 1) != 0;
  chunk_left_ = size;
  state_ = size == 0 ? State::chunk_header : State::skip;
}

void WavStreamParser::on_body() {
  pad_pending_ = (chunk_size_ & 1) != 0;
  state_ = State::chunk_header;
  if (body_id_ == audio::fourcc("ds64")) {
    // ds64: 64-bit RIFF size, then the 64-bit data size this parser needs.
    ds64_data_size_ = static_cast<std::uint64_t>(audio::load_u32le(buf_.data() + 8)) |
                      (static_cast<std::uint64_t>(audio::load_u32le(buf_.data() + 12)) << 32);
    buf_.clear();
    return;
  }
  const audio::WavFmt f = audio::parse_wav_fmt(buf_, limits_, kName);
  buf_.clear();
  fmt_seen_ = true;
  sample_rate_ = f.sample_rate;
  channels_ = f.channels;
  sample_type_ = static_cast<int>(f.sample_type);
  frame_bytes_ = static_cast<std::size_t>(f.block_align);
  format_ = f.format;
}

void WavStreamParser::consume_data(std::span<const std::uint8_t> bytes, std::vector<float>& out) {
  if (!data_unbounded_) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(data_left_, bytes.size()));
    bytes = bytes.first(n);
    data_left_ -= n;
    if (data_left_ == 0) state_ = State::done;  // the rest of the stream is other chunks
  }
  const auto type = static_cast<audio::SampleType>(sample_type_);
  // Complete a frame split across pushes first.
  if (!partial_.empty()) {
    const std::size_t take = std::min(frame_bytes_ - partial_.size(), bytes.size());
    partial_.insert(partial_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    if (partial_.size() < frame_bytes_) return;
  }
  const std::uint64_t frames = (partial_.empty() ? 0 : 1) + bytes.size() / frame_bytes_;
  if (frames > max_frames_ - std::min(frames_decoded_, max_frames_)) {
    throw Error(Status::bad_audio, std::string(kName) + ": audio is longer than the limit of " +
                                       std::to_string(limits_.max_duration_s) + " s");
  }
  if (!partial_.empty()) {
    audio::decode_frames_append(partial_.data(), 1, channels_, type, out);
    partial_.clear();
  }
  const std::size_t whole = bytes.size() / frame_bytes_;
  out.reserve(out.size() + whole);
  audio::decode_frames_append(bytes.data(), whole, channels_, type, out);
  frames_decoded_ += frames;
  const std::size_t used = whole * frame_bytes_;
  partial_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(used), bytes.end());
}

void WavStreamParser::finish() {
  if (state_ == State::failed) return;
  if (!header_complete()) {
    state_ = State::failed;
    throw Error(Status::bad_audio, std::string(kName) + ": stream ended inside the WAV header (after " +
                                       std::to_string(offset_) + " bytes)");
  }
  partial_.clear();  // a partial last frame is what a cut pipe leaves; drop it
  state_ = State::done;
}

}  // namespace vrt
