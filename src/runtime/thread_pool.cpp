#include "runtime/thread_pool.h"

namespace msprune::rt {
namespace {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
constexpr int kSpin = 4000;  // polls before sleeping (a few microseconds)
}  // namespace

bool ThreadPool::start(int workers) {
  if (workers < 0 || workers > kMaxWorkers) return false;
  for (int i = 0; i < workers; ++i) {
    slots_[i] = Slot{this, i + 1};
    if (pthread_create(&threads_[i], nullptr, worker_main, &slots_[i]) != 0) {
      stop();
      return false;
    }
    workers_ = i + 1;
  }
  return true;
}

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::stop() {
  pthread_mutex_lock(&mu_);
  stop_.store(true);
  gen_.fetch_add(1);
  pthread_cond_broadcast(&cv_);
  pthread_mutex_unlock(&mu_);
  for (int i = 0; i < workers_; ++i) pthread_join(threads_[i], nullptr);
  workers_ = 0;
}

void* ThreadPool::worker_main(void* arg) {
  Slot* slot = static_cast<Slot*>(arg);
  ThreadPool* pool = slot->pool;
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = pool->gen_.load(std::memory_order_acquire);
    for (int i = 0; g == seen && i < kSpin; ++i) {
      cpu_relax();
      g = pool->gen_.load(std::memory_order_acquire);
    }
    if (g == seen) {
      pthread_mutex_lock(&pool->mu_);
      while ((g = pool->gen_.load(std::memory_order_acquire)) == seen)
        pthread_cond_wait(&pool->cv_, &pool->mu_);
      pthread_mutex_unlock(&pool->mu_);
    }
    seen = g;
    if (pool->stop_.load()) return nullptr;
    pool->fn_(pool->ctx_, slot->id, pool->parts_);
    if (pool->pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&pool->mu_);  // the caller may be asleep on done_
      pthread_cond_broadcast(&pool->done_);
      pthread_mutex_unlock(&pool->mu_);
    }
  }
}

void ThreadPool::run(Fn fn, void* ctx) {
  const int parts = workers_ + 1;
  if (parts == 1) {
    fn(ctx, 0, 1);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  parts_ = parts;
  pending_.store(parts - 1, std::memory_order_relaxed);
  pthread_mutex_lock(&mu_);
  gen_.fetch_add(1, std::memory_order_release);
  pthread_cond_broadcast(&cv_);
  pthread_mutex_unlock(&mu_);
  fn(ctx, 0, parts);
  // Spin briefly (the shares are balanced), then sleep: on a busy machine a
  // descheduled worker must not cost a whole time slice of spinning.
  for (int i = 0; i < kSpin && pending_.load(std::memory_order_acquire) != 0; ++i) cpu_relax();
  if (pending_.load(std::memory_order_acquire) != 0) {
    pthread_mutex_lock(&mu_);
    while (pending_.load(std::memory_order_acquire) != 0) pthread_cond_wait(&done_, &mu_);
    pthread_mutex_unlock(&mu_);
  }
}

}  // namespace msprune::rt
