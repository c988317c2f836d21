// ThreadPool: n-1 persistent workers plus the caller, one job at a time (see thread_pool.h).
//
// A job is [0, n) cut into `chunks` equal contiguous pieces of >= grain indices; every thread
// (caller included) claims pieces from an atomic counter until none are left. Workers wait on
// `wake_` for a new generation, run the job, and the last one out signals `done_`. The job
// lives on the caller's stack; the caller does not return before busy_ drops to zero, so no
// worker can touch it afterwards.
#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>

namespace vrt {

namespace {
thread_local bool t_inside_job = false;  // set while this thread runs chunks of some job
}

struct ThreadPool::Job {
  const std::function<void(std::int64_t, std::int64_t)>* fn = nullptr;
  std::int64_t n = 0;
  std::int64_t chunk = 1;   // indices per chunk (the last may be shorter)
  std::int64_t chunks = 0;  // number of chunks
  std::atomic<std::int64_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
};

ThreadPool::ThreadPool(int n_threads) : size_(std::max(1, n_threads)) {
  workers_.reserve(static_cast<std::size_t>(size_ - 1));
  for (int i = 1; i < size_; ++i) workers_.emplace_back([this] { worker_main(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks(Job& job) {
  const bool was_inside = t_inside_job;
  t_inside_job = true;
  for (;;) {
    const std::int64_t c = job.next.fetch_add(1, std::memory_order_relaxed);
    if (c >= job.chunks) break;
    const std::int64_t begin = c * job.chunk;
    const std::int64_t end = std::min(job.n, begin + job.chunk);
    try {
      (*job.fn)(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.error_mutex);
      if (!job.error) job.error = std::current_exception();
      job.next.store(job.chunks, std::memory_order_relaxed);  // stop handing out chunks
    }
  }
  t_inside_job = was_inside;
}

void ThreadPool::worker_main() {
  std::uint64_t seen = 0;
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
    }
    run_chunks(*job);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(std::int64_t n,
                              const std::function<void(std::int64_t, std::int64_t)>& fn,
                              std::int64_t grain) {
  if (n <= 0) return;
  grain = std::max<std::int64_t>(1, grain);
  // Nested call, single thread, or too little work for two chunks: run here, in one piece.
  if (t_inside_job || size_ == 1 || n <= grain) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> call_lock(call_mutex_);
  Job job;
  job.fn = &fn;
  job.n = n;
  const std::int64_t target = static_cast<std::int64_t>(size_) * kChunksPerThread;
  job.chunk = std::max(grain, (n + target - 1) / target);
  job.chunks = (n + job.chunk - 1) / job.chunk;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &job;
    busy_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  run_chunks(job);
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_ == 0; });
    job_ = nullptr;
  }
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace vrt
