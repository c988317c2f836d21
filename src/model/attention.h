// Causal sliding-window attention over a ring KV cache, for a block of m consecutive query
// positions p0..p0+m-1 (m = 1 when decoding, more for the encoder, prefill and verification).
//
// Query head h reads KV head h / (n_heads / n_kv_heads) (GQA); key j is visible from query p iff
// 0 <= p - j < window (spec §6.2, §7.2). Scores are q.k / sqrt(head_dim), softmax in fp32 with
// the maximum subtracted. Positions are absolute and unbounded: the cache is a ring indexed by
// position modulo its capacity, which must be at least window + m - 1 so that every key a block
// needs is present at once.
#pragma once

#include <cstdint>

#include "common/page_buffer.h"
#include "common/thread_pool.h"
#include "voxtral_rt/model.h"

namespace vrt {

// Key/value storage (LoadOptions::kv_cache): fp32, or f16 (half the memory and the attention's
// reads; rounded to nearest, saturated at +-65504 so a large activation cannot become inf).
// The capacity is rounded up to a multiple of kernels::kKeyBlock (the keys' block layout).
// The storage is laid out for the whole capacity from the start, in a PageBuffer: memory is
// committed as positions are written, and nothing is ever re-laid out or copied as it fills.
class KvCache {
 public:
  KvCache(int n_kv_heads, int head_dim, std::int64_t capacity, KvCacheType type = KvCacheType::f32);
  KvCache(const KvCache& o);  // copies the written slots only
  KvCache& operator=(const KvCache& o);
  KvCache(KvCache&&) noexcept = default;
  KvCache& operator=(KvCache&&) noexcept = default;
  ~KvCache() = default;
  // Declares `pos` written next (the slots in use grow with the positions seen, up to the
  // capacity; a copy copies those).
  void reserve(std::int64_t pos);
  // Writes position pos's keys and values ([n_kv_heads, head_dim] each); reserve(pos) first.
  void store(std::int64_t pos, const float* k, const float* v);
  KvCacheType type() const { return type_; }
  // Slot 0 of KV head 0's keys / values (float or std::uint16_t f16 bits by type()). Head-major:
  // one head's keys and values are contiguous runs that attention streams (a position-major
  // layout put a head's consecutive keys 8 KB apart: an L1 set and a page per key). Values
  // [kv_head][slot][head_dim]; keys [kv_head][slot / 16][head_dim][slot % 16]
  // (kernels::key_index: a vector load is one dimension of 16 consecutive keys).
  const void* k_base() const;
  const void* v_base() const;
  std::int64_t capacity() const { return capacity_; }
  std::int64_t head_stride() const { return capacity_ * head_dim_; }  // values from one KV head to the next
  std::int64_t slot_stride() const { return head_dim_; }           // values from one slot to the next (values)

 private:
  std::int64_t slot(std::int64_t pos) const { return pos % capacity_; }
  std::size_t value_bytes() const { return type_ == KvCacheType::f16 ? 2 : 4; }
  template <typename T>
  void store_as(std::int64_t pos, const float* k, const float* v);
  std::int64_t n_heads_, head_dim_;
  std::int64_t capacity_;
  std::int64_t slots_ = 0;  // slots per head in use (whole key blocks, up to the capacity)
  KvCacheType type_;
  PageBuffer k_, v_;  // float or f16 bits, [n_heads][capacity] slots each
};

struct AttentionShape {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  std::int64_t window = 0;
};

// out[i, h*hd ...] for queries q [m, n_heads*head_dim] at positions p0 + i; the cache must
// already hold keys/values for positions max(0, p0 + i - window + 1) .. p0 + i.
void attend(const float* q, std::int64_t m, std::int64_t p0, const KvCache& cache, const AttentionShape& shape,
            float* out, ThreadPool* pool);

}  // namespace vrt
