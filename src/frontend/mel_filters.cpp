// Slaney mel filter bank [n_mels, n_freq_bins] in float64 (formula in voxtral_rt/mel.h),
// operation for operation as mistral-common's mel_filter_bank so that the two agree to the
// last bits: numpy linspace is start + i * ((stop - start) / (num - 1)) with the end point
// stored exactly, and the Slaney scale is hertz_to_mel / mel_to_hertz of mistral_common.audio.
#include <cmath>
#include <string>

#include "voxtral_rt/error.h"
#include "voxtral_rt/mel.h"

namespace vrt {
namespace {

constexpr double kMinLogHertz = 1000.0;
constexpr double kMinLogMel = 15.0;

double hertz_to_mel(double f) {
  if (f >= kMinLogHertz) return kMinLogMel + std::log(f / kMinLogHertz) * (27.0 / std::log(6.4));
  return 3.0 * f / 200.0;
}

double mel_to_hertz(double m) {
  if (m >= kMinLogMel) return kMinLogHertz * std::exp(std::log(6.4) / 27.0 * (m - kMinLogMel));
  return 200.0 * m / 3.0;
}

std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> y(static_cast<std::size_t>(num));
  const double step = (stop - start) / static_cast<double>(num - 1);
  for (int i = 0; i < num; ++i) y[static_cast<std::size_t>(i)] = static_cast<double>(i) * step + start;
  y.back() = stop;
  return y;
}

[[noreturn]] void bad(const std::string& msg) {
  throw Error(Status::invalid_argument, "slaney_mel_filter_bank: " + msg);
}

}  // namespace

std::vector<double> slaney_mel_filter_bank(int n_freq_bins, int n_mels, double f_min, double f_max,
                                           int sample_rate) {
  constexpr int kMaxBins = 1 << 20;
  if (n_freq_bins < 2 || n_freq_bins > kMaxBins) {
    bad("n_freq_bins " + std::to_string(n_freq_bins) + " outside [2, 2^20]");
  }
  if (n_mels < 1 || n_mels > kMaxBins) bad("n_mels " + std::to_string(n_mels) + " outside [1, 2^20]");
  if (sample_rate <= 0) bad("sample_rate " + std::to_string(sample_rate) + " must be positive");
  if (!std::isfinite(f_min) || !std::isfinite(f_max) || f_min < 0.0 || f_min > f_max) {
    bad("need finite 0 <= f_min <= f_max, got " + std::to_string(f_min) + ", " +
        std::to_string(f_max));
  }

  const auto mel_points = linspace(hertz_to_mel(f_min), hertz_to_mel(f_max), n_mels + 2);
  std::vector<double> filter_freqs(mel_points.size());
  for (std::size_t i = 0; i < mel_points.size(); ++i) filter_freqs[i] = mel_to_hertz(mel_points[i]);
  // mistral-common: np.linspace(0, sampling_rate // 2, num_frequency_bins)
  const auto fft_freqs = linspace(0.0, static_cast<double>(sample_rate / 2), n_freq_bins);

  const auto nb = static_cast<std::size_t>(n_freq_bins);
  std::vector<double> bank(static_cast<std::size_t>(n_mels) * nb);
  for (std::size_t b = 0; b < static_cast<std::size_t>(n_mels); ++b) {
    const double lo = filter_freqs[b], mid = filter_freqs[b + 1], hi = filter_freqs[b + 2];
    const double enorm = 2.0 / (hi - lo);
    bool any = false;
    for (std::size_t k = 0; k < nb; ++k) {
      // slopes = filter_freqs - fft_freq; down = -slopes[b] / diff[b]; up = slopes[b+2] / diff[b+1]
      const double down = -(lo - fft_freqs[k]) / (mid - lo);
      const double up = (hi - fft_freqs[k]) / (hi - mid);
      const double v = std::fmax(0.0, std::fmin(down, up)) * enorm;
      bank[b * nb + k] = v;
      any = any || v != 0.0;
    }
    if (!any) {
      bad("mel filter " + std::to_string(b) + " of " + std::to_string(n_mels) +
          " is all zero: too many mel bins for " + std::to_string(n_freq_bins) +
          " frequency bins");
    }
  }
  return bank;
}

}  // namespace vrt
