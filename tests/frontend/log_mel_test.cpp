// Offline log-mel: silence, the published Voxtral log-mels of two clips, the numpy reference
// (tests/reference/mel_ref.py; itself checked against the published data first), the offline
// padding schedule, threading, and parameter validation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "voxtral_rt/npy.h"
#include "mel_test_util.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/mel.h"

namespace vrt {
namespace {

using test::max_abs_diff;

std::vector<float> published(const std::string& name) {
  const auto a = npy::read_f32(test::shared_data("mel/" + name));
  EXPECT_EQ(a.shape.size(), 2u);
  return a.data;
}

// Runs mel_ref.py once over every input and returns its outputs (channel-major).
std::vector<std::vector<float>> numpy_reference(const std::vector<std::vector<float>>& inputs,
                                                int pad_delay_ms = 0) {
  test::TempDir dir;
  std::string cmd = test::python() + " " + test::source_dir() + "/tests/reference/mel_ref.py";
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string in = dir.file("in" + std::to_string(i) + ".npy");
    npy::write_f32(in, inputs[i], {static_cast<std::int64_t>(inputs[i].size())});
    cmd += " " + in + " " + dir.file("out" + std::to_string(i) + ".npy");
  }
  if (pad_delay_ms > 0) cmd += " --pad-delay-ms " + std::to_string(pad_delay_ms);
  std::string log;
  const int rc = test::run_command(cmd, &log);
  EXPECT_EQ(rc, 0) << cmd << "\n" << log;
  std::vector<std::vector<float>> out;
  if (rc != 0) return out;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    out.push_back(npy::read_f32(dir.file("out" + std::to_string(i) + ".npy")).data);
  }
  return out;
}

TEST(LogMelTest, OneSecondOfZerosIsMinus0625) {
  const LogMel mel;
  const auto out = mel.compute(std::vector<float>(16000, 0.0f));
  ASSERT_EQ(out.size(), 128u * 100u);
  for (float v : out) ASSERT_EQ(v, -0.625f);
}

TEST(LogMelTest, FrameCount) {
  const LogMel mel;
  for (std::size_t n : {0, 1, 159, 160, 161, 319, 320, 16000, 176000}) {
    EXPECT_EQ(mel.n_frames(n), static_cast<int>(n / 160));
    EXPECT_EQ(mel.compute(std::vector<float>(n, 0.25f)).size(), 128 * (n / 160));
  }
}

TEST(LogMelTest, MatchesPublishedVoxtralMels) {
  const LogMel mel;
  const double jfk_err = max_abs_diff(mel.compute(test::jfk()), published("logmel128_voxtral_jfk.npy"));
  const double ls_err = max_abs_diff(mel.compute(test::librispeech()),
                                     published("logmel128_voxtral_librispeech_1272-128104-0000.npy"));
  EXPECT_LT(jfk_err, 1e-4);
  EXPECT_LT(ls_err, 1e-4);
  RecordProperty("jfk_max_abs_diff", std::to_string(jfk_err));
  RecordProperty("librispeech_max_abs_diff", std::to_string(ls_err));
  std::printf("max |C++ - published|: jfk %.3g, librispeech %.3g\n", jfk_err, ls_err);
}

TEST(LogMelTest, NumpyReferenceReproducesPublishedMels) {
  const auto ref = numpy_reference({test::jfk(), test::librispeech()});
  ASSERT_EQ(ref.size(), 2u);
  EXPECT_LT(max_abs_diff(ref[0], published("logmel128_voxtral_jfk.npy")), 1e-6);
  EXPECT_LT(max_abs_diff(ref[1], published("logmel128_voxtral_librispeech_1272-128104-0000.npy")), 1e-6);
}

TEST(LogMelTest, MatchesNumpyReferenceOnShortAndOddLengths) {
  // Lengths around the window and hop edges, including L <= n_fft/2 where numpy's reflect
  // padding reflects more than once. (L < hop gives zero frames: see FrameCount; an empty
  // .npy is not read here because npy::read_f32 memcpy's into a null vector for it.)
  std::vector<std::vector<float>> inputs;
  const auto speech = test::jfk();
  for (std::size_t n : {160, 161, 170, 199, 200, 201, 202, 250, 359, 360, 361, 399, 400, 401,
                        559, 560, 1279, 1281}) {
    inputs.emplace_back(speech.begin() + 40000, speech.begin() + 40000 + static_cast<std::ptrdiff_t>(n));
  }
  const auto ref = numpy_reference(inputs);
  ASSERT_EQ(ref.size(), inputs.size());
  const LogMel mel;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_LT(max_abs_diff(mel.compute(inputs[i]), ref[i]), 1e-4) << "length " << inputs[i].size();
  }
}

class OfflinePaddingVsNumpy : public ::testing::TestWithParam<int> {};

TEST_P(OfflinePaddingVsNumpy, Matches) {
  const int delay_ms = GetParam();
  const std::vector<std::vector<float>> clips = {test::jfk(), test::librispeech()};
  const auto ref = numpy_reference(clips, delay_ms);
  ASSERT_EQ(ref.size(), clips.size());
  const LogMel mel;
  const int delay = delay_tokens_for_ms(delay_ms);
  EXPECT_EQ(delay, delay_ms / 80);
  for (std::size_t i = 0; i < clips.size(); ++i) {
    const auto padded = pad_offline(clips[i], kLeftPadTokens, right_pad_tokens(delay), 1280);
    ASSERT_EQ(padded.size() % 1280, 0u);
    const std::size_t tokens = 32 + (clips[i].size() + 1279) / 1280 + static_cast<std::size_t>(delay) + 11;
    EXPECT_EQ(padded.size(), tokens * 1280);
    const auto got = mel.compute(padded, 2);
    EXPECT_EQ(got.size(), 128 * 8 * tokens);
    const double err = max_abs_diff(got, ref[i]);
    EXPECT_LT(err, 1e-4) << "clip " << i << " delay " << delay_ms;
    std::printf("delay %d ms, clip %zu: %zu tokens, max |C++ - numpy| %.3g\n", delay_ms, i, tokens, err);
  }
}

