#pragma once
// Emulated EPC: the enclave heap is one shared-memory region of which at most
// `limit` pages are accessible at a time. Touching any other page raises
// SIGSEGV; the handler evicts the oldest resident page (FIFO), encrypting it
// with AES-256-GCM into a backing store outside the heap, and brings the
// wanted page back (decrypt + verify) or, on first touch, grants a zero page.
//
// The region is a memfd mapped twice: the *enclave view* (per-page
// protections; what the runtime uses) and a private *alias view* (always
// read/write; only the handler uses it). The handler revokes access in the
// enclave view before it reads the victim through the alias, so no other
// thread can change a page while it is being sealed, and it grants access only
// after a page is fully decrypted. Evicted pages are punched out of the memfd
// (MADV_REMOVE), so the enclave's resident heap really stays within the limit.
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

#include "tee/crypto.h"
#include "tee/status.h"

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
  void evict_one();
  void bring_in(std::size_t page);

  std::uint8_t* view_ = nullptr;   // enclave view
  std::uint8_t* alias_ = nullptr;  // handler's view of the same memory
  std::uint8_t* backing_ = nullptr;  // untrusted store of evicted pages (ciphertext)
  std::uint8_t* state_ = nullptr;    // per page: 0 fresh, 1 resident, 2 evicted
  std::uint64_t* version_ = nullptr;  // per page eviction counter (IV)
  std::uint8_t* tags_ = nullptr;      // per page GCM tag (16 bytes)
  std::uint32_t* ring_ = nullptr;     // FIFO of resident pages
  std::size_t pages_ = 0, limit_ = 0, used_pages_ = 0;
  std::size_t head_ = 0, count_ = 0;
  std::uint64_t fault_cost_ns_ = 0;
  AesGcm gcm_;
  std::atomic_flag lock_ = ATOMIC_FLAG_INIT;
  PagerCounters c_;
};

}  // namespace msprune::tee
