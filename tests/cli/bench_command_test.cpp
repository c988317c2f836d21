// `voxtral-rt bench` end to end on a tiny synthetic model: every field of the JSON report is
// present and sane, and the values that do not depend on timing equal what the test derives on
// its own: the bytes a decoder step reads (from the tiny config's dimensions and quant.h's packed
// layout), the context, and the verification simulation's positions per pass on the golden token
// streams (from the guesser's documented rule, replayed here; the replay itself is checked
// against the runtime's own pass counts). No timing assertions (shared, noisy machines).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <set>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "voxtral_rt/audio.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/session.h"
#include "voxtral_rt/system.h"

namespace vrt {
namespace {

std::string bin(const char* name) { return test::program(name); }

bool positive(const nlohmann::json& v) { return v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() > 0; }

// Token ids of the tekken special tokens (shared/data/tokenizer/voxtral_realtime_special_tokens.tsv;
// a generated tekken.json keeps them).
constexpr int kEos = 2;   // </s>
constexpr int kPad = 32;  // [STREAMING_PAD]
// Decoder prompt at the default 480 ms delay: BOS + 32 left-pad tokens + 480 / 80 = 6 delay tokens.
constexpr std::int64_t kPromptPositions = 1 + 32 + 6;
// The bench's simulation makes positions available in chunks of 32 decoder positions (the
// offline encoder chunk), counted from position 0. (The runtime's own offline transcription
// chunks differently: 31 positions at the start, see below, then the ends of the audio and of
// the padding; GuesserReplayMatchesTheRuntime feeds a session so that its chunks are these.)
constexpr std::int64_t kChunkPositions = 32;

// Decoder passes that verification decoding with k rows per pass needs for the generated stream
// `tokens`, replayed from the guesser's rule (SessionOptions::verify_tokens, session.cpp):
//  * tokens[0] comes from the prefill (the prompt's last position, 38); tokens[i] from decoder
//    position 38 + i. A pass covers positions p .. p + rows - 1 with rows = min(k, tokens left,
//    positions left in p's chunk of 32);
//  * row 0's input is the previous token; row j > 0's input is the guessed follower of row
//    j - 1's input: the majority (Boyer-Moore vote) over the tokens seen so far right after that
//    token, [STREAMING_PAD] for a token never seen before;
//  * rows are accepted in order while the token just produced equals the input the next row
//    was given; every produced token (EOS fed back as [STREAMING_PAD]) votes as the follower of
//    the token fed before it.
std::int64_t replay_passes(const std::vector<int>& tokens, std::int64_t k) {
  struct Vote {
    int candidate = 0;
    int count = 0;
  };
  std::unordered_map<int, Vote> votes;
  auto follower = [&](int t) {
    const auto it = votes.find(t);
    return it == votes.end() ? kPad : it->second.candidate;
  };
  auto vote = [&](int before, int after) {
    Vote& v = votes[before];
    if (v.count == 0) {
      v = {after, 1};
    } else {
      v.count += v.candidate == after ? 1 : -1;
    }
  };
  auto fed_back = [](int t) { return t == kEos ? kPad : t; };
  const auto n = static_cast<std::int64_t>(tokens.size());
  if (n == 0) return 0;
  int last = fed_back(tokens[0]);
  std::int64_t passes = 0;
  for (std::int64_t i = 1; i < n; ++passes) {
    const std::int64_t pos = kPromptPositions - 1 + i;
    const std::int64_t rows = std::min({k, n - i, kChunkPositions - pos % kChunkPositions});
    std::vector<int> inputs{last};
    while (static_cast<std::int64_t>(inputs.size()) < rows) inputs.push_back(follower(inputs.back()));
    for (std::int64_t j = 0; j < rows; ++j) {
      const int produced = fed_back(tokens[static_cast<std::size_t>(i)]);
      vote(last, produced);
      last = produced;
      ++i;
      if (j + 1 < rows && inputs[static_cast<std::size_t>(j + 1)] != produced) break;
    }
  }
  return passes;
}

// The golden greedy token streams of the real model (shared/data/reference).
std::vector<std::vector<int>> golden_streams() {
  std::vector<std::vector<int>> out;
  for (const char* id : {"0000", "0001", "0002"}) {
    std::ifstream f(test::shared_data(std::string("reference/voxtral_realtime_tokens_8297-275156-") + id + ".json"));
    out.push_back(nlohmann::json::parse(f).at("tokens").get<std::vector<int>>());
  }
  return out;
}

// Bytes of one packed rows x cols matrix (src/kernels/quant.h): rows in blocks of 16 (the last
// padded with zero rows); per block cols / 4 (8-bit) or cols / 8 (4-bit) chunks of 64 bytes,
// and one f16 scale per row and group of `group` columns.
std::int64_t packed_bytes(std::int64_t rows, std::int64_t cols, std::int64_t bits, std::int64_t group) {
  const std::int64_t blocks = (rows + 15) / 16;
  return blocks * (cols * bits / 32) * 64 + blocks * 16 * (cols / group) * 2;
}

// The replay above is the runtime's rule. A session is fed so that its positions become
// available exactly in the rule's chunks. Position p needs the stream's samples up to
// 1280 (p + 1) + 40 (its last mel frame's window, mel.h), and a session starts with 32 x 1280
// silent samples, which complete positions 0 .. 30 (one encoder chunk). 40 samples of audio
// complete position 31; then each 32 x 1280 samples complete the next 32 positions, one chunk
// 32 c .. 32 c + 31. On a synthetic model that writes varied tokens, the runtime's own pass count
// at the end of a chunk (before finish(), whose end padding makes chunks of other sizes) equals
// the replay's on the tokens it produced, for every k.
TEST(BenchCommand, GuesserReplayMatchesTheRuntime) {
  test::TempDir dir;
  std::string out;
  ASSERT_EQ(test::run_command(bin("voxtral-rt-synth") + " -q --config tiny --seed 7 --weight-scale 1.6 -o " +
                                  dir.file("varied"),
                              &out),
            0)
      << out;
  const auto model = Model::load(dir.file("varied"), {.threads = 2});
  const auto audio = load_audio_16k_mono(test::shared_data("audio/jfk.wav")).samples;
  for (const int k : {2, 4, 8, 16}) {
    SCOPED_TRACE("k=" + std::to_string(k));
    SessionOptions so;
    so.verify_tokens = k;
    auto s = model->new_session(so);
    std::size_t fed = 0;
    std::int64_t chunks = 0;  // chunks of 32 positions complete
    for (std::size_t end = 40; end <= audio.size(); end += 32 * 1280, ++chunks) {
      s->feed({audio.data() + fed, end - fed});
      fed = end;
    }
    const Transcript t = s->snapshot();
    const auto ids = test::token_ids(t);
    // Positions 0 .. 32 x chunks - 1 have run; the first 38 are the prompt's and give no token.
    ASSERT_EQ(static_cast<std::int64_t>(ids.size()), 32 * chunks - (kPromptPositions - 1));
    ASSERT_GE(std::set<int>(ids.begin(), ids.end()).size(), 10u) << "the check needs varied tokens";
    EXPECT_EQ(t.stats.decode_steps, static_cast<std::int64_t>(ids.size()) - 1);
    EXPECT_EQ(t.stats.decode_passes, replay_passes(ids, k));
  }
}

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
  EXPECT_FALSE(j["version"].get<std::string>().empty());
  EXPECT_EQ(j["cpu"], cpu_features());     // what this process detects (same CPU, same VRT_ISA)
  EXPECT_EQ(j["kernels"], kernel_table());
  EXPECT_NE(j["schemes"].get<std::string>().find("linear=8da4w"), std::string::npos);
  EXPECT_EQ(j["decoder_weight_kinds"]["wq"], "8da4w");
  EXPECT_TRUE(positive(j["bandwidth"]["gbps"])) << j["bandwidth"];
  EXPECT_TRUE(positive(j["load_ms"]));

