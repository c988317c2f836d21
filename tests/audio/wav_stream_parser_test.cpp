// The streaming WAV parser against the file decoder (same bytes -> same samples, however the
// bytes are split), pipe-style headers with unknown sizes, and malformed headers.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "audio_test_util.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"

namespace vrt::test {
namespace {

// Parses `bytes` pushed in pieces of 1..max_piece bytes (1 = byte by byte).
std::vector<float> parse_in_pieces(std::span<const std::uint8_t> bytes, std::size_t max_piece,
                                   unsigned seed, WavStreamParser* parser_out = nullptr,
                                   const AudioLimits& limits = {}) {
  WavStreamParser p(limits);
  std::mt19937 rng(seed);
  std::vector<float> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t n = std::min<std::size_t>(bytes.size() - pos, 1 + rng() % max_piece);
    p.push_bytes(bytes.subspan(pos, n), out);
    pos += n;
  }
  p.finish();
  if (parser_out != nullptr) *parser_out = p;
  return out;
}

TEST(WavStreamParser, JfkByteByByteEqualsFileDecode) {
  const std::vector<std::uint8_t> b = read_bytes(shared_data("audio/jfk.wav"));  // has a LIST chunk
  const AudioBuffer ref = decode_audio_memory(b, "jfk.wav");
  WavStreamParser p;
  EXPECT_EQ(parse_in_pieces(b, 1, 0, &p), ref.samples);
  EXPECT_EQ(p.sample_rate(), 16000);
  EXPECT_EQ(p.channels(), 1);
  EXPECT_EQ(p.format(), "WAV PCM_16");
  EXPECT_EQ(p.frames_decoded(), 176000u);
  EXPECT_EQ(parse_in_pieces(b, 5000, 1), ref.samples);
}

TEST(WavStreamParser, EveryWrittenWavFormatEqualsFileDecode) {
  TempDir dir;
  const std::vector<float> left = chirp(200.0, 3000.0, 0.5, 22050, 11025);
  const std::vector<float> right = sine(1000.0, 0.25, 22050, 11025);
  const int formats[] = {
      SF_FORMAT_WAV | SF_FORMAT_PCM_U8,  SF_FORMAT_WAV | SF_FORMAT_PCM_16,
      SF_FORMAT_WAV | SF_FORMAT_PCM_24,  SF_FORMAT_WAV | SF_FORMAT_PCM_32,
      SF_FORMAT_WAV | SF_FORMAT_FLOAT,   SF_FORMAT_WAV | SF_FORMAT_DOUBLE,
      SF_FORMAT_WAVEX | SF_FORMAT_PCM_24, SF_FORMAT_WAVEX | SF_FORMAT_FLOAT,
      SF_FORMAT_RF64 | SF_FORMAT_PCM_16, SF_FORMAT_RF64 | SF_FORMAT_FLOAT,
  };
  for (int format : formats) {
    for (int channels : {1, 2}) {
      SCOPED_TRACE(std::to_string(format) + " x" + std::to_string(channels));
      const std::string path = dir.file("f.wav");
      ASSERT_TRUE(write_sndfile(path, format, 22050, channels,
                                channels == 1 ? left : interleave({left, right})));
      const std::vector<std::uint8_t> b = read_bytes(path);
      const AudioBuffer ref = decode_audio_memory(b, "f.wav");
      WavStreamParser p;
      EXPECT_EQ(parse_in_pieces(b, 3, static_cast<unsigned>(format), &p), ref.samples);
      // The file decoder names RF64 as such; the stream parser calls every RIFF flavour WAV.
      EXPECT_EQ(p.format(), "WAV " + ref.format.substr(ref.format.find(' ') + 1));
      EXPECT_EQ(p.sample_rate(), 22050);
      EXPECT_EQ(p.channels(), channels);
    }
  }
}

TEST(WavStreamParser, UnknownDataSizeStreamsUntilEof) {
  std::vector<std::int16_t> s(3000);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::int16_t>(i * 11);
  const std::vector<std::uint8_t> payload = s16_bytes(s);
  const std::vector<float> ref = decode_audio_memory(make_wav({}, payload), "ref.wav").samples;
  for (std::int64_t size : {std::int64_t{0}, std::int64_t{0xFFFFFFFF}}) {
    SCOPED_TRACE(size);
    const std::vector<std::uint8_t> b = make_wav({.data_size = size}, payload);
    EXPECT_EQ(parse_in_pieces(b, 1, 2), ref);
    EXPECT_EQ(parse_in_pieces(b, 700, 3), ref);
    // The file decoder agrees on these pipe headers.
    EXPECT_EQ(decode_audio_memory(b, "pipe.wav").samples, ref);
  }
}

TEST(WavStreamParser, DeclaredSizeIsHonouredAndTrailingChunksIgnored) {
  std::vector<std::int16_t> s = {100, -200, 300, -400};
  std::vector<std::uint8_t> b = make_wav({}, s16_bytes(s));
  put_id(b, "LIST");  // a trailing chunk after the data must not be read as samples
  put_u32(b, 4);
  put_id(b, "INFO");
  const std::vector<float> got = parse_in_pieces(b, 1, 4);
  EXPECT_EQ(got, (std::vector<float>{100 / 32768.0f, -200 / 32768.0f, 300 / 32768.0f, -400 / 32768.0f}));
  EXPECT_EQ(decode_audio_memory(b, "list.wav").samples, got);
}

std::vector<std::uint8_t> wav_with_odd_chunk(bool pad) {
  // RIFF, an odd-sized 'junk' chunk (with or without its pad byte), fmt, 'fact', then data.
  std::vector<std::uint8_t> b;
  put_id(b, "RIFF");
  put_u32(b, 0);
  put_id(b, "WAVE");
  put_id(b, "junk");
  put_u32(b, 3);
  b.insert(b.end(), {1, 2, 3});
  if (pad) b.push_back(0);
  put_id(b, "fmt ");
  put_u32(b, 16);
  put_u16(b, 1);
  put_u16(b, 1);
  put_u32(b, 8000);
  put_u32(b, 16000);
  put_u16(b, 2);
  put_u16(b, 16);
  put_id(b, "fact");
  put_u32(b, 4);
  put_u32(b, 2);
  put_id(b, "data");
  put_u32(b, 4);
  put_u16(b, 0x4000);
  put_u16(b, 0xC000);
  return b;
}

TEST(WavStreamParser, ChunksBeforeDataAreSkippedWithOrWithoutPadding) {
  // The standard pads odd chunks to even sizes; some writers forget. The stream parser takes
  // both (a pad byte is skipped only when no chunk id starts right away).
  for (bool pad : {true, false}) {
    SCOPED_TRACE(pad);
    const std::vector<std::uint8_t> b = wav_with_odd_chunk(pad);
    EXPECT_EQ(parse_in_pieces(b, 1, 5), (std::vector<float>{0.5f, -0.5f}));
    EXPECT_EQ(parse_in_pieces(b, 100, 5), (std::vector<float>{0.5f, -0.5f}));
  }
  // libsndfile, behind the file decoder, insists on the pad byte; without it the file is refused
  // cleanly.
  EXPECT_EQ(decode_audio_memory(wav_with_odd_chunk(true), "padded.wav").samples,
            (std::vector<float>{0.5f, -0.5f}));
  expect_error([] { decode_audio_memory(wav_with_odd_chunk(false), "unpadded.wav"); },
               Status::bad_audio, "'unpadded.wav'");
}

TEST(WavStreamParser, PartialLastFrameAndShortDataAreAccepted) {
  std::vector<std::uint8_t> b = make_wav({.data_size = 1000}, s16_bytes(std::vector<std::int16_t>{8192, 16384}));
  b.push_back(0x11);  // half a sample, then EOF long before 1000 bytes
  EXPECT_EQ(parse_in_pieces(b, 1, 6), (std::vector<float>{0.25f, 0.5f}));
}

TEST(WavStreamParser, NanAndInfBecomeZero) {
  const std::vector<float> v = {0.5f, std::nanf(""), std::numeric_limits<float>::infinity(), -0.5f};
  const std::vector<std::uint8_t> b = make_wav({.tag = 3, .bits = 32}, f32_bytes(v));
  EXPECT_EQ(parse_in_pieces(b, 2, 7), (std::vector<float>{0.5f, 0.0f, 0.0f, -0.5f}));
}

void expect_stream_error(std::span<const std::uint8_t> b, const std::string& needle,
                         const AudioLimits& limits = {}) {
  expect_error([&] { parse_in_pieces(b, 1, 8, nullptr, limits); }, Status::bad_audio, needle);
  expect_error([&] { parse_in_pieces(b, 100000, 9, nullptr, limits); }, Status::bad_audio, needle);
}

TEST(WavStreamParser, MalformedHeaders) {
  const std::vector<std::uint8_t> payload = s16_bytes(std::vector<std::int16_t>(100, 7));
  const std::vector<std::uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!'};
  expect_stream_error(text, "not a WAV stream (starts with 'hell'");
  expect_stream_error(make_wav({.channels = 0, .block_align = 2}, payload), "0 channels");
  expect_stream_error(make_wav({.channels = 1000}, payload), "1000 channels");
  expect_stream_error(make_wav({.rate = 1}, payload), "sample rate 1 Hz");
  expect_stream_error(make_wav({.rate = 10'000'000}, payload), "sample rate 10000000 Hz");
  expect_stream_error(make_wav({.tag = 0x11, .bits = 4, .block_align = 256}, payload), "IMA ADPCM");
  expect_stream_error(make_wav({.tag = 2, .bits = 4, .block_align = 256}, payload), "MS ADPCM");
  expect_stream_error(make_wav({.block_align = 4}, payload), "block_align is 4, expected 2");
  std::vector<std::uint8_t> avi = make_wav({}, payload);
  std::memcpy(&avi[8], "AVI ", 4);
  expect_stream_error(avi, "RIFF stream of type 'AVI '");
  // fmt chunk too short and absurdly long.
  std::vector<std::uint8_t> b = make_wav({}, payload);
  b[16] = 8;
  expect_stream_error(b, "'fmt ' chunk of 8 bytes");
  b[16] = 0;
  b[18] = 1;  // 65536 bytes
  expect_stream_error(b, "'fmt ' chunk of 65536 bytes");
  // data before fmt.
  std::vector<std::uint8_t> d = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E',
                                 'd', 'a', 't', 'a', 2, 0, 0, 0, 1, 2};
  expect_stream_error(d, "'data' chunk before any 'fmt ' chunk");
  // More than 1 MiB of metadata before the data: a bogus size must not swallow the stream.
  std::vector<std::uint8_t> big = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E'};
  put_id(big, "LIST");
  put_u32(big, 0x7FFFFFFF);
  expect_stream_error(big, "more than 1 MiB of metadata");
}

