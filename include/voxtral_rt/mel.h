// voxtral-rt: the exact log-mel front end (../shared/docs/voxtral-spec.md §5), offline and
// incremental, plus the offline padding schedule (§4.3, §8.2).
//
// For audio x[0..L) (mono, 16 kHz float) and frame m in [0, T), T = floor(L / hop):
//   window  w[j] = 0.5 - 0.5 cos(2 pi j / n_fft)                       (periodic Hann)
//   segment s_m[j] = x[R(hop m - n_fft/2 + j)], j in [0, n_fft)          (centred frames)
//   R(i)    = reflect index: -i left of 0, 2(L-1)-i right of L-1, repeated (numpy "reflect")
//   X_m[k]  = sum_j w[j] s_m[j] e^{-2 pi i j k / n_fft}, k in [0, n_fft/2]
//   mel[b,m] = sum_k F[b,k] |X_m[k]|^2                                   (Slaney filters F)
//   out[b,m] = (max(log10(max(mel, 1e-10)), log_mel_max - 8) + 4) / 4
// This is torch.stft(center=True, pad_mode="reflect") with the last frame dropped, so T =
// floor(L / hop) (1 s -> 100 frames; digital silence -> -0.625 everywhere). Arithmetic is
// float64 up to the log; the output is float32.
//
// Layouts: LogMel::compute returns channel-major [n_mels, T] (what the encoder's conv stem
// reads); StreamingLogMel returns frame-major [frames, n_mels] (one contiguous row per frame,
// appended as frames become known). to_frame_major / to_channel_major convert.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "voxtral_rt/config.h"

namespace vrt {

struct MelConfig {
  int sample_rate = 16000;
  int n_fft = 400;        // = STFT window length
  int hop_length = 160;
  int n_mels = 128;
  double log_mel_max = 1.5;  // params.json global_log_mel_max; the log floor is this - 8

  // From params.json (encoder.audio). Validated.
  static MelConfig from_model(const ModelConfig& model);
  // Throws Error(invalid_argument) unless 0 < hop_length <= n_fft <= kMaxFft,
  // 0 < n_mels <= n_fft/2 + 1, sample_rate > 0 and log_mel_max is finite.
  void validate() const;

  static constexpr int kMaxFft = 1 << 16;
};

// Slaney-scale, Slaney-normalised triangular filters (mistral-common mel_filter_bank,
// librosa/HF norm="slaney"), computed in float64 from the formula:
//   m(f) = 3f/200 below 1 kHz, 15 + 27 ln(f/1000)/ln(6.4) above; F_0..F_{n_mels+1} = m^-1 of
//   linspace(m(f_min), m(f_max)); bin frequencies linspace(0, sample_rate/2, n_freq_bins);
//   F[b,k] = max(0, min((f_k - F_b)/(F_{b+1} - F_b), (F_{b+2} - f_k)/(F_{b+2} - F_{b+1})))
//            * 2 / (F_{b+2} - F_b).
// Returns row-major [n_mels, n_freq_bins]. Throws Error(invalid_argument) for n_freq_bins < 2,
// n_mels < 1, f_min > f_max, non-finite or negative frequencies, sample_rate <= 0, or when a
// filter is all zero (too many mels for the frequency resolution), as mistral-common does.
std::vector<double> slaney_mel_filter_bank(int n_freq_bins, int n_mels, double f_min, double f_max,
                                           int sample_rate);

// Offline log-mel. Immutable after construction (window, sparse filters, FFT plan), so one
// instance may be shared by threads; each call uses its own scratch memory.
class LogMel {
 public:
  explicit LogMel(const MelConfig& config = {});  // validates; throws Error(invalid_argument)

  const MelConfig& config() const { return config_; }
  int n_mels() const { return config_.n_mels; }
  // floor(n_samples / hop). Throws Error(invalid_argument) past INT32_MAX frames.
  int n_frames(std::size_t n_samples) const;

  // Channel-major [n_mels, n_frames(audio.size())]. num_threads > 1 splits the frames
  // over that many threads (the result does not depend on it); num_threads < 1 is invalid.
  std::vector<float> compute(std::span<const float> audio, int num_threads = 1) const;

  struct Plan;  // window, FFT, sparse filters (src/frontend/mel_plan.h)

