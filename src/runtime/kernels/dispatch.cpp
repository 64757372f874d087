// Kernel tables and run-time dispatch on CPU features. The reference kernels
// are always available and are the fallback.
#include "runtime/internal.h"

namespace msprune::rt {

#if MSPRUNE_RT_X86_KERNELS
namespace avx2 {
extern const KernelTable kTable;
}
namespace avx512 {
extern const KernelTable kTable;
}
#endif

namespace {
const KernelTable kReferenceTable = {KernelLevel::kReference, conv2d_ref, affine_ref, max_pool_ref,
                                     avg_pool_ref, add_ref, linear_ref};
}  // namespace

KernelLevel best_kernel_level() {
#if MSPRUNE_RT_X86_KERNELS
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return KernelLevel::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return KernelLevel::kAvx2;
#endif
  return KernelLevel::kReference;
}

const KernelTable* kernel_table(KernelLevel level) {
  const KernelLevel best = best_kernel_level();
  if (level == KernelLevel::kAuto) level = best;
  switch (level) {
    case KernelLevel::kReference: return &kReferenceTable;
#if MSPRUNE_RT_X86_KERNELS
    case KernelLevel::kAvx2:
      return best >= KernelLevel::kAvx2 ? &avx2::kTable : nullptr;
    case KernelLevel::kAvx512:
      return best >= KernelLevel::kAvx512 ? &avx512::kTable : nullptr;
#endif
    default: return nullptr;
  }
}

}  // namespace msprune::rt
