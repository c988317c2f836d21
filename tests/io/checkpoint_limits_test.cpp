// The params.json limits of docs/LIMITS.md crossed by one step (file size, JSON depth, dimension
// ranges), and the tekken.json / params.json agreement checks one field at a time, on a
// synthetic checkpoint in the real format.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "io/checkpoint.h"
#include "synth.h"
#include "test_util.h"
#include "voxtral_rt/config.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The real model's params.json, as input to edit (the defaults of ModelConfig are the real model;
// ModelConfig's own tests check that against the published file).
json real_params() { return json::parse(ModelConfig{}.to_json()); }

// from_json's error for `text`, or "" if accepted; the status must be `status`.
std::string params_error(const std::string& text, Status status = Status::bad_checkpoint) {
  try {
    (void)ModelConfig::from_json(text, "limits/params.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    return e.what();
  }
  return "";
}

std::string with(const char* pointer, json value) {
  auto j = real_params();
  j[json::json_pointer(pointer)] = std::move(value);
  return j.dump();
}

TEST(ParamsJsonLimits, FileSizeCapIs1MiB) {
  const test::TempDir dir;
  // Valid JSON padded with spaces: only the size can make it fail.
  std::string text = real_params().dump();
  text.append((std::size_t{1} << 20) - text.size(), ' ');
  test::write_text(dir.file("params.json"), text);
  EXPECT_NO_THROW((void)ModelConfig::from_file(dir.file("params.json")));
  test::write_text(dir.file("params.json"), text + " ");
  try {
    (void)ModelConfig::from_file(dir.file("params.json"));
    ADD_FAILURE() << "a params.json of 1 MiB + 1 byte was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::bad_checkpoint) << e.what();
    EXPECT_NE(std::string(e.what()).find("1048577"), std::string::npos) << e.what();
  }
}

TEST(ParamsJsonLimits, JsonDepthCapIs64) {
  // An unknown key holding nested arrays: depth 64 in all is parsed (and ignored), 65 is refused.
  auto nested = [](int depth) {
    auto j = real_params();
    std::string text = j.dump();
    text.pop_back();  // the closing brace
    return text + ",\"x\":" + std::string(static_cast<std::size_t>(depth - 1), '[') +
           std::string(static_cast<std::size_t>(depth - 1), ']') + "}";
  };
  EXPECT_EQ(params_error(nested(64)), "");
  EXPECT_NE(params_error(nested(65)).find("nesting deeper than 64"), std::string::npos);
}

TEST(ParamsJsonLimits, DimensionRanges) {
  struct Edge {
    const char* pointer;
    std::int64_t max;
  };
  // At the maximum a field passes the range check (the config may fail later for another
  // reason, never with "outside"); one above it is refused naming the range.
  for (const Edge& e : {Edge{"/dim", 65536}, Edge{"/hidden_dim", 65536}, Edge{"/n_layers", 1024},
                        Edge{"/vocab_size", 4194304}, Edge{"/sliding_window", 1 << 30},
                        Edge{"/multimodal/whisper_model_args/encoder_args/n_layers", 1024},
                        Edge{"/multimodal/whisper_model_args/encoder_args/sliding_window", 1 << 30},
                        Edge{"/multimodal/whisper_model_args/encoder_args/dim", 65536}}) {
    SCOPED_TRACE(e.pointer);
    const auto at = params_error(with(e.pointer, e.max));
    EXPECT_EQ(at.find("outside"), std::string::npos) << at;
    const auto over = params_error(with(e.pointer, e.max + 1));
    EXPECT_NE(over.find("outside [1, " + std::to_string(e.max) + "]"), std::string::npos) << over;
    const auto zero = params_error(with(e.pointer, 0));
    EXPECT_NE(zero.find("outside [1, "), std::string::npos) << zero;
  }
  // Integers beyond int64 and negative ones are range errors too, never wrapped.
  EXPECT_NE(params_error(with("/dim", json::parse("18446744073709551615"))).find("outside"),
            std::string::npos);
  EXPECT_NE(params_error(with("/dim", -1)).find("outside"), std::string::npos);
}

class CheckpointAgreement : public ::testing::Test {
 protected:
  void SetUp() override {
    synth::SynthOptions o;
    o.preset = "tiny";
    o.vocab_ranks = 300;
    o.seed = 3;
    synth::write_checkpoint(dir_.path(), o);
    original_ = test::read_text(dir_.file("params.json"));
  }
  // Edits params.json and expects Checkpoint::open to name the disagreeing field.
  void expect_disagreement(const std::function<void(json&)>& edit, const std::string& needle) {
    auto j = json::parse(original_);  // one edit at a time, on the synthetic original
    edit(j);
    test::write_text(dir_.file("params.json"), j.dump());
    try {
      (void)Checkpoint::open(dir_.path());
      ADD_FAILURE() << "opened; expected a disagreement on " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::bad_checkpoint) << e.what();
      EXPECT_NE(std::string(e.what()).find("tekken.json and params.json disagree: " + needle),
                std::string::npos)
          << e.what();
    }
  }
  test::TempDir dir_;
  std::string original_;
};

TEST_F(CheckpointAgreement, EveryAudioFieldMustMatchTekken) {
  ASSERT_NO_THROW((void)Checkpoint::open(dir_.path()));
  auto audio = [](json& j) -> json& {
    return j["multimodal"]["whisper_model_args"]["encoder_args"]["audio_encoding_args"];
  };
  // Each edit keeps params.json valid on its own (samples per token = hop x 2 x downsample).
  expect_disagreement(
      [&](json& j) {
        audio(j)["sampling_rate"] = 32000;
        audio(j)["frame_rate"] = 25.0;
      },
      "sampling_rate");
  expect_disagreement(
      [&](json& j) {
        audio(j)["frame_rate"] = 6.25;
        j["multimodal"]["whisper_model_args"]["downsample_args"]["downsample_factor"] = 8;
      },
      "frame_rate");
  expect_disagreement([&](json& j) { audio(j)["num_mel_bins"] = 80; }, "num_mel_bins");
  expect_disagreement(
      [&](json& j) {
        audio(j)["hop_length"] = 320;
        j["multimodal"]["whisper_model_args"]["downsample_args"]["downsample_factor"] = 2;
      },
      "hop_length");
  expect_disagreement([&](json& j) { audio(j)["window_size"] = 512; }, "window_size");
  expect_disagreement([&](json& j) { j["vocab_size"] = 1299; }, "vocabulary size");
}

}  // namespace
}  // namespace vrt
