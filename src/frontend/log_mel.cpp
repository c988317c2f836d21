// Offline log-mel: MelConfig checks, the per-frame plan, and LogMel::compute.
//
// compute(audio[L]) -> channel-major [n_mels, T], T = floor(L / hop), frame m centred on
// sample hop m (math in voxtral_rt/mel.h and frontend/mel_plan.h). Frames are independent, so
// threads take contiguous ranges of frames. Each thread computes kBlock frames frame-major into
// a small buffer and then writes them out per mel row: kBlock consecutive floats per row keep
// the stores to the [n_mels, T] output on whole cache lines even when T is in the millions.
#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <string>
#include <system_error>
#include <thread>

#include "common/checked.h"
#include "frontend/mel_plan.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

constexpr std::int64_t kBlock = 16;  // frames per transposed store (16 floats = 64 bytes)

[[noreturn]] void invalid(const std::string& msg) { throw Error(Status::invalid_argument, msg); }

}  // namespace

MelConfig MelConfig::from_model(const ModelConfig& model) {
  const auto& a = model.encoder.audio;
  MelConfig c;
  c.sample_rate = a.sampling_rate;
  c.n_fft = a.window_size;
  c.hop_length = a.hop_length;
  c.n_mels = a.num_mel_bins;
  c.log_mel_max = a.global_log_mel_max;
  c.validate();
  return c;
}

void MelConfig::validate() const {
  const std::string where = "MelConfig: ";
  if (sample_rate <= 0) invalid(where + "sample_rate " + std::to_string(sample_rate) + " must be > 0");
  if (n_fft < 1 || n_fft > kMaxFft) {
    invalid(where + "n_fft " + std::to_string(n_fft) + " outside [1, " + std::to_string(kMaxFft) + "]");
  }
  if (hop_length < 1 || hop_length > n_fft) {
    invalid(where + "hop_length " + std::to_string(hop_length) + " outside [1, n_fft = " +
            std::to_string(n_fft) + "]");
  }
  if (n_mels < 1 || n_mels > n_fft / 2 + 1) {
    invalid(where + "n_mels " + std::to_string(n_mels) + " outside [1, n_fft/2 + 1 = " +
            std::to_string(n_fft / 2 + 1) + "]");
  }
  if (!std::isfinite(log_mel_max)) invalid(where + "log_mel_max must be finite");
}

LogMel::Plan::Plan(const MelConfig& c) : config(c), half(c.n_fft / 2), fft(c.n_fft) {
  const int n = c.n_fft;
  window.resize(static_cast<std::size_t>(n));
  for (int j = 0; j < n; ++j) {
    // torch.hann_window(n, periodic=True)
    window[static_cast<std::size_t>(j)] =
        0.5 - 0.5 * std::cos(6.283185307179586476925286766559 * j / n);
  }
  const int bins = fft.n_bins();
  const auto dense = slaney_mel_filter_bank(bins, c.n_mels, 0.0,
                                            static_cast<double>(c.sample_rate / 2), c.sample_rate);
  for (int b = 0; b < c.n_mels; ++b) {
    const double* row = dense.data() + static_cast<std::size_t>(b) * static_cast<std::size_t>(bins);
    int lo = 0;
    while (lo < bins && row[lo] == 0.0) ++lo;
    int hi = bins;
    while (hi > lo && row[hi - 1] == 0.0) --hi;
    first_bin.push_back(lo);
    bin_count.push_back(hi - lo);
    weight_offset.push_back(weights.size());
    weights.insert(weights.end(), row + lo, row + hi);
  }
  log_floor = c.log_mel_max - 8.0;
  silence = static_cast<float>((std::max(std::log10(1e-10), log_floor) + 4.0) / 4.0);
}

std::size_t LogMel::Plan::scratch_size() const {
  const auto n = static_cast<std::size_t>(config.n_fft);
  return n + static_cast<std::size_t>(fft.n_bins()) + fft.work_size();
}

void LogMel::Plan::frame(const SampleView& v, std::int64_t total, std::int64_t m, float* out,
                         double* scratch) const {
  const int n = config.n_fft;
  double* seg = scratch;
  double* power = scratch + n;
  double* work = power + fft.n_bins();
  const std::int64_t start = m * config.hop_length - half;
  // int, not bool with ||: keeps the interior loop branch-free so that it vectorises.
  int nonzero = 0;
  if (start >= v.begin && start + n <= v.end && start + n <= total) {
    const float* x = v.data + (start - v.begin);
    const double* w = window.data();
    for (int j = 0; j < n; ++j) {
      nonzero |= static_cast<int>(x[j] != 0.0f);
      seg[j] = w[j] * static_cast<double>(x[j]);
    }
  } else {
    for (int j = 0; j < n; ++j) {
      const std::int64_t i = reflect(start + j, total);
      if (i < v.begin || i >= v.end) {
        throw Error(Status::internal, "log-mel frame " + std::to_string(m) + " needs sample " +
                                          std::to_string(i) + " outside the kept range [" +
                                          std::to_string(v.begin) + ", " + std::to_string(v.end) + ")");
      }
      const float x = v.data[i - v.begin];
      nonzero |= static_cast<int>(x != 0.0f);
      seg[j] = window[static_cast<std::size_t>(j)] * static_cast<double>(x);
    }
  }
  // An all-zero window gives exactly zero power, hence this value; skipping the FFT only
  // saves time on the long silent padding.
  if (nonzero == 0) {
    std::fill(out, out + config.n_mels, silence);
    return;
  }
  fft.power_spectrum(seg, power, work);
  for (int b = 0; b < config.n_mels; ++b) {
    const double* w = weights.data() + weight_offset[static_cast<std::size_t>(b)];
    const double* p = power + first_bin[static_cast<std::size_t>(b)];
    const int count = bin_count[static_cast<std::size_t>(b)];
    double acc = 0.0;
    for (int k = 0; k < count; ++k) acc += w[k] * p[k];
    const double l = std::max(std::log10(std::max(acc, 1e-10)), log_floor);
    out[b] = static_cast<float>((l + 4.0) / 4.0);
  }
}

