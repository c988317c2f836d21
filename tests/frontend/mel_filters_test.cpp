// The Slaney filter bank against published data: whisper's mel_128 (128 x 201, float32) and
// mistral-common's test_mel_filter_bank column sums (20 filters over 256 frequency bins).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "voxtral_rt/npy.h"
#include "mel_test_util.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/mel.h"

namespace vrt {
namespace {

TEST(MelFilterBankTest, MatchesWhisperMel128) {
  const auto want = npy::read_f32(test::shared_data("mel/whisper_mel_filters_mel_128.npy"));
  ASSERT_EQ(want.shape, (std::vector<std::int64_t>{128, 201}));
  const auto got = slaney_mel_filter_bank(201, 128, 0.0, 8000.0, 16000);
  ASSERT_EQ(got.size(), want.data.size());
  double err = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    err = std::max(err, std::fabs(got[i] - static_cast<double>(want.data[i])));
  }
  EXPECT_LT(err, 1e-6);
  RecordProperty("max_abs_diff", std::to_string(err));
}

TEST(MelFilterBankTest, MatchesMistralCommonColumnSums) {
  const auto doc =
      nlohmann::json::parse(test::read_text(test::shared_data("mel/mistral_common_melbank_20x256_colsums.json")));
  const auto sums = doc.at("column_sums").get<std::vector<double>>();
  ASSERT_EQ(sums.size(), 20u);
  // mistral-common returns (256, 20) and sums over axis 0: one sum per filter.
  const auto bank = slaney_mel_filter_bank(256, 20, 0.0, 8000.0, 16000);
  ASSERT_EQ(bank.size(), 20u * 256u);
  for (std::size_t b = 0; b < 20; ++b) {
    double s = 0.0;
    for (std::size_t k = 0; k < 256; ++k) s += bank[b * 256 + k];
    EXPECT_NEAR(s, sums[b], 1e-7) << "filter " << b;
  }
}

TEST(MelFilterBankTest, ShapeOfTriangles) {
  const auto bank = slaney_mel_filter_bank(201, 128, 0.0, 8000.0, 16000);
  for (std::size_t b = 0; b < 128; ++b) {
    // Each filter is one nonnegative triangle: rises, then falls, never rises again.
    bool falling = false;
    for (std::size_t k = 1; k < 201; ++k) {
      const double prev = bank[b * 201 + k - 1], cur = bank[b * 201 + k];
      ASSERT_GE(cur, 0.0);
      if (cur < prev) falling = true;
      if (falling) {
        ASSERT_LE(cur, prev) << "filter " << b << " bin " << k;
      }
    }
  }
}

TEST(MelFilterBankTest, RejectsBadArguments) {
  auto expect_invalid = [](auto&& f) {
    try {
      f();
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::invalid_argument) << e.what();
    }
  };
  expect_invalid([] { slaney_mel_filter_bank(1, 10, 0, 8000, 16000); });
  expect_invalid([] { slaney_mel_filter_bank(201, 0, 0, 8000, 16000); });
  expect_invalid([] { slaney_mel_filter_bank(201, 10, 9000, 8000, 16000); });
  expect_invalid([] { slaney_mel_filter_bank(201, 10, -1, 8000, 16000); });
  expect_invalid([] { slaney_mel_filter_bank(201, 10, 0, NAN, 16000); });
  expect_invalid([] { slaney_mel_filter_bank(201, 10, 0, 8000, 0); });
  // More filters than the frequency grid resolves: mistral-common's all-zero-filter error.
  expect_invalid([] { slaney_mel_filter_bank(201, 201, 0, 8000, 16000); });
}

}  // namespace
}  // namespace vrt