  EXPECT_EQ(j["decoder_weight_kinds"]["head"], "8da4w");  // the head follows --qlinear

  // Bytes per decoder step: the 7 matrices of each of the tiny preset's 2 layers (dim 64, 4 query
  // heads and 2 KV heads of 16, hidden 192) and the head (vocab 400 + 1000 specials = 1400 rows
  // of 64), all 8da4w: 4-bit, groups of 32 columns.
  const std::int64_t dim = 64, q_rows = 4 * 16, kv_rows = 2 * 16, hidden = 192, vocab = 1400;
  auto q4 = [](std::int64_t rows, std::int64_t cols) { return packed_bytes(rows, cols, 4, 32); };
  const std::int64_t layer = q4(q_rows, dim) + 2 * q4(kv_rows, dim) + q4(dim, q_rows) + 2 * q4(hidden, dim) +
                             q4(dim, hidden);  // wq, wk + wv, wo, w1 + w3, w2
  const std::int64_t head = q4(vocab, dim);
  ASSERT_EQ(layer, 27648);  // 49152 weights x 1/2 byte + 1536 groups x 2 bytes
  ASSERT_EQ(head, 50688);   // 88 blocks of 16 rows (1400 padded to 1408) x (4096 + 2 x 32 x 2) bytes
  const auto& d = j["decoder"];
  EXPECT_TRUE(positive(d["ms_per_step"])) << d;
  EXPECT_TRUE(positive(d["gbps"])) << d;
  EXPECT_EQ(d["layer_bytes"].get<std::int64_t>(), 2 * layer) << d;
  EXPECT_EQ(d["head_bytes"].get<std::int64_t>(), head) << d;
  EXPECT_EQ(d["bytes_per_step"].get<std::int64_t>(), 2 * layer + head) << d;
  EXPECT_TRUE(positive(d["bandwidth_fraction"])) << d;
  // Steps are measured after the prompt and the bench's 3 warm-up steps.
  EXPECT_EQ(d["context_positions"].get<std::int64_t>(), kPromptPositions + 3) << d;

