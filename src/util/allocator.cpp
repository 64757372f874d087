#include "util/allocator.h"

#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace msprune {

namespace {

constexpr int kMmapThreshold = 32 << 20;  // glibc refuses more (HEAP_MAX_SIZE / 2 on 64-bit)
constexpr int kTrimThreshold = 512 << 20;
constexpr int kTopPad = 64 << 20;

AllocatorSetting apply() {
  AllocatorSetting s;
#if defined(__GLIBC__)
  if (const char* m = std::getenv("MSPRUNE_MALLOC"); m && std::strcmp(m, "default") == 0) {
    s.summary = "glibc defaults (MSPRUNE_MALLOC=default)";
    return s;
  }
  if (const char* t = std::getenv("GLIBC_TUNABLES"); t && std::strstr(t, "glibc.malloc.")) {
    s.summary = "the user's GLIBC_TUNABLES";
    return s;
  }
  for (const char* v : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"})
    if (std::getenv(v)) {
      s.summary = std::string("the user's ") + v;
      return s;
    }
  // Setting either threshold also turns off glibc's dynamic threshold.
  const bool ok = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1 &&
                  mallopt(M_TOP_PAD, kTopPad) == 1;
  s.tuned = ok;
  s.summary = ok ? "glibc malloc: mmap threshold 32 MiB, trim threshold 512 MiB, top pad 64 MiB"
                 : "glibc defaults (mallopt refused the settings)";
#else
  s.summary = "the C library's defaults (not glibc)";
#endif
  return s;
}

bool g_called = false;

}  // namespace

const AllocatorSetting& tune_allocator() {
  static const AllocatorSetting s = apply();
  g_called = true;
  return s;
}

std::string allocator_summary() { return g_called ? tune_allocator().summary : "not called"; }

}  // namespace msprune
