#pragma once
// Emulated EPC: the enclave heap is a reserved range of virtual memory of
// which at most `limit` pages are backed at a time, by a fixed pool of
// `limit` page slots (a memfd: the "EPC"). Touching a page that has no slot
// raises SIGSEGV; the handler takes the next slot in FIFO order, evicts the
// page in it (unmaps it from the heap, then AES-256-GCM-encrypts it into a
// backing store outside the EPC), fills the slot with the wanted page
// (decrypt + verify, or zeros on first touch) and maps the slot at the
// faulting address. The enclave's resident heap is therefore exactly bounded
// by the pool, as SGX bounds it by the EPC.
//
// The handler reads and writes slots through a second mapping of the pool
// (the *alias*), never through the heap addresses, and unmaps a victim before
// it reads it, so no other thread can change a page while it is being sealed;
// a page is mapped only once it is fully decrypted. Victims are chosen FIFO
// (round-robin over slots): user space cannot see accessed bits, so CLOCK
// would need extra faults to sample them; for the sequential sweeps of CNN
// inference FIFO and LRU evict the same pages. Sequential pages loaded in
// order land in consecutive slots, so their mappings merge into one VMA.
//
// The handler does not allocate: it uses one pre-keyed AesGcm context
// (crypto.h) and preallocated metadata. IV of an eviction = u32 page index ||
// u64 eviction counter of that page (never reused under the per-instance
// random key); the tag is kept in enclave metadata, so a modified or replayed
// backing page fails verification and the enclave stops (exit code
// kExitPagingIntegrity). Enclave-only code: no exceptions.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tee/enclave/crypto.h"
#include "tee/enclave/status.h"

namespace msprune::tee {

inline constexpr int kExitPagingIntegrity = 70;
inline constexpr int kExitPagingSyscall = 71;

struct PagerCounters {
  std::uint64_t faults = 0, first_touch = 0, pages_evicted = 0, pages_loaded = 0;
  std::uint64_t bytes_encrypted = 0, bytes_decrypted = 0;
  std::uint64_t handler_ns = 0, injected_ns = 0, handler_allocs = 0;
  std::uint64_t peak_resident_pages = 0;
};

class EpcPager {
 public:
  static constexpr std::size_t kPage = 4096;

  // Maps `capacity` bytes (rounded up to pages) of heap, limit_pages resident
  // at most (0 = unlimited), and installs the SIGSEGV handler. Call once,
  // before the sandbox is locked. fault_cost_ns is busy-waited per fault.
  [[nodiscard]] bool init(std::size_t capacity, std::size_t limit_pages, std::uint64_t fault_cost_ns,
                          TeeError* err);

  std::uint8_t* base() const { return view_; }
  std::size_t capacity() const { return pages_ * kPage; }
  std::size_t limit_pages() const { return limit_; }
  std::size_t resident_pages() const { return count_; }

  // Drops the whole heap (all pages fresh and zero, none resident) and
  // records that [0, used_bytes) is in use. Not signal-safe; ECALL only.
  [[nodiscard]] bool reset(std::size_t used_bytes, TeeError* err);
  std::size_t used_pages() const { return used_pages_; }
  // Records how much of the heap is in use (for statistics only).
  void set_used(std::size_t used_bytes) { used_pages_ = (used_bytes + kPage - 1) / kPage; }

  PagerCounters counters() const;
  void reset_counters();

  // Counted by the enclave's malloc wrappers (see enclave_main.cpp).
  static std::atomic<std::uint64_t> alloc_count;

  // Called by the SIGSEGV handler: true if `addr` was a heap page and is now
  // accessible, false for any other address (a genuine crash).
  bool handle_fault(std::uintptr_t addr);

 private:
  void evict(std::size_t slot);
  void bring_in(std::size_t page, std::size_t slot);

  std::uint8_t* view_ = nullptr;     // the heap (enclave addresses)
  std::uint8_t* alias_ = nullptr;    // the slot pool, as the handler sees it
  int pool_fd_ = -1;                 // the slot pool (memfd of limit pages)
  std::uint8_t* backing_ = nullptr;  // untrusted store of evicted pages (ciphertext)
  std::uint8_t* state_ = nullptr;    // per page: 0 fresh, 1 resident, 2 evicted
  std::uint64_t* version_ = nullptr;  // per page eviction counter (IV)
  std::uint8_t* tags_ = nullptr;      // per page GCM tag (16 bytes)
  std::uint32_t* page_of_slot_ = nullptr;  // which page a slot holds
  std::size_t pages_ = 0, limit_ = 0, used_pages_ = 0;
  std::size_t next_slot_ = 0, count_ = 0;  // FIFO hand; slots in use
  std::uint64_t fault_cost_ns_ = 0;
  AesGcm gcm_;
  std::atomic_flag lock_ = ATOMIC_FLAG_INIT;
  PagerCounters c_;
};

}  // namespace msprune::tee
