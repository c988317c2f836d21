// What a loaded Model holds: the model file(s) (an original checkpoint directory or a packed
// .vxrt file), the weights read from them (views, converted or quantized per QuantOptions), the
// encoder and decoder, the compute thread pool and the per-delay ada-norm scales. Immutable
// after load except for the scale cache and the pool, both behind locks.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

#include "io/checkpoint.h"
#include "io/packed_model.h"
#include "model/decoder.h"
#include "model/encoder.h"
#include "model/weights.h"
#include "runtime/thread_pool.h"
#include "voxtral_rt/mel.h"
#include "voxtral_rt/model.h"
#include "voxtral_rt/session.h"

namespace vrt {

class CheckpointWeightSource;
struct PrefixState;  // session.cpp

// The constant start of every stream, computed once per model and delay (session.cpp).
std::shared_ptr<const PrefixState> build_prefix(const Model::Impl& model, int delay_tokens);

struct Model::Impl {
  // Encoder frames per forward call in offline runs (a multiple of the downsample factor):
  // large enough for matrix-matrix work, small enough to bound memory for any audio length.
  static constexpr std::int64_t kEncoderChunkTokens = 32;
  // The most decoder positions one forward call takes (the prompt is 33 + delay tokens).
  static constexpr std::int64_t kMaxDecoderBlock = 64;

  mutable ThreadPool pool;         // first: loading quantizes with it
  mutable std::mutex pool_mutex;   // one session computes at a time
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

  Impl(const std::string& path, const LoadOptions& options, int threads);
  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const;
  // The checkpoint source (for `voxtral-rt quantize`); nullptr for a packed model.
  const CheckpointWeightSource* checkpoint_source() const;
  // (1 + s_l) per decoder layer for a delay, computed once per delay.
  const std::vector<std::vector<float>>& ada_scales(int delay_tokens) const;
  // The session state after the constant prefix (left-pad silence and prompt) for a delay,
  // computed by the first session that asks; nullptr when the prefix is not constant.
  std::shared_ptr<const PrefixState> prefix(int delay_tokens) const;

 private:
  mutable std::mutex prefix_mutex_;
  mutable std::map<int, std::shared_ptr<const PrefixState>> prefix_;
  mutable std::mutex ada_mutex_;
  mutable std::map<int, std::vector<std::vector<float>>> ada_;
};

std::unique_ptr<Session> make_session(const Model::Impl& model, std::shared_ptr<const Model> keep_alive,
                                      const SessionOptions& options);

// Cross-session batching (the server's scheduler). A session in batched mode runs the mel
// front end in feed() and leaves the rest to decode_batch(): the encoder too when its rows are
// batch-independent (Encoder::rows_batch_independent, packed weights; else feed() runs encoder,
// adapter and prompt blocks as before), and the decoder positions after the prompt. finish()
// computes what is left itself. Tokens are the same either way.
void set_batched_decoding(Session& session, bool on);
// Appends the end of the stream (the padding finish() adds) and runs it through mel and
// encoder; a batched session leaves its positions to decode_batch. Then only finish() may
// follow (it decodes whatever is left and returns the transcript).
void end_stream_audio(Session& session);
// First the sessions' buffered audio through the encoder and adapter, stacked over sessions
// (each encoder matrix read once per call for all of them) when feed() left it, and their
// prompt blocks; then decoder passes, each one forward over every session with pending
// positions (one segment of up to its verify_tokens rows per session, at most max_rows rows in
// all, at least one row for each session that fits), until no session has pending positions. The sessions must come
// from this model and be in batched mode. Returns the tokens generated.
std::int64_t decode_batch(const Model::Impl& model, std::span<Session* const> sessions, std::int64_t max_rows);
// The largest batch whose rows each compute bitwise as they would alone: 16 while any decoder
// matrix or the head is float (kernels::matmul changes tiling above 16 rows), else
// kMaxDecoderBlock (64: 8 verification rows for each of 8 live streams in one weight read).
std::int64_t max_batch_rows(const Model::Impl& model);

// The offline schedule (spec §8.2) as one session: feed everything, then finish.
Transcript transcribe_offline(const Model::Impl& model, std::span<const float> audio,
                              const TranscribeOptions& options);

}  // namespace vrt
