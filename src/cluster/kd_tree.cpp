#include "cluster/kd_tree.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace msprune::cluster::detail {

namespace {
volatile double g_metric_p = 2.0;
volatile double g_metric_inv_p = 0.5;  // 1. / p, as sklearn computes it

// sklearn's partition order: IndexComparator compares (value, index).
struct KeyLess {
  bool operator()(const KdTree::Key& a, const KdTree::Key& b) const {
    return a.v == b.v ? a.i < b.i : a.v < b.v;
  }
};
using Key = KdTree::Key;
}  // namespace

[[gnu::noinline]] double opaque_pow(double x, double y) { return std::pow(x, y); }
double metric_p() { return g_metric_p; }
double metric_inv_p() { return g_metric_inv_p; }

KdTree::KdTree(std::vector<double> data, std::size_t n, std::size_t d, std::int64_t leaf_size)
    : data_(std::move(data)), n_(n), d_(d), leaf_size_(leaf_size) {
  // n_levels = int(np.log2(fmax(1, (n - 1) / leaf_size)) + 1): the largest L
  // with leaf_size * 2^L <= n - 1, plus one (exact in integers).
  n_levels_ = 1;
  if (n_ > 1) {
    const std::int64_t q = std::int64_t(n_) - 1;
    std::int64_t level = 0;
    while (leaf_size_ * (std::int64_t(1) << (level + 1)) <= q) ++level;
    n_levels_ = level + 1;
  }
  n_nodes_ = (std::int64_t(1) << n_levels_) - 1;
  idx_.resize(n_);
  for (std::size_t i = 0; i < n_; ++i) idx_[i] = std::int64_t(i);
  nodes_.assign(std::size_t(n_nodes_), Node{0, 0, true});
  lower_.assign(std::size_t(n_nodes_) * d_, 0.0);
  upper_.assign(std::size_t(n_nodes_) * d_, 0.0);
  if (d_ == 1) {
    keys_.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) keys_[i] = Key{data_[i], std::int64_t(i)};
  }
  if (n_ > 0) build(0, 0, std::int64_t(n_));
  if (d_ == 1) {
    for (std::size_t p = 0; p < n_; ++p) idx_[p] = keys_[p].i;
    keys_ = {};
  }
  // Keep the rows in tree order so leaf scans read contiguous memory.
  std::vector<double> tree_order(n_ * d_);
  for (std::size_t p = 0; p < n_; ++p) {
    std::copy_n(&data_[std::size_t(idx_[p]) * d_], d_, &tree_order[p * d_]);
  }
  data_ = std::move(tree_order);
}

void KdTree::build(std::int64_t i_node, std::int64_t start, std::int64_t end) {
  // init_node: bounds of the node's points (min/max; no NaN can occur).
  double* lo = &lower_[std::size_t(i_node) * d_];
  double* hi = &upper_[std::size_t(i_node) * d_];
  for (std::size_t j = 0; j < d_; ++j) {
    lo[j] = std::numeric_limits<double>::infinity();
    hi[j] = -std::numeric_limits<double>::infinity();
  }
  if (d_ == 1) {
    double l = lo[0], h = hi[0];
    for (std::int64_t p = start; p < end; ++p) {
      const double v = keys_[std::size_t(p)].v;
      l = v < l ? v : l;
      h = v > h ? v : h;
    }
    lo[0] = l;
    hi[0] = h;
  } else {
    for (std::int64_t p = start; p < end; ++p) {
      const double* row = &data_[std::size_t(idx_[std::size_t(p)]) * d_];
      for (std::size_t j = 0; j < d_; ++j) {
        lo[j] = row[j] < lo[j] ? row[j] : lo[j];
        hi[j] = row[j] > hi[j] ? row[j] : hi[j];
      }
    }
  }
  Node& node = nodes_[std::size_t(i_node)];
  node.start = start;
  node.end = end;
  if (2 * i_node + 1 >= n_nodes_ || end - start < 2) {
    node.leaf = true;
    return;
  }
  node.leaf = false;
  const std::int64_t n_points = end - start;
  const std::int64_t n_mid = n_points / 2;
  // partition_node_indices: std::nth_element with (value, index) order.
  // Partitioning (value, index) pairs makes the same comparisons, hence the
  // same moves, as sklearn's indirect comparator on the index array.
  if (d_ == 1) {
    std::nth_element(keys_.begin() + start, keys_.begin() + start + n_mid, keys_.begin() + end,
                     KeyLess{});
  } else {
    // find_node_split_dim: the largest spread (max - min), first on ties;
    // the node's bounds are exactly those minima and maxima.
    std::size_t split = 0;
    double max_spread = 0;
    for (std::size_t j = 0; j < d_; ++j) {
      const double spread = hi[j] - lo[j];
      if (spread > max_spread) {
        max_spread = spread;
        split = j;
      }
    }
    std::vector<Key> keys(static_cast<std::size_t>(n_points));
    for (std::int64_t p = 0; p < n_points; ++p) {
      const std::int64_t i = idx_[std::size_t(start + p)];
      keys[std::size_t(p)] = Key{data_[std::size_t(i) * d_ + split], i};
    }
    std::nth_element(keys.begin(), keys.begin() + n_mid, keys.end(), KeyLess{});
    for (std::int64_t p = 0; p < n_points; ++p) idx_[std::size_t(start + p)] = keys[std::size_t(p)].i;
  }
  build(2 * i_node + 1, start, start + n_mid);
  build(2 * i_node + 2, start + n_mid, end);
}