TEST(WavStreamParser, StreamEndingInsideHeader) {
  const std::vector<std::uint8_t> b = read_bytes(shared_data("audio/jfk.wav"));
  for (std::size_t cut : {0u, 3u, 12u, 20u, 40u, 77u}) {
    SCOPED_TRACE(cut);
    expect_error([&] { parse_in_pieces(std::span(b.data(), cut), 1, 10); }, Status::bad_audio,
                 "stream ended inside the WAV header (after " + std::to_string(cut) + " bytes)");
  }
  EXPECT_TRUE(parse_in_pieces(std::span(b.data(), 78), 1, 10).empty());
}

TEST(WavStreamParser, DurationCapWhileStreaming) {
  const std::vector<std::uint8_t> b = read_bytes(shared_data("audio/jfk.wav"));
  AudioLimits limits;
  limits.max_duration_s = 0.5;
  expect_error([&] { parse_in_pieces(b, 4096, 11, nullptr, limits); }, Status::bad_audio,
               "longer than the limit");
  // The endless case: unknown size, samples beyond the cap.
  const std::vector<std::uint8_t> payload = s16_bytes(std::vector<std::int16_t>(9000, 1));
  expect_error([&] { parse_in_pieces(make_wav({.data_size = 0xFFFFFFFF}, payload), 4096, 12, nullptr, limits); },
               Status::bad_audio, "longer than the limit");
  limits.max_duration_s = 9000.0 / 16000.0;  // exactly the length: allowed
  EXPECT_EQ(parse_in_pieces(make_wav({.data_size = 0xFFFFFFFF}, payload), 4096, 12, nullptr, limits).size(), 9000u);
}

TEST(WavStreamParser, PushAfterErrorIsBadState) {
  WavStreamParser p;
  std::vector<float> out;
  const std::vector<std::uint8_t> junk(16, 'x');
  EXPECT_THROW(p.push_bytes(junk, out), Error);
  expect_error([&] { p.push_bytes(junk, out); }, Status::bad_state, "after an error");
}

TEST(WavStreamParser, MutatedHeadersNeverCrash) {
  const std::vector<std::uint8_t> orig = read_bytes(shared_data("audio/jfk.wav"));
  const std::vector<std::uint8_t> head(orig.begin(), orig.begin() + 4096);
  std::mt19937 rng(77);
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<std::uint8_t> b = head;
    for (int f = 0; f < 1 + static_cast<int>(rng() % 4); ++f) b[rng() % 80] = static_cast<std::uint8_t>(rng());
    try {
      parse_in_pieces(b, 1 + rng() % 64, static_cast<unsigned>(rng()));
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::bad_audio) << e.what();
    }
  }
}

}  // namespace
}  // namespace vrt::test
