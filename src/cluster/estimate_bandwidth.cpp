// estimate_bandwidth: scikit-learn 1.2.1 semantics, bit for bit.
//
//   X = X[RandomState(0).permutation(n)[:n_samples]]   (only if n_samples set)
//   k = max(1, int(n * quantile))
//   d_i = distance from X[i] to its k-th nearest neighbour, X[i] itself
//         (distance 0) being the first
//   bandwidth = (sum over batches of 500 rows of np.sum(d_batch)) / n
//
// The distances are the ones NearestNeighbors(n_neighbors=k) returns: from
// the KD tree, sqrt(fl((x - y)^2)) summed over features in float64; from
// the brute path (k >= n // 2, or more than 15 features), the GEMM form of
// neighbors.h. Only the k-th value matters, never which point it belongs to.
//
// 1-D fast path: on sorted values the k nearest of a point form a window of
// k consecutive values; the best window is found by binary search, O(log k)
// per distinct value. The brute path's distances are not monotone in |x - y|
// (rounding), so there the k-th is selected exactly among the few values
// whose true distance lies within the rounding bound of the k-th one.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "cluster/legacy_rng.h"
#include "cluster/mean_shift.h"
#include "cluster/neighbors.h"
#include "cluster/numpy_sum.h"
#include "cluster/radix_sort.h"
#include "cluster/validate.h"