LogMel::LogMel(const MelConfig& config) : config_(config) {
  config_.validate();
  plan_ = std::make_shared<const Plan>(config_);
}

int LogMel::n_frames(std::size_t n_samples) const {
  const std::size_t t = n_samples / static_cast<std::size_t>(config_.hop_length);
  if (t > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    invalid("LogMel: " + std::to_string(n_samples) + " samples give more than 2^31 - 1 frames");
  }
  return static_cast<int>(t);
}

std::vector<float> LogMel::compute(std::span<const float> audio, int num_threads) const {
  if (num_threads < 1) invalid("LogMel::compute: num_threads must be >= 1");
  const std::int64_t t_frames = n_frames(audio.size());
  const auto n_mels = static_cast<std::size_t>(config_.n_mels);
  const auto total_values = checked_mul(n_mels, static_cast<std::uint64_t>(t_frames),
                                        "log-mel output", Status::invalid_argument);
  std::vector<float> out(static_cast<std::size_t>(total_values));
  if (t_frames == 0) return out;

  const Plan& plan = *plan_;
  const SampleView view{audio.data(), 0, static_cast<std::int64_t>(audio.size())};
  const auto total = static_cast<std::int64_t>(audio.size());
  const auto rows = static_cast<std::size_t>(t_frames);

  auto worker = [&](std::int64_t f0, std::int64_t f1) {
    std::vector<double> scratch(plan.scratch_size());
    std::vector<float> block(static_cast<std::size_t>(kBlock) * n_mels);
    for (std::int64_t b0 = f0; b0 < f1; b0 += kBlock) {
      const std::int64_t nb = std::min(kBlock, f1 - b0);
      for (std::int64_t i = 0; i < nb; ++i) {
        plan.frame(view, total, b0 + i, block.data() + static_cast<std::size_t>(i) * n_mels,
                   scratch.data());
      }
      for (std::size_t b = 0; b < n_mels; ++b) {
        float* dst = out.data() + b * rows + static_cast<std::size_t>(b0);
        for (std::int64_t i = 0; i < nb; ++i) dst[i] = block[static_cast<std::size_t>(i) * n_mels + b];
      }
    }
  };

  const std::int64_t n_blocks = (t_frames + kBlock - 1) / kBlock;
  const std::int64_t n_threads = std::min<std::int64_t>(num_threads, n_blocks);
  if (n_threads <= 1) {
    worker(0, t_frames);
    return out;
  }
  // Contiguous ranges of whole blocks, so no two threads write the same cache line of a row.
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n_threads));
  std::vector<std::thread> threads;
  auto run = [&](std::int64_t t) {
    const std::int64_t f0 = std::min(t_frames, n_blocks * t / n_threads * kBlock);
    const std::int64_t f1 = std::min(t_frames, n_blocks * (t + 1) / n_threads * kBlock);
    try {
      worker(f0, f1);
    } catch (...) {
      errors[static_cast<std::size_t>(t)] = std::current_exception();
    }
  };
  threads.reserve(static_cast<std::size_t>(n_threads - 1));
  std::int64_t started = 1;
  try {
    for (; started < n_threads; ++started) threads.emplace_back(run, started);
  } catch (const std::system_error&) {
    // No more threads available: this thread does the ranges that did not start.
  }
  for (std::int64_t t = started; t < n_threads; ++t) run(t);
  run(0);
  for (auto& th : threads) th.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return out;
}

std::vector<float> transpose(std::span<const float> data, std::size_t rows, std::size_t cols) {
  if (checked_mul(rows, cols, "transpose", Status::invalid_argument) != data.size()) {
    invalid("transpose: " + std::to_string(data.size()) + " values are not " +
            std::to_string(rows) + " x " + std::to_string(cols));
  }
  std::vector<float> out(data.size());
  constexpr std::size_t kTile = 32;
  for (std::size_t r0 = 0; r0 < rows; r0 += kTile) {
    for (std::size_t c0 = 0; c0 < cols; c0 += kTile) {
      const std::size_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
      for (std::size_t r = r0; r < r1; ++r) {
        for (std::size_t c = c0; c < c1; ++c) out[c * rows + r] = data[r * cols + c];
      }
    }
  }
  return out;
}

}  // namespace vrt
