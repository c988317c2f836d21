// Persistent thread pool for data-parallel loops (matmul rows, attention heads, mel frames).
//
// parallel_for(n, fn, grain) splits [0, n) into contiguous chunks of at least `grain` indices
// (about kChunksPerThread chunks per thread, so a thread slowed by a neighbour's build or an
// interrupt does not hold everyone back) and hands them out from one atomic counter; the
// caller thread works too, and the call returns when every chunk is done. Workers are created
// once (n_threads - 1 of them); between calls they spin briefly (kSpinIterations pause
// instructions, tens of microseconds: back-to-back calls of a decoder step then start without
// a futex wake-up) and then sleep on a condition variable. No thread is created per call.
//
// The first exception thrown by fn stops the hand-out of further chunks and is rethrown in the
// caller. Not reentrant: a parallel_for issued from inside fn runs serially on the calling
// thread (no deadlock, no extra parallelism). Calls from different outside threads are
// serialized.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vrt {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads >= 1 (clamped); n_threads - 1 workers
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }

  void parallel_for(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn,
                    std::int64_t grain = 1);

  // Chunks handed out per thread when the grain allows (load balance vs. per-chunk overhead).
  static constexpr std::int64_t kChunksPerThread = 4;
  // Polls of a new job / of completion before blocking (each poll is one pause instruction).
  static constexpr int kSpinIterations = 4000;

 private:
  struct Job;
  void worker_main();
  static void run_chunks(Job& job);

  int size_;
  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time
  std::mutex mutex_;       // for the condition variables (sleeping side)
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<Job*> job_{nullptr};
  std::atomic<std::uint64_t> generation_{0};  // bumped per job; workers run each one once
  std::atomic<int> busy_{0};                  // workers still inside the current job
  std::atomic<bool> stop_{false};
};

}  // namespace vrt
