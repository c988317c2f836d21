// ThreadPool: n-1 persistent workers plus the caller, one job at a time (see thread_pool.h).
//
// A job is [0, n) cut into `chunks` equal contiguous pieces of >= grain indices; every thread
// (caller included) claims pieces from an atomic counter until none are left. The caller
// publishes the job pointer, then bumps `generation_` (under the mutex, so a worker about to
// sleep cannot miss it) and notifies; workers spin on generation_ for a while, then sleep on
// `wake_`. The last worker out drops busy_ to zero and signals `done_` (again under the
// mutex). The job lives on the caller's stack; the caller does not return before busy_ is zero,
// so no worker touches it afterwards, and no new generation starts before every worker has
// finished the previous one.
#include "common/thread_pool.h"

#include <algorithm>

// A spin-wait hint (no intrinsic header outside src/kernels' ISA files).
#if defined(__x86_64__) || defined(__i386__)
#define VRT_CPU_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define VRT_CPU_PAUSE() __asm__ __volatile__("yield")
#else
#define VRT_CPU_PAUSE() ((void)0)
#endif

namespace vrt {

namespace {
thread_local bool t_inside_job = false;  // set while this thread runs chunks of some job

// One poll's wait: a pause, and every 64th poll a yield, so that on an oversubscribed machine
// (more runnable threads than cores) a spinning thread lets the one it waits for run.
inline void relax(int i) {
  if ((i & 63) == 63) {
    std::this_thread::yield();
  } else {
    VRT_CPU_PAUSE();
  }
}
}  // namespace

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
    stop_.store(true);
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
    for (int i = 0; i < kSpinIterations; ++i) {
      if (generation_.load(std::memory_order_acquire) != seen || stop_.load()) break;
      relax(i);
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
    }
    if (stop_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    run_chunks(*job_.load(std::memory_order_acquire));
    if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
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
  job_.store(&job, std::memory_order_release);
  busy_.store(static_cast<int>(workers_.size()), std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  run_chunks(job);
  for (int i = 0; i < kSpinIterations && busy_.load(std::memory_order_acquire) != 0; ++i) {
    relax(i);
  }
  if (busy_.load(std::memory_order_acquire) != 0) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_.load(std::memory_order_acquire) == 0; });
  }
  job_.store(nullptr, std::memory_order_relaxed);
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace vrt
