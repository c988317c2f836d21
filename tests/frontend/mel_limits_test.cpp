// The front end's argument limits crossed by one step: FFT size (65,536), hop and mel counts
// relative to it, the frame count (INT32_MAX) and the offline padding length, each an
// invalid_argument error with the value in the message, never a wrapped size.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "voxtral_rt/error.h"
#include "voxtral_rt/mel.h"

namespace vrt {
namespace {

void expect_invalid(const MelConfig& c, const std::string& needle) {
  try {
    c.validate();
    ADD_FAILURE() << "accepted; expected " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::invalid_argument) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(MelLimits, FftSizeAndItsDependents) {
  MelConfig c;
  c.n_fft = 65536;
  EXPECT_NO_THROW(c.validate());
  c.n_fft = 65537;
  expect_invalid(c, "n_fft 65537 outside [1, 65536]");
  c = MelConfig{};
  c.hop_length = 401;
  expect_invalid(c, "hop_length 401 outside [1, n_fft = 400]");
  c = MelConfig{};
  c.n_mels = 201;
  EXPECT_NO_THROW(c.validate());
  c.n_mels = 202;
  expect_invalid(c, "n_mels 202 outside [1, n_fft/2 + 1 = 201]");
}

TEST(MelLimits, FrameCountCapIsInt32Max) {
  const LogMel mel;
  const auto max_frames = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(mel.n_frames(max_frames * 160), std::numeric_limits<std::int32_t>::max());
  try {
    (void)mel.n_frames((max_frames + 1) * 160);
    ADD_FAILURE() << "2^31 frames accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::invalid_argument) << e.what();
  }
}

TEST(MelLimits, OfflinePaddingLengthNeverWraps) {
  const std::vector<float> audio(10, 0.0f);
  for (const int right : {std::numeric_limits<int>::max(), -1}) {
    SCOPED_TRACE(right);
    try {
      (void)pad_offline(audio, 32, right, std::numeric_limits<int>::max());
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::invalid_argument) << e.what();
    }
  }
}

}  // namespace
}  // namespace vrt
