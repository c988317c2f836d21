// ThreadPool: every index covered exactly once (n = 0, 1, fewer than threads, large; several
// grains), exceptions reach the caller and leave the pool usable, thousands of calls reuse the
// same threads, nested calls run inline, and pools are destroyed cleanly while idle.
#include "common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace vrt {
namespace {

void expect_each_index_once(ThreadPool& pool, std::int64_t n, std::int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  std::atomic<bool> bad_range{false};
  pool.parallel_for(
      n,
      [&](std::int64_t b, std::int64_t e) {
        if (b < 0 || e > n || b >= e) bad_range = true;
        for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1);
      },
      grain);
  EXPECT_FALSE(bad_range) << "n=" << n << " grain=" << grain;
  for (std::int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1)
        << "index " << i << " n=" << n << " grain=" << grain << " threads=" << pool.size();
  }
}

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 7}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (std::int64_t n : {0, 1, 2, 3, 6, 7, 8, 100, 1000, 100003}) {
      for (std::int64_t grain : {1, 3, 64, 100000}) expect_each_index_once(pool, n, grain);
    }
  }
}

TEST(ThreadPool, SizeClampedToOne) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), 1);
  expect_each_index_once(pool, 10, 1);
}

TEST(ThreadPool, ChunksRespectGrain) {
  ThreadPool pool(3);
  std::mutex mu;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  pool.parallel_for(
      1000,
      [&](std::int64_t b, std::int64_t e) {
        std::lock_guard<std::mutex> lock(mu);
        ranges.emplace_back(b, e);
      },
      100);
  for (const auto& [b, e] : ranges) {
    if (e != 1000) EXPECT_GE(e - b, 100);
  }
}

TEST(ThreadPool, ExceptionPropagatesAndPoolStaysUsable) {
  for (int threads : {1, 2, 3, 7}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 20; ++round) {
      EXPECT_THROW(pool.parallel_for(1000,
                                     [](std::int64_t b, std::int64_t e) {
                                       if (b <= 500 && 500 < e) throw std::runtime_error("boom");
                                     }),
                   std::runtime_error);
      expect_each_index_once(pool, 257, 1);
    }
  }
}

TEST(ThreadPool, ReusesTheSameThreads) {
  ThreadPool pool(3);
  std::mutex mu;
  std::set<std::thread::id> ids;
  std::atomic<std::int64_t> total{0};
  for (int call = 0; call < 5000; ++call) {
    pool.parallel_for(64, [&](std::int64_t b, std::int64_t e) {
      total += e - b;
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    });
  }
  EXPECT_EQ(total.load(), 5000 * 64);
  EXPECT_LE(ids.size(), 3u);  // the caller plus the 2 persistent workers, never new threads
  EXPECT_TRUE(ids.count(std::this_thread::get_id()) == 1);
}

TEST(ThreadPool, NestedCallRunsInline) {
  ThreadPool pool(2);
  std::atomic<std::int64_t> sum{0};
  pool.parallel_for(8, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      pool.parallel_for(10, [&](std::int64_t b2, std::int64_t e2) { sum += (e2 - b2) * (i + 1); });
    }
  });
  EXPECT_EQ(sum.load(), 10 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8));
}

TEST(ThreadPool, CallsFromSeveralOutsideThreadsAreSerialized) {
  ThreadPool pool(2);
  std::atomic<std::int64_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&] {
      for (int k = 0; k < 200; ++k) {
        pool.parallel_for(100, [&](std::int64_t b, std::int64_t e) { total += e - b; });
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 3 * 200 * 100);
}

TEST(ThreadPool, DestroyWhileIdle) {
  for (int k = 0; k < 50; ++k) {
    auto pool = std::make_unique<ThreadPool>(1 + k % 7);
    if (k % 2 == 0) expect_each_index_once(*pool, 33, 1);
    pool.reset();  // idle workers must wake up and exit
  }
}

}  // namespace
}  // namespace vrt
