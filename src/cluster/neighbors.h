#pragma once
// scikit-learn 1.2.1's NearestNeighbors as mean shift uses it, answer for
// answer (see DESIGN.md section 3 and docs/meanshift.md):
//
//  * algorithm='auto' picks "brute" when the data has more than 15 features
//    or n_neighbors >= n_samples // 2 (NearestNeighbors(radius=...) keeps
//    its default n_neighbors=5, so a radius index over <= 11 points is
//    brute), otherwise a KD tree (kd_tree.h).
//  * brute distances use the GEMM decomposition of sklearn's pairwise
//    reductions, in float64 (float32 rows are upcast):
//        v = max(0, (|q|^2 + (-2 * q.y)) + |y|^2)
//    with |q|^2 a left-to-right dot product and q.y an FMA chain (OpenBLAS
//    ddot / dgemm on this machine). The float32 specialisations then round:
//    radius tests compare v <= float32(float32(r) * float32(r)); k-neighbour
//    distances are sqrt(double(float32(v))). Mixed dtypes (a float32 seed
//    against float64 data) fall back to euclidean_distances in float64,
//    which gives the same v and compares v <= r * r.
//  * brute radius results come in index order; KD-tree results in tree order.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cluster/kd_tree.h"

namespace msprune::cluster::detail {

// sklearn's algorithm='auto' rule.
bool sklearn_uses_brute(std::size_t n_fit, std::size_t n_features, std::int64_t n_neighbors);

// Pieces of the brute-force distance.
double dot_sequential(const double* a, const double* b, std::size_t d);  // ddot
double middle_term(const double* a, const double* b, std::size_t d);     // -2 * dgemm
inline double gemm_rdist(double norm_q, double middle, double norm_y) {
  const double v = (norm_q + middle) + norm_y;
  return v < 0.0 ? 0.0 : v;
}
// The distance a brute k-neighbours query reports for reduced distance v:
// float32 data go through DistanceMetric32._rdist_to_dist(float32 v).
template <class T>
double brute_reported_distance(double v) {
  if constexpr (sizeof(T) == 4) {
    return std::sqrt(double(float(v)));
  } else {
    return std::sqrt(v);
  }
}

template <class T>
class Neighbors {
 public:
  // `n_neighbors` is the constructor argument sklearn decides the algorithm
  // with (5 for NearestNeighbors(radius=...), 1 for the label lookup).
  Neighbors(const T* rows, std::size_t n, std::size_t d, std::int64_t n_neighbors);

  bool brute() const { return brute_; }
  std::size_t size() const { return n_; }

  // radius_neighbors([q], r): q's coordinates as doubles; q_is_f32 says
  // whether the query array is float32 (it decides the brute rule).
  void radius_indices(const double* q, bool q_is_f32, double r, std::vector<std::int64_t>* out) const;
  // The same neighbours' rows, in sklearn's order, into `rows` (replaced).
  // Returns the number of neighbours.
  std::int64_t radius_rows(const double* q, bool q_is_f32, double r, std::vector<T>* rows) const;

  // kneighbors([q], 1): the index and the distance sklearn reports.
  std::int64_t nearest(const T* q, double* distance) const;

 private:
  double brute_v(const double* q, double q_norm, std::size_t j) const;
  bool brute_within(double v, bool q_is_f32, double r) const;

  const T* rows_;
  std::size_t n_, d_;
  bool brute_;
  std::unique_ptr<KdTree> tree_;
  std::vector<T> tree_rows_;   // KD: rows in tree order
  std::vector<double> up_;     // brute: rows as doubles
  std::vector<double> norms_;  // brute: |y|^2
  mutable std::vector<KdTree::Range> ranges_;
  mutable std::vector<double> qbuf_;
};

}  // namespace msprune::cluster::detail
