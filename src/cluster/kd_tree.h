#pragma once
// A replica of scikit-learn 1.2.1's KDTree (sklearn/neighbors/_binary_tree.pxi
// and _kd_tree.pyx) for the Euclidean metric, built the same way so that it
// returns the same neighbours in the same order:
//
//  * n_levels = 1 + floor(log2(max(1, (n - 1) / leaf_size))), a complete
//    binary tree of 2^n_levels - 1 nodes; node i has children 2i+1, 2i+2.
//  * a node splits on the dimension of largest spread (first one on ties) at
//    n_mid = n_points / 2 with std::nth_element and the comparator
//    "value, then index" - the same libstdc++ algorithm sklearn calls, so
//    the permutation (idx_array) is identical.
//  * query_radius walks the tree depth-first, left child first, with the
//    same four cases (prune if min distance > r, take the whole node if max
//    distance <= r, else test each leaf point with rdist <= r*r). Results
//    come out in tree order: ascending positions of idx_array. The order
//    matters: mean shift averages them and float sums depend on order.
//  * nearest (k = 1) is the depth-first query with sklearn's heap rule: a
//    point replaces the current best only if strictly closer, children are
//    visited nearer-first (left on ties).
//
// Node bounds use pow(x, p) with p = 2 and pow(s, 1/p), called through libm
// exactly as sklearn's compiled Cython does (not folded into x*x / sqrt).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace msprune::cluster::detail {

class KdTree {
 public:
  static constexpr std::int64_t kDefaultLeafSize = 30;  // NearestNeighbors' default

  // `data` holds n rows of d doubles (float32 inputs converted exactly).
  KdTree(std::vector<double> data, std::size_t n, std::size_t d,
         std::int64_t leaf_size = kDefaultLeafSize);

  std::size_t size() const { return n_; }
  std::size_t dims() const { return d_; }
  const std::vector<std::int64_t>& idx_array() const { return idx_; }
  std::int64_t n_levels() const { return n_levels_; }

  // A run [begin, end) of positions in idx_array, all within the radius.
  struct Range {
    std::int64_t begin, end;
  };
  // Appends the positions within r of pt (sklearn's inclusion rule), in
  // ascending order, merged into maximal runs. Returns the number of points.
  std::int64_t query_radius(const double* pt, double r, std::vector<Range>* out) const;

  // Index (into the original rows) of the nearest point and its reduced
  // distance (squared Euclidean); first found wins ties, as in sklearn.
  std::int64_t nearest(const double* pt, double* rdist) const;

  struct Key {  // a point's value on the split dimension and its index
    double v;
    std::int64_t i;
  };

 private:
  struct Node {
    std::int64_t start, end;
    bool leaf;
  };
  void build(std::int64_t i_node, std::int64_t start, std::int64_t end);
  void min_max_dist(std::int64_t i_node, const double* pt, double* lo, double* hi) const;
  double min_rdist(std::int64_t i_node, const double* pt) const;
  double rdist(const double* a, const double* b) const;
  std::int64_t radius_rec(std::int64_t i_node, const double* pt, double r, double r2,
                          std::vector<Range>* out) const;
  void nearest_rec(std::int64_t i_node, const double* pt, double lb, double* best,
                   std::int64_t* best_idx) const;

  std::vector<double> data_;
  std::size_t n_, d_;
  std::int64_t leaf_size_, n_levels_, n_nodes_;
  std::vector<std::int64_t> idx_;
  std::vector<Node> nodes_;
  std::vector<double> lower_, upper_;  // n_nodes x d
  std::vector<Key> keys_;              // 1-D build: (value, index) in tree order
};

// libm pow with an exponent the compiler cannot see (sklearn calls pow with
// the metric's runtime p; GCC would otherwise fold pow(x, 2.0) into x*x).
double opaque_pow(double x, double y);
double metric_p();       // 2.0
double metric_inv_p();   // 0.5

}  // namespace msprune::cluster::detail
