// ModelConfig: parsing the real params.json layout, validation, and the exact tensor set.
#include "voxtral_rt/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/tensor_names.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

// The real params.json of Voxtral-Mini-4B-Realtime-2602 (../shared/docs/voxtral-spec.md §2).
constexpr const char* kRealParams = R"({
  "dim": 3072, "n_layers": 26, "head_dim": 128, "hidden_dim": 9216, "n_heads": 32,
  "n_kv_heads": 8, "use_biases": false, "causal": true, "rope_theta": 1000000.0,
  "norm_eps": 1e-05, "vocab_size": 131072, "model_parallel": 1, "tied_embeddings": true,
  "sliding_window": 8192, "model_max_length": 131072,
  "multimodal": {"whisper_model_args": {
    "encoder_args": {
      "audio_encoding_args": {"sampling_rate": 16000, "frame_rate": 12.5, "num_mel_bins": 128,
        "hop_length": 160, "window_size": 400, "chunk_length_s": null,
        "global_log_mel_max": 1.5, "transcription_format": "streaming"},
      "dim": 1280, "n_layers": 32, "head_dim": 64, "hidden_dim": 5120, "n_heads": 32,
      "vocab_size": 131072, "n_kv_heads": 32, "use_biases": true, "use_cache": false,
      "rope_theta": 1000000.0, "causal": true, "norm_eps": 1e-05, "pos_embed": "rope",
      "max_source_positions": null, "ffn_type": "swiglu", "norm_type": "rms_norm",
      "sliding_window": 750},
    "downsample_args": {"downsample_factor": 4}}},
  "ada_rms_norm_t_cond": true, "ada_rms_norm_t_cond_dim": 32
})";

TEST(ModelConfig, ParsesTheRealParamsJson) {
  const auto c = ModelConfig::from_json(kRealParams);
  EXPECT_EQ(c.dim, 3072);
  EXPECT_EQ(c.n_layers, 26);
  EXPECT_EQ(c.n_heads, 32);
  EXPECT_EQ(c.n_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.hidden_dim, 9216);
  EXPECT_EQ(c.sliding_window, 8192);
  EXPECT_EQ(c.vocab_size, 131072);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
  EXPECT_EQ(c.encoder.dim, 1280);
  EXPECT_EQ(c.encoder.n_layers, 32);
  EXPECT_EQ(c.encoder.sliding_window, 750);
  EXPECT_EQ(c.encoder.audio.num_mel_bins, 128);
  EXPECT_DOUBLE_EQ(c.encoder.audio.global_log_mel_max, 1.5);
  EXPECT_FALSE(c.encoder.audio.chunk_length_s.has_value());
  EXPECT_EQ(c.downsample_factor, 4);
  EXPECT_EQ(c.ada_rms_norm_t_cond_dim, 32);
  EXPECT_EQ(c.adapter_input_dim(), 5120);  // 1280 x 4
  EXPECT_EQ(c.samples_per_token(), 1280);  // 16000 / 12.5
}

TEST(ModelConfig, RealTensorSetMatchesThePublishedCounts) {
  // Spec §3: 711 tensors, 4,429,679,360 parameters; encoder 421 tensors / 970,395,392;
  // adapter 25,165,824; decoder incl. embedding 3,434,118,144.
  const auto c = ModelConfig::from_json(kRealParams);
  const auto t = expected_tensors(c);
  EXPECT_EQ(t.size(), 711u);
  EXPECT_EQ(c.parameter_count(), 4429679360LL);
  std::int64_t enc = 0, adapter = 0, rest = 0;
  std::size_t enc_n = 0;
  for (const auto& s : t) {
    if (s.name.rfind(tensor_names::kEncoderPrefix, 0) == 0) {
      enc += s.elements();
      ++enc_n;
    } else if (s.name.rfind(tensor_names::kAdapterPrefix, 0) == 0) {
      adapter += s.elements();
    } else {
      rest += s.elements();
    }
  }
  EXPECT_EQ(enc_n, 421u);
  EXPECT_EQ(enc, 970395392LL);
  EXPECT_EQ(adapter, 25165824LL);
  EXPECT_EQ(rest, 3434118144LL);
  // 8,859,358,720 bytes of BF16 data (spec §1).
  EXPECT_EQ(c.parameter_count() * 2, 8859358720LL);
}

