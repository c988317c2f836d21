#include "model/attention.h"

#include <algorithm>
#include <cmath>

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
  auto work = [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> scores;
    for (std::int64_t task = begin; task < end; ++task) {
      const std::int64_t i = task / s.n_heads;
      const int h = static_cast<int>(task % s.n_heads);
      const std::int64_t p = p0 + i;
      const std::int64_t lo = std::max<std::int64_t>(0, p - s.window + 1);
      const std::int64_t n = p - lo + 1;
      const float* qh = q + i * q_row + std::int64_t{h} * hd;
      const std::int64_t kv_off = std::int64_t{h / group} * hd;
      scores.resize(static_cast<std::size_t>(n));
      float mx = -INFINITY;
      for (std::int64_t j = 0; j < n; ++j) {
        const float* kj = cache.k(lo + j) + kv_off;
        float d = 0;
        for (int c = 0; c < hd; ++c) d += qh[c] * kj[c];
        d *= scale;
        scores[static_cast<std::size_t>(j)] = d;
        mx = std::max(mx, d);
      }
      float sum = 0;
      for (auto& x : scores) {
        x = std::exp(x - mx);
        sum += x;
      }
      const float inv = 1.0f / sum;
      float* oh = out + i * q_row + std::int64_t{h} * hd;
      std::fill(oh, oh + hd, 0.0f);
      for (std::int64_t j = 0; j < n; ++j) {
        const float w = scores[static_cast<std::size_t>(j)] * inv;
        const float* vj = cache.v(lo + j) + kv_off;
        for (int c = 0; c < hd; ++c) oh[c] += w * vj[c];
      }
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