double KdTree::rdist(const double* a, const double* b) const {
  double d = 0;
  for (std::size_t j = 0; j < d_; ++j) {
    const double t = a[j] - b[j];
    d += t * t;
  }
  return d;
}

void KdTree::min_max_dist(std::int64_t i_node, const double* pt, double* lo_out,
                          double* hi_out) const {
  const double p = metric_p();
  const double* lo = &lower_[std::size_t(i_node) * d_];
  const double* hi = &upper_[std::size_t(i_node) * d_];
  double mn = 0.0, mx = 0.0;
  for (std::size_t j = 0; j < d_; ++j) {
    const double d_lo = lo[j] - pt[j];
    const double d_hi = pt[j] - hi[j];
    const double d = (d_lo + std::fabs(d_lo)) + (d_hi + std::fabs(d_hi));
    mn += opaque_pow(0.5 * d, p);
    mx += opaque_pow(std::fmax(std::fabs(d_lo), std::fabs(d_hi)), p);
  }
  *lo_out = opaque_pow(mn, metric_inv_p());
  *hi_out = opaque_pow(mx, metric_inv_p());
}

double KdTree::min_rdist(std::int64_t i_node, const double* pt) const {
  const double p = metric_p();
  const double* lo = &lower_[std::size_t(i_node) * d_];
  const double* hi = &upper_[std::size_t(i_node) * d_];
  double rd = 0.0;
  for (std::size_t j = 0; j < d_; ++j) {
    const double d_lo = lo[j] - pt[j];
    const double d_hi = pt[j] - hi[j];
    const double d = (d_lo + std::fabs(d_lo)) + (d_hi + std::fabs(d_hi));
    rd += opaque_pow(0.5 * d, p);
  }
  return rd;
}

namespace {
void append_range(std::vector<KdTree::Range>* out, std::int64_t b, std::int64_t e) {
  if (!out->empty() && out->back().end == b) {
    out->back().end = e;
  } else {
    out->push_back({b, e});
  }
}
}  // namespace

std::int64_t KdTree::query_radius(const double* pt, double r, std::vector<Range>* out) const {
  if (n_ == 0) return 0;
  return radius_rec(0, pt, r, r * r, out);  // EuclideanDistance._dist_to_rdist
}

std::int64_t KdTree::radius_rec(std::int64_t i_node, const double* pt, double r, double r2,
                                std::vector<Range>* out) const {
  const Node& node = nodes_[std::size_t(i_node)];
  double dist_lb = 0, dist_ub = 0;
  min_max_dist(i_node, pt, &dist_lb, &dist_ub);
  if (dist_lb > r) return 0;  // case 1: prune
  if (dist_ub <= r) {         // case 2: the whole node
    append_range(out, node.start, node.end);
    return node.end - node.start;
  }
  if (node.leaf) {  // case 3: test each point
    std::int64_t count = 0;
    for (std::int64_t p = node.start; p < node.end; ++p) {
      if (rdist(pt, &data_[std::size_t(p) * d_]) <= r2) {
        append_range(out, p, p + 1);
        ++count;
      }
    }
    return count;
  }
  return radius_rec(2 * i_node + 1, pt, r, r2, out) + radius_rec(2 * i_node + 2, pt, r, r2, out);
}

std::int64_t KdTree::nearest(const double* pt, double* rdist_out) const {
  double best = std::numeric_limits<double>::infinity();
  std::int64_t best_idx = -1;
  if (n_ > 0) nearest_rec(0, pt, min_rdist(0, pt), &best, &best_idx);
  *rdist_out = best;
  return best_idx;
}

void KdTree::nearest_rec(std::int64_t i_node, const double* pt, double lb, double* best,
                         std::int64_t* best_idx) const {
  if (lb > *best) return;
  const Node& node = nodes_[std::size_t(i_node)];
  if (node.leaf) {
    for (std::int64_t p = node.start; p < node.end; ++p) {
      const double d = rdist(pt, &data_[std::size_t(p) * d_]);
      if (d < *best) {  // heap_push: `if val >= values[0]: return`
        *best = d;
        *best_idx = idx_[std::size_t(p)];
      }
    }
    return;
  }
  const std::int64_t i1 = 2 * i_node + 1, i2 = i1 + 1;
  const double lb1 = min_rdist(i1, pt), lb2 = min_rdist(i2, pt);
  if (lb1 <= lb2) {
    nearest_rec(i1, pt, lb1, best, best_idx);
    nearest_rec(i2, pt, lb2, best, best_idx);
  } else {
    nearest_rec(i2, pt, lb2, best, best_idx);
    nearest_rec(i1, pt, lb1, best, best_idx);
  }
}

}  // namespace msprune::cluster::detail
