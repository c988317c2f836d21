#include "runtime/latency.h"

#include <algorithm>
#include <vector>

namespace vrt {
namespace {

void keep_last(std::deque<double>& d, double v) {
  d.push_back(v);
  if (d.size() > LatencyStats::kKept) d.pop_front();
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

void LatencyStats::decided(std::int64_t needed, double compute_ms) {
  const auto now = Clock::now();
  while (arrivals_.size() > 1 && arrivals_.front().stream_end < needed) arrivals_.pop_front();
  if (!arrivals_.empty())
    keep_last(latency_ms_, std::chrono::duration<double, std::milli>(now - arrivals_.front().time).count());
  keep_last(step_ms_, compute_ms);
}

void LatencyStats::clear() {
  arrivals_.clear();
  latency_ms_.clear();
  step_ms_.clear();
}

StreamStats LatencyStats::stats(std::int64_t tokens) const {
  StreamStats r;
  r.tokens = tokens;
  const std::vector<double> lat(latency_ms_.begin(), latency_ms_.end()), step(step_ms_.begin(), step_ms_.end());
  r.latency_p50_ms = percentile(lat, 0.5);
  r.latency_p95_ms = percentile(lat, 0.95);
  r.latency_max_ms = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
  r.step_p50_ms = percentile(step, 0.5);
  r.step_p95_ms = percentile(step, 0.95);
  return r;
}

}  // namespace vrt
