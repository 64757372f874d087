#pragma once
// Choosing which channels to prune, from the |gamma| of every BN layer:
//
//  * mean shift (Xu & Lai): cluster |gamma| per layer (Scope::kLayer) or per
//    group of layers sharing a resolution stage (Scope::kStage, one threshold
//    for the group) with msprune::cluster::choose_threshold; keep
//    |gamma| > threshold. No global ratio is chosen by hand.
//  * Network Slimming, --percent P: one global threshold, the P-quantile of
//    all prunable |gamma| (the floor(P*N)-th smallest value), keep
//    |gamma| > threshold.
//  * Network Slimming at an exact count (--target-ratio R, --match REPORT):
//    prune exactly n channels, the smallest |gamma| over all prunable layers
//    (ties: earlier layer, lower channel first), never touching the channels
//    the floor reserves — so it can match another run channel for channel.
//
// The floor (--min-keep) keeps in every prunable layer at least
// max(1, count, ceil(fraction * channels in use)) channels, the largest
// |gamma|; a layer's result says whether it acted. Layers that are not
// prunable (DenseNet's first BN) keep everything and join no group.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "prune/masks.h"

namespace msprune::prune {

// kAuthors: the grouping of the authors' VGG script (bslsbdd/MeanShift-
// Pruning): BN 0-2, 3-5, 6-8 and 9-12 of VGG-16, which does not follow
// VGG-16's stages (BN 0-1, 2-3, 4-6, 7-9, 10-12); for VGG-16 only. We cluster
// |gamma| there, not the script's signed gamma.
enum class Scope { kLayer, kStage, kAuthors };
const char* scope_name(Scope s);

// --min-keep: a fraction (0 < f < 1) of each layer's channels in use, or a
// count (a whole number >= 1). Default: 1 channel.
struct Floor {
  double fraction = 0;
  int64_t count = 1;
  static Floor parse(const std::string& s);  // throws msprune::Error
  int64_t required(int64_t in_use) const;    // max(1, count, ceil(fraction * n)), at most n
  std::string str() const;
};

struct MeanShiftConfig {
  Scope scope = Scope::kLayer;
  double quantile = 0.3;
  std::string policy = "min-centre";  // cluster::parse_policy names
  Floor floor;
};

// The paper's defaults for a family: VGG clusters per stage at quantile 0.1,
// PreResNet and DenseNet per layer at 0.3.
MeanShiftConfig default_meanshift_config(models::Arch arch);

// One clustering problem: a layer, or all prunable layers of a stage.
struct GroupResult {
  std::string name;             // the layer's name, or "stage2"
  int stage = 0;
  std::vector<size_t> layers;   // indices into the layer list
  int64_t n = 0;                // |gamma| values clustered
  double mean_abs_gamma = 0;
  double bandwidth = 0;
  bool bandwidth_zero = false;  // all values equal (or too few): everything kept
  std::vector<double> centres;  // sklearn order (by intensity)
  std::vector<int64_t> counts;
  double threshold = 0;         // keep |gamma| > threshold
  std::vector<float> values;    // the clustered |gamma| (for plots)
  int step = -1;                // --fit-epc ladder: the cluster::step_threshold step used (-1: the policy's own)
};

struct LayerResult {
  std::string name;
  int stage = 0;
  bool prunable = true;
  int group = -1;               // index into Decision::groups (mean shift)
  int64_t total = 0;            // channels in use before
  int64_t kept = 0;             // after
  int64_t floor = 0;            // channels the floor guarantees
  bool floor_acted = false;     // the floor kept channels the rule would have pruned
  double mean_abs_gamma = 0, min_abs_gamma = 0, max_abs_gamma = 0;
  double threshold = 0;         // effective: keep |gamma| > threshold (after the floor)
};

struct Decision {
  std::string method;           // "meanshift" or "slimming"
  std::string rule;             // human summary, e.g. "stage scope, quantile 0.1, min-centre"
  MeanShiftConfig meanshift;    // when method == "meanshift"
  double percent = -1;          // slimming --percent (else -1)
  int64_t target_pruned = -1;   // slimming at an exact count (else -1)
  double global_threshold = 0;  // slimming --percent
  Floor floor;
  Masks masks;
  std::vector<GroupResult> groups;
  std::vector<LayerResult> layers;
  int64_t prunable_before = 0, prunable_after = 0;  // channels in use of prunable layers
  int level = 0;                // mean shift: the --fit-epc ladder level (0: mean shift's own choice)
  double pruned_ratio() const;  // 1 - after / before
};

Decision decide_meanshift(const std::vector<LayerGammas>& layers, const MeanShiftConfig& cfg);
Decision decide_slimming_percent(const std::vector<LayerGammas>& layers, double percent, const Floor& floor);
// Throws if the floor leaves fewer than `prune` prunable channels.
Decision decide_slimming_count(const std::vector<LayerGammas>& layers, int64_t prune, const Floor& floor);

// The mean-shift ladder that `prune --fit-epc` walks, from `level0` (what
// decide_meanshift returned for the same layers): level 0 is level0 itself;
// at level s >= 1 every group's threshold is cluster::step_threshold(step s)
// of its own centres (1: the valley between its two lowest centres, 2: its
// 2nd-lowest centre, 3: the valley to the 3rd, ...), a group with fewer
// steps staying at its highest (never above its largest centre), a group
// without centres (bandwidth 0) keeping everything. The floor applies as
// always. Each level prunes every channel the level below prunes, and maybe
// more. Throws msprune::Error if level0 is not a mean-shift decision for
// `layers` or level is outside [0, meanshift_levels(level0)].
Decision decide_meanshift_level(const std::vector<LayerGammas>& layers, const Decision& level0, int level);
// The highest level of that ladder (0: no level prunes more than level0).
int meanshift_levels(const Decision& level0);
// "mean shift (min-centre)" for level 0, "cluster level 2 (2nd centre)", ...
std::string meanshift_level_name(const Decision& level0, int level);

// The most channels decide_slimming_count can prune: every prunable channel
// the floor does not reserve.
int64_t max_prunable(const std::vector<LayerGammas>& layers, const Floor& floor);

// A random-channel control: in every prunable layer, keep exactly
// `kept[name]` channels (e.g. another decision's per-layer counts) chosen
// uniformly at random (std::mt19937_64 seeded with `seed`), ignoring |gamma|.
// Throws if a prunable layer is missing from `kept` or its count is outside
// [1, channels in use].
Decision decide_random_counts(const std::vector<LayerGammas>& layers, const std::map<std::string, int64_t>& kept,
                              uint64_t seed);

// Number of channels to prune for a target ratio (rounded to nearest).
int64_t count_for_ratio(const std::vector<LayerGammas>& layers, double ratio);

}  // namespace msprune::prune