namespace msprune::cluster {

namespace detail {

std::string describe_value(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

namespace {

constexpr std::size_t kBatch = 500;  // gen_batches(len(X), 500)

// k-th smallest |fl(x - s_j)| over the sorted values s, x = s[p] (first
// occurrence). Windows [L, L + k - 1] containing p; A(L) = x - s[L] falls and
// B(L) = s[L + k - 1] - x rises with L, the answer is min over L of max(A, B).
// The first L with A(L) <= B(L) is found by galloping from `*hint` (the
// previous point's answer: it moves little from one value to the next).
double kth_distance_sorted(const std::vector<double>& s, std::size_t p, std::int64_t k,
                           std::int64_t* hint) {
  const std::int64_t n = std::int64_t(s.size());
  const double x = s[p];
  const std::int64_t lo = std::max<std::int64_t>(0, std::int64_t(p) - k + 1);
  const std::int64_t hi = std::min<std::int64_t>(std::int64_t(p), n - k);
  auto A = [&](std::int64_t L) { return x - s[std::size_t(L)]; };
  auto B = [&](std::int64_t L) { return s[std::size_t(L + k - 1)] - x; };
  auto P = [&](std::int64_t L) { return A(L) <= B(L); };
  // First L in [lo, hi] with P(L), or hi + 1: P is false, then true.
  const std::int64_t g = std::clamp(*hint, lo, hi);
  std::int64_t a, b;
  if (P(g)) {
    b = g;
    a = lo;
    for (std::int64_t step = 1;; step <<= 1) {
      const std::int64_t c = g - step;
      if (c < lo) break;
      if (!P(c)) {
        a = c + 1;
        break;
      }
      b = c;
    }
  } else {
    a = g + 1;
    b = hi + 1;
    for (std::int64_t step = 1;; step <<= 1) {
      const std::int64_t c = g + step;
      if (c > hi) break;
      if (P(c)) {
        b = c;
        break;
      }
      a = c + 1;
    }
  }
  while (a < b) {
    const std::int64_t mid = a + (b - a) / 2;
    if (P(mid)) {
      b = mid;
    } else {
      a = mid + 1;
    }
  }
  *hint = a;
  if (a > hi) return A(hi);  // every window is wider on the left
  double best = B(a);
  if (a > lo) best = std::min(best, A(a - 1));
  return best;
}

// Brute-path k-th distance value v (before sqrt) for x = s[p], exact: the
// k-th smallest of gemm_rdist over all points. v differs from (x - y)^2 by at
// most ~3 ulp of (|x| + |y|)^2, so only points whose true distance is within
// that bound of the k-th true distance D can change the answer.
double kth_brute_v_sorted(const std::vector<double>& s, std::size_t p, std::int64_t k, double D) {
  const std::size_t n = s.size();
  const double x = s[p];
  const double M = std::max(std::fabs(s.front()), std::fabs(s.back()));
  const double u = std::ldexp(1.0, -53);
  const double E = 16 * u * (std::fabs(x) + M) * (std::fabs(x) + M) + 1e-290;
  const double low = std::sqrt(std::max(0.0, D * D - 2 * E)) * (1 - 1e-15);
  const double high = std::sqrt(D * D + 2 * E) * (1 + 1e-15);
  const double xn = x * x;
  auto v_of = [&](double y) { return gemm_rdist(xn, -2.0 * (x * y), y * y); };

  // Left side s[0..p]: fl(x - s[j]) falls as j rises. Right side s[p..n).
  auto dist = [&](std::size_t j) { return std::fabs(x - s[j]); };
  // Positions with dist < low (definitely below) form [lb_begin, lb_end);
  // candidates with low <= dist <= high are [cl, lb_begin) and [lb_end, cr).
  auto first_left = [&](double t, bool strict) {  // first j <= p with dist(j) < t (or <= t)
    std::size_t a = 0, b = p + 1;
    while (a < b) {
      std::size_t m = a + (b - a) / 2;
      bool in = strict ? dist(m) < t : dist(m) <= t;
      if (in) b = m; else a = m + 1;
    }
    return a;
  };
  auto end_right = [&](double t, bool strict) {  // one past the last j >= p with dist(j) < t (<= t)
    std::size_t a = p, b = n;
    while (a < b) {
      std::size_t m = a + (b - a) / 2;
      bool in = strict ? dist(m) < t : dist(m) <= t;
      if (in) a = m + 1; else b = m;
    }
    return a;
  };
  const std::size_t lb_begin = first_left(low, true);
  const std::size_t lb_end = std::max(end_right(low, true), lb_begin);
  const std::size_t cl = first_left(high, false);
  const std::size_t cr = end_right(high, false);
  const std::int64_t below = std::int64_t(lb_end - lb_begin);

  struct Cand {
    double v;
    std::int64_t mult;
  };
  std::vector<Cand> cand;
  auto add_run = [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e;) {
      const std::size_t r = std::size_t(std::upper_bound(s.begin() + std::ptrdiff_t(j),
                                                         s.begin() + std::ptrdiff_t(e), s[j]) -
                                        s.begin());
      cand.push_back({v_of(s[j]), std::int64_t(r - j)});
      j = r;
    }
  };
  add_run(cl, lb_begin);
  add_run(lb_end, cr);
  // The (k - already_below)-th smallest candidate value, by multiplicity.
  auto select = [&](std::int64_t already_below) {
    std::sort(cand.begin(), cand.end(), [](const Cand& a, const Cand& b) { return a.v < b.v; });
    std::int64_t seen = already_below;
    for (const auto& c : cand) {
      seen += c.mult;
      if (seen >= k) return c.v;
    }
    return cand.back().v;
  };
  std::int64_t total = 0;
  for (const auto& c : cand) total += c.mult;
  if (below < k && k <= below + total) return select(below);
  // The bound did not hold (should not happen): select among all values.
  cand.clear();
  add_run(0, n);
  return select(0);
}

template <class T>
void kth_distances_1d(const T* x, std::size_t n, std::int64_t k, bool brute, double* out) {
  const SortedValues sv = sort_with_index(x, n);
  const std::vector<double>& s = sv.value;
  std::int64_t hint = 0;
  for (std::size_t p = 0; p < n;) {
    std::size_t q = p;
    while (q < n && s[q] == s[p]) ++q;  // one answer per distinct value
    const double D = kth_distance_sorted(s, p, k, &hint);
    double dist;
    if (brute) {
      const double v = kth_brute_v_sorted(s, p, k, D);
      dist = brute_reported_distance<T>(v);
    } else {
      dist = std::sqrt(D * D);  // KD tree: sqrt of rdist = fl(d * d)
    }
    for (std::size_t r = p; r < q; ++r) out[sv.index[r]] = dist;
    p = q;
  }
}

template <class T>
void kth_distances_nd(const T* x, std::size_t n, std::size_t d, std::int64_t k, bool brute,
                      double* out) {
  std::vector<double> up(n * d);
  for (std::size_t i = 0; i < n * d; ++i) up[i] = double(x[i]);
  std::vector<double> norms(n);
  if (brute) {
    for (std::size_t j = 0; j < n; ++j) norms[j] = dot_sequential(&up[j * d], &up[j * d], d);
  }
  std::vector<double> r(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double* a = &up[i * d];
    for (std::size_t j = 0; j < n; ++j) {
      const double* b = &up[j * d];
      if (brute) {
        r[j] = gemm_rdist(norms[i], middle_term(a, b, d), norms[j]);
      } else {
        double acc = 0;
        for (std::size_t c = 0; c < d; ++c) {
          const double t = a[c] - b[c];
          acc += t * t;
        }
        r[j] = acc;
      }
    }
    std::nth_element(r.begin(), r.begin() + (k - 1), r.end());
    const double v = r[std::size_t(k - 1)];
    out[i] = brute ? brute_reported_distance<T>(v) : std::sqrt(v);
  }
}

template <class T>
BandwidthResult estimate_impl(std::span<const T> xs, std::size_t d, const BandwidthOptions& opt) {
  BandwidthResult res;
  if (std::string e = check_points(xs, d, "x"); !e.empty()) {
    res.error = e;
    return res;
  }
  if (!(opt.quantile >= 0.0 && opt.quantile <= 1.0)) {
    res.error = "quantile must be in [0, 1], got " + describe_value(opt.quantile);
    return res;
  }
  if (opt.n_samples && *opt.n_samples == 0) {
    res.error = "n_samples must be at least 1";
    return res;
  }
  const std::size_t n_all = xs.size() / d;
  const T* x = xs.data();
  std::vector<T> sub;
  std::size_t n = n_all;
  if (opt.n_samples) {
    const auto perm = legacy_permutation(std::int64_t(n_all), opt.random_state);
    n = std::min(*opt.n_samples, n_all);
    sub.resize(n * d);
    for (std::size_t i = 0; i < n; ++i) {
      std::copy_n(x + std::size_t(perm[i]) * d, d, &sub[i * d]);
    }
    x = sub.data();
  }
  // int(X.shape[0] * quantile): a float64 product, truncated.
  std::int64_t k = std::int64_t(double(n) * opt.quantile);
  if (k < 1) k = 1;
  if (k > std::int64_t(n)) {
    res.error = "quantile " + describe_value(opt.quantile) + " asks for " + std::to_string(k) +
                " neighbours of " + std::to_string(n) + " points";
    return res;
  }
  const bool brute = sklearn_uses_brute(n, d, k);
  std::vector<double> dist(n);
  if (d == 1) {
    kth_distances_1d(x, n, k, brute, dist.data());
  } else {
    kth_distances_nd(x, n, d, k, brute, dist.data());
  }
  double bw = 0.0;
  for (std::size_t s = 0; s < n; s += kBatch) {
    bw += numpy_sum(dist.data() + s, std::min(kBatch, n - s));
  }
  res.bandwidth = bw / double(n);
  res.n_used = n;
  res.k = k;
  return res;
}

}  // namespace
}  // namespace detail

BandwidthResult estimate_bandwidth(std::span<const float> x, std::size_t n_features,
                                   const BandwidthOptions& opt) {
  return detail::estimate_impl(x, n_features, opt);
}

BandwidthResult estimate_bandwidth(std::span<const double> x, std::size_t n_features,
                                   const BandwidthOptions& opt) {
  return detail::estimate_impl(x, n_features, opt);
}

std::int64_t first_non_finite(std::span<const float> x) { return detail::first_non_finite_impl(x); }
std::int64_t first_non_finite(std::span<const double> x) { return detail::first_non_finite_impl(x); }

}  // namespace msprune::cluster
