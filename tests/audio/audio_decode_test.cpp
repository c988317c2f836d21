// Decoding of real published clips and of every accepted format, written here through libsndfile
// from a known signal. Expected values come from the published data (SOURCES.md) or from the
// quantization arithmetic of each format.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "audio_test_util.h"
#include "voxtral_rt/npy.h"
#include "test_util.h"
#include "voxtral_rt/audio.h"

namespace vrt::test {
namespace {

// The int16 samples of a canonical or LIST-carrying PCM_16 WAV, read by walking its chunks here,
// independently of the decoder under test.
std::vector<std::int16_t> raw_wav_s16(const std::string& path) {
  const std::vector<std::uint8_t> b = read_bytes(path);
  std::size_t pos = 12;
  while (pos + 8 <= b.size()) {
    const std::uint32_t size = static_cast<std::uint32_t>(b[pos + 4] | (b[pos + 5] << 8) |
                                                          (b[pos + 6] << 16) | (b[pos + 7] << 24));
    if (std::memcmp(&b[pos], "data", 4) == 0) {
      std::vector<std::int16_t> s(std::min<std::size_t>(size, b.size() - pos - 8) / 2);
      std::memcpy(s.data(), &b[pos + 8], s.size() * 2);
      return s;
    }
    pos += 8 + size + (size & 1);
  }
  ADD_FAILURE() << "no data chunk in " << path;
  return {};
}

TEST(AudioDecode, LibrispeechWavMatchesPublishedPcm) {
  const AudioBuffer a =
      decode_audio_file(shared_data("audio/librispeech_dev-clean_1272-141231-0002.wav"));
  const auto ref = npy::read_f32(shared_data("audio/librispeech_dev-clean_1272-141231-0002.pcm_f32.npy"));
  ASSERT_EQ(ref.shape, (std::vector<std::int64_t>{1, 213360}));
  EXPECT_EQ(a.sample_rate, 16000);
  EXPECT_EQ(a.channels_in_source, 1);
  EXPECT_EQ(a.format, "WAV PCM_16");
  ASSERT_EQ(a.samples.size(), ref.data.size());
  for (std::size_t i = 0; i < ref.data.size(); ++i) {
    ASSERT_EQ(a.samples[i], ref.data[i]) << "sample " << i;  // exact: both are int16 / 32768
  }
}

TEST(AudioDecode, JfkWavIsInt16Over32768) {
  const std::string path = shared_data("audio/jfk.wav");
  const AudioBuffer a = decode_audio_file(path);
  EXPECT_EQ(a.sample_rate, 16000);
  EXPECT_EQ(a.channels_in_source, 1);
  EXPECT_EQ(a.format, "WAV PCM_16");
  ASSERT_EQ(a.samples.size(), 176000u);  // 11.0 s x 16000
  EXPECT_DOUBLE_EQ(a.duration_s(), 11.0);
  const std::vector<std::int16_t> raw = raw_wav_s16(path);
  ASSERT_EQ(raw.size(), a.samples.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    ASSERT_EQ(a.samples[i], static_cast<float>(raw[i]) / 32768.0f) << "sample " << i;
  }
  // Already 16 kHz: load_audio_16k_mono must not touch it.
  EXPECT_EQ(load_audio_16k_mono(path).samples, a.samples);
}

TEST(AudioDecode, JfkFlacResamplesToJfkWav) {
  const AudioBuffer flac = decode_audio_file(shared_data("audio/jfk.flac"));
  EXPECT_EQ(flac.sample_rate, 44100);
  EXPECT_EQ(flac.channels_in_source, 2);
  EXPECT_EQ(flac.format, "FLAC PCM_24");
  ASSERT_EQ(flac.samples.size(), 485100u);  // STREAMINFO total samples: 11.0 s x 44100

  const AudioBuffer a = load_audio_16k_mono(shared_data("audio/jfk.flac"));
  EXPECT_EQ(a.sample_rate, 16000);
  // libsoxr drains to round(n * 16000 / 44100) = round(176000.0) = 176000.
  EXPECT_EQ(a.samples.size(), 176000u);

  const AudioBuffer wav = decode_audio_file(shared_data("audio/jfk.wav"));
  const BestLag best = best_lag(wav.samples, a.samples, 2000);
  EXPECT_GT(best.ncc, 0.9) << "lag " << best.lag;
  std::printf("jfk.flac->16k vs jfk.wav: best lag %ld, ncc %.6f\n", best.lag, best.ncc);
}

TEST(AudioDecode, LibrispeechFlacAgreesWithWavWithin10Lsb) {
  const AudioBuffer flac =
      decode_audio_file(shared_data("audio/librispeech_dev-clean_1272-141231-0002.flac"));
  const AudioBuffer wav =
      decode_audio_file(shared_data("audio/librispeech_dev-clean_1272-141231-0002.wav"));
  EXPECT_EQ(flac.format, "FLAC PCM_16");
  EXPECT_EQ(flac.sample_rate, 16000);
  ASSERT_EQ(flac.samples.size(), wav.samples.size());
  double max_lsb = 0.0;
  for (std::size_t i = 0; i < wav.samples.size(); ++i) {
    max_lsb = std::max(max_lsb, std::fabs(static_cast<double>(flac.samples[i]) - wav.samples[i]) * 32768.0);
  }
  EXPECT_LE(max_lsb, 10.0);  // SOURCES.md: the two differ by up to 9 LSB
  std::printf("librispeech flac vs wav: max %.0f LSB\n", max_lsb);
}

// One written format and how close its decode must be to the signal written.
struct FormatCase {
  const char* label;
  int format;
  int rate;
  double max_abs_error;  // per sample, for lossless formats; < 0 for lossy ones
  const char* expect_format;
};

// Errors of the lossless cases: libsndfile writes float as round(x * (2^(b-1) - 1)) and we read
// int / 2^(b-1), so |error| <= 0.5 LSB of rounding + |x| / 2^(b-1) of scale, < 1 LSB for |x| <= 0.5.
const FormatCase kLossless[] = {
    {"wav_u8", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 16000, 1.0 / 128, "WAV PCM_U8"},
    {"wav_16", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1.0 / 32768, "WAV PCM_16"},
    {"wav_24", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 16000, 1.0 / 8388608, "WAV PCM_24"},
    // 32-bit: the int is exact, reading it into a float rounds to 24 significant bits.
    {"wav_32", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 16000, 1.0 / 8388608, "WAV PCM_32"},
    {"wav_float", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 0.0, "WAV FLOAT"},
    {"wav_double", SF_FORMAT_WAV | SF_FORMAT_DOUBLE, 16000, 0.0, "WAV DOUBLE"},
    {"wavex_16", SF_FORMAT_WAVEX | SF_FORMAT_PCM_16, 16000, 1.0 / 32768, "WAV PCM_16"},
    {"wavex_float", SF_FORMAT_WAVEX | SF_FORMAT_FLOAT, 16000, 0.0, "WAV FLOAT"},
    {"rf64_16", SF_FORMAT_RF64 | SF_FORMAT_PCM_16, 16000, 1.0 / 32768, "RF64 PCM_16"},
    {"flac_16", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1.0 / 32768, "FLAC PCM_16"},
    {"flac_24", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 44100, 1.0 / 8388608, "FLAC PCM_24"},
    {"flac_8", SF_FORMAT_FLAC | SF_FORMAT_PCM_S8, 16000, 1.0 / 128, "FLAC PCM_S8"},
};

const FormatCase kLossy[] = {
    {"ogg_vorbis", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, -1, "OGG VORBIS"},
    {"ogg_opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, -1, "OGG OPUS"},
    {"mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, -1, "MPEG LAYER_III"},
};

// Short names in test listings (ctest shows the parameter).
void PrintTo(const FormatCase& c, std::ostream* os) { *os << c.label; }

class FormatTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(FormatTest, MonoSineRoundTrips) {
  const FormatCase& fc = GetParam();
  TempDir dir;
  const std::string path = dir.file(std::string(fc.label) + ".bin");
  const std::size_t frames = static_cast<std::size_t>(fc.rate);  // 1 s
  const std::vector<float> x = sine(440.0, 0.5, fc.rate, frames);
  std::string why;
  if (!write_sndfile(path, fc.format, fc.rate, 1, x, &why)) {
    GTEST_SKIP() << "this libsndfile cannot write " << fc.label << ": " << why;
  }
  const AudioBuffer a = decode_audio_file(path);
  EXPECT_EQ(a.format, fc.expect_format);
  EXPECT_EQ(a.sample_rate, fc.rate);
  EXPECT_EQ(a.channels_in_source, 1);
  if (fc.max_abs_error >= 0) {
    ASSERT_EQ(a.samples.size(), frames);
    double worst = 0.0;
    for (std::size_t i = 0; i < frames; ++i) worst = std::max(worst, std::fabs(double{a.samples[i]} - x[i]));
    EXPECT_LE(worst, fc.max_abs_error);
    return;
  }
  // Lossy: a sine is periodic, so a delay cannot be measured on it; check its amplitude here and
  // the codec's alignment on a chirp below.
  // libsndfile's Vorbis, Opus and MP3 (mpg123, gapless) paths all trim codec delay and padding.
  ASSERT_EQ(a.samples.size(), frames);
  // A quarter second is exactly 110 periods of 440 Hz at each of these rates.
  const double amp = tone_amplitude(a.samples, fc.rate, 440.0, frames / 4, frames / 4);
  EXPECT_NEAR(amp, 0.5, 0.01);  // measured: Vorbis 0.5033, Opus 0.5002, MP3 0.5005
}

class LossyFormatTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(LossyFormatTest, ChirpIsAligned) {
  const FormatCase& fc = GetParam();
  TempDir dir;
  const std::string path = dir.file(std::string(fc.label) + "_chirp.bin");
  const std::vector<float> x = chirp(200.0, 3000.0, 0.5, fc.rate, static_cast<std::size_t>(fc.rate));
  std::string why;
  if (!write_sndfile(path, fc.format, fc.rate, 1, x, &why)) GTEST_SKIP() << why;
  const AudioBuffer a = decode_audio_file(path);
  EXPECT_EQ(a.samples.size(), x.size());
  const BestLag best = best_lag(x, a.samples, 3000);
  EXPECT_EQ(best.lag, 0);        // no codec delay left in the output
  EXPECT_GT(best.ncc, 0.99);     // measured: 0.9998 (Vorbis, Opus), 0.99996 (MP3)
}

TEST_P(FormatTest, StereoIsMeanOfChannels) {
  const FormatCase& fc = GetParam();
  TempDir dir;
  const std::string path = dir.file(std::string(fc.label) + "_stereo.bin");
  const std::size_t frames = static_cast<std::size_t>(fc.rate) / 2;
  const std::vector<float> left = sine(440.0, 0.5, fc.rate, frames);
  const std::vector<float> right = sine(1000.0, 0.25, fc.rate, frames);
  std::string why;
  if (!write_sndfile(path, fc.format, fc.rate, 2, interleave({left, right}), &why)) {
    GTEST_SKIP() << "this libsndfile cannot write " << fc.label << ": " << why;
  }
  const AudioBuffer a = decode_audio_file(path);
  EXPECT_EQ(a.channels_in_source, 2);
  ASSERT_EQ(a.samples.size(), frames);
  if (fc.max_abs_error < 0) {
    // Lossy codecs code channels jointly; the mix must still be the mean's waveform.
    std::vector<float> mean(frames);
    for (std::size_t i = 0; i < frames; ++i) mean[i] = 0.5f * (left[i] + right[i]);
    EXPECT_GT(ncc_at(mean, a.samples, 0), 0.99);
    return;
  }
  double worst = 0.0;
  for (std::size_t i = 0; i < frames; ++i) {
    worst = std::max(worst, std::fabs(double{a.samples[i]} - 0.5 * (double{left[i]} + right[i])));
  }
  // Each channel is within max_abs_error, so their mean is too (plus float rounding).
  EXPECT_LE(worst, fc.max_abs_error + 1e-7);
}

const auto kLabel = [](const auto& info) { return std::string(info.param.label); };
INSTANTIATE_TEST_SUITE_P(Lossless, FormatTest, ::testing::ValuesIn(kLossless), kLabel);
INSTANTIATE_TEST_SUITE_P(Lossy, FormatTest, ::testing::ValuesIn(kLossy), kLabel);
INSTANTIATE_TEST_SUITE_P(Lossy, LossyFormatTest, ::testing::ValuesIn(kLossy), kLabel);

TEST(AudioDecode, Mp3WithoutId3TagIsSniffedByFrameSync) {
  TempDir dir;
  const std::string path = dir.file("tone.mp3");
  const std::vector<float> x = sine(440.0, 0.5, 44100, 44100);
  std::string why;
  if (!write_sndfile(path, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 1, x, &why)) {
    GTEST_SKIP() << why;
  }
  std::vector<std::uint8_t> b = read_bytes(path);
  if (b.size() > 10 && std::memcmp(b.data(), "ID3", 3) == 0) {
    // ID3v2 size: 4 bytes of 7 bits each, after a 10-byte header.
    const std::size_t tag = 10 + ((std::size_t{b[6]} << 21) | (std::size_t{b[7]} << 14) |
                                  (std::size_t{b[8]} << 7) | b[9]);
    b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(tag));
  }
  ASSERT_EQ(b[0], 0xFF);
  const AudioBuffer a = decode_audio_memory(b, "tone.mp3");
  EXPECT_EQ(a.format, "MPEG LAYER_III");
  EXPECT_GT(best_lag(x, a.samples, 3000).ncc, 0.99);
}

TEST(AudioDecode, EmptyDataChunkDecodesToNoSamples) {
  const std::vector<std::uint8_t> wav = make_wav({}, {});
  const AudioBuffer a = decode_audio_memory(wav, "empty.wav");
  EXPECT_TRUE(a.samples.empty());
  EXPECT_EQ(a.sample_rate, 16000);
}

TEST(AudioDecode, FloatValuesOutsideUnitRangeAreKept) {
  const std::vector<float> v = {1.5f, -2.25f, 0.125f};
  const AudioBuffer a = decode_audio_memory(make_wav({.tag = 3, .bits = 32}, f32_bytes(v)), "loud.wav");
  EXPECT_EQ(a.samples, v);
}

}  // namespace
}  // namespace vrt::test
