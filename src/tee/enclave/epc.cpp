#include "tee/enclave/epc.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

#include <sys/mman.h>
#include <unistd.h>

namespace msprune::tee {

std::atomic<std::uint64_t> EpcPager::alloc_count{0};

namespace {

EpcPager* g_pager = nullptr;
enum : std::uint8_t { kFresh = 0, kResident = 1, kEvicted = 2 };

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1000000000ull + std::uint64_t(ts.tv_nsec);
}

// Async-signal-safe diagnostics: write(2) of a fixed buffer, then _exit.
[[noreturn]] void die(int code, const char* what, std::size_t page) {
  char buf[160];
  int n = 0;
  const char* prefix = "msprune-enclave: ";
  for (const char* s = prefix; *s && n < 100; ++s) buf[n++] = *s;
  for (const char* s = what; *s && n < 140; ++s) buf[n++] = *s;
  const char* mid = " (page ";
  for (const char* s = mid; *s && n < 148; ++s) buf[n++] = *s;
  char digits[24];
  int d = 0;
  do {
    digits[d++] = char('0' + page % 10);
    page /= 10;
  } while (page != 0 && d < 20);
  while (d > 0 && n < 158) buf[n++] = digits[--d];
  buf[n++] = ')';
  buf[n++] = '\n';
  ssize_t ignored = ::write(2, buf, std::size_t(n));
  (void)ignored;
  _exit(code);
}

void on_fault(int sig, siginfo_t* si, void*) {
  if (g_pager != nullptr && g_pager->handle_fault(reinterpret_cast<std::uintptr_t>(si->si_addr))) return;
  // Not a heap page: a genuine crash. Restore the default action and return;
  // the faulting instruction runs again and the process dies by SIGSEGV.
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  ::sigaction(sig, &sa, nullptr);
}

void* map_anon(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

bool EpcPager::init(std::size_t capacity, std::size_t limit_pages, std::uint64_t fault_cost_ns, TeeError* err) {
  if (g_pager != nullptr) return fail(err, TeeStatus::kInternal, "EPC pager initialised twice");
  if (std::size_t(::sysconf(_SC_PAGESIZE)) != kPage)
    return fail(err, TeeStatus::kInternal, "system page size is not %zu bytes", kPage);
  pages_ = (capacity + kPage - 1) / kPage;
  if (pages_ == 0 || pages_ > (std::size_t(1) << 30) / 4)  // 1 TiB of heap at most
    return fail(err, TeeStatus::kInternal, "bad enclave heap size %zu", capacity);
  limit_ = limit_pages >= pages_ ? 0 : limit_pages;  // a limit above the heap never binds
  fault_cost_ns_ = fault_cost_ns;
  const std::size_t bytes = pages_ * kPage;

  if (limit_ == 0) {  // unlimited: plain memory, no faults
    view_ = static_cast<std::uint8_t*>(map_anon(bytes));
    if (view_ == nullptr) return fail(err, TeeStatus::kInternal, "mmap of the enclave heap failed");
    return true;
  }
  pool_fd_ = ::memfd_create("msprune-epc", MFD_CLOEXEC);
  if (pool_fd_ < 0) return fail(err, TeeStatus::kInternal, "memfd_create: %s", std::strerror(errno));
  if (::ftruncate(pool_fd_, off_t(limit_ * kPage)) != 0)
    return fail(err, TeeStatus::kInternal, "ftruncate(%zu): %s", limit_ * kPage, std::strerror(errno));
  void* v = ::mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  void* a = ::mmap(nullptr, limit_ * kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, pool_fd_, 0);
  if (v == MAP_FAILED || a == MAP_FAILED) return fail(err, TeeStatus::kInternal, "mmap of the EPC pool failed");
  view_ = static_cast<std::uint8_t*>(v);
  alias_ = static_cast<std::uint8_t*>(a);
  backing_ = static_cast<std::uint8_t*>(map_anon(bytes));
  state_ = static_cast<std::uint8_t*>(map_anon(pages_));
  version_ = static_cast<std::uint64_t*>(map_anon(pages_ * sizeof(std::uint64_t)));
  tags_ = static_cast<std::uint8_t*>(map_anon(pages_ * kGcmTagBytes));
  page_of_slot_ = static_cast<std::uint32_t*>(map_anon(limit_ * sizeof(std::uint32_t)));
  if (!backing_ || !state_ || !version_ || !tags_ || !page_of_slot_)
    return fail(err, TeeStatus::kInternal, "mmap of the paging metadata failed");

  Key256 key;
  if (!random_bytes(key) || !gcm_.init(key)) return fail(err, TeeStatus::kInternal, "paging key set-up failed");
  secure_zero(key.data(), key.size());
  // Warm the cipher path once so no lazy initialisation happens in the handler.
  std::uint8_t iv[kGcmIvBytes] = {}, tmp[16] = {}, tag[kGcmTagBytes];
  if (!gcm_.begin(iv, true) || !gcm_.update(Bytes(tmp, 16), tmp) || !gcm_.finish_encrypt(tag))
    return fail(err, TeeStatus::kInternal, "paging cipher self-test failed");

  g_pager = this;
  struct sigaction sa {};
  sa.sa_sigaction = &on_fault;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGSEGV, &sa, nullptr) != 0)
    return fail(err, TeeStatus::kInternal, "sigaction(SIGSEGV): %s", std::strerror(errno));
  return true;
}

