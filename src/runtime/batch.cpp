// Cross-session batching (Model::step): several batched streams' encoder chunks stacked in one
// encoder call, then decoder passes shared by every stream with pending positions, so that each
// weight matrix is read once per call for all of them. Streams are driven through their batch
// interface (runtime/stream.h) only. Rows stay within max_batch_rows(), where every row computes
// bitwise as it would alone, so batching changes no bit of any stream's output.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <vector>

#include "runtime/model_impl.h"
#include "runtime/stream.h"
#include "voxtral_rt/error.h"

namespace vrt {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The streams' buffered whole tokens of mel frames through the encoder and adapter, stacked in
// calls of at most kEncoderBatchTokens tokens (each stream's chunk at most kEncoderChunkTokens,
// as alone). Only streams whose encoder the batch runs (batch-independent rows) take part:
// their chunks give the same bits stacked or alone, chunked in any way.
void encode_batch(const Model::Impl& m, const std::vector<Stream*>& streams) {
  constexpr std::int64_t kEncoderBatchTokens = 4 * Model::Impl::kEncoderChunkTokens;
  if (!m.encoder->rows_batch_independent()) return;  // float encoders ran in each stream's push()
  const std::int64_t fpt = m.config().samples_per_token() / m.config().encoder.audio.hop_length;
  const std::int64_t enc_dim = m.config().encoder.dim, dim = m.config().dim;
  std::vector<Stream*> in;
  std::vector<EncoderSegment> segments;
  std::vector<float> enc, emb;
  std::size_t start = 0;
  for (;;) {
    in.clear();
    segments.clear();
    std::int64_t tokens = 0;
    for (std::size_t i = 0; i < streams.size(); ++i) {  // a rotating first one, as in the passes
      Stream* s = streams[(start + i) % streams.size()];
      const EncoderSegment c = s->encoder_chunk();
      if (c.t_mel == 0 || tokens + c.t_mel / fpt > kEncoderBatchTokens) continue;
      in.push_back(s);
      segments.push_back(c);
      tokens += c.t_mel / fpt;
    }
    if (in.empty()) break;
    start = (start + 1) % streams.size();
    const auto t = Clock::now();
    m.encoder->forward_segments(segments, enc, &m.pool);
    m.encoder->adapter(enc.data(), tokens, emb, &m.pool);
    const double ms = ms_since(t);
    std::int64_t row = 0;  // the segment's first token
    for (std::size_t j = 0; j < in.size(); ++j) {
      const std::int64_t k = segments[j].t_mel / fpt;
      const double share = ms * static_cast<double>(k) / static_cast<double>(tokens);
      in[j]->take_chunk(segments[j].t_mel, enc.data() + row * fpt / 2 * enc_dim, emb.data() + row * dim, share);
      in[j]->add_batched_ms(share, /*decoder=*/false);
      row += k;
    }
  }
  for (Stream* s : streams) s->compact_mel();
}

// Decoder passes, each over every stream with pending positions (one segment of up to its
// verify_tokens rows per stream, at most max_rows rows in all, at least one row for each stream
// that fits), until no stream has pending positions. Returns the tokens decided.
std::int64_t decode_batch(const Model::Impl& m, const std::vector<Stream*>& s, std::int64_t max_rows) {
  const std::size_t n = s.size();
  const std::int64_t d = m.config().dim, vocab = m.config().vocab_size;
  std::vector<std::int64_t> want(n), rows(n);
  std::vector<DecoderSegment> segments;
  std::vector<float> x, logits;
  std::int64_t tokens = 0;
  std::size_t start = 0;
  for (;;) {
    // One row for every stream first (starting from a rotating one, so that when the cap
    // leaves streams out it is not always the same ones), then more verification rows each.
    std::int64_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      want[i] = s[i]->rows_wanted();
      rows[i] = 0;
    }
    for (std::size_t i = 0; i < n && total < max_rows; ++i) {
      const std::size_t j = (start + i) % n;
      if (want[j] > 0) rows[j] = 1, ++total;
    }
    if (total == 0) break;
    start = (start + 1) % n;
    for (bool more = true; more && total < max_rows;) {
      more = false;
      for (std::size_t j = 0; j < n && total < max_rows; ++j)
        if (rows[j] > 0 && rows[j] < want[j]) ++rows[j], ++total, more = true;
    }
    const auto t = Clock::now();
    x.assign(static_cast<std::size_t>(total * d), 0.0f);
    segments.clear();
    std::int64_t r = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (rows[j] == 0) continue;
      segments.push_back(s[j]->prepare_rows(rows[j], x.data() + r * d));
      r += rows[j];
    }
    m.decoder->forward_segments(segments, x.data(), &m.pool);
    logits.resize(static_cast<std::size_t>(total * vocab));
    m.decoder->logits(x.data(), total, logits.data(), &m.pool);
    const double pass_ms = ms_since(t);
    Model::Impl::add_ms(m.counters.decoder_ns, pass_ms);
    m.counters.decoder_passes.fetch_add(1, std::memory_order_relaxed);
    m.counters.decoder_rows.fetch_add(total, std::memory_order_relaxed);
    r = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (rows[j] == 0) continue;
      const double share = pass_ms * static_cast<double>(rows[j]) / static_cast<double>(total);
      tokens += s[j]->accept_rows(logits.data() + r * vocab, rows[j], share);
      s[j]->add_batched_ms(share, /*decoder=*/true);
      r += rows[j];
    }
  }
  return tokens;
}

}  // namespace

std::int64_t Model::max_batch_rows() const {
  return impl_->weights.output.quantized() && all_linears_packed(impl_->weights.decoder) ? Impl::kMaxDecoderBlock : 16;
}

std::int64_t Model::step(std::span<Session* const> sessions, std::int64_t max_rows) const {
  std::vector<Stream*> streams;
  for (Session* p : sessions) {
    if (p == nullptr) throw Error(Status::invalid_argument, "Model::step: a null session");
    Stream& s = session_stream(*p);
    if (&s.model() != impl_.get()) throw Error(Status::invalid_argument, "Model::step: a session of another model");
    if (!s.batched()) throw Error(Status::invalid_argument, "Model::step: a session without SessionOptions::batched");
    if (s.state() == StreamState::finished) throw Error(Status::bad_state, "Model::step: a finished session");
    streams.push_back(&s);
  }
  if (streams.empty()) return 0;
  const std::int64_t cap = max_batch_rows();
  max_rows = max_rows <= 0 ? cap : std::min(max_rows, cap);
  std::lock_guard<std::mutex> lock(impl_->pool_mutex);
  encode_batch(*impl_, streams);
  return decode_batch(*impl_, streams, max_rows);
}

}  // namespace vrt
