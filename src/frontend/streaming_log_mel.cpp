// Incremental log-mel on the offline grid (spec §9.2, §9.4): frame m covers samples
// [hop m - half, hop m - half + n_fft), half = n_fft / 2, with numpy-reflect indices at both
// ends of the signal.
//
// While the length L of the whole input is unknown, frame m is final once
//   received >= hop m - half + n_fft   (its window is inside the known samples),
//   received >= hop (m + 1)             (it is not the dropped last STFT frame: m < floor(L/hop)),
//   received >= half + 1                (the left reflection x[-i] = x[i], i <= half, is known
//                                        and no second reflection can happen since L >= received).
// Under these conditions the frame reads exactly the samples the offline transform reads, so
// LogMel::Plan::frame gives the same bits. finish() computes the rest with L = received.
// Memory: the buffer keeps samples from the next frame's window start (or 0 while the left
// edge is still needed): at most about n_fft + kFeedPiece + kTrimMin floats.
#include <algorithm>
#include <string>

#include "frontend/mel_plan.h"
#include "voxtral_rt/error.h"

namespace vrt {
namespace {

constexpr std::size_t kFeedPiece = std::size_t{1} << 15;  // samples appended per emit round
constexpr std::size_t kTrimMin = 4096;                    // dead samples worth a memmove

}  // namespace

StreamingLogMel::StreamingLogMel(const LogMel& mel)
    : mel_(mel), scratch_(mel.plan_->scratch_size()) {}

StreamingLogMel::StreamingLogMel(const MelConfig& config) : StreamingLogMel(LogMel(config)) {}

std::int64_t StreamingLogMel::ready_end(std::int64_t received) const {
  const MelConfig& c = mel_.config();
  const std::int64_t half = c.n_fft / 2;
  const std::int64_t right = c.n_fft - half;  // window extent right of the centre
  if (received < half + 1 || received < right) return 0;
  return std::min((received - right) / c.hop_length + 1, received / c.hop_length);
}

std::int64_t StreamingLogMel::emit(std::vector<float>& out, std::int64_t total, std::int64_t end) {
  if (end <= frames_emitted_) return 0;
  const auto n_mels = static_cast<std::size_t>(mel_.n_mels());
  const std::int64_t count = end - frames_emitted_;
  const std::size_t old = out.size();
  out.resize(old + static_cast<std::size_t>(count) * n_mels);
  const SampleView view{buf_.data(), buf_start_, received_};
  try {
    for (std::int64_t i = 0; i < count; ++i) {
      mel_.plan_->frame(view, total, frames_emitted_ + i,
                        out.data() + old + static_cast<std::size_t>(i) * n_mels, scratch_.data());
    }
  } catch (...) {
    out.resize(old);
    throw;
  }
  frames_emitted_ = end;
  return count;
}

void StreamingLogMel::trim() {
  const MelConfig& c = mel_.config();
  const std::int64_t keep =
      std::clamp(frames_emitted_ * c.hop_length - c.n_fft / 2, std::int64_t{0}, received_);
  const auto dead = static_cast<std::size_t>(std::max<std::int64_t>(0, keep - buf_start_));
  if (dead == 0 || (dead < kTrimMin && 2 * dead < buf_.size())) return;
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(dead));
  buf_start_ += static_cast<std::int64_t>(dead);
}

std::int64_t StreamingLogMel::feed(std::span<const float> samples, std::vector<float>& out) {
  if (finished_) {
    throw Error(Status::bad_state, "StreamingLogMel::feed after finish(); call reset() first");
  }
  std::int64_t appended = 0;
  for (std::size_t pos = 0; pos < samples.size();) {
    const std::size_t piece = std::min(kFeedPiece, samples.size() - pos);
    buf_.insert(buf_.end(), samples.begin() + static_cast<std::ptrdiff_t>(pos),
                samples.begin() + static_cast<std::ptrdiff_t>(pos + piece));
    pos += piece;
    received_ += static_cast<std::int64_t>(piece);
    appended += emit(out, received_, ready_end(received_));
    trim();
  }
  return appended;
}

std::int64_t StreamingLogMel::finish(std::vector<float>& out) {
  if (finished_) return 0;
  const std::int64_t n = emit(out, received_, received_ / mel_.config().hop_length);
  finished_ = true;
  buf_.clear();
  buf_start_ = received_;
  return n;
}

void StreamingLogMel::reset() {
  buf_.clear();
  buf_start_ = 0;
  received_ = 0;
  frames_emitted_ = 0;
  finished_ = false;
}

}  // namespace vrt
