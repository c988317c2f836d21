#include "io/checkpoint.h"

#include <chrono>
#include <filesystem>
#include <unordered_set>

namespace vrt {
namespace {

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::string require_file(const std::string& dir, const char* name) {
  const auto p = (std::filesystem::path(dir) / name).string();
  if (!std::filesystem::exists(p))
    throw Error(Status::not_found, "model directory '" + dir + "' has no " + name +
                                       " (a Voxtral checkpoint holds consolidated.safetensors, "
                                       "params.json and tekken.json)");
  return p;
}

// The checkpoint's tensors against the config's exact set: a missing tensor, wrong shape or a
// non-float dtype is an error; tensors the model does not use are returned.
std::vector<std::string> check_tensor_set(const ModelConfig& config, const SafetensorsFile& w) {
  const auto expected = expected_tensors(config);
  std::unordered_set<std::string> wanted;
  std::size_t missing = 0;
  std::string first_missing;
  for (const auto& spec : expected) {
    wanted.insert(spec.name);
    const TensorInfo* t = w.find(spec.name);
    if (t == nullptr) {
      if (missing++ == 0) first_missing = spec.name + " " + shape_str(spec.shape);
      continue;
    }
    if (t->shape != spec.shape)
      throw Error(Status::bad_checkpoint, w.path() + ": tensor '" + spec.name + "' has shape " +
                                              shape_str(t->shape) + ", expected " +
                                              shape_str(spec.shape) + " from params.json");
    if (!to_weight_dtype(t->dtype))
      throw Error(Status::bad_checkpoint, w.path() + ": tensor '" + spec.name + "' has dtype " +
                                              st_dtype_name(t->dtype) +
                                              ", expected a float type (BF16, F16 or F32)");
  }
  if (missing > 0)
    throw Error(Status::bad_checkpoint,
                w.path() + ": missing tensor '" + first_missing + "'" +
                    (missing > 1 ? " and " + std::to_string(missing - 1) + " more" : "") +
                    " required by params.json");
  std::vector<std::string> extra;
  for (const auto& t : w.tensors())
    if (!wanted.count(t.name)) extra.push_back(t.name);
  return extra;
}

void check_tokenizer_agrees(const ModelConfig& c, const Tokenizer& tok, const std::string& dir) {
  auto fail = [&](const std::string& m) {
    throw Error(Status::bad_checkpoint, dir + ": tekken.json and params.json disagree: " + m);
  };
  if (tok.vocab_size() != c.vocab_size)
    fail("vocabulary size " + std::to_string(tok.vocab_size()) + " vs vocab_size " +
         std::to_string(c.vocab_size));
  const auto& s = tok.streaming();
  const auto& a = c.encoder.audio;
  if (s.sampling_rate != a.sampling_rate) fail("sampling_rate");
  if (s.frame_rate != a.frame_rate) fail("frame_rate");
  if (s.num_mel_bins != a.num_mel_bins) fail("num_mel_bins");
  if (s.hop_length != a.hop_length) fail("hop_length");
  if (s.window_size != a.window_size) fail("window_size");
}

}  // namespace

Checkpoint Checkpoint::open(const std::string& directory, const CheckpointOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!std::filesystem::is_directory(directory))
    throw Error(Status::not_found, "model directory '" + directory + "' does not exist");
  Checkpoint c;
  c.directory_ = directory;
  c.config_ = ModelConfig::from_file(require_file(directory, kParamsFileName));
  c.tokenizer_ = std::make_unique<Tokenizer>(
      Tokenizer::from_file(require_file(directory, kTokenizerFileName)));
  check_tokenizer_agrees(c.config_, *c.tokenizer_, directory);
  c.weights_ = SafetensorsFile::open(require_file(directory, kWeightsFileName), options.limits);
  c.unexpected_ = check_tensor_set(c.config_, c.weights_);
  c.open_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return c;
}

const TensorInfo& Checkpoint::tensor(std::string_view name) const {
  const TensorInfo* t = weights_.find(name);
  if (t == nullptr)
    throw Error(Status::invalid_argument, "no tensor '" + std::string(name) + "' in " + weights_.path());
  return *t;
}

std::span<const std::uint8_t> Checkpoint::tensor_data(std::string_view name) const {
  return weights_.data(tensor(name));
}

CheckpointInfo Checkpoint::info() const {
  CheckpointInfo i;
  i.directory = directory_;
  i.config = config_;
  i.tensor_count = weights_.tensors().size();
  for (const auto& t : weights_.tensors()) {
    i.parameter_count += t.elements();
    ++i.dtype_counts[st_dtype_name(t.dtype)];
  }
  i.expected_parameter_count = config_.parameter_count();
  i.file_bytes = weights_.file_size();
  i.data_bytes = weights_.data_bytes();
  i.unexpected_tensors = unexpected_;
  i.tokenizer_version = tokenizer_->version();
  i.tokenizer_vocab_size = tokenizer_->vocab_size();
  i.tokenizer_special_tokens = tokenizer_->num_special_tokens();
  i.streaming = tokenizer_->streaming();
  i.open_ms = open_ms_;
  return i;
}

CheckpointInfo inspect_checkpoint(const std::string& directory) {
  return Checkpoint::open(directory).info();
}

}  // namespace vrt
