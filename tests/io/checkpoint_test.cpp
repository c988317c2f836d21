// Checkpoint directory loading on synthetic checkpoints in the real format, and the table of
// corrupted checkpoints: each gives a clear error naming the file or tensor, never a crash.
#include "io/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "synth.h"
#include "test_util.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

namespace fs = std::filesystem;

synth::SynthOptions tiny_options() {
  synth::SynthOptions o;
  o.preset = "tiny";
  o.vocab_ranks = 300;
  o.seed = 7;
  return o;
}

// Rewrites consolidated.safetensors: `edit` may change the header JSON and the data bytes.
void rewrite_weights(const std::string& dir,
                     const std::function<void(nlohmann::ordered_json&, std::string&)>& edit) {
  const std::string path = dir + "/consolidated.safetensors";
  std::string file = test::read_text(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(file[static_cast<std::size_t>(i)]);
  auto header = nlohmann::ordered_json::parse(file.substr(8, n));
  std::string data = file.substr(8 + n);
  edit(header, data);
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>(text.size() >> (8 * i));
  test::write_text(path, out + text + data);
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override { synth::write_checkpoint(dir_.path(), tiny_options()); }
  std::string dir() const { return dir_.path(); }
  test::TempDir dir_;
};

TEST_F(CheckpointTest, OpensASyntheticCheckpoint) {
  const auto c = Checkpoint::open(dir());
  const auto expected = expected_tensors(c.config());
  EXPECT_EQ(c.weights().tensors().size(), expected.size());
  EXPECT_TRUE(c.unexpected_tensors().empty());
  EXPECT_EQ(c.config().vocab_size, 1300);  // 300 text ranks + 1000 specials
  EXPECT_EQ(c.tokenizer().vocab_size(), 1300);
  const auto info = c.info();
  EXPECT_EQ(info.parameter_count, info.expected_parameter_count);
  EXPECT_EQ(info.dtype_counts.at("BF16"), expected.size());
  EXPECT_EQ(info.data_bytes, static_cast<std::uint64_t>(info.parameter_count) * 2);
  // Every tensor is reachable by its checkpoint name, with the shape the config implies.
  for (const auto& s : expected) EXPECT_EQ(c.tensor(s.name).shape, s.shape) << s.name;
}

TEST(Checkpoint, SyntheticWithTheRealTokenizer) {
  test::TempDir d;
  auto o = tiny_options();
  o.tekken_path = test::shared_data("tokenizer/tekken_voxtral_mini_4b_realtime_2602.vocab130072.json");
  synth::write_checkpoint(d.path(), o);
  const auto c = Checkpoint::open(d.path());
  EXPECT_EQ(c.config().vocab_size, 131072);
  EXPECT_EQ(c.tensor(tensor_names::kTokEmbeddings).shape, (std::vector<std::int64_t>{131072, 64}));
  EXPECT_EQ(c.tokenizer().streaming().transcription_delay_ms, 480);
}

TEST(Checkpoint, SynthIsDeterministicBySeed) {
  test::TempDir a, b, c;
  synth::write_checkpoint(a.path(), tiny_options());
  synth::write_checkpoint(b.path(), tiny_options());
  auto o = tiny_options();
  o.seed = 8;
  synth::write_checkpoint(c.path(), o);
  const auto wa = test::read_text(a.file("consolidated.safetensors"));
  EXPECT_EQ(wa, test::read_text(b.file("consolidated.safetensors")));
  EXPECT_NE(wa, test::read_text(c.file("consolidated.safetensors")));
  EXPECT_EQ(test::read_text(a.file("params.json")), test::read_text(c.file("params.json")));
}

TEST(Checkpoint, SynthOverridesDimensions) {
  auto o = tiny_options();
  o.overrides = {{"sliding_window", "16"}, {"enc.sliding_window", "40"}, {"n_layers", "3"}, {"enc.dim", "32"}};
  const auto cfg = synth::make_config(o);
  EXPECT_EQ(cfg.sliding_window, 16);
  EXPECT_EQ(cfg.encoder.sliding_window, 40);
  EXPECT_EQ(cfg.n_layers, 3);
  EXPECT_EQ(cfg.encoder.dim, 32);
  o.overrides = {{"no_such_key", "1"}};
  EXPECT_THROW(synth::make_config(o), Error);
  o.overrides = {{"n_kv_heads", "3"}};  // 4 heads not a multiple of 3: validation applies
  EXPECT_THROW(synth::make_config(o), Error);
}

struct Corruption {
  const char* label;
  std::function<void(const std::string& dir)> apply;
  Status status;
  const char* needle;  // the message must name this (tensor, file or field)
};

std::vector<Corruption> corruptions() {
  const std::string wq0 = "layers.0.attention.wq.weight";
  return {
      {"truncated weights file",
       [](const std::string& d) {
         const auto p = d + "/consolidated.safetensors";
         fs::resize_file(p, fs::file_size(p) - 1);
       },
       Status::bad_checkpoint, "truncated"},
      {"header length past EOF",
       [](const std::string& d) {
         const auto p = d + "/consolidated.safetensors";
         std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
         const std::uint64_t n = fs::file_size(p);
         f.write(reinterpret_cast<const char*>(&n), 8);  // little-endian host
       },
       Status::bad_checkpoint, "past the end"},
      {"empty weights file",
       [](const std::string& d) { fs::resize_file(d + "/consolidated.safetensors", 0); },
       Status::bad_checkpoint, "too small"},
      {"overlapping ranges",
       [wq0](const std::string& d) {
         rewrite_weights(d, [wq0](nlohmann::ordered_json& h, std::string&) {
           h[wq0]["data_offsets"][0] = h[wq0]["data_offsets"][0].get<std::uint64_t>() - 2;
           h[wq0]["data_offsets"][1] = h[wq0]["data_offsets"][1].get<std::uint64_t>() - 2;
         });
       },
       Status::bad_checkpoint, "overlaps"},
      {"shape and size disagree",
       [wq0](const std::string& d) {
         rewrite_weights(d, [wq0](nlohmann::ordered_json& h, std::string&) { h[wq0]["shape"][0] = 65; });
       },
       Status::bad_checkpoint, "\"layers.0.attention.wq.weight\": shape x dtype is 8320 bytes"},
      {"wrong shape with the right size",
       [wq0](const std::string& d) {
         rewrite_weights(d, [wq0](nlohmann::ordered_json& h, std::string&) {
           h[wq0]["shape"] = {32, 128};  // 4096 elements like [64, 64], wrong shape
         });
       },
       Status::bad_checkpoint, "layers.0.attention.wq.weight' has shape [32, 128], expected [64, 64]"},
      {"wrong dtype",
       [wq0](const std::string& d) {
         rewrite_weights(d, [wq0](nlohmann::ordered_json& h, std::string&) { h[wq0]["dtype"] = "I16"; });
       },
       Status::bad_checkpoint, "layers.0.attention.wq.weight' has dtype I16"},
      {"unknown dtype",
       [wq0](const std::string& d) {
         rewrite_weights(d, [wq0](nlohmann::ordered_json& h, std::string&) { h[wq0]["dtype"] = "Q4"; });
       },
       Status::bad_checkpoint, "unknown dtype"},
      {"missing tensor",
       [](const std::string& d) {
         rewrite_weights(d, [](nlohmann::ordered_json& h, std::string&) {
           auto v = h["norm.weight"];
           h.erase("norm.weight");
           h["renamed.norm.weight"] = v;
         });
       },
       Status::bad_checkpoint, "missing tensor 'norm.weight"},
      {"params.json not JSON", [](const std::string& d) { test::write_text(d + "/params.json", "{oops"); },
       Status::bad_checkpoint, "params.json"},
      {"params.json negative dim",
       [](const std::string& d) {
         auto j = nlohmann::ordered_json::parse(test::read_text(d + "/params.json"));
         j["hidden_dim"] = -1;
         test::write_text(d + "/params.json", j.dump());
       },
       Status::bad_checkpoint, "hidden_dim"},
      {"params.json disagrees with the tensors",
       [](const std::string& d) {
         auto j = nlohmann::ordered_json::parse(test::read_text(d + "/params.json"));
         j["hidden_dim"] = 256;
         test::write_text(d + "/params.json", j.dump());
       },
       Status::bad_checkpoint, "feed_forward.w1.weight' has shape [192, 64], expected [256, 64]"},
      {"params.json unknown ffn",
       [](const std::string& d) {
         auto j = nlohmann::ordered_json::parse(test::read_text(d + "/params.json"));
         j["multimodal"]["whisper_model_args"]["encoder_args"]["ffn_type"] = "moe";
         test::write_text(d + "/params.json", j.dump());
       },
       Status::unsupported_model, "ffn_type"},
      {"vocab disagrees with tekken.json",
       [](const std::string& d) {
         auto j = nlohmann::ordered_json::parse(test::read_text(d + "/params.json"));
         j["vocab_size"] = 1400;
         test::write_text(d + "/params.json", j.dump());
       },
       Status::bad_checkpoint, "vocab"},
      {"missing params.json", [](const std::string& d) { fs::remove(d + "/params.json"); },
       Status::not_found, "params.json"},
      {"missing tekken.json", [](const std::string& d) { fs::remove(d + "/tekken.json"); },
       Status::not_found, "tekken.json"},
      {"missing weights", [](const std::string& d) { fs::remove(d + "/consolidated.safetensors"); },
       Status::not_found, "consolidated.safetensors"},
      {"broken tekken.json", [](const std::string& d) { test::write_text(d + "/tekken.json", "[]"); },
       Status::bad_tokenizer, "tekken.json"},
  };
}

TEST(Checkpoint, CorruptedCheckpointsGiveClearErrors) {
  for (const auto& c : corruptions()) {
    SCOPED_TRACE(c.label);
    test::TempDir d;
    synth::write_checkpoint(d.path(), tiny_options());
    c.apply(d.path());
    try {
      Checkpoint::open(d.path());
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), c.status) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos)
          << "message: " << e.what() << "\nexpected to name: " << c.needle;
    }
  }
}

TEST(Checkpoint, ExtraTensorsAreReportedNotFatal) {
  test::TempDir d;
  synth::write_checkpoint(d.path(), tiny_options());
  rewrite_weights(d.path(), [](nlohmann::ordered_json& h, std::string& data) {
    const auto end = data.size();
    h["output.weight.extra"] = {{"dtype", "BF16"}, {"shape", {4}}, {"data_offsets", {end, end + 8}}};
    data.append(8, '\0');
  });
  const auto c = Checkpoint::open(d.path());
  ASSERT_EQ(c.unexpected_tensors().size(), 1u);
  EXPECT_EQ(c.unexpected_tensors()[0], "output.weight.extra");
}

TEST(Checkpoint, MissingDirectory) {
  try {
    Checkpoint::open("/nonexistent/model");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::not_found);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model"), std::string::npos);
  }
}

}  // namespace
}  // namespace vrt
