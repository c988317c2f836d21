// `voxtral-rt bench` end to end on a tiny synthetic model: every field of the JSON report is
// present and sane. No timing assertions (shared, noisy machines).
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "voxtral_rt/session.h"

namespace vrt {
namespace {

std::string bin(const char* name) { return test::binary_dir() + "/bin/" + name; }

bool positive(const nlohmann::json& v) { return v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() > 0; }

TEST(BenchCommand, JsonReportHasEveryFieldAndSaneValues) {
  test::TempDir dir;
  std::string out;
  ASSERT_EQ(test::run_command(bin("voxtral-rt-synth") + " -q --config tiny --vocab-ranks 400 -o " + dir.file("tiny"), &out), 0)
      << out;
  const std::string cmd = bin("voxtral-rt") + " bench -m " + dir.file("tiny") +
                          " -t 2 --qlinear 8da4w --qembedding 8w --json --steps 3 --repeats 1 --bandwidth-mib 64 --audio " +
                          test::shared_data("audio/librispeech_dev-clean_8297-275156-0000.wav") + " --reference " +
                          test::shared_data("reference") + " 2>/dev/null";
  ASSERT_EQ(test::run_command(cmd, &out), 0) << out;
  const auto j = nlohmann::json::parse(out);

  EXPECT_EQ(j["threads"], 2);
  EXPECT_NE(j["schemes"].get<std::string>().find("linear=8da4w"), std::string::npos);
  EXPECT_EQ(j["decoder_weight_kinds"]["wq"], "8da4w");
  EXPECT_TRUE(positive(j["bandwidth"]["gbps"])) << j["bandwidth"];
  EXPECT_TRUE(positive(j["load_ms"]));

  const auto& d = j["decoder"];
  EXPECT_TRUE(positive(d["ms_per_step"])) << d;
  EXPECT_TRUE(positive(d["gbps"])) << d;
  EXPECT_EQ(d["bytes_per_step"].get<std::int64_t>(),
            d["layer_bytes"].get<std::int64_t>() + d["head_bytes"].get<std::int64_t>());
  EXPECT_TRUE(positive(d["head_bytes"])) << d;
  EXPECT_TRUE(positive(d["bandwidth_fraction"])) << d;
  EXPECT_EQ(d["context_positions"].get<int>() > 39, true);

  const auto& v = j["verification"];
  EXPECT_EQ(v["reference_streams"], 3);
  ASSERT_EQ(v["passes"].size(), 5u);  // k = 1, 2, 4, 8, 16
  int k_prev = 0;
  for (const auto& p : v["passes"]) {
    const int k = p["k"];
    EXPECT_GT(k, k_prev);
    k_prev = k;
    EXPECT_TRUE(positive(p["pass_ms"])) << p;
    EXPECT_TRUE(positive(p["expected_ms_per_position"])) << p;
    const double ppp = p["positions_per_pass"];
    EXPECT_GE(ppp, 1.0) << p;
    EXPECT_LE(ppp, static_cast<double>(k)) << p;
    // Accepted positions per row computed: a fraction in (0, 1].
    const double frac = ppp / k;
    EXPECT_GT(frac, 0.0);
    EXPECT_LE(frac, 1.5);
  }
  EXPECT_EQ(v["passes"][0]["positions_per_pass"], 1.0);  // k = 1: one position per pass
  const int rec = v["recommended_k"];
  EXPECT_TRUE(rec == 1 || rec == 2 || rec == 4 || rec == 8 || rec == 16) << rec;

  const auto& e = j["encoder"];
  EXPECT_TRUE(positive(e["ms_per_streaming_step"])) << e;
  EXPECT_TRUE(positive(e["ms_per_streaming_step_full_window"])) << e;
  EXPECT_TRUE(positive(e["ms_per_chunk"])) << e;
  EXPECT_TRUE(positive(e["s_per_audio_s_offline"])) << e;
  EXPECT_EQ(e["chunk_tokens"], 32);
  EXPECT_EQ(j["prefill"]["positions"], 39);
  EXPECT_TRUE(positive(j["prefill"]["ms"]));

  ASSERT_EQ(j["offline"].size(), 2u);
  for (const auto& r : j["offline"]) {
    EXPECT_TRUE(positive(r["real_time_factor"])) << r;
    EXPECT_NEAR(r["audio_s"].get<double>(), 3.58, 0.01);
    EXPECT_GT(r["decode_steps"].get<std::int64_t>(), 0);
    EXPECT_LE(r["decode_passes"].get<std::int64_t>(), r["decode_steps"].get<std::int64_t>());
  }
  EXPECT_EQ(j["offline"][0]["verify_tokens"], SessionOptions::kDefaultVerifyTokens);  // the default
  EXPECT_EQ(j["offline"][1]["verify_tokens"], 1);
  EXPECT_EQ(j["offline"][1]["decode_passes"], j["offline"][1]["decode_steps"]);
  EXPECT_TRUE(positive(j["peak_rss_mb"]));
  EXPECT_GE(j["peak_rss_mb"].get<double>(), j["rss_after_load_mb"].get<double>());
}

TEST(BenchCommand, TextReportWithoutTranscription) {
  test::TempDir dir;
  std::string out;
  ASSERT_EQ(test::run_command(bin("voxtral-rt-synth") + " -q --config tiny --vocab-ranks 400 -o " + dir.file("tiny"), &out), 0)
      << out;
  ASSERT_EQ(test::run_command(bin("voxtral-rt") + " bench -m " + dir.file("tiny") +
                                  " -t 1 --steps 2 --repeats 1 --bandwidth-mib 32 --no-transcribe --verify-k 2 2>/dev/null",
                              &out), 0)
      << out;
  for (const char* s : {"bandwidth", "decoder", "GB/s", "verification", "encoder", "prefill", "peak RSS"})
    EXPECT_NE(out.find(s), std::string::npos) << s << "\n" << out;
  EXPECT_EQ(out.find("offline      k="), std::string::npos) << out;
}

}  // namespace
}  // namespace vrt