 private:
  friend class StreamingLogMel;
  MelConfig config_;
  // shared_ptr<const>: copies share the immutable tables.
  std::shared_ptr<const Plan> plan_;
};

// Incremental log-mel whose output, concatenated over any chunking of the input, equals
// LogMel::compute on the whole input (transposed) bit for bit. Frame m is emitted by feed()
// as soon as samples [0, hop m + n_fft/2) are known (160 m + 200 for the real model), at least
// n_fft/2 + 1 samples are in (left-edge reflection), and hop (m + 1) samples are in (only
// binding when hop > n_fft/2: frame floor(L/hop) is dropped); frames whose window crosses the
// end of the input are emitted by
// finish(), which applies the same right-edge reflection as the offline transform.
// Memory stays bounded: only the samples from the start of the next frame's window are kept.
class StreamingLogMel {
 public:
  explicit StreamingLogMel(const LogMel& mel);
  explicit StreamingLogMel(const MelConfig& config = {});

  // Appends every newly complete frame to `out`, frame-major ([frames, n_mels] floats), and
  // returns how many frames were appended. An empty span is fine. Throws Error(bad_state)
  // after finish() until reset().
  std::int64_t feed(std::span<const float> samples, std::vector<float>& out);
  // Ends the input: appends the remaining frames (up to floor(total / hop) in all) and returns
  // their count. A second call appends nothing.
  std::int64_t finish(std::vector<float>& out);
  // Forgets everything; the next feed starts a new input.
  void reset();

  std::int64_t frames_emitted() const { return frames_emitted_; }
  std::int64_t samples_received() const { return received_; }
  bool finished() const { return finished_; }
  std::size_t buffered_samples() const { return buf_.size(); }  // for memory-bound checks
  const LogMel& log_mel() const { return mel_; }

 private:
  std::int64_t ready_end(std::int64_t received) const;  // frames final before the end is known
  std::int64_t emit(std::vector<float>& out, std::int64_t total, std::int64_t end);
  void trim();

  LogMel mel_;
  std::vector<double> scratch_;  // per-frame FFT work space
  std::vector<float> buf_;       // samples [buf_start_, received_)
  std::int64_t buf_start_ = 0;   // absolute index of buf_[0]
  std::int64_t received_ = 0;
  std::int64_t frames_emitted_ = 0;
  bool finished_ = false;
};

// [rows, cols] row-major -> [cols, rows] row-major. Throws Error(invalid_argument) if
// data.size() != rows * cols.
std::vector<float> transpose(std::span<const float> data, std::size_t rows, std::size_t cols);
inline std::vector<float> to_frame_major(std::span<const float> channel_major, int n_mels) {
  const auto n = static_cast<std::size_t>(n_mels > 0 ? n_mels : 0);
  return transpose(channel_major, n, n == 0 ? 0 : channel_major.size() / n);
}
inline std::vector<float> to_channel_major(std::span<const float> frame_major, int n_mels) {
  const auto n = static_cast<std::size_t>(n_mels > 0 ? n_mels : 0);
  return transpose(frame_major, n == 0 ? 0 : frame_major.size() / n, n);
}

// ---- Offline padding schedule (mistral-common AudioEncoder.pad, offline streaming) ----

inline constexpr int kLeftPadTokens = 32;                 // tekken streaming_n_left_pad_tokens
inline constexpr int kOfflineStreamingBufferTokens = 10;  // mistral-common constant

// left_pad_tokens * spt zeros, the audio, then (spt - L mod spt) mod spt +
// right_pad_tokens * spt zeros: the result is a multiple of spt long. Throws
// Error(invalid_argument) for negative token counts, spt <= 0 or a length overflow.
std::vector<float> pad_offline(std::span<const float> audio, int left_pad_tokens,
                               int right_pad_tokens, int samples_per_token);

// mistral-common AudioConfig.num_delay_tokens: n = int(delay_ms / 1000 * sample_rate);
// frames = n // hop if hop divides n else ceil(n / hop - 1); tokens = ceil(frames / (spt // hop)).
// 480 ms -> 6. Like mistral-common, requires delay_ms > 0 and a whole number of tokens
// (delay_ms * sample_rate divisible by 1000 * spt); otherwise Error(invalid_argument).
int delay_tokens_for_ms(int delay_ms, int sample_rate = 16000, int hop_length = 160,
                        int samples_per_token = 1280);

// Offline right padding in tokens: delay + 1 (BOS shift) + 10 (word-length buffer) = 17 at 480 ms.
int right_pad_tokens(int delay_tokens);

}  // namespace vrt
