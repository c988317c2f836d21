// Soak: three hours of audio through one live session of a tiny model, in 1 s chunks. Memory must
// stay constant (ring KV caches, bounded token history, no per-position tables) and positions
// must pass 131072 (the real model_max_length, where preallocated RoPE tables would end).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "micro_model.h"
#include "test_util.h"
#include "voxtral_rt/session.h"

namespace vrt {
namespace {


TEST(Soak, ThreeHoursInConstantMemory) {
  test::TempDir dir;
  test::write_micro_checkpoint(dir.path());
  const auto model = Model::load(dir.path(), {.threads = 1});
  SessionOptions so;
  so.max_kept_tokens = 1000;
  std::int64_t tokens = 0;
  so.on_token = [&](const Token&) { ++tokens; };
  auto s = model->new_session(so);

  // Speech-like bursts and silence: a tone with noise for 4 s, then 2 s of zeros, repeated.
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<float> second(16000);
  std::vector<double> rss_at_hour;
  for (int sec = 1; sec <= 3 * 3600; ++sec) {
    const bool silent = sec % 6 >= 4;
    for (std::size_t i = 0; i < second.size(); ++i)
      second[i] = silent ? 0.0f : 0.3f * static_cast<float>(std::sin(0.03 * static_cast<double>(i + 7 * sec))) + noise(rng);
    s->feed(second);
    if (sec % 3600 == 0) rss_at_hour.push_back(test::resident_mb());
  }
  const auto t = s->finish();
  // 3 h = 135,000 positions of audio (+32 left pad, +17 right): past 131072.
  const std::int64_t positions = tokens + 38;
  EXPECT_GT(positions, 131072);
  EXPECT_EQ(tokens, 135000 + 11);
  EXPECT_LE(t.tokens.size(), 1000u);
  ASSERT_EQ(rss_at_hour.size(), 3u);
  const double slope_mb_per_hour = (rss_at_hour[2] - rss_at_hour[0]) / 2.0;
  std::printf("[   INFO   ] soak: %lld tokens, RSS after 1/2/3 h: %.1f / %.1f / %.1f MB, slope %.2f MB/h\n",
              static_cast<long long>(tokens), rss_at_hour[0], rss_at_hour[1], rss_at_hour[2], slope_mb_per_hour);
  EXPECT_LT(slope_mb_per_hour, 2.0);
}

}  // namespace
}  // namespace vrt
