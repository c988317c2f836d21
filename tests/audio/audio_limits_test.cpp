// The audio limits of docs/LIMITS.md crossed by one step, with the value at the limit accepted:
// channels (8), the 'fmt ' chunk (1024 bytes) on the file gate and the pipe parser, metadata
// before the data chunk (1 MiB), ID3 tags (16), raw PCM channels and chunk sizes, and the
// duration cap counted in whole frames. (Sample-rate and file-size edges are in
// audio_hostile_test.cpp.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "audio/wav_format.h"
#include "audio_test_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

using test::expect_error;
using test::put_id;
using test::put_u16;
using test::put_u32;

// RIFF/WAVE with a PCM 16-bit 'fmt ' chunk of `fmt_size` bytes (zero-padded past 16), optional
// chunks before the data, then `frames` frames.
std::vector<std::uint8_t> wav_with(std::uint32_t fmt_size, int channels = 1,
                                   std::size_t frames = 32,
                                   const std::vector<std::uint8_t>& before_data = {}) {
  std::vector<std::uint8_t> b;
  put_id(b, "RIFF");
  put_u32(b, 0);  // RIFF size: not checked by either reader
  put_id(b, "WAVE");
  put_id(b, "fmt ");
  put_u32(b, fmt_size);
  const auto align = static_cast<std::uint32_t>(2 * channels);
  put_u16(b, 1);
  put_u16(b, static_cast<std::uint32_t>(channels));
  put_u32(b, 16000);
  put_u32(b, 16000 * align);
  put_u16(b, align);
  put_u16(b, 16);
  b.resize(b.size() + fmt_size - 16, 0);
  if (fmt_size % 2 != 0) b.push_back(0);  // pad byte
  b.insert(b.end(), before_data.begin(), before_data.end());
  put_id(b, "data");
  put_u32(b, static_cast<std::uint32_t>(frames * align));
  for (std::size_t i = 0; i < frames * static_cast<std::size_t>(channels); ++i) put_u16(b, 100);
  return b;
}

std::vector<float> stream_all(std::span<const std::uint8_t> bytes, const AudioLimits& limits = {}) {
  WavStreamParser p(limits);
  std::vector<float> out;
  p.push_bytes(bytes, out);
  p.finish();
  return out;
}

TEST(AudioLimits, EightChannelsPassNineDoNot) {
  const auto eight = wav_with(16, 8);
  EXPECT_EQ(decode_audio_memory(eight, "8ch").channels_in_source, 8);
  EXPECT_EQ(stream_all(eight).size(), 32u);
  const auto nine = wav_with(16, 9);
  expect_error([&] { (void)decode_audio_memory(nine, "9ch"); }, Status::bad_audio,
               "9 channels, above the limit of 8");
  expect_error([&] { (void)stream_all(nine); }, Status::bad_audio,
               "9 channels, above the limit of 8");
}

TEST(AudioLimits, FmtChunkCapIs1024Bytes) {
  const AudioLimits limits;
  const auto at = wav_with(1024);
  EXPECT_EQ(audio::prescan_riff(at, limits, "fmt1024").fmt.channels, 1);  // the file gate
  EXPECT_EQ(stream_all(at).size(), 32u);                                  // the pipe parser
  const auto over = wav_with(1025);
  expect_error([&] { (void)audio::prescan_riff(over, limits, "fmt1025"); }, Status::bad_audio,
               "'fmt ' chunk of 1025 bytes is too large");
  expect_error([&] { (void)decode_audio_memory(over, "fmt1025"); }, Status::bad_audio, "too large");
  expect_error([&] { (void)stream_all(over); }, Status::bad_audio,
               "'fmt ' chunk of 1025 bytes (expected 16..1024)");
}

TEST(AudioLimits, StreamMetadataCapIs1MiB) {
  // Two skipped chunks before the data: 1 MiB in all is skipped, one byte more is refused.
  auto chunks = [](std::uint32_t second) {
    std::vector<std::uint8_t> b;
    put_id(b, "LIST");
    put_u32(b, 1000);
    b.resize(b.size() + 1000, 'm');
    put_id(b, "junk");
    put_u32(b, second);
    b.resize(b.size() + second + (second & 1), 0);
    return b;
  };
  const std::uint32_t rest = (1u << 20) - 1000;
  EXPECT_EQ(stream_all(wav_with(16, 1, 32, chunks(rest))).size(), 32u);
  expect_error([&] { (void)stream_all(wav_with(16, 1, 32, chunks(rest + 1))); }, Status::bad_audio,
               "more than 1 MiB of metadata before the 'data' chunk");
}

TEST(AudioLimits, AtMost16Id3Tags) {
  auto tags = [](int n) {
    std::vector<std::uint8_t> b;
    for (int i = 0; i < n; ++i) {
      put_id(b, "ID3\x04");
      b.insert(b.end(), {0, 0, 0, 0, 0, 0});  // version, flags, size 0
    }
    return b;
  };
  // 16 empty tags are skipped; what follows is then judged (here: nothing).
  expect_error([&] { (void)decode_audio_memory(tags(16), "16 tags"); }, Status::bad_audio,
               "ID3 tag with no audio after it");
  expect_error([&] { (void)decode_audio_memory(tags(17), "17 tags"); }, Status::bad_audio,
               "more than 16 ID3 tags");
}

TEST(AudioLimits, RawPcmChannelsAndChunkSizes) {
  EXPECT_EQ(PcmDecoder(PcmFormat::f32le, 8).frame_bytes(), 32u);
  expect_error([] { PcmDecoder(PcmFormat::s16le, 9); }, Status::invalid_argument, "9 channels");
  expect_error([] { PcmDecoder(PcmFormat::s16le, 0); }, Status::invalid_argument, "0 channels");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_NO_THROW(PcmStreamReader(fds[0], PcmFormat::s16le, 16000, 16000 * 600));
  expect_error([&] { PcmStreamReader(fds[0], PcmFormat::s16le, 16000, 16000 * 600 + 1); },
               Status::invalid_argument, "samples is not in 1..9600000");
  expect_error([&] { PcmStreamReader(fds[0], PcmFormat::s16le, 16000, 0); },
               Status::invalid_argument, "samples is not in 1..9600000");
  expect_error([&] { PcmStreamReader(fds[0], PcmFormat::s16le, 7999, 160); },
               Status::invalid_argument, "sample rate 7999 Hz");
  expect_error([&] { PcmStreamReader(fds[0], PcmFormat::s16le, 192001, 160); },
               Status::invalid_argument, "sample rate 192001 Hz");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(AudioLimits, DurationCapIsExactInFrames) {
  // 32 frames at 16 kHz = 2 ms. A cap of exactly 2 ms decodes them on both paths; one frame less
  // of cap is crossed.
  const auto wav = wav_with(16, 1, 32);
  AudioLimits limits;
  limits.max_duration_s = 32.0 / 16000.0;
  EXPECT_EQ(decode_audio_memory(wav, "exact", limits).samples.size(), 32u);
  EXPECT_EQ(stream_all(wav, limits).size(), 32u);
  limits.max_duration_s = 31.0 / 16000.0;
  expect_error([&] { (void)decode_audio_memory(wav, "over", limits); }, Status::bad_audio,
               "above the limit of 0.002 s");
  expect_error([&] { (void)stream_all(wav, limits); }, Status::bad_audio, "longer than the limit");
}

}  // namespace
}  // namespace vrt
