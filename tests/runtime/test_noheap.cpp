// No heap allocation after initialisation: global operator new and malloc are
// replaced by counting versions; invoke() must allocate nothing, with one
// thread and with a worker pool. (Skipped under sanitizers, which own malloc;
// the guard test also checks the library references no allocator at all.)
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "rt_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define MSPRUNE_NO_MALLOC_HOOK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MSPRUNE_NO_MALLOC_HOOK 1
#endif
#endif

namespace {
std::atomic<long> g_allocs{0};
}

#ifndef MSPRUNE_NO_MALLOC_HOOK
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* malloc(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t al, size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(al, n);
}
}

void* operator new(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif

namespace {

using namespace rt_test;

TEST(RuntimeNoHeap, InvokeAllocatesNothing) {
#ifdef MSPRUNE_NO_MALLOC_HOOK
  GTEST_SKIP() << "sanitizers own malloc/new; the plain build runs this test";
#endif
  Twin t(3, 32, 32, 21);
  msm::Tensor out = build_densenet(t);
  const std::vector<uint8_t> file = t.b.finish(out);
  const auto input = t.uniform(3 * 32 * 32, -1, 1);
  std::vector<uint8_t> img(3 * 32 * 32, 100);
  for (int threads : {1, 2}) {
    Loaded l;
    rt::InterpreterOptions io;
    io.threads = threads;
    ASSERT_EQ(l.load(file, {}, io), rt::Status::kOk) << l.err.message;
    float logits[10];
    ASSERT_EQ(l.interp.invoke(input.data(), logits), rt::Status::kOk);  // warm
    const long before = g_allocs.load();
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(l.interp.invoke(input.data(), logits), rt::Status::kOk);
      ASSERT_EQ(l.interp.invoke_u8(img.data(), logits), rt::Status::kOk);
    }
    EXPECT_EQ(g_allocs.load() - before, 0) << threads << " thread(s)";
  }
  // The counter does count (the hooks are live).
  const long before = g_allocs.load();
  std::vector<int>* v = new std::vector<int>(3);
  delete v;
  void* p = std::malloc(7);
  std::free(p);
  EXPECT_GE(g_allocs.load() - before, 3);
}

}  // namespace