  // Verification: k = 1 (plain steps) and the --verify-k default 2, 4, 8, 16; the simulation on
  // the 3 golden streams decides every token after the prefill's, so its positions per pass are
  // (sum of stream lengths - 3) / passes, with the passes of the replay above.
  const auto& v = j["verification"];
  EXPECT_EQ(v["reference_streams"], 3);
  const auto streams = golden_streams();
  std::int64_t positions = 0;
  for (const auto& s : streams) positions += static_cast<std::int64_t>(s.size()) - 1;
  EXPECT_EQ(positions, 56 + 69 + 111 - 3);  // the stream lengths SOURCES.md gives
  ASSERT_EQ(v["passes"].size(), 5u) << v;
  const int ks[] = {1, 2, 4, 8, 16};
  for (std::size_t i = 0; i < 5; ++i) {
    const auto& p = v["passes"][i];
    const int k = ks[i];
    SCOPED_TRACE("k=" + std::to_string(k));
    EXPECT_EQ(p["k"], k) << p;
    EXPECT_TRUE(positive(p["pass_ms"])) << p;
    EXPECT_TRUE(positive(p["expected_ms_per_position"])) << p;
    std::int64_t passes = 0;
    for (const auto& s : streams) passes += replay_passes(s, k);
    const double ppp = p["positions_per_pass"];
    EXPECT_DOUBLE_EQ(ppp, static_cast<double>(positions) / static_cast<double>(passes)) << p;
    // Accepted positions per row computed: a fraction in (0, 1].
    const double frac = ppp / k;
    EXPECT_GT(frac, 0.0) << p;
    EXPECT_LE(frac, 1.0) << p;
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

  ASSERT_EQ(j["offline"].size(), 3u);  // --offline-k default: 1, 4, 8
  for (const auto& r : j["offline"]) {
    EXPECT_TRUE(positive(r["real_time_factor"])) << r;
    EXPECT_NEAR(r["audio_s"].get<double>(), 3.58, 0.01);
    EXPECT_GT(r["decode_steps"].get<std::int64_t>(), 0);
    EXPECT_LE(r["decode_passes"].get<std::int64_t>(), r["decode_steps"].get<std::int64_t>());
  }
  EXPECT_EQ(j["offline"][0]["verify_tokens"], 1);
  EXPECT_EQ(j["offline"][0]["decode_passes"], j["offline"][0]["decode_steps"]);
  EXPECT_EQ(j["offline"][1]["verify_tokens"], SessionOptions::kDefaultVerifyTokens);  // the default
  EXPECT_EQ(j["offline"][2]["verify_tokens"], 8);
  for (const auto& r : j["offline"]) {  // the same positions whatever k; no replay unless asked
    EXPECT_EQ(r["decode_steps"], j["offline"][0]["decode_steps"]);
    EXPECT_EQ(r["replay"], "");
  }
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
