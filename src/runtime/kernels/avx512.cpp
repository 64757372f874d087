// AVX-512F instantiation of the optimized kernels (compiled with -mavx512f
// -mfma; only called after best_kernel_level() saw AVX-512F on this CPU).
#include <immintrin.h>

#include <algorithm>
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
  static T bcast4(const float* p) { return _mm512_broadcast_f32x4(_mm_loadu_ps(p)); }
  static T bcast4n(const float* p, int n) {  // masked load: nothing past p[n-1] is read
    const T v = _mm512_maskz_loadu_ps(mask(n), p);
    return _mm512_shuffle_f32x4(v, v, 0);
  }
  // Pairwise sums within each 128-bit block (hadd), then the 4x4 result
  // [block j][vector v] transposed to channel order v*4 + j.
  static T hadd(T a, T b) {
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
  }
  static T reduce4(T a, T b, T c, T d) {
    const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    // (maskz form: GCC 12 warns about the undefined source of the plain one.)
    return _mm512_maskz_permutexvar_ps(__mmask16(0xFFFF), order, hadd(hadd(a, b), hadd(c, d)));
  }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static float hsum(T v) { return _mm512_reduce_add_ps(v); }
  using I = __m512i;
  static I window_index(const uint32_t* idx, int n, uint32_t lo) {
    return _mm512_maskz_sub_epi32(mask(n), _mm512_maskz_loadu_epi32(mask(n), idx), _mm512_set1_epi32(int(lo)));
  }
  static T permute2(T a, T b, I i) { return _mm512_permutex2var_ps(a, i, b); }
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
