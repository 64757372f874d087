#pragma once
// Pruning thresholds from mean shift on |gamma| (the BatchNorm scales of one
// layer or one group of layers). This is the call src/prune/ makes:
//
//   msprune::cluster::ThresholdOptions opt;            // the paper's defaults
//   auto r = msprune::cluster::choose_threshold(abs_gamma, opt);
//   if (!r.ok()) { ... r.error names the problem ... }
//   // r.keep[i] == 1  <=>  abs_gamma[i] > r.threshold; r.kept >= 1 always.
//
// Steps: bandwidth = estimate_bandwidth(|gamma|, quantile, n_samples = len)
// (what the paper's scripts call; a seeded permutation of all values), or the
// override; mean shift with bin seeding; then a policy picks the threshold:
//   * kMinCentre (the paper): the smallest cluster centre.
//   * kValley: between the smallest centre c0 and the next one c1, the lower
//     end of the widest gap between consecutive points of
//     {c0} + {values in (c0, c1)} + {c1} (lowest gap on ties). It cuts where
//     the distribution is emptiest instead of at the centre of the lowest
//     cluster.
// With a single cluster, kMinCentre still cuts at its centre (as the paper
// does) while kValley keeps everything. A zero bandwidth (all values equal,
// or n < 7 at quantile 0.3: k = 1 is the point itself) keeps everything and
// sets bandwidth_zero.
// The floor then guarantees max(1, min_keep_count, ceil(min_keep_fraction *
// n)) survivors, the largest values: if fewer pass, the threshold drops to
// the largest value below the floor's smallest survivor (floor_applied).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace msprune::cluster {

enum class ThresholdPolicy { kMinCentre, kValley };

// "min-centre" / "valley" (what the CLI and reports print).
const char* policy_name(ThresholdPolicy p);
// Parses "min-centre" (also "min-center") or "valley"; false if unknown.
bool parse_policy(const std::string& s, ThresholdPolicy* out);

struct ThresholdOptions {
  double quantile = 0.3;             // the paper: 0.3 (0.1 for its VGG groups)
  std::optional<double> bandwidth;   // set: skip estimate_bandwidth
  std::size_t n_samples = 0;         // 0: len(abs_gamma), as the paper
  bool bin_seeding = true;
  ThresholdPolicy policy = ThresholdPolicy::kMinCentre;
  double min_keep_fraction = 0.0;    // in [0, 1]
  std::size_t min_keep_count = 1;    // at least 1 survives regardless
};

struct ThresholdResult {
  double bandwidth = 0;
  bool bandwidth_zero = false;
  std::vector<double> centres;        // sklearn order (by intensity)
  std::vector<std::int64_t> counts;   // values labelled with each centre
  std::int64_t n_iter = 0;
  double threshold = 0;               // keep iff abs_gamma > threshold
  std::vector<std::uint8_t> keep;     // 1 = keep, per input value
  std::size_t kept = 0;
  bool floor_applied = false;
  std::string error;
  bool ok() const { return error.empty(); }
};

ThresholdResult choose_threshold(std::span<const float> abs_gamma, const ThresholdOptions& opt);

// A ladder of ever higher thresholds over one group's cluster centres (for
// `msprune prune --fit-epc`: prune more than mean shift chose, still at
// places the clustering marks). With the centres sorted by value c0 < c1 <
// ... < c(m-1):
//   step 2k     = ck, the (k+1)-th lowest centre (step 0: kMinCentre's choice);
//   step 2k + 1 = the valley between ck and c(k+1), computed as kValley does
//                 for c0 and c1 (step 1: kValley's choice).
// So there are 2m - 1 steps (0 without centres), each threshold >= the one
// before, none above the largest centre. The floor is not applied here.
std::size_t threshold_steps(std::size_t n_centres);
// The threshold at `step` (clamped to the last step) for the values that were
// clustered and their centres (any order, as ThresholdResult::centres).
// Requires at least one centre; throws nothing, returns NaN if there is none.
double step_threshold(std::span<const float> abs_gamma, std::span<const double> centres, std::size_t step);
// "lowest centre", "valley between the 2nd and 3rd centres", "3rd centre", ...
std::string step_name(std::size_t step);

}  // namespace msprune::cluster
