// MeanShift.fit of scikit-learn 1.2.1, step for step (_mean_shift.py):
//
//  1. seeds: given, or get_bin_seeds (bin_seeding), or the points.
//  2. per seed (_mean_shift_single_seed): mean = seed; repeat { N = points
//     within bandwidth (inclusive); stop if N is empty; mean = np.mean(N);
//     stop if |mean - old| < 1e-3 * bandwidth or iterations == max_iter;
//     iterations += 1 }. Keep (mean, |N|) when |N| > 0; n_iter = max of the
//     iteration counts over all seeds.
//  3. equal means merge (the later seed's |N| wins, as a dict assignment);
//     sort by (|N|, centre) descending; walk the list and drop every centre
//     within bandwidth of a kept one.
//  4. labels: nearest centre (NearestNeighbors(n_neighbors=1)); with
//     cluster_all=false, points farther than bandwidth get -1.
//
// All neighbour queries go through Neighbors (neighbors.h), which answers as
// sklearn's NearestNeighbors does, including the order of the radius results
// (np.mean of float values depends on it).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <unordered_map>

#include "cluster/mean_shift.h"
#include "cluster/neighbors.h"
#include "cluster/numpy_sum.h"
#include "cluster/validate.h"

namespace msprune::cluster {

namespace detail {
namespace {

// Hash of a row of values where -0.0 and 0.0 (equal keys) hash alike.
template <class T>
struct RowHash {
  std::size_t d;
  const std::vector<T>* keys;
  std::size_t operator()(std::size_t row) const {
    std::size_t h = 1469598103934665603ull;
    for (std::size_t j = 0; j < d; ++j) {
      T v = (*keys)[row * d + j] + T(0);  // -0.0 + 0.0 == +0.0
      unsigned char b[sizeof(T)];
      std::memcpy(b, &v, sizeof(T));
      for (unsigned char c : b) h = (h ^ c) * 1099511628211ull;
    }
    return h;
  }
};
template <class T>
struct RowEq {
  std::size_t d;
  const std::vector<T>* keys;
  bool operator()(std::size_t a, std::size_t b) const {
    for (std::size_t j = 0; j < d; ++j) {
      if (!((*keys)[a * d + j] == (*keys)[b * d + j])) return false;
    }
    return true;
  }
};

// An insertion-ordered set of rows (Python dict keys), returning the index
// of each distinct row.
template <class T>
class RowDict {
 public:
  explicit RowDict(std::size_t d)
      : d_(d), map_(16, RowHash<T>{d, &keys_}, RowEq<T>{d, &keys_}) {}
  // Index of `row` (inserted at the end if new).
  std::size_t find_or_insert(const T* row) {
    const std::size_t cand = keys_.size() / d_;
    keys_.insert(keys_.end(), row, row + d_);
    auto [it, inserted] = map_.emplace(cand, cand);
    if (!inserted) keys_.resize(cand * d_);
    return it->second;
  }
  std::size_t size() const { return keys_.size() / d_; }
  const T* row(std::size_t i) const { return &keys_[i * d_]; }