bool EpcPager::reset(std::size_t used_bytes, TeeError* err) {
  if (used_bytes > capacity())
    return fail(err, TeeStatus::kOutOfMemory, "enclave heap needs %zu bytes but has %zu", used_bytes, capacity());
  used_pages_ = (used_bytes + kPage - 1) / kPage;
  const std::size_t bytes = pages_ * kPage;
  if (limit_ == 0) {  // drop the old contents: fresh zero pages
    if (::madvise(view_, bytes, MADV_DONTNEED) != 0)
      return fail(err, TeeStatus::kInternal, "resetting the enclave heap failed: %s", std::strerror(errno));
    return true;
  }
  while (lock_.test_and_set(std::memory_order_acquire)) {
  }
  // Unmap every slot from the heap (one call), forget all pages.
  bool ok = ::mmap(view_, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == view_;
  std::memset(state_, kFresh, pages_);
  // version_ is never reset: IVs stay unique for the life of the paging key.
  next_slot_ = count_ = 0;
  lock_.clear(std::memory_order_release);
  if (!ok) return fail(err, TeeStatus::kInternal, "resetting the enclave heap failed: %s", std::strerror(errno));
  return true;
}

PagerCounters EpcPager::counters() const { return c_; }

void EpcPager::reset_counters() {
  while (lock_.test_and_set(std::memory_order_acquire)) {
  }
  c_ = PagerCounters{};
  c_.peak_resident_pages = count_;
  lock_.clear(std::memory_order_release);
}

bool EpcPager::handle_fault(std::uintptr_t addr) {
  const auto base = reinterpret_cast<std::uintptr_t>(view_);
  if (limit_ == 0 || addr < base || addr >= base + pages_ * kPage) return false;
  const std::size_t page = (addr - base) / kPage;
  const std::uint64_t t0 = now_ns();
  const std::uint64_t allocs0 = alloc_count.load(std::memory_order_relaxed);
  while (lock_.test_and_set(std::memory_order_acquire)) {
  }
  ++c_.faults;
  if (state_[page] != kResident) {  // else another thread brought it in meanwhile
    const std::size_t slot = next_slot_;
    next_slot_ = (next_slot_ + 1) % limit_;
    if (count_ == limit_) evict(slot);
    else ++count_;
    bring_in(page, slot);
  }
  const std::uint64_t t1 = now_ns();
  c_.handler_ns += t1 - t0;
  if (fault_cost_ns_ != 0) {  // projected SGX cost: busy-wait, counted apart
    std::uint64_t t = t1;
    while (t - t1 < fault_cost_ns_) t = now_ns();
    c_.injected_ns += t - t1;
  }
  c_.handler_allocs += alloc_count.load(std::memory_order_relaxed) - allocs0;
  lock_.clear(std::memory_order_release);
  return true;
}

void EpcPager::evict(std::size_t slot) {
  const std::size_t v = page_of_slot_[slot];
  // Unmap first: from here on no enclave thread can read or write the page.
  if (::mmap(view_ + v * kPage, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) !=
      view_ + v * kPage)
    die(kExitPagingSyscall, "unmapping an evicted page failed", v);
  ++version_[v];
  std::uint8_t iv[kGcmIvBytes];
  put_u32(iv, std::uint32_t(v));
  put_u64(iv + 4, version_[v]);
  if (!gcm_.begin(iv, true) || !gcm_.update(Bytes(alias_ + slot * kPage, kPage), backing_ + v * kPage) ||
      !gcm_.finish_encrypt(tags_ + v * kGcmTagBytes))
    die(kExitPagingIntegrity, "page encryption failed", v);
  state_[v] = kEvicted;
  ++c_.pages_evicted;
  c_.bytes_encrypted += kPage;
}

void EpcPager::bring_in(std::size_t p, std::size_t slot) {
  std::uint8_t* s = alias_ + slot * kPage;
  if (state_[p] == kEvicted) {
    std::uint8_t iv[kGcmIvBytes];
    put_u32(iv, std::uint32_t(p));
    put_u64(iv + 4, version_[p]);
    if (!gcm_.begin(iv, false) || !gcm_.update(Bytes(backing_ + p * kPage, kPage), s) ||
        !gcm_.finish_decrypt(tags_ + p * kGcmTagBytes))
      die(kExitPagingIntegrity, "evicted page failed authentication: the backing store was modified", p);
    ++c_.pages_loaded;
    c_.bytes_decrypted += kPage;
  } else {
    std::memset(s, 0, kPage);  // first touch: a zero page
    ++c_.first_touch;
  }
  if (::mmap(view_ + p * kPage, kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, pool_fd_,
             off_t(slot * kPage)) != view_ + p * kPage)
    die(kExitPagingSyscall, "mapping a page into the heap failed (vm.max_map_count?)", p);
  page_of_slot_[slot] = std::uint32_t(p);
  state_[p] = kResident;
  if (count_ > c_.peak_resident_pages) c_.peak_resident_pages = count_;
}

}  // namespace msprune::tee
