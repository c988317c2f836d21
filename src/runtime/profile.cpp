// Stage measurements (include/voxtral_rt/profile.h). Every measurement runs the model's own
// encoder and decoder calls on real inputs: the clip's offline-padded log-mel through the encoder
// and the adapter, plus token embeddings.
#include "voxtral_rt/profile.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>

#include "common/aligned_buffer.h"
#include "common/thread_pool.h"
#include "kernels/kernels.h"
#include "runtime/model_impl.h"
#include "runtime/verify.h"
#include "voxtral_rt/error.h"
#include "voxtral_rt/mel.h"
#include "voxtral_rt/session.h"

namespace vrt {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Bytes one pass reads from a matrix: packed data + f16 scales, or the floats.
std::int64_t weight_bytes(const kernels::LinearWeight& w) {
  if (w.quantized()) {
    const std::int64_t blocks = (w.q.rows + kernels::kQuantRowBlock - 1) / kernels::kQuantRowBlock;
    return blocks * w.q.block_bytes + blocks * w.q.groups * kernels::kQuantRowBlock * 2;
  }
  return w.f.rows * w.f.cols * dtype_size(w.f.dtype);
}

const char* linear_kind(const kernels::LinearWeight& w) {
  if (!w.quantized()) return dtype_kind(w.f.dtype);
  if (w.q.format == kernels::QuantFormat::q8) return w.dynamic_int8 ? "8da8w" : "8w";
  return w.dynamic_int8 ? "8da4w" : "4w";
}

template <typename Layer>
std::int64_t layer_bytes(const std::vector<Layer>& layers) {
  std::int64_t n = 0;
  for (const auto& l : layers)
    for (const auto* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w1, &l.w2, &l.w3}) n += weight_bytes(*w);
  return n;
}

}  // namespace

std::vector<double> measure_read_bandwidth(std::size_t bytes, int threads, int repeats) {
  if (threads < 1 || repeats < 1 || bytes < 64 * std::size_t(threads))
    throw Error(Status::invalid_argument, "measure_read_bandwidth: needs threads >= 1, repeats >= 1, 64 bytes a thread");
  AlignedBuffer buf(bytes);
  std::memset(buf.data(), 1, bytes);  // touch every page first
  const auto* data = reinterpret_cast<const std::uint64_t*>(buf.data());
  const auto words = static_cast<std::int64_t>(bytes / 8);
  ThreadPool pool(threads);
  std::vector<std::uint64_t> partial(static_cast<std::size_t>(threads) * 8, 0);  // a cache line each
  std::vector<double> gbps;
  for (int r = 0; r < repeats + 1; ++r) {
    const auto t = Clock::now();
    const std::int64_t chunk = words / threads;
    pool.parallel_for(threads, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i)
        partial[static_cast<std::size_t>(i) * 8] = kernels::stream_read_sum(data + i * chunk, chunk);
    });
    const double s = ms_since(t) / 1000.0;
    volatile std::uint64_t sink = partial[0];
    (void)sink;
    if (r > 0) gbps.push_back(static_cast<double>(chunk * threads * 8) / s / 1e9);  // first = warm-up
  }
  return gbps;
}

