// StreamingLogMel against LogMel::compute: any chunking (1 sample .. 5 s, empty feeds), inputs
// shorter than one window, the offline-padded stream, reset(), finish() semantics and the
// memory bound. mel.h promises the streaming output equals the offline one bit for bit, so the
// comparisons are bitwise (memcmp of the float arrays), not within a tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <tuple>

#include "mel_test_util.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/mel.h"

namespace vrt {
namespace {

// The streamed frames equal the offline ones bit for bit (mel.h's contract): same length, same
// bytes. On a mismatch, says how many values differ, the first one and the largest difference.
::testing::AssertionResult bitwise_equal(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << got.size() << " values streamed, " << want.size() << " offline";
  if (got.empty() || std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0)
    return ::testing::AssertionSuccess();
  std::size_t differ = 0, first = got.size();
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) == 0) continue;
    ++differ;
    first = std::min(first, i);
    worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i])));
  }
  return ::testing::AssertionFailure() << differ << " of " << got.size() << " values differ bitwise; first at "
                                       << first << " (streamed " << got[first] << ", offline " << want[first]
                                       << "), largest difference " << worst;
}

// Feeds `audio` in the given chunk sizes (0 = an empty feed) and returns the frame-major
// output, checking the per-call counts and frames_emitted() along the way.
std::vector<float> stream(StreamingLogMel& s, const std::vector<float>& audio,
                          const std::vector<std::size_t>& chunks) {
  std::vector<float> out;
  std::size_t pos = 0;
  for (std::size_t c : chunks) {
    const std::size_t n = std::min(c, audio.size() - pos);
    const std::size_t before = out.size();
    const auto got = s.feed(std::span<const float>(audio.data() + pos, n), out);
    pos += n;
    EXPECT_EQ(static_cast<std::size_t>(got) * 128, out.size() - before);
    // A frame is emitted only once its whole window is known (or at finish).
    if (s.frames_emitted() > 0) {
      EXPECT_LE((s.frames_emitted() - 1) * 160 + 200, static_cast<std::int64_t>(pos))
          << "frame emitted before its window was complete";
    }
  }
  EXPECT_EQ(pos, audio.size());
  const std::size_t before = out.size();
  const auto tail = s.finish(out);
  EXPECT_EQ(static_cast<std::size_t>(tail) * 128, out.size() - before);
  EXPECT_EQ(s.frames_emitted(), static_cast<std::int64_t>(audio.size() / 160));
  EXPECT_EQ(static_cast<std::size_t>(s.frames_emitted()) * 128, out.size());
  return out;
}

// Random chunk sizes, log-uniform from 1 sample to 5 s, with some empty feeds.
std::vector<std::size_t> random_chunks(std::size_t total, std::mt19937& rng) {
  std::uniform_real_distribution<double> lg(0.0, std::log(80000.0));
  std::uniform_int_distribution<int> empty(0, 9);
  std::vector<std::size_t> c;
  std::size_t sum = 0;
  while (sum < total) {
    if (empty(rng) == 0) c.push_back(0);
    const auto n = std::max<std::size_t>(1, static_cast<std::size_t>(std::exp(lg(rng))));
    c.push_back(n);
    sum += n;
  }
  return c;
}

void expect_stream_equals_offline(const std::vector<float>& audio, const std::vector<std::size_t>& chunks,
                                  const std::string& what) {
  const LogMel mel;
  const auto offline = to_frame_major(mel.compute(audio), 128);
  StreamingLogMel s(mel);
  const auto got = stream(s, audio, chunks);
  EXPECT_TRUE(bitwise_equal(got, offline)) << what;
}

TEST(StreamingLogMelTest, RandomChunksOnSpeech) {
  const auto speech = test::jfk();
  const auto padded = pad_offline(test::librispeech(), kLeftPadTokens, right_pad_tokens(6), 1280);
  for (unsigned seed = 1; seed <= 4; ++seed) {
    std::mt19937 rng(seed);
    expect_stream_equals_offline(speech, random_chunks(speech.size(), rng), "jfk seed " + std::to_string(seed));
    expect_stream_equals_offline(padded, random_chunks(padded.size(), rng),
                                 "padded librispeech seed " + std::to_string(seed));
  }
}

TEST(StreamingLogMelTest, FixedChunkSizes) {
  const auto speech = test::librispeech();
  for (std::size_t c : {std::size_t{1}, std::size_t{7}, std::size_t{159}, std::size_t{160},
                        std::size_t{161}, std::size_t{400}, std::size_t{1280}, std::size_t{80000},
                        speech.size()}) {
    expect_stream_equals_offline(speech, std::vector<std::size_t>(speech.size() / c + 1, c),
                                 "chunk " + std::to_string(c));
  }
}

TEST(StreamingLogMelTest, ShortInputs) {
  const auto speech = test::jfk();
  std::mt19937 rng(5);
  for (std::size_t n : {0, 1, 2, 100, 159, 160, 161, 180, 199, 200, 201, 202, 240, 320, 359, 360, 361,
                        399, 400, 401, 480, 559, 560, 561, 1000}) {
    const std::vector<float> audio(speech.begin() + 30000, speech.begin() + 30000 + static_cast<std::ptrdiff_t>(n));
    expect_stream_equals_offline(audio, {n}, "whole, n = " + std::to_string(n));
    expect_stream_equals_offline(audio, std::vector<std::size_t>(n + 1, 1), "1-sample, n = " + std::to_string(n));
    expect_stream_equals_offline(audio, random_chunks(n, rng), "random, n = " + std::to_string(n));
  }
}

