#pragma once
// A fixed pool of worker threads for the interpreter (threads > 1). Started
// at init (pthread_create reports failure instead of throwing); no heap after.
// run() hands share p of n = workers + 1 to worker p and runs share 0 itself;
// every worker takes part in every run, so no generation is ever skipped.
#include <pthread.h>

#include <atomic>

namespace msprune::rt {

class ThreadPool {
 public:
  using Fn = void (*)(void* ctx, int part, int parts);
  static constexpr int kMaxWorkers = 63;

  ThreadPool() = default;
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  bool start(int workers);
  void run(Fn fn, void* ctx);

 private:
  struct Slot {
    ThreadPool* pool;
    int id;
  };
  static void* worker_main(void* arg);
  void stop();

  pthread_t threads_[kMaxWorkers];
  Slot slots_[kMaxWorkers];
  int workers_ = 0;
  pthread_mutex_t mu_ = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cv_ = PTHREAD_COND_INITIALIZER;    // a new generation was posted
  pthread_cond_t done_ = PTHREAD_COND_INITIALIZER;  // the last worker finished
  std::atomic<uint64_t> gen_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  Fn fn_ = nullptr;
  void* ctx_ = nullptr;
  int parts_ = 0;
};

}  // namespace msprune::rt
