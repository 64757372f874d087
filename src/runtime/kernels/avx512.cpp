// AVX-512F instantiation of the optimized kernels (compiled with -mavx512f
// -mfma; only called after best_kernel_level() saw AVX-512F on this CPU).
#include <immintrin.h>

#include <array>
#include <utility>

#include "runtime/internal.h"

namespace msprune::rt::avx512 {
namespace {

struct V {
  using T = __m512;
  static constexpr int L = 16, kRegs = 32, kMaxNV = 4;
  static __mmask16 mask(int n) {
    return n <= 0 ? __mmask16(0) : n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
  }
  static T zero() { return _mm512_setzero_ps(); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static T loadn(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static void storen(float* p, T v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  static T bcast(const float* p) { return _mm512_set1_ps(*p); }
  static T bcast_value(float v) { return _mm512_set1_ps(v); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static float hsum(T v) { return _mm512_reduce_add_ps(v); }
  static T gather(const float* base, const uint32_t* idx) {
    return _mm512_i32gather_ps(_mm512_loadu_si512(idx), base, 4);
  }
  static T gathern(const float* base, const uint32_t* idx, int n) {
    const __mmask16 m = mask(n);
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, _mm512_maskz_loadu_epi32(m, idx), base,
                                    4);
  }
};

#include "runtime/kernels/simd_kernels.h"

}  // namespace

extern const KernelTable kTable;
const KernelTable kTable = {KernelLevel::kAvx512, conv2d, affine, max_pool, avg_pool, add, linear};

}  // namespace msprune::rt::avx512