TEST(ModelConfig, RoundTripsThroughJson) {
  const auto a = ModelConfig::from_json(kRealParams);
  const auto b = ModelConfig::from_json(a.to_json());
  EXPECT_EQ(a.to_json(), b.to_json());
  // Same keys and values as the real file.
  EXPECT_EQ(nlohmann::json::parse(a.to_json()), nlohmann::json::parse(kRealParams));
}

struct BadParams {
  const char* label;
  std::string json_pointer;  // member to change
  nlohmann::json value;      // new value; null with remove=true deletes it
  bool remove;
  Status status;
  const char* needle;
};

TEST(ModelConfig, RejectsBadParams) {
  const std::vector<BadParams> cases = {
      {"negative dim", "/dim", -4, false, Status::bad_checkpoint, "dim"},
      {"zero layers", "/n_layers", 0, false, Status::bad_checkpoint, "n_layers"},
      {"dim as string", "/dim", "3072", false, Status::bad_checkpoint, "expected an integer"},
      {"dim as float", "/dim", 3072.5, false, Status::bad_checkpoint, "expected an integer"},
      {"missing n_heads", "/n_heads", nullptr, true, Status::bad_checkpoint, "n_heads: missing"},
      {"heads not a multiple of kv heads", "/n_kv_heads", 5, false, Status::bad_checkpoint, "multiple"},
      {"odd head_dim", "/head_dim", 127, false, Status::bad_checkpoint, "even"},
      {"huge dim", "/dim", 1LL << 40, false, Status::bad_checkpoint, "outside"},
      {"unknown ffn type", "/multimodal/whisper_model_args/encoder_args/ffn_type", "gelu_mlp", false,
       Status::unsupported_model, "ffn_type"},
      {"unknown norm type", "/multimodal/whisper_model_args/encoder_args/norm_type", "layer_norm", false,
       Status::unsupported_model, "norm_type"},
      {"unknown pos embed", "/multimodal/whisper_model_args/encoder_args/pos_embed", "sinusoidal", false,
       Status::unsupported_model, "pos_embed"},
      {"decoder biases", "/use_biases", true, false, Status::unsupported_model, "use_biases"},
      {"non-causal encoder", "/multimodal/whisper_model_args/encoder_args/causal", false, false,
       Status::unsupported_model, "causal"},
      {"missing encoder", "/multimodal/whisper_model_args/encoder_args", nullptr, true,
       Status::bad_checkpoint, "encoder_args: missing"},
      {"hop does not tile a token", "/multimodal/whisper_model_args/encoder_args/audio_encoding_args/hop_length",
       150, false, Status::unsupported_model, "samples per token"},
      {"NaN-like eps", "/norm_eps", -1.0, false, Status::bad_checkpoint, "norm_eps"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    auto j = nlohmann::json::parse(kRealParams);
    const nlohmann::json::json_pointer p(c.json_pointer);
    if (c.remove) {
      j[p.parent_pointer()].erase(p.back());
    } else {
      j[p] = c.value;
    }
    try {
      ModelConfig::from_json(j.dump());
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), c.status) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    }
  }
}

TEST(ModelConfig, RejectsMalformedJson) {
  for (const char* text : {"", "{", "[]", "null", "{\"dim\": 1, \"dim\": 2}", "{\"dim\": 3072,}"}) {
    SCOPED_TRACE(text);
    EXPECT_THROW(ModelConfig::from_json(text), Error);
  }
}

}  // namespace
}  // namespace vrt
