#include "prune/decide.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

#include "cluster/threshold.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::prune {
namespace {

// The largest float below v, as a threshold that keeps every value >= v.
double just_below(float v) { return double(std::nextafter(v, -std::numeric_limits<float>::infinity())); }

void keep_above(const std::vector<float>& g, double threshold, std::vector<uint8_t>* keep) {
  keep->assign(g.size(), 0);
  for (size_t k = 0; k < g.size(); ++k) (*keep)[k] = double(g[k]) > threshold ? 1 : 0;
}

int64_t count_kept(const std::vector<uint8_t>& keep) { return std::accumulate(keep.begin(), keep.end(), int64_t(0)); }

// The floor for one layer, with the same rule as cluster::choose_threshold's:
// if fewer than `required` values pass, lower the threshold to the largest
// value below the required-th largest. Returns true if it acted.
bool apply_floor(const std::vector<float>& g, int64_t required, double* threshold, std::vector<uint8_t>* keep) {
  if (count_kept(*keep) >= required) return false;
  std::vector<float> desc(g);
  std::sort(desc.begin(), desc.end(), std::greater<float>());
  float v_req = desc[size_t(required - 1)];
  auto below = std::find_if(desc.begin() + required, desc.end(), [&](float v) { return v < v_req; });
  *threshold = below != desc.end() ? double(*below) : just_below(v_req);
  keep_above(g, *threshold, keep);
  return true;
}

// Fills the per-layer results that do not depend on the method and starts
// every mask at "keep all"; returns the prunable layer indices.
std::vector<size_t> start(Decision* d, const std::vector<LayerGammas>& layers, const Floor& floor) {
  d->floor = floor;
  d->masks = keep_all(layers);
  d->layers.clear();
  std::vector<size_t> prunable;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    LayerResult r;
    r.name = l.name;
    r.stage = l.stage;
    r.prunable = l.prunable;
    r.total = r.kept = int64_t(l.channels.size());
    if (!l.abs_gamma.empty()) {
      r.mean_abs_gamma = std::accumulate(l.abs_gamma.begin(), l.abs_gamma.end(), 0.0) / double(l.abs_gamma.size());
      auto [mn, mx] = std::minmax_element(l.abs_gamma.begin(), l.abs_gamma.end());
      r.min_abs_gamma = *mn;
      r.max_abs_gamma = *mx;
    }
    r.threshold = l.abs_gamma.empty() ? 0.0 : just_below(*std::min_element(l.abs_gamma.begin(), l.abs_gamma.end()));
    if (l.prunable) {
      r.floor = floor.required(r.total);
      prunable.push_back(i);
    }
    d->layers.push_back(r);
  }
  if (prunable.empty()) throw Error("the network has no prunable BatchNorm layer");
  return prunable;
}

// Stores a prunable layer's keep flags (per channel in use) into the decision.
void finish_layer(Decision* d, const std::vector<LayerGammas>& layers, size_t i, const std::vector<uint8_t>& keep,
                  double threshold) {
  d->masks[i] = to_mask(layers[i], keep);
  d->layers[i].kept = count_kept(keep);
  d->layers[i].threshold = threshold;
}

void totals(Decision* d) {
  d->prunable_before = d->prunable_after = 0;
  for (const auto& l : d->layers) {
    if (!l.prunable) continue;
    d->prunable_before += l.total;
    d->prunable_after += l.kept;
  }
}

// Applies a global threshold (or per-group thresholds already in `thr`) and the floor.
void threshold_layers(Decision* d, const std::vector<LayerGammas>& layers, const std::vector<size_t>& prunable,
                      const std::vector<double>& thr) {
  for (size_t k = 0; k < prunable.size(); ++k) {
    size_t i = prunable[k];
    double t = thr[k];
    std::vector<uint8_t> keep;
    keep_above(layers[i].abs_gamma, t, &keep);
    d->layers[i].floor_acted = apply_floor(layers[i].abs_gamma, d->layers[i].floor, &t, &keep);
    finish_layer(d, layers, i, keep, t);
  }
  totals(d);
}

}  // namespace

const char* scope_name(Scope s) {
  return s == Scope::kStage ? "stage" : s == Scope::kAuthors ? "authors" : "layer";
}

