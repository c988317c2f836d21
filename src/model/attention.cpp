#include "model/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernel_table.h"

namespace vrt {

KvCache::KvCache(int n_kv_heads, int head_dim, std::int64_t capacity)
    : row_(std::int64_t{n_kv_heads} * head_dim), capacity_(capacity) {}

void KvCache::reserve(std::int64_t pos) {
  const std::int64_t rows = static_cast<std::int64_t>(k_.size()) / row_;
  if (pos < rows || rows == capacity_) return;
  // Grow geometrically while positions are below the capacity; slots are positions then.
  const std::int64_t want = std::min(capacity_, std::max(pos + 1, 2 * rows));
  k_.resize(static_cast<std::size_t>(want * row_));
  v_.resize(static_cast<std::size_t>(want * row_));
}

void attend(const float* q, std::int64_t m, std::int64_t p0, const KvCache& cache, const AttentionShape& s,
            float* out, ThreadPool* pool) {
  const int hd = s.head_dim;
  const int group = s.n_heads / s.n_kv_heads;
  const std::int64_t q_row = std::int64_t{s.n_heads} * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const auto& attend_row = kernels::active_kernels().attend_row;
  auto work = [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> scores;
    for (std::int64_t task = begin; task < end; ++task) {
      const std::int64_t i = task / s.n_heads;
      const int h = static_cast<int>(task % s.n_heads);
      const std::int64_t p = p0 + i;
      const std::int64_t lo = std::max<std::int64_t>(0, p - s.window + 1);
      const std::int64_t kv_off = std::int64_t{h / group} * hd;
      kernels::AttendRowArgs a;
      a.q = q + i * q_row + std::int64_t{h} * hd;
      a.k = cache.k(0) + kv_off;
      a.v = cache.v(0) + kv_off;
      a.head_dim = hd;
      a.stride = cache.row_floats();
      a.capacity = cache.capacity();
      a.first = lo;
      a.n = p - lo + 1;
      a.scale = scale;
      a.out = out + i * q_row + std::int64_t{h} * hd;
      scores.resize(static_cast<std::size_t>(a.n));
      a.scores = scores.data();
      attend_row(a);
    }
  };
  const std::int64_t tasks = m * s.n_heads;
  if (pool != nullptr) {
    pool->parallel_for(tasks, work);
  } else {
    work(0, tasks);
  }
}

}  // namespace vrt
