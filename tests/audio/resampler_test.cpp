// Resampling to 16 kHz: output length, tone frequency and amplitude (single-bin DFT), stopband
// rejection, and streaming (any chunking) against offline.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "audio_test_util.h"
#include "voxtral_rt/audio.h"

namespace vrt::test {
namespace {

constexpr int kRates[] = {8000, 22050, 44100, 48000};

TEST(Resample, OutputLengthIsRoundedRatio) {
  // libsoxr drains to round(n * to / from). For these rates n * 16000 / from never ends in .5
  // (441 and 3 are odd, 8000 divides evenly), so there is no tie to break.
  for (int rate : kRates) {
    for (std::size_t n : {0u, 1u, 2u, 3u, 100u, 441u, 12345u, 160000u}) {
      const std::vector<float> x = sine(300.0, 0.5, rate, n);
      const std::size_t expect = static_cast<std::size_t>(
          std::llround(static_cast<double>(n) * 16000.0 / rate));
      EXPECT_EQ(resample(x, rate, 16000).size(), expect) << rate << " Hz, n=" << n;
    }
  }
}

TEST(Resample, EqualRatesCopy) {
  const std::vector<float> x = sine(440.0, 0.5, 16000, 1000);
  EXPECT_EQ(resample(x, 16000, 16000), x);
  StreamResampler r(16000, 16000);
  std::vector<float> out = r.process(std::span(x).first(300));
  r.process(std::span(x).subspan(300), out);
  r.flush(out);
  EXPECT_EQ(out, x);
}

TEST(Resample, ToneKeepsFrequencyAndAmplitude) {
  for (int rate : kRates) {
    for (double f : {440.0, 3000.0}) {
      SCOPED_TRACE(std::to_string(rate) + " Hz input, " + std::to_string(f) + " Hz tone");
      const std::vector<float> x = sine(f, 0.5, rate, static_cast<std::size_t>(rate) * 2);
      const std::vector<float> y = resample(x, rate, 16000);
      ASSERT_EQ(y.size(), 32000u);
      // 0.5 s from the middle: 220 (resp. 1500) whole periods, away from the filter's edges.
      const double amp = tone_amplitude(y, 16000, f, 8000, 8000);
      EXPECT_NEAR(amp, 0.5, 0.005);  // SOXR_HQ passband ripple is far below 1%
      // The energy is at f, not beside it: neighbours 10 Hz away (5 bins) hold almost nothing.
      EXPECT_LT(tone_amplitude(y, 16000, f - 10.0, 8000, 8000), 0.01);
      EXPECT_LT(tone_amplitude(y, 16000, f + 10.0, 8000, 8000), 0.01);
    }
  }
}

TEST(Resample, RemovesContentAboveNewNyquist) {
  // 10 kHz is above 8 kHz, the Nyquist frequency at 16 kHz: it must be filtered, not aliased to
  // 16 - 10 = 6 kHz.
  for (int rate : {44100, 48000}) {
    const std::vector<float> x = sine(10000.0, 0.5, rate, static_cast<std::size_t>(rate));
    const std::vector<float> y = resample(x, rate, 16000);
    EXPECT_LT(tone_amplitude(y, 16000, 6000.0, 4000, 8000), 1e-4) << rate;
    double peak = 0.0;
    for (std::size_t i = 2000; i + 2000 < y.size(); ++i) peak = std::max(peak, double{std::fabs(y[i])});
    EXPECT_LT(peak, 1e-3) << rate;
  }
}

// Feeds x in random chunks of 1 sample up to max_chunk samples.
std::vector<float> stream_in_chunks(std::span<const float> x, int from, std::size_t max_chunk,
                                    std::mt19937& rng) {
  StreamResampler r(from, 16000);
  std::vector<float> out;
  std::size_t pos = 0;
  while (pos < x.size()) {
    const std::size_t n = std::min<std::size_t>(x.size() - pos, 1 + rng() % max_chunk);
    if (rng() % 2 == 0) {
      r.process(x.subspan(pos, n), out);
    } else {
      const std::vector<float> part = r.process(x.subspan(pos, n));
      out.insert(out.end(), part.begin(), part.end());
    }
    pos += n;
  }
  r.flush(out);
  return out;
}

TEST(Resample, StreamingMatchesOfflineForAnyChunking) {
  std::mt19937 rng(2602);
  for (int rate : kRates) {
    SCOPED_TRACE(rate);
    // 7 s of a chirp plus a little noise: no periodicity to hide a misplaced sample.
    std::vector<float> x = chirp(100.0, 3500.0, 0.4, rate, static_cast<std::size_t>(rate) * 7);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    for (float& v : x) v += noise(rng);
    const std::vector<float> offline = resample(x, rate, 16000);
    // Chunk sizes: up to 5 s, up to 0.1 s, and tiny (1..16 samples) on a shorter prefix.
    for (std::size_t max_chunk : {static_cast<std::size_t>(rate) * 5, static_cast<std::size_t>(rate) / 10}) {
      const std::vector<float> s = stream_in_chunks(x, rate, max_chunk, rng);
      ASSERT_EQ(s.size(), offline.size()) << "max chunk " << max_chunk;
      double worst = 0.0;
      for (std::size_t i = 0; i < s.size(); ++i) worst = std::max(worst, double{std::fabs(s[i] - offline[i])});
      EXPECT_LE(worst, 1e-6) << "max chunk " << max_chunk;
    }
    const std::span<const float> head(x.data(), static_cast<std::size_t>(rate) / 4);
    const std::vector<float> head_offline = resample(head, rate, 16000);
    const std::vector<float> tiny = stream_in_chunks(head, rate, 16, rng);
    ASSERT_EQ(tiny.size(), head_offline.size());
    for (std::size_t i = 0; i < tiny.size(); ++i) ASSERT_NEAR(tiny[i], head_offline[i], 1e-6) << i;
  }
}

TEST(Resample, ResetStartsANewStream) {
  const std::vector<float> a = chirp(200.0, 2000.0, 0.5, 44100, 20000);
  const std::vector<float> b = sine(700.0, 0.3, 44100, 30000);
  StreamResampler r(44100, 16000);
  r.process(a);  // abandoned half-way: no flush
  r.reset();
  std::vector<float> out = r.process(b);
  r.flush(out);
  EXPECT_EQ(out, resample(b, 44100, 16000));
  // After flush, process needs a reset; flushing twice gives nothing more.
  EXPECT_TRUE(r.flush().empty());
  expect_error([&] { r.process(b); }, Status::bad_state, "after flush");
  r.reset();
  out = r.process(b);
  r.flush(out);
  EXPECT_EQ(out, resample(b, 44100, 16000));
}

TEST(Resample, MovedResamplerKeepsItsState) {
  const std::vector<float> x = chirp(200.0, 2000.0, 0.5, 48000, 48000);
  StreamResampler r(48000, 16000);
  std::vector<float> out = r.process(std::span(x).first(10000));
  StreamResampler moved = std::move(r);
  moved.process(std::span(x).subspan(10000), out);
  moved.flush(out);
  EXPECT_EQ(out, resample(x, 48000, 16000));
}

TEST(Resample, InvalidRates) {
  expect_error([] { StreamResampler(0, 16000); }, Status::invalid_argument, "input rate 0 Hz");
  expect_error([] { StreamResampler(16000, -5); }, Status::invalid_argument, "output rate -5 Hz");
  expect_error([] { resample({}, 16000, 2'000'000); }, Status::invalid_argument, "2000000");
}

TEST(Resample, EmptyInput) {
  EXPECT_TRUE(resample({}, 44100, 16000).empty());
  StreamResampler r(44100, 16000);
  EXPECT_TRUE(r.process({}).empty());
  EXPECT_TRUE(r.flush().empty());
}

}  // namespace
}  // namespace vrt::test
