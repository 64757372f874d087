#include "cluster/neighbors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace msprune::cluster::detail {

bool sklearn_uses_brute(std::size_t n_fit, std::size_t n_features, std::int64_t n_neighbors) {
  return n_features > 15 || n_neighbors >= std::int64_t(n_fit / 2);
}

double dot_sequential(const double* a, const double* b, std::size_t d) {
  double s = 0.0;
  for (std::size_t j = 0; j < d; ++j) s += a[j] * b[j];
  return s;
}

double middle_term(const double* a, const double* b, std::size_t d) {
  double acc = 0.0;
  for (std::size_t j = 0; j < d; ++j) acc = std::fma(a[j], b[j], acc);
  return -2.0 * acc;
}

template <class T>
Neighbors<T>::Neighbors(const T* rows, std::size_t n, std::size_t d, std::int64_t n_neighbors)
    : rows_(rows), n_(n), d_(d), brute_(sklearn_uses_brute(n, d, n_neighbors)), qbuf_(d) {
  std::vector<double> up(n * d);
  for (std::size_t i = 0; i < n * d; ++i) up[i] = double(rows[i]);
  if (brute_) {
    norms_.resize(n);
    for (std::size_t j = 0; j < n; ++j) norms_[j] = dot_sequential(&up[j * d], &up[j * d], d);
    up_ = std::move(up);
  } else {
    tree_ = std::make_unique<KdTree>(std::move(up), n, d);
    tree_rows_.resize(n * d);
    const auto& idx = tree_->idx_array();
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t j = 0; j < d; ++j) tree_rows_[p * d + j] = rows[std::size_t(idx[p]) * d + j];
    }
  }
}

template <class T>
double Neighbors<T>::brute_v(const double* q, double q_norm, std::size_t j) const {
  return gemm_rdist(q_norm, middle_term(q, &up_[j * d_], d_), norms_[j]);
}

template <class T>
bool Neighbors<T>::brute_within(double v, bool q_is_f32, double r) const {
  if (std::is_same_v<T, float> && q_is_f32) {
    // RadiusNeighbors32: the radius goes through DistanceMetric32's
    // float32 _dist_to_rdist.
    const float rf = float(r);
    const float r2 = rf * rf;
    return v <= double(r2);
  }
  return v <= r * r;
}

template <class T>
void Neighbors<T>::radius_indices(const double* q, bool q_is_f32, double r,
                                  std::vector<std::int64_t>* out) const {
  out->clear();
  if (brute_) {
    const double qn = dot_sequential(q, q, d_);
    for (std::size_t j = 0; j < n_; ++j) {
      if (brute_within(brute_v(q, qn, j), q_is_f32, r)) out->push_back(std::int64_t(j));
    }
    return;
  }
  ranges_.clear();
  tree_->query_radius(q, r, &ranges_);
  const auto& idx = tree_->idx_array();
  for (const auto& rg : ranges_) {
    for (std::int64_t p = rg.begin; p < rg.end; ++p) out->push_back(idx[std::size_t(p)]);
  }
}

template <class T>
std::int64_t Neighbors<T>::radius_rows(const double* q, bool q_is_f32, double r,
                                       std::vector<T>* rows) const {
  rows->clear();
  if (brute_) {
    const double qn = dot_sequential(q, q, d_);
    std::int64_t m = 0;
    for (std::size_t j = 0; j < n_; ++j) {
      if (brute_within(brute_v(q, qn, j), q_is_f32, r)) {
        rows->insert(rows->end(), rows_ + j * d_, rows_ + (j + 1) * d_);
        ++m;
      }
    }
    return m;
  }
  ranges_.clear();
  const std::int64_t m = tree_->query_radius(q, r, &ranges_);
  rows->resize(std::size_t(m) * d_);
  T* dst = rows->data();
  for (const auto& rg : ranges_) {
    const std::size_t len = std::size_t(rg.end - rg.begin) * d_;
    std::copy_n(&tree_rows_[std::size_t(rg.begin) * d_], len, dst);
    dst += len;
  }
  return m;
}

template <class T>
std::int64_t Neighbors<T>::nearest(const T* q, double* distance) const {
  for (std::size_t j = 0; j < d_; ++j) qbuf_[j] = double(q[j]);
  if (brute_) {
    // ArgKmin: heap of k = 1 on v, replaced only by a strictly smaller value.
    const double qn = dot_sequential(qbuf_.data(), qbuf_.data(), d_);
    double best = std::numeric_limits<double>::infinity();
    std::int64_t best_j = -1;
    for (std::size_t j = 0; j < n_; ++j) {
      const double v = brute_v(qbuf_.data(), qn, j);
      if (v < best) {
        best = v;
        best_j = std::int64_t(j);
      }
    }
    *distance = brute_reported_distance<T>(best);
    return best_j;
  }
  double rd = 0;
  const std::int64_t i = tree_->nearest(qbuf_.data(), &rd);
  *distance = std::sqrt(rd);
  return i;
}

template class Neighbors<float>;
template class Neighbors<double>;

}  // namespace msprune::cluster::detail
