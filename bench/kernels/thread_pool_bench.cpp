// ThreadPool::parallel_for overhead: an empty job split over 1, 2 or 4 threads (wake the
// workers, hand out chunks, wait for all). A decoder step issues a few hundred of these.
#include <benchmark/benchmark.h>

#include <atomic>

#include "common/thread_pool.h"

namespace {

void BM_ParallelForEmpty(benchmark::State& state) {
  vrt::ThreadPool pool(static_cast<int>(state.range(0)));
  std::atomic<std::int64_t> sink{0};
  for (auto _ : state) {
    pool.parallel_for(64, [&](std::int64_t b, std::int64_t e) {
      sink.fetch_add(e - b, std::memory_order_relaxed);
    });
  }
  benchmark::DoNotOptimize(sink.load());
}
BENCHMARK(BM_ParallelForEmpty)->ArgNames({"threads"})->Arg(1)->Arg(2)->Arg(4)->UseRealTime();

}  // namespace