INSTANTIATE_TEST_SUITE_P(Delays, OfflinePaddingVsNumpy, ::testing::Values(480, 80, 2400));

TEST(LogMelTest, ThreadCountDoesNotChangeResult) {
  const LogMel mel;
  const auto audio = pad_offline(test::librispeech(), 32, 17, 1280);
  const auto one = mel.compute(audio, 1);
  for (int t : {2, 3, 7, 64}) EXPECT_EQ(mel.compute(audio, t), one) << t << " threads";
}

TEST(LogMelTest, LayoutHelpersTranspose) {
  const LogMel mel;
  const auto audio = test::librispeech();
  const auto cm = mel.compute(audio);
  const auto fm = to_frame_major(cm, 128);
  const std::size_t t = cm.size() / 128;
  for (std::size_t b : {0, 5, 127}) {
    for (std::size_t m : {std::size_t{0}, std::size_t{17}, t - 1}) EXPECT_EQ(fm[m * 128 + b], cm[b * t + m]);
  }
  EXPECT_EQ(to_channel_major(fm, 128), cm);
}

TEST(PaddingTest, DelayTokensFollowMistralCommon) {
  EXPECT_EQ(delay_tokens_for_ms(480), 6);
  EXPECT_EQ(right_pad_tokens(6), 17);
  for (int ms = 80; ms <= 2400; ms += 80) EXPECT_EQ(delay_tokens_for_ms(ms), ms / 80) << ms;
  for (int ms : {0, -80, 40, 100, 479}) {
    try {
      delay_tokens_for_ms(ms);
      ADD_FAILURE() << "accepted " << ms << " ms";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::invalid_argument);
    }
  }
}

TEST(PaddingTest, PadOfflineLayout) {
  const std::vector<float> audio = {1, 2, 3};
  const auto p = pad_offline(audio, 2, 1, 4);
  // 8 left zeros, the audio, 1 alignment zero, 4 right zeros.
  ASSERT_EQ(p.size(), 16u);
  for (std::size_t i = 0; i < p.size(); ++i) {
    const float want = (i >= 8 && i < 11) ? static_cast<float>(i - 7) : 0.0f;
    EXPECT_EQ(p[i], want) << i;
  }
  EXPECT_EQ(pad_offline({}, 0, 0, 1280).size(), 0u);
  EXPECT_EQ(pad_offline(std::vector<float>(1280, 1.0f), 0, 0, 1280).size(), 1280u);
}

TEST(LogMelTest, NonFiniteInputDoesNotCrash) {
  const LogMel mel;
  std::vector<float> audio(4000, 0.1f);
  audio[2000] = std::numeric_limits<float>::quiet_NaN();
  audio[3000] = std::numeric_limits<float>::infinity();
  const auto out = mel.compute(audio);
  EXPECT_EQ(out.size(), 128u * 25u);
}

void expect_invalid(const MelConfig& c, const char* what) {
  try {
    c.validate();
    ADD_FAILURE() << "validate accepted " << what;
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::invalid_argument) << what;
  }
  try {
    LogMel mel(c);
    ADD_FAILURE() << "LogMel accepted " << what;
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::invalid_argument) << what;
  }
}

TEST(LogMelTest, RejectsBadParameters) {
  MelConfig c;
  c.n_fft = 0;
  expect_invalid(c, "n_fft 0");
  c = {};
  c.hop_length = 401;
  expect_invalid(c, "hop > n_fft");
  c = {};
  c.hop_length = 0;
  expect_invalid(c, "hop 0");
  c = {};
  c.n_mels = 202;
  expect_invalid(c, "n_mels > n_fft/2+1");
  c = {};
  c.n_mels = 0;
  expect_invalid(c, "n_mels 0");
  c = {};
  c.log_mel_max = std::numeric_limits<double>::quiet_NaN();
  expect_invalid(c, "NaN log_mel_max");
  c.log_mel_max = std::numeric_limits<double>::infinity();
  expect_invalid(c, "inf log_mel_max");
  c = {};
  c.sample_rate = 0;
  expect_invalid(c, "sample_rate 0");
  // Passes the size checks, but the low filters fall between FFT bins: the filter bank refuses.
  c = {};
  c.n_mels = 201;
  try {
    LogMel mel(c);
    ADD_FAILURE() << "accepted 201 mels";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::invalid_argument);
  }
  const LogMel mel;
  try {
    mel.compute(std::vector<float>(1000), 0);
    ADD_FAILURE() << "accepted 0 threads";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::invalid_argument);
  }
  try {
    pad_offline(std::vector<float>(10), -1, 0, 1280);
    ADD_FAILURE() << "accepted a negative pad";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::invalid_argument);
  }
  try {
    transpose(std::vector<float>(10), 3, 3);
    ADD_FAILURE() << "accepted a bad transpose";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::invalid_argument);
  }
}

TEST(LogMelTest, ConfigFromModel) {
  const MelConfig c = MelConfig::from_model(ModelConfig{});
  EXPECT_EQ(c.sample_rate, 16000);
  EXPECT_EQ(c.n_fft, 400);
  EXPECT_EQ(c.hop_length, 160);
  EXPECT_EQ(c.n_mels, 128);
  EXPECT_EQ(c.log_mel_max, 1.5);
}

}  // namespace
}  // namespace vrt
