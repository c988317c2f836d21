// LogMel::Plan: the immutable tables of the log-mel transform and the one function that turns
// one frame of samples into n_mels values. Offline and streaming both call frame(), with the
// same samples, so their outputs agree bit for bit.
//
// Per frame m (n = n_fft, half = n / 2, N = n/2 + 1 bins):
//   seg[j]  = w[j] * x[R(hop m - half + j)]                 j < n   (float64)
//   P[k]    = |rfft(seg)[k]|^2                              k < N
//   mel[b]  = sum_{k in [first_b, first_b + count_b)} F[b,k] P[k]   (nonzero span of filter b)
//   out[b]  = float((max(log10(max(mel[b], 1e-10)), log_mel_max - 8) + 4) / 4)
// R is the numpy "reflect" index map for a signal of `total` samples (see reflect()).
#pragma once

#include <cstdint>
#include <vector>

#include "frontend/fft.h"
#include "voxtral_rt/mel.h"

namespace vrt {

// Samples [begin, end) of the signal (absolute indices), data[0] being sample `begin`.
struct SampleView {
  const float* data;
  std::int64_t begin;
  std::int64_t end;
};

// numpy.pad(mode="reflect") index map, repeated as often as needed: period 2(L-1), the edge
// samples not repeated. For total >= half + 1 a frame's window needs at most one reflection.
inline std::int64_t reflect(std::int64_t i, std::int64_t total) {
  if (i >= 0 && i < total) return i;
  if (total == 1) return 0;
  const std::int64_t period = 2 * (total - 1);
  std::int64_t r = i % period;
  if (r < 0) r += period;
  return r >= total ? period - r : r;
}

struct LogMel::Plan {
  explicit Plan(const MelConfig& config);

  // Doubles of scratch memory one frame() call needs.
  std::size_t scratch_size() const;
  // Writes the n_mels values of frame m of a `total`-sample signal to out. Every sample the
  // frame reads (after reflection) must lie in `v`; otherwise Error(internal).
  void frame(const SampleView& v, std::int64_t total, std::int64_t m, float* out,
             double* scratch) const;

  MelConfig config;
  int half = 0;  // n_fft / 2: samples of centring pad on each side
  fft::RealFft fft;
  std::vector<double> window;   // periodic Hann, n_fft
  std::vector<int> first_bin;   // per mel: first nonzero bin
  std::vector<int> bin_count;   // per mel: bins in the nonzero span
  std::vector<std::size_t> weight_offset;  // per mel: start in weights
  std::vector<double> weights;  // concatenated nonzero spans
  double log_floor = 0.0;       // log_mel_max - 8
  float silence = 0.0f;         // out[] when every sample of the window is zero
};

}  // namespace vrt