 private:
  std::size_t d_;
  std::vector<T> keys_;
  std::unordered_map<std::size_t, std::size_t, RowHash<T>, RowEq<T>> map_;
};

template <class T>
BinSeeds bin_seeds_impl(std::span<const T> xs, std::size_t d, double bin_size,
                        std::int64_t min_bin_freq) {
  BinSeeds out;
  if (std::string e = check_points(xs, d, "x"); !e.empty()) {
    out.error = e;
    return out;
  }
  if (!(bin_size >= 0.0) || std::isinf(bin_size)) {
    out.error = "bin size must be finite and >= 0, got " + describe_value(bin_size);
    return out;
  }
  if (min_bin_freq < 1) {
    out.error = "min_bin_freq must be at least 1, got " + std::to_string(min_bin_freq);
    return out;
  }
  const std::size_t n = xs.size() / d;
  if (bin_size == 0.0) {
    out.points_are_seeds = true;
    return out;
  }
  // np.round(point / bin_size): the division in the array's dtype (value-
  // based casting turns the float64 scalar into float32 for float32 rows),
  // then round half to even.
  const T bs = T(bin_size);
  std::vector<T> keys(n * d);
  for (std::size_t i = 0; i < n * d; ++i) keys[i] = std::nearbyint(xs[i] / bs);
  // Python dict of bins: distinct keys in order of first appearance.
  std::vector<T> bin_key;            // n_bins x d, the first-seen key of each bin
  std::vector<std::int64_t> freq;
  T kmin = keys[0], kmax = keys[0];
  for (std::size_t i = 0; i < n * d; ++i) {
    kmin = std::min(kmin, keys[i]);
    kmax = std::max(kmax, keys[i]);
  }
  if (d == 1 && double(kmax) - double(kmin) <= 4.0 * double(n) + 1024.0) {
    // 1-D with a small key range: count in an array, then order the bins
    // by the position of their first point.
    const std::size_t range = std::size_t(double(kmax) - double(kmin)) + 1;
    std::vector<std::int64_t> cnt(range, 0), first(range, -1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t b = std::size_t(double(keys[i]) - double(kmin));
      if (cnt[b]++ == 0) first[b] = std::int64_t(i);
    }
    std::vector<std::int64_t> firsts;
    for (std::size_t b = 0; b < range; ++b) {
      if (cnt[b]) firsts.push_back(first[b]);
    }
    std::sort(firsts.begin(), firsts.end());
    for (std::int64_t i : firsts) {
      bin_key.push_back(keys[std::size_t(i)]);
      freq.push_back(cnt[std::size_t(double(keys[std::size_t(i)]) - double(kmin))]);
    }
  } else {
    RowDict<T> bins(d);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t b = bins.find_or_insert(&keys[i * d]);
      if (b == freq.size()) freq.push_back(0);
      ++freq[b];
    }
    for (std::size_t b = 0; b < bins.size(); ++b) bin_key.insert(bin_key.end(), bins.row(b), bins.row(b) + d);
  }
  // np.array([...], dtype=np.float32), then * bin_size in float32.
  const float bsf = float(bin_size);
  std::size_t kept = 0;
  for (std::size_t b = 0; b < freq.size(); ++b) {
    if (freq[b] < min_bin_freq) continue;
    ++kept;
    for (std::size_t j = 0; j < d; ++j) {
      const float k32 = float(bin_key[b * d + j]);
      out.seeds.push_back(double(k32 * bsf));
    }
  }
  if (kept == n) {  // "Binning data failed": the points themselves
    out.seeds.clear();
    out.points_are_seeds = true;
  }
  return out;
}

enum class Kind { kF32, kData, kF64 };  // dtype of a query / seed array

template <class T>
bool is_f32(Kind k) {
  return k == Kind::kF32 || (k == Kind::kData && std::is_same_v<T, float>);
}

// np.linalg.norm(new - old): the difference in the promoted dtype, then
// x.dot(x) (numpy's float32 dot sums float32 products in double and rounds
// once; float64 is a plain left-to-right sum), then sqrt in that dtype.
template <class T>
double shift_norm(const T* mean, const double* old, Kind old_kind, std::size_t d) {
  if (std::is_same_v<T, float> && old_kind != Kind::kF64) {
    double dot = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const float diff = float(mean[j]) - float(old[j]);
      dot += double(diff * diff);
    }
    return double(std::sqrt(float(dot)));
  }
  double dot = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    const double diff = double(mean[j]) - old[j];
    dot += diff * diff;
  }
  return std::sqrt(dot);
}