TEST(StreamingLogMelTest, EmitsFramesAsSoonAsTheirWindowIsKnown) {
  const auto speech = test::jfk();
  StreamingLogMel s;
  std::vector<float> out;
  for (std::int64_t n = 1; n <= 4000; ++n) {
    s.feed(std::span<const float>(speech.data() + n - 1, 1), out);
    // Frame m is final once samples [0, 160 m + 200) are in and it is not the dropped frame.
    const std::int64_t want = n < 201 ? 0 : std::min((n - 200) / 160 + 1, n / 160);
    ASSERT_EQ(s.frames_emitted(), want) << "after " << n << " samples";
  }
}

TEST(StreamingLogMelTest, ResetStartsOver) {
  const auto a = test::jfk();
  const auto b = test::librispeech();
  const LogMel mel;
  StreamingLogMel s(mel);
  std::vector<float> junk;
  s.feed(std::span<const float>(a.data(), 12345), junk);
  s.reset();
  EXPECT_EQ(s.frames_emitted(), 0);
  EXPECT_EQ(s.samples_received(), 0);
  std::mt19937 rng(9);
  EXPECT_TRUE(bitwise_equal(stream(s, b, random_chunks(b.size(), rng)), to_frame_major(mel.compute(b), 128)));
  // Reset after finish, too.
  s.reset();
  EXPECT_TRUE(bitwise_equal(stream(s, a, random_chunks(a.size(), rng)), to_frame_major(mel.compute(a), 128)));
}

TEST(StreamingLogMelTest, FinishSemantics) {
  StreamingLogMel s;
  std::vector<float> out;
  EXPECT_EQ(s.finish(out), 0);  // empty input: no frames
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(s.finish(out), 0);  // idempotent
  try {
    s.feed(std::vector<float>(10), out);
    ADD_FAILURE() << "feed after finish accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::bad_state);
  }
  s.reset();
  EXPECT_EQ(s.feed(std::vector<float>(16000), out), 99);  // frame 99 reads past the end
  EXPECT_EQ(s.finish(out), 1);
  ASSERT_EQ(out.size(), 100u * 128u);
  for (float v : out) ASSERT_EQ(v, -0.625f);
}

TEST(StreamingLogMelTest, OtherGeometries) {
  // hop > n_fft/2 (the dropped-frame rule binds), odd n_fft (full complex FFT), and
  // n_fft = 98 (radix-7 generic kernel).
  const auto speech = test::librispeech();
  const std::vector<float> audio(speech.begin(), speech.begin() + 20000);
  std::mt19937 rng(21);
  for (const auto& [n_fft, hop, n_mels] : {std::tuple{256, 200, 40}, std::tuple{401, 160, 64},
                                           std::tuple{98, 49, 10}, std::tuple{400, 400, 128}}) {
    MelConfig c;
    c.n_fft = n_fft;
    c.hop_length = hop;
    c.n_mels = n_mels;
    const LogMel mel(c);
    const auto offline = to_frame_major(mel.compute(audio), n_mels);
    ASSERT_EQ(offline.size(), audio.size() / static_cast<std::size_t>(hop) * static_cast<std::size_t>(n_mels));
    for (int rep = 0; rep < 3; ++rep) {
      StreamingLogMel s(mel);
      std::vector<float> got;
      std::size_t pos = 0;
      std::uniform_int_distribution<std::size_t> len(0, rep == 0 ? 3 : 3000);
      while (pos < audio.size()) {
        const std::size_t n = std::min(len(rng), audio.size() - pos);
        s.feed(std::span<const float>(audio.data() + pos, n), got);
        pos += n;
        const std::int64_t m = s.frames_emitted() - 1;  // last emitted frame: window inside input
        if (m >= 0) {
          ASSERT_LE(m * hop - n_fft / 2 + n_fft, static_cast<std::int64_t>(pos));
          ASSERT_LE((m + 1) * hop, static_cast<std::int64_t>(pos));
        }
      }
      s.finish(got);
      EXPECT_TRUE(bitwise_equal(got, offline)) << n_fft << "/" << hop << "/" << n_mels;
    }
  }
}

TEST(StreamingLogMelTest, MemoryStaysBounded) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::uniform_int_distribution<std::size_t> chunk(1, 1280);
  StreamingLogMel s;
  std::vector<float> out, buf;
  std::size_t peak = 0;
  for (std::size_t fed = 0; fed < 60 * 16000;) {
    buf.resize(chunk(rng));
    for (auto& x : buf) x = noise(rng);
    s.feed(buf, out);
    fed += buf.size();
    peak = std::max(peak, s.buffered_samples());
    out.clear();
  }
  EXPECT_LT(peak, 8192u);
  RecordProperty("peak_buffered_samples", std::to_string(peak));
}

}  // namespace
}  // namespace vrt