Floor Floor::parse(const std::string& s) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || s.empty() || !std::isfinite(v) || v <= 0)
    throw Error("--min-keep '" + s + "': expected a fraction in (0, 1) or a whole number of channels >= 1");
  Floor f;
  if (v < 1) {
    f.fraction = v;
  } else {
    if (v != std::floor(v) || v > 1e9)
      throw Error("--min-keep '" + s + "': a count of channels must be a whole number (or give a fraction below 1)");
    f.count = int64_t(v);
  }
  return f;
}

int64_t Floor::required(int64_t in_use) const {
  int64_t r = std::max<int64_t>({1, count, int64_t(std::ceil(fraction * double(in_use)))});
  return std::min(r, in_use);
}

std::string Floor::str() const {
  if (fraction > 0) return strf("%g of each layer (at least %lld)", fraction, (long long)count);
  return strf("%lld channel%s per layer", (long long)count, count == 1 ? "" : "s");
}

MeanShiftConfig default_meanshift_config(models::Arch arch) {
  MeanShiftConfig c;
  if (arch == models::Arch::kVgg) {
    c.scope = Scope::kStage;
    c.quantile = 0.1;
  }
  return c;
}

double Decision::pruned_ratio() const {
  return prunable_before ? 1.0 - double(prunable_after) / double(prunable_before) : 0.0;
}

Decision decide_meanshift(const std::vector<LayerGammas>& layers, const MeanShiftConfig& cfg) {
  cluster::ThresholdOptions opt;
  if (!cluster::parse_policy(cfg.policy, &opt.policy))
    throw Error("unknown threshold policy '" + cfg.policy + "' (expected min-centre or valley)");
  if (!(cfg.quantile > 0 && cfg.quantile <= 1))
    throw Error("quantile must be in (0, 1], got " + strf("%g", cfg.quantile));
  opt.quantile = cfg.quantile;
  opt.bin_seeding = true;
  opt.min_keep_count = 1;  // the per-layer floor is applied below
  opt.min_keep_fraction = 0;

  Decision d;
  d.method = "meanshift";
  d.meanshift = cfg;
  d.rule = strf("mean shift per %s, quantile %g, policy %s, bin seeding, floor %s", scope_name(cfg.scope),
                cfg.quantile, cluster::policy_name(opt.policy), cfg.floor.str().c_str());
  auto prunable = start(&d, layers, cfg.floor);

  // Groups: one per prunable layer, one per stage, or the authors' VGG-16
  // groups (in order of appearance).
  if (cfg.scope == Scope::kAuthors && prunable.size() != 13)
    throw Error(strf("--scope authors is the authors' VGG-16 grouping (13 BN layers); this network has %zu prunable "
                     "BN layers",
                     prunable.size()));
  auto group_key = [&](size_t k, size_t i) {
    if (cfg.scope == Scope::kStage) return layers[i].stage;
    if (cfg.scope == Scope::kAuthors) return k < 3 ? 0 : k < 6 ? 1 : k < 9 ? 2 : 3;  // BN 0-2, 3-5, 6-8, 9-12
    return int(k);
  };
  std::map<int, size_t> by_key;
  for (size_t k = 0; k < prunable.size(); ++k) {
    const size_t i = prunable[k];
    const int key = group_key(k, i);
    size_t g;
    if (by_key.count(key)) {
      g = by_key[key];
    } else {
      g = d.groups.size();
      GroupResult gr;
      gr.stage = layers[i].stage;
      gr.name = cfg.scope == Scope::kStage     ? "stage" + std::to_string(gr.stage)
                : cfg.scope == Scope::kAuthors ? "group" + std::to_string(key)
                                               : layers[i].name;
      d.groups.push_back(gr);
      by_key[key] = g;
    }
    d.groups[g].layers.push_back(i);
    d.layers[i].group = int(g);
  }

  std::vector<double> thr(layers.size(), 0.0);
  for (auto& g : d.groups) {
    for (size_t i : g.layers) g.values.insert(g.values.end(), layers[i].abs_gamma.begin(), layers[i].abs_gamma.end());
    g.n = int64_t(g.values.size());
    g.mean_abs_gamma = std::accumulate(g.values.begin(), g.values.end(), 0.0) / double(g.n);
    auto r = cluster::choose_threshold(g.values, opt);
    if (!r.ok()) throw Error("mean shift on " + g.name + ": " + r.error);
    g.bandwidth = r.bandwidth;
    g.bandwidth_zero = r.bandwidth_zero;
    g.centres = r.centres;
    g.counts = r.counts;
    g.threshold = r.threshold;
    for (size_t i : g.layers) thr[i] = r.threshold;
  }
  std::vector<double> per_prunable;
  for (size_t i : prunable) per_prunable.push_back(thr[i]);
  threshold_layers(&d, layers, prunable, per_prunable);
  return d;
}

