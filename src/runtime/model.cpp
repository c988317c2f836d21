// Model loading (an original checkpoint directory, quantized on the fly if asked, or a packed
// .vxrt file) and the public Model API.
#include <chrono>
#include <thread>

#include "common/file_util.h"
#include "model/time_embedding.h"
#include "io/checkpoint_weights.h"
#include "runtime/model_impl.h"
#include "runtime/stream.h"  // build_prefix
#include "voxtral_rt/error.h"

namespace vrt {

Model::Impl::Impl(const std::string& p, const LoadOptions& options, int threads) : pool(threads), path(p) {
  if (is_packed_model_file(path)) {
    if (!options.quant.is_native())
      throw Error(Status::invalid_argument, path + " is a packed model with its own schemes (" +
                                                "quantize the original checkpoint to change them)");
    packed = PackedModelFile::open(path);
    quant = packed->quant();
    source = packed->weight_source();
  } else {
    checkpoint = std::make_unique<Checkpoint>(Checkpoint::open(path));
    quant = options.quant;
    source = std::make_unique<CheckpointWeightSource>(*checkpoint, quant, &pool);
  }
  weights = ModelWeights::load(config(), *source);
  if (checkpoint) static_cast<const CheckpointWeightSource&>(*source).release_unviewed_pages();
  mel.emplace(MelConfig::from_model(config()));
  kv_cache = options.kv_cache;
  encoder.emplace(config(), weights, kEncoderChunkTokens * config().downsample_factor, kv_cache);
  decoder.emplace(config(), weights, kMaxDecoderBlock, kv_cache);
}

const ModelConfig& Model::Impl::config() const { return packed ? packed->config() : checkpoint->config(); }
const Tokenizer& Model::Impl::tokenizer() const { return packed ? packed->tokenizer() : checkpoint->tokenizer(); }
const CheckpointWeightSource* Model::Impl::checkpoint_source() const {
  return checkpoint ? static_cast<const CheckpointWeightSource*>(source.get()) : nullptr;
}

const std::vector<std::vector<float>>& Model::Impl::ada_scales(int delay_tokens) const {
  std::lock_guard<std::mutex> lock(ada_mutex_);
  auto it = ada_.find(delay_tokens);
  if (it == ada_.end()) it = ada_.emplace(delay_tokens, ada_norm_scales(config(), weights, delay_tokens)).first;
  return it->second;
}

int Model::Impl::default_delay_tokens() const {
  const auto& s = tokenizer().streaming();
  return delay_tokens_for_ms(s.transcription_delay_ms, s.sampling_rate, s.hop_length, s.samples_per_token());
}

std::shared_ptr<const PrefixState> Model::Impl::prefix(int delay_tokens) const {
  std::lock_guard<std::mutex> lock(prefix_mutex_);  // one build per delay; others wait for it
  auto it = prefix_.find(delay_tokens);
  if (it == prefix_.end()) it = prefix_.emplace(delay_tokens, build_prefix(*this, delay_tokens)).first;
  return it->second;
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::string& path, const LoadOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.threads < 0) throw Error(Status::invalid_argument, "threads must be >= 0");
  int threads = options.threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto impl = std::make_unique<Impl>(path, options, threads);
  impl->ada_scales(impl->default_delay_tokens());  // the default delay's scales as part of loading
  impl->load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelConfig& Model::config() const { return impl_->config(); }
const Tokenizer& Model::tokenizer() const { return impl_->tokenizer(); }
const std::string& Model::directory() const { return impl_->path; }
double Model::load_ms() const { return impl_->load_ms; }
int Model::threads() const { return impl_->pool.size(); }

ComputeTimes Model::compute_times() const {
  const auto& c = impl_->counters;
  auto s = [](std::int64_t ns) { return static_cast<double>(ns) * 1e-9; };
  ComputeTimes t;
  t.mel_s = s(c.mel_ns.load());
  t.encoder_s = s(c.encoder_ns.load());
  t.encoder_attention_s = s(impl_->encoder->attention_ns());
  t.decoder_s = s(c.decoder_ns.load());
  t.decoder_attention_s = s(impl_->decoder->attention_ns());
  t.decoder_passes = c.decoder_passes.load();
  t.decoder_rows = c.decoder_rows.load();
  return t;
}
const QuantOptions& Model::quant() const { return impl_->quant; }
KvCacheType Model::kv_cache() const { return impl_->kv_cache; }

void Model::save_packed(const std::string& path) const {
  const CheckpointWeightSource* src = impl_->checkpoint_source();
  if (src == nullptr)
    throw Error(Status::invalid_argument, impl_->path + " is already a packed model: convert the original checkpoint");
  const std::string dir = impl_->checkpoint->directory();
  // The texts as the checkpoint ships them (both were validated when it was opened).
  const std::string params = read_file_capped(dir + "/params.json", 1 << 20, Status::bad_checkpoint);
  const std::string tekken = read_file_capped(dir + "/tekken.json", 64 << 20, Status::bad_tokenizer);
  write_packed_model(path, params, tekken, impl_->quant, src->entries());
}

void validate_delay_ms(int delay_ms) {
  if ((delay_ms >= 80 && delay_ms <= 1200 && delay_ms % 80 == 0) || delay_ms == 2400) return;
  throw Error(Status::invalid_argument, "delay " + std::to_string(delay_ms) +
                                            " ms is not supported: use a multiple of 80 from 80 to 1200, or 2400");
}

}  // namespace vrt
