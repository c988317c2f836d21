// What a loaded Model holds: the model file(s) (an original checkpoint directory or a packed
// .vxrt file), the weights read from them (views, converted or quantized per QuantOptions), the
// encoder and decoder, the compute thread pool and the per-delay ada-norm scales and prefix
// states. Immutable after load except for those caches and the pool, each behind a lock.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "common/thread_pool.h"
#include "io/checkpoint.h"
#include "io/packed_model.h"
#include "model/decoder.h"
#include "model/encoder.h"
#include "model/weights.h"
#include "voxtral_rt/mel.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/session.h"

namespace vrt {

class CheckpointWeightSource;
struct PrefixState;  // runtime/stream.h

struct Model::Impl {
  // Encoder frames per forward call in offline runs (a multiple of the downsample factor):
  // large enough for matrix-matrix work, small enough to bound memory for any audio length.
  static constexpr std::int64_t kEncoderChunkTokens = 32;
  // The most decoder positions one forward call takes (the prompt is 33 + delay tokens).
  static constexpr std::int64_t kMaxDecoderBlock = 64;

  mutable ThreadPool pool;         // first: loading quantizes with it
  mutable std::mutex pool_mutex;   // one session (or one batch) computes at a time
  std::string path;                // the directory or .vxrt file
  std::unique_ptr<Checkpoint> checkpoint;       // loaded from a checkpoint directory
  std::unique_ptr<PackedModelFile> packed;      // loaded from a .vxrt file
  std::unique_ptr<WeightSource> source;         // owns converted / quantized weights
  QuantOptions quant;              // the schemes in use
  ModelWeights weights;
  std::optional<LogMel> mel;
  KvCacheType kv_cache = KvCacheType::f32;
  std::optional<Encoder> encoder;
  std::optional<Decoder> decoder;
  double load_ms = 0;
  // Compute time by stage (Model::compute_times), added by every stream and batch.
  struct Counters {
    std::atomic<std::int64_t> mel_ns{0}, encoder_ns{0}, decoder_ns{0}, decoder_passes{0}, decoder_rows{0};
  };
  mutable Counters counters;
  static void add_ms(std::atomic<std::int64_t>& counter, double ms) {
    counter.fetch_add(static_cast<std::int64_t>(ms * 1e6), std::memory_order_relaxed);
  }

  Impl(const std::string& path, const LoadOptions& options, int threads);
  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const;
  // The checkpoint source (for `voxtral-rt quantize`); nullptr for a packed model.
  const CheckpointWeightSource* checkpoint_source() const;
  // (1 + s_l) per decoder layer for a delay, computed once per delay.
  const std::vector<std::vector<float>>& ada_scales(int delay_tokens) const;
  // The stream state after the constant prefix (left-pad silence and prompt) for a delay,
  // computed by the first stream that asks; nullptr when the prefix is not constant.
  std::shared_ptr<const PrefixState> prefix(int delay_tokens) const;
  // The default delay in decoder tokens (tekken.json's transcription_delay_ms).
  int default_delay_tokens() const;

 private:
  mutable std::mutex prefix_mutex_;
  mutable std::map<int, std::shared_ptr<const PrefixState>> prefix_;
  mutable std::mutex ada_mutex_;
  mutable std::map<int, std::vector<std::vector<float>>> ada_;
};

// The runtime's access to the internals behind the public Model and Session (a friend of both).
struct RuntimeAccess {
  static const Model::Impl& impl(const Model& model) { return *model.impl_; }
  static Session::Impl& impl(Session& session) { return *session.impl_; }
  static std::unique_ptr<Session> make_session(std::unique_ptr<Session::Impl> impl);
};

}  // namespace vrt
