#pragma once
// The C allocator's settings for LibTorch's CPU tensors.
//
// LibTorch allocates every CPU tensor with malloc and frees it when the last
// reference goes. With glibc's defaults, large blocks (over the mmap
// threshold, 128 KiB at first) are mapped fresh and unmapped on free, and the
// heap's top is returned to the system above 128 KiB, so a training step's
// megabyte-sized activations and gradients touch new pages every step. Each
// first touch is a page fault; on virtual machines and sandboxes (gVisor, as
// on this project's CI machine) a fault costs tens of microseconds, and
// PreResNet-20 x0.5 trained at ~160 img/s against ~540 once freed memory
// stays in the process (docs/training.md, "The allocator").
//
// tune_allocator() raises glibc's mmap threshold to its maximum (32 MiB on
// 64-bit), the trim threshold to 512 MiB and the top pad to 64 MiB: freed
// blocks are reused instead of faulted in again. The price is resident
// memory: up to ~512 MiB freed but kept per process.
#include <string>

namespace msprune {

struct AllocatorSetting {
  bool tuned = false;   // the settings above are in force
  std::string summary;  // for reports: what is in force and why
};

// Applies the settings unless the user chose their own: GLIBC_TUNABLES with a
// glibc.malloc tunable, MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ /
// MALLOC_TOP_PAD_, or MSPRUNE_MALLOC=default (glibc's defaults, for
// comparison). Idempotent; not glibc: does nothing.
const AllocatorSetting& tune_allocator();

// What tune_allocator() did ("not called" before it runs).
std::string allocator_summary();

}  // namespace msprune
