// voxtral-rt: typed model configuration.
//
// ModelConfig mirrors params.json of the Mistral checkpoint (see docs/ and
// ../shared/docs/voxtral-spec.md §2); StreamingConfig mirrors the `audio` block of tekken.json
// (§4.3). The model's shape always comes from these structs, never from constants in code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vrt {

// params.json: multimodal.whisper_model_args.encoder_args.audio_encoding_args
struct AudioEncodingArgs {
  int sampling_rate = 16000;
  double frame_rate = 12.5;          // decoder tokens per second of audio
  int num_mel_bins = 128;
  int hop_length = 160;              // samples between mel frames
  int window_size = 400;             // STFT window = n_fft
  std::optional<double> chunk_length_s;  // null in the realtime model
  double global_log_mel_max = 1.5;   // log-mel floor is this minus 8
  std::string transcription_format = "streaming";
};

// params.json: multimodal.whisper_model_args.encoder_args (the causal audio encoder)
struct EncoderConfig {
  int dim = 1280;
  int n_layers = 32;
  int head_dim = 64;
  int hidden_dim = 5120;
  int n_heads = 32;
  int n_kv_heads = 32;
  int vocab_size = 131072;  // unused by the encoder, kept to write params.json back
  bool use_biases = true;
  bool use_cache = false;
  double rope_theta = 1.0e6;
  bool causal = true;
  double norm_eps = 1e-5;
  std::string pos_embed = "rope";
  std::optional<int> max_source_positions;
  std::string ffn_type = "swiglu";
  std::string norm_type = "rms_norm";
  int sliding_window = 750;  // encoder frames (50 Hz): 15 s
  AudioEncodingArgs audio;
};

// params.json, top level: the decoder plus the multimodal block.
struct ModelConfig {
  int dim = 3072;
  int n_layers = 26;
  int head_dim = 128;
  int hidden_dim = 9216;
  int n_heads = 32;
  int n_kv_heads = 8;
  bool use_biases = false;
  bool causal = true;
  double rope_theta = 1.0e6;
  double norm_eps = 1e-5;
  int vocab_size = 131072;
  int model_parallel = 1;
  bool tied_embeddings = true;
  int sliding_window = 8192;  // decoder tokens (12.5 Hz)
  std::int64_t model_max_length = 131072;
  EncoderConfig encoder;
  int downsample_factor = 4;  // encoder frames stacked per decoder position
  bool ada_rms_norm_t_cond = true;
  int ada_rms_norm_t_cond_dim = 32;

  // Parses params.json text. `source` names the file in error messages. Throws vrt::Error
  // (bad_checkpoint for malformed JSON or types, unsupported_model for values this engine does
  // not implement). The result is validated.
  static ModelConfig from_json(std::string_view text, const std::string& source = "params.json");
  // Reads and parses a params.json file (size-capped).
  static ModelConfig from_file(const std::string& path);
  // Serializes in the key order and layout of the real params.json (indent 2).
  std::string to_json() const;
  // Throws vrt::Error when a dimension is non-positive, heads and head_dim disagree, or a type
  // (ffn, norm, positional embedding) is not the one this engine implements.
  void validate() const;

  // Derived sizes.
  int adapter_input_dim() const { return encoder.dim * downsample_factor; }
  int samples_per_token() const;  // sampling_rate / frame_rate = 1280
  std::int64_t parameter_count() const;  // sum over the exact tensor set
};

// tekken.json: the `audio` block (streaming schedule).
struct StreamingConfig {
  int sampling_rate = 16000;
  double frame_rate = 12.5;
  int num_mel_bins = 128;
  int hop_length = 160;
  int window_size = 400;
  int transcription_delay_ms = 480;
  double streaming_look_ahead_ms = 2.5;
  double streaming_look_back_ms = 52.5;
  int streaming_n_left_pad_tokens = 32;
  std::string transcription_format = "streaming";

  int samples_per_token() const;  // 1280
};

}  // namespace vrt