int meanshift_levels(const Decision& level0) {
  size_t top = 0;
  bool any = false;
  for (const auto& g : level0.groups) {
    if (g.centres.empty()) continue;
    any = true;
    top = std::max(top, cluster::threshold_steps(g.centres.size()) - 1);
  }
  // Under the valley policy a single-centre group keeps everything at level
  // 0, so level 1 (its lowest centre) still prunes more there.
  if (any && level0.meanshift.policy == "valley") top = std::max<size_t>(top, 1);
  return int(top);
}

std::string meanshift_level_name(const Decision& level0, int level) {
  if (level == 0) return "mean shift (" + level0.meanshift.policy + ")";
  return strf("cluster level %d (%s)", level, cluster::step_name(size_t(level)).c_str());
}

Decision decide_meanshift_level(const std::vector<LayerGammas>& layers, const Decision& level0, int level) {
  if (level0.method != "meanshift" || level0.layers.size() != layers.size())
    throw Error("internal: decide_meanshift_level needs the mean-shift decision for the same layers");
  const int top = meanshift_levels(level0);
  if (level < 0 || level > top) throw Error(strf("internal: mean-shift ladder level %d outside [0, %d]", level, top));
  Decision d = level0;
  if (level == 0) return d;
  d.level = level;
  std::vector<double> thr(layers.size(), 0.0);
  for (auto& g : d.groups) {
    if (g.centres.empty()) {
      g.step = -1;  // bandwidth 0: everything kept, at every level
    } else {
      const size_t last = cluster::threshold_steps(g.centres.size()) - 1;
      g.step = int(std::min(size_t(level), last));
      g.threshold = cluster::step_threshold(g.values, g.centres, size_t(g.step));
    }
    for (size_t i : g.layers) thr[i] = g.threshold;
  }
  std::vector<size_t> prunable;
  std::vector<double> per_prunable;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!layers[i].prunable) continue;
    prunable.push_back(i);
    per_prunable.push_back(thr[i]);
  }
  threshold_layers(&d, layers, prunable, per_prunable);
  d.rule = level0.rule + strf(", raised to cluster level %d (each group's threshold at its %s, or its highest step)",
                              level, cluster::step_name(size_t(level)).c_str());
  return d;
}

int64_t max_prunable(const std::vector<LayerGammas>& layers, const Floor& floor) {
  int64_t n = 0;
  for (const auto& l : layers) {
    if (!l.prunable) continue;
    const auto total = int64_t(l.channels.size());
    n += total - floor.required(total);
  }
  return n;
}

Decision decide_slimming_percent(const std::vector<LayerGammas>& layers, double percent, const Floor& floor) {
  if (!(percent >= 0 && percent < 1))
    throw Error("--percent " + strf("%g", percent) +
                ": expected the fraction of channels to prune, in [0, 1) as in Network Slimming (0.7 prunes 70%)");
  Decision d;
  d.method = "slimming";
  d.percent = percent;
  auto prunable = start(&d, layers, floor);
  std::vector<float> all;
  for (size_t i : prunable) all.insert(all.end(), layers[i].abs_gamma.begin(), layers[i].abs_gamma.end());
  std::sort(all.begin(), all.end());
  auto n = int64_t(double(all.size()) * percent);
  d.global_threshold = n == 0 ? just_below(all.front()) : double(all[size_t(n - 1)]);
  d.rule = strf("Network Slimming: global threshold %.6g = the %lld-th smallest of %zu |gamma| (percent %g), floor %s",
                d.global_threshold, (long long)n, all.size(), percent, floor.str().c_str());
  threshold_layers(&d, layers, prunable, std::vector<double>(prunable.size(), d.global_threshold));
  return d;
}

int64_t count_for_ratio(const std::vector<LayerGammas>& layers, double ratio) {
  if (!(ratio >= 0 && ratio < 1)) throw Error("--target-ratio " + strf("%g", ratio) + ": expected a fraction in [0, 1)");
  int64_t n = 0;
  for (const auto& l : layers)
    if (l.prunable) n += int64_t(l.channels.size());
  return std::llround(ratio * double(n));
}

