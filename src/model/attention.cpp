#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/half.h"
#include "kernels/kernel_table.h"

namespace vrt {

KvCache::KvCache(int n_kv_heads, int head_dim, std::int64_t capacity, KvCacheType type)
    : n_heads_(n_kv_heads),
      head_dim_(head_dim),
      capacity_((capacity + kernels::kKeyBlock - 1) / kernels::kKeyBlock * kernels::kKeyBlock),
      type_(type),
      k_(static_cast<std::size_t>(n_heads_ * capacity_ * head_dim_) * value_bytes()),
      v_(k_.size()) {}

KvCache::KvCache(const KvCache& o)
    : n_heads_(o.n_heads_),
      head_dim_(o.head_dim_),
      capacity_(o.capacity_),
      slots_(o.slots_),
      type_(o.type_),
      k_(o.k_.size()),
      v_(o.v_.size()) {
  // Each head's slots in use: one run of whole key blocks (keys) / slot rows (values).
  const std::size_t head_bytes = static_cast<std::size_t>(head_stride()) * value_bytes();
  const std::size_t used_bytes = static_cast<std::size_t>(slots_ * head_dim_) * value_bytes();
  for (std::int64_t h = 0; h < n_heads_ && used_bytes > 0; ++h) {
    const std::size_t off = static_cast<std::size_t>(h) * head_bytes;
    std::memcpy(static_cast<char*>(k_.data()) + off, static_cast<const char*>(o.k_.data()) + off, used_bytes);
    std::memcpy(static_cast<char*>(v_.data()) + off, static_cast<const char*>(o.v_.data()) + off, used_bytes);
  }
}

KvCache& KvCache::operator=(const KvCache& o) {
  if (this != &o) *this = KvCache(o);
  return *this;
}

void KvCache::reserve(std::int64_t pos) {
  if (pos < slots_ || slots_ == capacity_) return;
  // Positions below the capacity are their own slots; whole key blocks.
  constexpr std::int64_t kb = kernels::kKeyBlock;
  slots_ = std::min(capacity_, (pos + 1 + kb - 1) / kb * kb);
}

namespace {
std::uint16_t to_kv_f16(float x) {
  constexpr float kMax = 65504.0f;
  return f32_to_f16(x > kMax ? kMax : (x < -kMax ? -kMax : x));  // NaN stays NaN
}
}  // namespace

template <typename T>
void KvCache::store_as(std::int64_t pos, const float* k, const float* v) {
  constexpr std::int64_t kb = kernels::kKeyBlock;
  const std::int64_t s = slot(pos);
  T* kd = static_cast<T*>(k_.data());
  T* vd = static_cast<T*>(v_.data());
  for (std::int64_t h = 0; h < n_heads_; ++h) {
    T* vdst = vd + h * head_stride() + s * head_dim_;
    // Key element i at block (s / kb), row i, lane s % kb (kernels::key_index).
    T* kdst = kd + h * head_stride() + (s / kb) * head_dim_ * kb + s % kb;
    const float* ks = k + h * head_dim_;
    const float* vs = v + h * head_dim_;
    if constexpr (sizeof(T) == 2) {
      for (std::int64_t i = 0; i < head_dim_; ++i) {
        kdst[i * kb] = to_kv_f16(ks[i]);
        vdst[i] = to_kv_f16(vs[i]);
      }
    } else {
      for (std::int64_t i = 0; i < head_dim_; ++i) kdst[i * kb] = ks[i];
      std::memcpy(vdst, vs, static_cast<std::size_t>(head_dim_) * sizeof(float));
    }
  }
}

void KvCache::store(std::int64_t pos, const float* k, const float* v) {
  if (type_ == KvCacheType::f16) {
    store_as<std::uint16_t>(pos, k, v);
  } else {
    store_as<float>(pos, k, v);
  }
}

const void* KvCache::k_base() const { return k_.data(); }
const void* KvCache::v_base() const { return v_.data(); }

// A task is up to kernels::kMaxAttendRows query rows that read the same keys: the query heads
// of one KV head (GQA) at one or more consecutive positions, or one head at consecutive
// positions (their windows overlap but for the first and last keys). The kernel reads each key
// once per task. Tasks run head by head, so a head's keys are read from memory about once per
// call.
void attend(const float* q, std::int64_t m, std::int64_t p0, const KvCache& cache, const AttentionShape& s,
            float* out, ThreadPool* pool) {
  const int hd = s.head_dim;
  const int group = s.n_heads / s.n_kv_heads;
  const std::int64_t q_row = std::int64_t{s.n_heads} * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const auto& attend_rows = kernels::active_kernels().attend_rows;
  constexpr int kRows = kernels::kMaxAttendRows;
  // Rows of a task: heads_per_task heads of one KV head (a run of its group) x pos_per_task
  // positions.
  const int heads_per_task = std::min(group, kRows);
  const std::int64_t runs_per_kv = (group + heads_per_task - 1) / heads_per_task;
  const std::int64_t pos_per_task = runs_per_kv == 1 ? kRows / heads_per_task : 1;
  const std::int64_t head_runs = s.n_kv_heads * runs_per_kv;
  const std::int64_t pos_runs = (m + pos_per_task - 1) / pos_per_task;
  const bool kv_f16 = cache.type() == KvCacheType::f16;
  const auto* k_base = static_cast<const char*>(cache.k_base());
  const auto* v_base = static_cast<const char*>(cache.v_base());
  const std::int64_t value_bytes = kv_f16 ? 2 : 4;
  auto work = [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> scores;
    kernels::AttendRowArgs rows[kRows];
    for (std::int64_t task = begin; task < end; ++task) {
      // Head-major: a thread's consecutive tasks read the same head's keys and values (a 750-key
      // encoder window is 2 x 192 KB), from L2 after the first position group, not from memory.
      const std::int64_t hr = task / pos_runs, pr = task % pos_runs;
      const std::int64_t kv = hr / runs_per_kv;
      const std::int64_t h0 = kv * group + (hr % runs_per_kv) * heads_per_task;
      const std::int64_t heads = std::min<std::int64_t>(heads_per_task, (kv + 1) * group - h0);
      const std::int64_t i0 = pr * pos_per_task, positions = std::min(pos_per_task, m - i0);
      const std::int64_t kv_off = kv * cache.head_stride();
      int count = 0;
      std::int64_t total = 0;
      for (std::int64_t i = i0; i < i0 + positions; ++i) {
        for (std::int64_t h = h0; h < h0 + heads; ++h) {
          const std::int64_t p = p0 + i;
          const std::int64_t lo = std::max<std::int64_t>(0, p - s.window + 1);
          kernels::AttendRowArgs& a = rows[count++];
          a.q = q + i * q_row + h * hd;
          a.kv_f16 = kv_f16;
          a.k = k_base + kv_off * value_bytes;
          a.v = v_base + kv_off * value_bytes;
          a.head_dim = hd;
          a.stride = cache.slot_stride();
          a.capacity = cache.capacity();
          a.first = lo;
          a.n = p - lo + 1;
          a.scale = scale;
          a.out = out + i * q_row + h * hd;
          total += a.n;
        }
      }
      scores.resize(static_cast<std::size_t>(total));
      std::int64_t at = 0;
      for (int r = 0; r < count; ++r) {
        rows[r].scores = scores.data() + at;
        at += rows[r].n;
      }
      attend_rows(rows, count);
    }
  };
  const std::int64_t tasks = pos_runs * head_runs;
  if (pool != nullptr) {
    pool->parallel_for(tasks, work);
  } else {
    work(0, tasks);
  }
}

}  // namespace vrt
