// A live stream's latency and step statistics (Session::stream_stats): when each stretch of
// the stream arrived, and for each token, how long after its audio arrived it was decided and
// what it cost to compute. Percentiles over the last kKept tokens.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

#include "voxtral_rt/session.h"

namespace vrt {

class LatencyStats {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kKept = 10000;

  // The stream has `stream_end` samples since `t` (the call that delivered them started then).
  void arrived(std::int64_t stream_end, Clock::time_point t) { arrivals_.push_back({stream_end, t}); }
  // No token will consume the arrivals so far (generation stopped).
  void forget_arrivals() { arrivals_.clear(); }
  // A token decided now that needed the stream's first `needed` samples, computed in compute_ms.
  void decided(std::int64_t needed, double compute_ms);
  void clear();
  StreamStats stats(std::int64_t tokens) const;

 private:
  struct Arrival {
    std::int64_t stream_end;
    Clock::time_point time;
  };
  std::deque<Arrival> arrivals_;
  std::deque<double> latency_ms_, step_ms_;
};

}  // namespace vrt
