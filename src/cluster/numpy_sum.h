#pragma once
// Bit-exact replicas of the numpy 1.24 reductions that scikit-learn's mean
// shift goes through. Float addition is not associative, so "the same sum"
// is only the same bits when the same additions happen in the same order.
//
//  * np.add.reduce over a contiguous 1-D float array (np.sum, np.mean of an
//    (m, 1) array along axis 0, ndarray.sum()): the output starts at the
//    identity 0 and the iterator hands the inner loop blocks of at most 8192
//    elements (the ufunc buffer size); each block is summed with numpy's
//    pairwise summation and added to the running total in turn.
//  * np.mean(points, axis=0) for an (m, d) array with d >= 2: the inner loop
//    runs along the (contiguous) feature axis, so each column is a plain
//    left-to-right sum starting from 0.
//  * The division by the count happens in the array's dtype (float32 for
//    float32 data: numpy's value-based casting keeps the Python int a "weak"
//    scalar).
// Verified against numpy 1.24.2 on lengths 1..300, around 8192 and up to
// 100,000 (see tests/cluster and tools/gen_meanshift_golden.py).
#include <cstddef>

namespace msprune::cluster::detail {

inline constexpr std::size_t kNumpyBufferSize = 8192;
inline constexpr std::size_t kNumpyPairwiseBlock = 128;

// numpy's @TYPE@_pairwise_sum (loops_utils.h.src), unit stride.
template <class T>
T numpy_pairwise_sum(const T* a, std::size_t n) {
  if (n < 8) {
    T res = T(0);
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= kNumpyPairwiseBlock) {
    T r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

// np.add.reduce of a contiguous 1-D array.
template <class T>
T numpy_sum(const T* a, std::size_t n) {
  T acc = T(0);
  for (std::size_t s = 0; s < n; s += kNumpyBufferSize) {
    const std::size_t len = n - s < kNumpyBufferSize ? n - s : kNumpyBufferSize;
    acc += numpy_pairwise_sum(a + s, len);
  }
  return acc;
}

// np.mean(rows, axis=0) of an (m, d) C-contiguous array, written to out[0..d).
template <class T>
void numpy_mean_rows(const T* rows, std::size_t m, std::size_t d, T* out) {
  const T count = static_cast<T>(m);
  if (d == 1) {
    out[0] = numpy_sum(rows, m) / count;
    return;
  }
  for (std::size_t j = 0; j < d; ++j) out[j] = T(0);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < d; ++j) out[j] += rows[i * d + j];
  }
  for (std::size_t j = 0; j < d; ++j) out[j] = out[j] / count;
}

}  // namespace msprune::cluster::detail