Decision decide_slimming_count(const std::vector<LayerGammas>& layers, int64_t prune, const Floor& floor) {
  Decision d;
  d.method = "slimming";
  d.target_pruned = prune;
  auto prunable = start(&d, layers, floor);
  // Every prunable channel in one total order: |gamma|, then layer, then channel.
  struct Ch {
    float g;
    size_t layer, pos;
  };
  std::vector<Ch> all;
  for (size_t i : prunable)
    for (size_t k = 0; k < layers[i].abs_gamma.size(); ++k) all.push_back({layers[i].abs_gamma[k], i, k});
  auto less = [](const Ch& a, const Ch& b) {
    if (a.g != b.g) return a.g < b.g;
    if (a.layer != b.layer) return a.layer < b.layer;
    return a.pos < b.pos;
  };
  std::sort(all.begin(), all.end(), less);
  // The floor reserves each layer's `floor` largest channels (last in the order).
  std::vector<std::vector<uint8_t>> reserved(layers.size());
  std::vector<int64_t> seen(layers.size(), 0);
  for (size_t i : prunable) reserved[i].assign(layers[i].abs_gamma.size(), 0);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (seen[it->layer] < d.layers[it->layer].floor) {
      reserved[it->layer][it->pos] = 1;
      ++seen[it->layer];
    }
  }
  int64_t candidates = 0;
  for (const auto& c : all) candidates += reserved[c.layer][c.pos] ? 0 : 1;
  if (prune < 0 || prune > candidates)
    throw Error(strf("cannot prune %lld of %zu channels: the floor (%s) keeps %lld, so at most %lld can go",
                     (long long)prune, all.size(), floor.str().c_str(), (long long)(int64_t(all.size()) - candidates),
                     (long long)candidates));
  // Without the floor, the first `prune` channels of the order would go; a
  // layer whose survivors that would leave under its floor is where it acted.
  std::vector<int64_t> plain_pruned(layers.size(), 0);
  for (int64_t k = 0; k < prune; ++k) ++plain_pruned[all[size_t(k)].layer];
  std::vector<std::vector<uint8_t>> keep(layers.size());
  std::vector<double> thr(layers.size(), 0.0);
  for (size_t i : prunable) {
    keep[i].assign(layers[i].abs_gamma.size(), 1);
    thr[i] = d.layers[i].threshold;  // keeps everything until something is pruned
  }
  int64_t done = 0;
  for (const auto& c : all) {
    if (done == prune) break;
    if (reserved[c.layer][c.pos]) continue;
    keep[c.layer][c.pos] = 0;
    thr[c.layer] = c.g;
    d.global_threshold = c.g;
    ++done;
  }
  for (size_t i : prunable) {
    d.layers[i].floor_acted = d.layers[i].total - plain_pruned[i] < d.layers[i].floor;
    finish_layer(&d, layers, i, keep[i], thr[i]);
  }
  totals(&d);
  d.rule = strf("Network Slimming at an exact count: the %lld smallest |gamma| of %zu prunable channels, floor %s",
                (long long)prune, all.size(), floor.str().c_str());
  return d;
}

Decision decide_random_counts(const std::vector<LayerGammas>& layers, const std::map<std::string, int64_t>& kept,
                              uint64_t seed) {
  Decision d;
  d.method = "random";
  d.rule = strf("random channels (seed %llu) at given per-layer counts; |gamma| ignored", (unsigned long long)seed);
  Floor none;  // the counts decide; each is checked to be >= 1 below
  auto prunable = start(&d, layers, none);
  std::mt19937_64 rng(seed);
  for (size_t i : prunable) {
    const auto& l = layers[i];
    auto it = kept.find(l.name);
    if (it == kept.end()) throw Error("random pruning: no kept count for layer " + l.name);
    const auto n = int64_t(l.channels.size());
    if (it->second < 1 || it->second > n)
      throw Error(strf("random pruning: layer %s would keep %lld of its %lld channels in use", l.name.c_str(),
                       (long long)it->second, (long long)n));
    std::vector<size_t> order(l.channels.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<uint8_t> keep(l.channels.size(), 0);
    for (int64_t k = 0; k < it->second; ++k) keep[order[size_t(k)]] = 1;
    d.layers[i].floor = 1;
    finish_layer(&d, layers, i, keep, 0.0);
  }
  totals(&d);
  return d;
}

}  // namespace msprune::prune