template <class T>
MeanShiftResult mean_shift_impl(std::span<const T> xs, std::size_t d, double bandwidth,
                                const MeanShiftOptions& opt) {
  MeanShiftResult res;
  res.n_features = d;
  if (std::string e = check_points(xs, d, "x"); !e.empty()) {
    res.error = e;
    return res;
  }
  if (!(bandwidth > 0.0) || std::isinf(bandwidth)) {
    res.error = bandwidth == 0.0
                    ? std::string("bandwidth is zero (all values equal, or too few points)")
                    : "bandwidth must be finite and > 0, got " + describe_value(bandwidth);
    return res;
  }
  if (opt.max_iter < 0) {
    res.error = "max_iter must be >= 0, got " + std::to_string(opt.max_iter);
    return res;
  }
  if (opt.min_bin_freq < 1) {
    res.error = "min_bin_freq must be at least 1, got " + std::to_string(opt.min_bin_freq);
    return res;
  }
  const std::size_t n = xs.size() / d;

  // 1. Seeds.
  std::vector<double> seeds;
  Kind seed_kind = Kind::kData;
  if (!opt.seeds.empty()) {
    if (std::string e = check_points(opt.seeds, d, "seeds"); !e.empty()) {
      res.error = e;
      return res;
    }
    seeds.assign(opt.seeds.begin(), opt.seeds.end());
    seed_kind = Kind::kF64;
  } else if (opt.bin_seeding) {
    BinSeeds bs = bin_seeds_impl(xs, d, bandwidth, opt.min_bin_freq);
    if (!bs.error.empty()) {
      res.error = bs.error;
      return res;
    }
    if (bs.points_are_seeds) {
      seeds.assign(xs.begin(), xs.end());
    } else {
      seeds = std::move(bs.seeds);
      seed_kind = Kind::kF32;
    }
  } else {
    seeds.assign(xs.begin(), xs.end());
  }
  const std::size_t n_seeds = seeds.size() / d;
  res.n_seeds = std::int64_t(n_seeds);
  if (n_seeds == 0) {
    res.error = "no seeds: no bin holds at least min_bin_freq = " +
                std::to_string(opt.min_bin_freq) + " points";
    return res;
  }

  // 2. Hill-climb every seed.
  const Neighbors<T> nbrs(xs.data(), n, d, 5);
  const double stop_thresh = 1e-3 * bandwidth;
  RowDict<T> centres(d);
  std::vector<std::int64_t> intensity;
  std::vector<T> within, mean(d);
  std::vector<double> cur(d);
  std::int64_t n_iter = 0;
  const std::size_t report_every = std::max<std::size_t>(1, n_seeds / 200);
  for (std::size_t s = 0; s < n_seeds; ++s) {
    if (opt.progress && s % report_every == 0) opt.progress(s, n_seeds);
    std::copy_n(&seeds[s * d], d, cur.data());
    Kind kind = seed_kind;
    std::int64_t completed = 0, count = 0;
    for (;;) {
      const std::int64_t m = nbrs.radius_rows(cur.data(), is_f32<T>(kind), bandwidth, &within);
      count = m;
      if (m == 0) break;
      numpy_mean_rows(within.data(), std::size_t(m), d, mean.data());
      const double shift = shift_norm(mean.data(), cur.data(), kind, d);
      for (std::size_t j = 0; j < d; ++j) cur[j] = double(mean[j]);
      kind = Kind::kData;
      if (shift < stop_thresh || completed == opt.max_iter) break;
      ++completed;
    }
    n_iter = std::max(n_iter, completed);
    if (count > 0) {  // the last query had points, so `mean` is their mean
      const std::size_t c = centres.find_or_insert(mean.data());
      if (c == intensity.size()) intensity.push_back(0);
      intensity[c] = count;  // dict assignment: the last seed wins
    }
  }
  if (opt.progress) opt.progress(n_seeds, n_seeds);
  res.n_iter = n_iter;
  if (centres.size() == 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%f", bandwidth);
    res.error = std::string("no point was within bandwidth=") + buf + " of any seed";
    return res;
  }

  // 3. Sort by (intensity, centre) descending, then suppress near duplicates.
  std::vector<std::size_t> order(centres.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (intensity[a] != intensity[b]) return intensity[a] > intensity[b];
    return std::lexicographical_compare(centres.row(b), centres.row(b) + d, centres.row(a),
                                        centres.row(a) + d);
  });
  std::vector<T> sorted(order.size() * d);
  for (std::size_t i = 0; i < order.size(); ++i) {
    std::copy_n(centres.row(order[i]), d, &sorted[i * d]);
  }
  std::vector<char> unique(order.size(), 1);
  {
    const Neighbors<T> cn(sorted.data(), order.size(), d, 5);
    std::vector<std::int64_t> idx;
    std::vector<double> q(d);
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (!unique[i]) continue;
      for (std::size_t j = 0; j < d; ++j) q[j] = double(sorted[i * d + j]);
      cn.radius_indices(q.data(), std::is_same_v<T, float>, bandwidth, &idx);
      for (std::int64_t k : idx) unique[std::size_t(k)] = 0;
      unique[i] = 1;
    }
  }
  std::vector<T> kept;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (!unique[i]) continue;
    kept.insert(kept.end(), &sorted[i * d], &sorted[(i + 1) * d]);
    res.intensity.push_back(intensity[order[i]]);
  }
  const std::size_t n_clusters = kept.size() / d;
  res.centers.assign(kept.begin(), kept.end());

  // 4. Labels: nearest centre.
  const Neighbors<T> ln(kept.data(), n_clusters, d, 1);
  res.labels.resize(n);
  res.counts.assign(n_clusters, 0);
  for (std::size_t i = 0; i < n; ++i) {
    double dist = 0;
    std::int64_t c = ln.nearest(&xs[i * d], &dist);
    if (!opt.cluster_all && !(dist <= bandwidth)) c = -1;
    res.labels[i] = c;
    if (c >= 0) ++res.counts[std::size_t(c)];
  }
  return res;
}

}  // namespace
}  // namespace detail

MeanShiftResult mean_shift(std::span<const float> x, std::size_t n_features, double bandwidth,
                           const MeanShiftOptions& opt) {
  return detail::mean_shift_impl(x, n_features, bandwidth, opt);
}
MeanShiftResult mean_shift(std::span<const double> x, std::size_t n_features, double bandwidth,
                           const MeanShiftOptions& opt) {
  return detail::mean_shift_impl(x, n_features, bandwidth, opt);
}
BinSeeds get_bin_seeds(std::span<const float> x, std::size_t n_features, double bin_size,
                       std::int64_t min_bin_freq) {
  return detail::bin_seeds_impl(x, n_features, bin_size, min_bin_freq);
}
BinSeeds get_bin_seeds(std::span<const double> x, std::size_t n_features, double bin_size,
                       std::int64_t min_bin_freq) {
  return detail::bin_seeds_impl(x, n_features, bin_size, min_bin_freq);
}

}  // namespace msprune::cluster