StageProfile profile_stages(const Model& model, const ProfileOptions& o) {
  if (o.audio.empty()) throw Error(Status::invalid_argument, "profile_stages: no audio");
  auto stage = [&](const char* what) {
    if (o.on_stage) o.on_stage(what);
  };
  const Model::Impl& m = RuntimeAccess::impl(model);
  const ModelConfig& cfg = m.config();
  const auto& st = m.tokenizer().streaming();
  const int delay_tokens = m.default_delay_tokens();
  const std::int64_t n_prompt = 1 + st.streaming_n_left_pad_tokens + delay_tokens;
  const auto& ada = m.ada_scales(delay_tokens);
  const std::int64_t d = cfg.dim, vocab = cfg.vocab_size;
  const int pad = m.tokenizer().streaming_pad_id();
  ThreadPool* pool = &m.pool;

  StageProfile p;
  p.decoder_kind = linear_kind(m.weights.decoder.at(0).wq);
  p.decoder_ffn_kind = linear_kind(m.weights.decoder.at(0).w1);
  p.head_kind = linear_kind(m.weights.output);
  p.encoder_kind = linear_kind(m.weights.encoder.at(0).wq);
  p.embedding_kind = linear_kind(m.weights.tok_embeddings);
  p.decoder_layer_bytes = layer_bytes(m.weights.decoder);
  p.head_bytes = weight_bytes(m.weights.output);
  p.encoder_bytes =
      layer_bytes(m.weights.encoder) + weight_bytes(m.weights.adapter_in) + weight_bytes(m.weights.adapter_out);

  // The audio's offline-padded log-mel, frame-major.
  const std::int64_t n_mels = cfg.encoder.audio.num_mel_bins;
  const std::int64_t frames_per_token = st.samples_per_token() / st.hop_length;
  p.seconds_per_token = static_cast<double>(st.samples_per_token()) / st.sampling_rate;
  std::vector<float> mel;
  {
    const auto padded = pad_offline(o.audio, st.streaming_n_left_pad_tokens, right_pad_tokens(delay_tokens),
                                    st.samples_per_token());
    const auto cm = m.mel->compute(padded, 1);
    const std::int64_t t = static_cast<std::int64_t>(cm.size()) / n_mels;
    mel.resize(cm.size());
    for (std::int64_t b = 0; b < n_mels; ++b)
      for (std::int64_t f = 0; f < t; ++f) mel[static_cast<std::size_t>(f * n_mels + b)] = cm[static_cast<std::size_t>(b * t + f)];
  }
  const std::int64_t mel_frames = static_cast<std::int64_t>(mel.size()) / n_mels;
  // Frames [f0, f0 + n) of the mel, wrapping around (a stream longer than the clip).
  auto mel_slice = [&](std::int64_t f0, std::int64_t n) {
    std::vector<float> v(static_cast<std::size_t>(n * n_mels));
    for (std::int64_t f = 0; f < n; ++f) {
      const std::int64_t src = (f0 + f) % mel_frames;
      std::copy_n(mel.begin() + src * n_mels, n_mels, v.begin() + f * n_mels);
    }
    return v;
  };

  std::lock_guard<std::mutex> lock(m.pool_mutex);  // the compute threads are the measurement's

  // Encoder: offline chunks (a fresh state carried between calls; their adapter outputs are the
  // decoder's inputs below), then 80 ms streaming steps.
  stage("encoder");
  std::vector<float> enc_out, emb, rows;
  const std::int64_t chunk_tokens = Model::Impl::kEncoderChunkTokens;
  const std::int64_t chunk_frames = chunk_tokens * frames_per_token;
  p.encoder_chunk_tokens = chunk_tokens;
  std::vector<double> enc_chunk_ms;
  {
    EncoderState es = m.encoder->new_state();
    const int n = std::max(3, std::min(o.repeats, 4)) + 1;
    for (int r = 0; r < n; ++r) {
      const auto x = mel_slice(r * chunk_frames, chunk_frames);
      const auto t = Clock::now();
      m.encoder->forward(es, x.data(), chunk_frames, enc_out, pool);
      m.encoder->adapter(enc_out.data(), chunk_tokens, emb, pool);
      if (r > 0) enc_chunk_ms.push_back(ms_since(t));
      rows.insert(rows.end(), emb.begin(), emb.end());
    }
  }
  p.encoder_chunk_ms = median(enc_chunk_ms);
  const std::int64_t n_rows = static_cast<std::int64_t>(rows.size()) / d;
  // Streaming steps from a fresh state (short attention spans), and in the steady state of a
  // long stream: the state first filled to the full attention window (sliding_window encoder
  // positions, 15 s) by offline chunks, so that every step attends over the whole window.
  std::vector<double> enc_step_ms, enc_step_full_ms;
  const std::int64_t window_tokens =
      (cfg.encoder.sliding_window + cfg.downsample_factor - 1) / cfg.downsample_factor;  // ceil: encoder frames per token
  p.encoder_window_positions = cfg.encoder.sliding_window;
  for (const bool full : {false, true}) {
    EncoderState es = m.encoder->new_state();
    std::int64_t f0 = st.streaming_n_left_pad_tokens * frames_per_token;
    if (full) {
      for (std::int64_t tok = 0; tok < window_tokens; tok += chunk_tokens, f0 += chunk_frames) {
        const auto x = mel_slice(f0, chunk_frames);
        m.encoder->forward(es, x.data(), chunk_frames, enc_out, pool);
      }
    }
    const int warm = 2, n = std::max(10, o.steps / 2);
    for (int s = 0; s < warm + n; ++s, f0 += frames_per_token) {
      const auto x = mel_slice(f0, frames_per_token);
      const auto t = Clock::now();
      m.encoder->forward(es, x.data(), frames_per_token, enc_out, pool);
      m.encoder->adapter(enc_out.data(), 1, emb, pool);
      if (s >= warm) (full ? enc_step_full_ms : enc_step_ms).push_back(ms_since(t));
    }
  }
  p.encoder_step_ms = median(enc_step_ms);
  p.encoder_step_full_window_ms = median(enc_step_full_ms);

  // Decoder input rows for positions p0..p0+k: a[p] + E[token].
  auto decoder_rows = [&](std::int64_t p0, const std::vector<int>& tokens) {
    const auto k = static_cast<std::int64_t>(tokens.size());
    std::vector<float> x(static_cast<std::size_t>(k * d));
    for (std::int64_t j = 0; j < k; ++j) {
      std::copy_n(rows.begin() + ((p0 + j) % n_rows) * d, d, x.begin() + j * d);
      m.decoder->add_embedding(tokens[static_cast<std::size_t>(j)], x.data() + j * d);
    }
    return x;
  };

  if (o.before_decoder) o.before_decoder();

  // Prefill: the prompt in one batched pass plus the head of its last row.
  stage("prefill");
  int max_k = 1;
  for (const int k : o.verify_k) max_k = std::max(max_k, k);
  if (max_k > Model::Impl::kMaxDecoderBlock)
    throw Error(Status::invalid_argument, "profile_stages: verification passes of at most " +
                                              std::to_string(Model::Impl::kMaxDecoderBlock) + " rows");
  std::vector<float> logits(static_cast<std::size_t>(max_k * vocab));
  std::vector<double> prefill_ms;
  DecoderState state;
  std::vector<int> prompt(static_cast<std::size_t>(n_prompt), pad);
  prompt[0] = m.tokenizer().bos_id();
  for (int r = 0; r < std::max(1, std::min(o.repeats, 3)); ++r) {
    state = m.decoder->new_state();
    auto x = decoder_rows(0, prompt);
    const auto t = Clock::now();
    m.decoder->forward(state, x.data(), n_prompt, ada, pool);
    m.decoder->logits(x.data() + (n_prompt - 1) * d, 1, logits.data(), pool);
    prefill_ms.push_back(ms_since(t));
  }
  p.prefill_positions = n_prompt;
  p.prefill_ms = median(prefill_ms);

  // Decoder steps (one position each) after the prompt.
  stage("decoder steps");
  auto step = [&](const std::vector<int>& tokens) {
    const auto k = static_cast<std::int64_t>(tokens.size());
    auto x = decoder_rows(state.next_pos, tokens);
    const auto t = Clock::now();
    m.decoder->forward(state, x.data(), k, ada, pool);
    m.decoder->logits(x.data(), k, logits.data(), pool);
    return ms_since(t);
  };
  const int warmup = 3;
  for (int s = 0; s < warmup + o.steps; ++s) {
    const double ms = step({pad});
    if (s >= warmup) p.step_ms.push_back(ms);
  }
  p.context_positions = n_prompt + warmup;
  p.pass_ms[1] = median(p.step_ms);

  // Verification passes: k rows, then roll back (as a fully rejected pass would).
  stage("verification passes");
  for (const int k : o.verify_k) {
    if (k < 2) continue;
    std::vector<double> v;
    const std::int64_t p0 = state.next_pos;
    for (int r = 0; r < o.repeats + 1; ++r) {
      const double ms = step(std::vector<int>(static_cast<std::size_t>(k), pad));
      state.next_pos = p0;
      if (r > 0) v.push_back(ms);
    }
    p.pass_ms[k] = median(v);
  }
  state = {};  // free the KV caches

  if (o.after_decoder) o.after_decoder();
  return p;
}

VerificationReplay replay_verification(const Tokenizer& tok, std::span<const int> tokens, int k, int delay_ms, int chunk) {
  const auto& s = tok.streaming();
  if (delay_ms == 0) delay_ms = s.transcription_delay_ms;
  validate_delay_ms(delay_ms);
  if (k < 1 || k > SessionOptions::kMaxVerifyTokens)
    throw Error(Status::invalid_argument, "verification passes of 1.." + std::to_string(SessionOptions::kMaxVerifyTokens) +
                                              " rows, not " + std::to_string(k));
  const int delay_tokens = delay_tokens_for_ms(delay_ms, s.sampling_rate, s.hop_length, s.samples_per_token());
  const std::int64_t n_prompt = 1 + s.streaming_n_left_pad_tokens + delay_tokens;
  if (chunk < 0) throw Error(Status::invalid_argument, "replay_verification: chunk must be >= 0");
  return replay_verification(tokens, k, tok.streaming_pad_id(), tok.eos_id(), n_prompt, chunk);
}

}  // namespace vrt
