// AVX2 + FMA instantiation of the optimized kernels (compiled with -mavx2
// -mfma; only called after best_kernel_level() saw AVX2 and FMA on this CPU).
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#include "runtime/internal.h"

namespace msprune::rt::avx2 {
namespace {

alignas(64) constexpr int32_t kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                               0,  0,  0,  0,  0,  0,  0,  0};

struct V {
  using T = __m256;
  static constexpr int L = 8, kRegs = 16, kMaxNV = 2;
  static __m256i mask(int n) {
    n = n < 0 ? 0 : n > 8 ? 8 : n;
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + 8 - n));
  }
  static T zero() { return _mm256_setzero_ps(); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static T loadn(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static void storen(float* p, T v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  // (_mm256_set1_ps, not _mm256_broadcast_ss: GCC treats the latter builtin as
  // reading arbitrary memory and then keeps the accumulators in memory.)
  static T bcast(const float* p) { return _mm256_set1_ps(*p); }
  static T bcast_value(float v) { return _mm256_set1_ps(v); }
  static T bcast4(const float* p) {
    const __m128 v = _mm_loadu_ps(p);
    return _mm256_set_m128(v, v);
  }
  static T bcast4n(const float* p, int n) {  // masked load: nothing past p[n-1] is read
    const __m128 v = _mm_maskload_ps(p, _mm256_castsi256_si128(mask(n)));
    return _mm256_set_m128(v, v);
  }
  // hadd within 128-bit halves twice gives [half j][vector v]; channel order
  // is v*2 + j.
  static T reduce4(T a, T b, T c, T d) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    return _mm256_permutevar8x32_ps(_mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d)),
                                    order);
  }
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static float hsum(T v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  using I = __m256i;
  static I window_index(const uint32_t* idx, int n, uint32_t lo) {
    const __m256i m = mask(n);
    const __m256i i = _mm256_maskload_epi32(reinterpret_cast<const int*>(idx), m);
    return _mm256_and_si256(_mm256_sub_epi32(i, _mm256_set1_epi32(int(lo))), m);
  }
  // Lanes 0-7 of a|b from a, 8-15 from b: both permuted by the low 3 bits,
  // then blended on bit 3.
  static T permute2(T a, T b, I i) {
    const __m256 from_b = _mm256_castsi256_ps(_mm256_slli_epi32(i, 28));  // bit 3 -> sign bit
    return _mm256_blendv_ps(_mm256_permutevar8x32_ps(a, i), _mm256_permutevar8x32_ps(b, i), from_b);
  }
  static T gathern(const float* base, const uint32_t* idx, int n) {
    const __m256i m = mask(n);
    const __m256i i = _mm256_maskload_epi32(reinterpret_cast<const int*>(idx), m);
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, i, _mm256_castsi256_ps(m), 4);
  }
};

#include "runtime/kernels/simd_kernels.h"

}  // namespace

extern const KernelTable kTable;
const KernelTable kTable = {KernelLevel::kAvx2, conv2d, affine, max_pool, avg_pool, add, linear};

}  // namespace msprune::rt::avx2
