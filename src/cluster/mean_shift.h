#pragma once
// Mean shift with a flat kernel, giving scikit-learn 1.2.1's answers bit for
// bit (sklearn/cluster/_mean_shift.py with the NearestNeighbors paths it
// uses; DESIGN.md section 3, docs/meanshift.md for every detail).
//
// Points are row-major: x.size() == n * n_features. float32 input is
// computed in float32 wherever scikit-learn does (np.mean of float32 points,
// the convergence norm, bin seeds), float64 input in float64.
//
// Nothing here throws or aborts on bad input: every result carries `error`,
// empty on success, otherwise a sentence naming the problem (and the index
// of an offending value).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace msprune::cluster {

struct BandwidthOptions {
  // k = int(n * quantile) neighbours (at least 1), counting the point itself.
  double quantile = 0.3;
  // Unset: every point, in input order (sklearn's n_samples=None). Set: the
  // first n_samples entries of numpy's RandomState(random_state)
  // .permutation(n), in that order - sklearn's subsample, reproduced exactly.
  // n_samples >= n still permutes (the paper's scripts pass n_samples=len).
  std::optional<std::size_t> n_samples;
  std::uint32_t random_state = 0;
};

struct BandwidthResult {
  double bandwidth = 0;    // mean k-th neighbour distance; 0 for constant input
  std::size_t n_used = 0;  // points the estimate was computed on
  std::int64_t k = 0;      // neighbours per point
  std::string error;
  bool ok() const { return error.empty(); }
};

BandwidthResult estimate_bandwidth(std::span<const float> x, std::size_t n_features,
                                   const BandwidthOptions& opt = {});
BandwidthResult estimate_bandwidth(std::span<const double> x, std::size_t n_features,
                                   const BandwidthOptions& opt = {});

struct MeanShiftOptions {
  bool bin_seeding = false;  // sklearn's default; pruning uses true
  std::int64_t min_bin_freq = 1;
  bool cluster_all = true;   // false: points farther than bandwidth get -1
  std::int64_t max_iter = 300;
  // Explicit seeds (row-major, n_seeds x n_features), used as a float64
  // array would be in sklearn. Empty: bin seeds or the points themselves.
  std::span<const double> seeds;
  // Called now and then during the hill climbs with (seeds done, seeds in
  // total) - for progress bars on long runs. May be empty.
  std::function<void(std::size_t, std::size_t)> progress;
};

struct MeanShiftResult {
  // n_clusters x n_features, row-major, in sklearn's order (by intensity,
  // then by centre, both descending). Each value is exactly representable
  // in the input type.
  std::vector<double> centers;
  std::size_t n_features = 0;
  // sklearn's "intensity": points within bandwidth of each centre's last
  // mean (the sort key).
  std::vector<std::int64_t> intensity;
  // Points labelled with each centre.
  std::vector<std::int64_t> counts;
  std::vector<std::int64_t> labels;  // per point; -1 = orphan (cluster_all=false)
  std::int64_t n_iter = 0;           // max iterations over all seeds
  std::int64_t n_seeds = 0;
  std::string error;
  bool ok() const { return error.empty(); }
  std::size_t n_clusters() const { return n_features ? centers.size() / n_features : 0; }
};

MeanShiftResult mean_shift(std::span<const float> x, std::size_t n_features, double bandwidth,
                           const MeanShiftOptions& opt = {});
MeanShiftResult mean_shift(std::span<const double> x, std::size_t n_features, double bandwidth,
                           const MeanShiftOptions& opt = {});

// sklearn's get_bin_seeds: rows of float32 seeds (as doubles), or the points
// themselves when every point would get its own bin. Exposed for tests.
struct BinSeeds {
  std::vector<double> seeds;  // n_seeds x n_features
  bool points_are_seeds = false;
  std::string error;
};
BinSeeds get_bin_seeds(std::span<const float> x, std::size_t n_features, double bin_size,
                       std::int64_t min_bin_freq);
BinSeeds get_bin_seeds(std::span<const double> x, std::size_t n_features, double bin_size,
                       std::int64_t min_bin_freq);

// The first offending index of a non-finite value, or -1.
std::int64_t first_non_finite(std::span<const float> x);
std::int64_t first_non_finite(std::span<const double> x);

}  // namespace msprune::cluster
