// Model loading and the public Model API.
#include <chrono>
#include <thread>

#include "model/time_embedding.h"
#include "runtime/model_impl.h"
#include "voxtral_rt/error.h"

namespace vrt {

Model::Impl::Impl(Checkpoint&& c, int threads)
    : checkpoint(std::move(c)),
      weights(ModelWeights::from_checkpoint(checkpoint)),
      mel(MelConfig::from_model(checkpoint.config())),
      encoder(checkpoint.config(), weights, kEncoderChunkTokens * checkpoint.config().downsample_factor),
      decoder(checkpoint.config(), weights, kMaxDecoderBlock),
      pool(threads) {}

const std::vector<std::vector<float>>& Model::Impl::ada_scales(int delay_tokens) const {
  std::lock_guard<std::mutex> lock(ada_mutex_);
  auto it = ada_.find(delay_tokens);
  if (it == ada_.end())
    it = ada_.emplace(delay_tokens, ada_norm_scales(checkpoint.config(), weights, delay_tokens)).first;
  return it->second;
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::string& directory, const LoadOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.threads < 0) throw Error(Status::invalid_argument, "threads must be >= 0");
  int threads = options.threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto impl = std::make_unique<Impl>(Checkpoint::open(directory), threads);
  // Precompute the default delay's scales as part of loading.
  const auto& s = impl->checkpoint.tokenizer().streaming();
  impl->ada_scales(delay_tokens_for_ms(s.transcription_delay_ms, s.sampling_rate, s.hop_length,
                                       s.samples_per_token()));
  impl->load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelConfig& Model::config() const { return impl_->checkpoint.config(); }
const Tokenizer& Model::tokenizer() const { return impl_->checkpoint.tokenizer(); }
const std::string& Model::directory() const { return impl_->checkpoint.directory(); }
double Model::load_ms() const { return impl_->load_ms; }
int Model::threads() const { return impl_->pool.size(); }

Transcript Model::transcribe(std::span<const float> audio_16k, const TranscribeOptions& options) const {
  return transcribe_offline(*impl_, audio_16k, options);
}

std::unique_ptr<Session> Model::new_session(const SessionOptions& options) const {
  return make_session(*impl_, shared_from_this(), options);
}

void validate_delay_ms(int delay_ms) {
  if ((delay_ms >= 80 && delay_ms <= 1200 && delay_ms % 80 == 0) || delay_ms == 2400) return;
  throw Error(Status::invalid_argument, "delay " + std::to_string(delay_ms) +
                                            " ms is not supported: use a multiple of 80 from 80 to 1200, or 2400");
}

}  // namespace vrt
