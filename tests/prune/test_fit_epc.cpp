// `prune --fit-epc`: the SIZE parser, the cluster-step ladder, and the search
// for the least pruning whose exported model fits an enclave heap, measured
// for real (export + memory plan) on a tiny VGG and with a synthetic measure.
#include <gtest/gtest.h>

#include <algorithm>

#include "cluster/threshold.h"
#include "export/export.h"
#include "prune/decide.h"
#include "prune/fit_epc.h"
#include "prune/surgery.h"
#include "prune_test_util.h"
#include "util/error.h"

using namespace msprune;
using namespace msprune::prune;
using namespace msprune::prune::testing;
using models::Arch;

namespace {

uint64_t heap(const models::Net& net, const Masks& m) {
  return exporter::exported_enclave_heap_bytes(*compact_network(net, m));
}

int64_t pruned(const Decision& d) { return d.prunable_before - d.prunable_after; }

// Every channel `fewer` prunes, `more` prunes too.
bool prunes_at_least(const Masks& more, const Masks& fewer) {
  for (size_t i = 0; i < more.size(); ++i)
    for (size_t c = 0; c < more[i].size(); ++c)
      if (!fewer[i][c] && more[i][c]) return false;
  return true;
}

struct Tiny {
  models::Net net;
  std::vector<LayerGammas> layers;
  MeanShiftConfig cfg;
};

Tiny tiny_vgg(uint64_t seed = 41) {
  torch::set_num_threads(1);
  Tiny t{random_net(Arch::kVgg, seed), {}, default_meanshift_config(Arch::kVgg)};
  t.layers = collect_gammas(t.net);
  return t;
}

}  // namespace

TEST(PruneFitEpcSize, ParsesBytesAndBinaryUnits) {
  EXPECT_EQ(parse_size("1048576"), 1048576u);
  EXPECT_EQ(parse_size("8MiB"), 8u << 20);
  EXPECT_EQ(parse_size("8M"), 8u << 20);
  EXPECT_EQ(parse_size("8m"), 8u << 20);
  EXPECT_EQ(parse_size("512KiB"), 512u << 10);
  EXPECT_EQ(parse_size("512k"), 512u << 10);
  EXPECT_EQ(parse_size("1.5MiB"), 3u << 19);
  EXPECT_EQ(parse_size("2 GiB"), uint64_t(2) << 30);
  EXPECT_EQ(parse_size("100B"), 100u);
  EXPECT_EQ(parse_size("0.5K"), 512u);
  EXPECT_EQ(parse_size("0.3KiB"), 307u);  // 307.2, rounded down: the limit is never exceeded
  EXPECT_EQ(parse_size(".5M"), 1u << 19);
  EXPECT_EQ(parse_size("4611686018427387904"), uint64_t(1) << 62);  // the largest accepted
  EXPECT_EQ(describe_size(8u << 20), "8.00 MiB (8388608 bytes)");
}

TEST(PruneFitEpcSize, RefusesGarbageZeroNegativeAndOverflow) {
  auto msg = [](const std::string& s) {
    try {
      parse_size(s);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  for (const char* bad : {"", "abc", "MiB", "8XiB", "8 MiB extra", "0x10", "1e6", "inf", "nan", "1.", "8MiB8",
                          "1..5M", "--8M", "8,5M", "1.5"})
    EXPECT_NE(msg(bad).find("--fit-epc '" + std::string(bad) + "'"), std::string::npos) << bad << ": " << msg(bad);
  EXPECT_NE(msg("0").find("at least one byte"), std::string::npos) << msg("0");
  EXPECT_NE(msg("0MiB").find("at least one byte"), std::string::npos);
  EXPECT_NE(msg("0.0000001K").find("at least one byte"), std::string::npos);  // rounds down to 0 bytes
  EXPECT_NE(msg("-8MiB").find("positive"), std::string::npos) << msg("-8MiB");
  EXPECT_NE(msg("8MB").find("ambiguous"), std::string::npos) << msg("8MB");
  EXPECT_NE(msg("4611686018427387905").find("2^62"), std::string::npos);
  EXPECT_NE(msg("99999999999999999999999999").find("2^62"), std::string::npos);
  EXPECT_NE(msg("4294967297GiB").find("2^62"), std::string::npos);
  EXPECT_NE(msg("1.5").find("whole"), std::string::npos) << msg("1.5");
}

TEST(PruneFitEpcLadder, ThresholdStepsAreCentresAndValleysInOrder) {
  // Three well separated populations: three centres.
  std::vector<float> g;
  for (int i = 0; i < 20; ++i) g.push_back(0.01f + 0.001f * float(i));
  for (int i = 0; i < 20; ++i) g.push_back(0.50f + 0.001f * float(i));
  for (int i = 0; i < 20; ++i) g.push_back(0.90f + 0.001f * float(i));
  cluster::ThresholdOptions opt;
  auto r = cluster::choose_threshold(g, opt);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.centres.size(), 3u);
  std::vector<double> by_value = r.centres;
  std::sort(by_value.begin(), by_value.end());
  EXPECT_EQ(cluster::threshold_steps(3), 5u);
  EXPECT_EQ(cluster::threshold_steps(0), 0u);
  // Step 0 is the paper's choice and step 1 the valley policy's, bit for bit.
  EXPECT_EQ(cluster::step_threshold(g, r.centres, 0), r.threshold);
  opt.policy = cluster::ThresholdPolicy::kValley;
  EXPECT_EQ(cluster::step_threshold(g, r.centres, 1), cluster::choose_threshold(g, opt).threshold);
  EXPECT_EQ(cluster::step_threshold(g, r.centres, 2), by_value[1]);
  EXPECT_EQ(cluster::step_threshold(g, r.centres, 4), by_value[2]);
  EXPECT_EQ(cluster::step_threshold(g, r.centres, 99), by_value[2]);  // clamped: never above the largest centre
  double prev = -1;
  for (size_t s = 0; s < 5; ++s) {
    double t = cluster::step_threshold(g, r.centres, s);
    EXPECT_GE(t, prev) << s;
    prev = t;
  }
  // The valley between the 2nd and 3rd centres lies in the empty gap.
  double v = cluster::step_threshold(g, r.centres, 3);
  EXPECT_GE(v, 0.519 - 1e-6);
  EXPECT_LT(v, 0.9);
  EXPECT_EQ(cluster::step_name(0), "lowest centre");
  EXPECT_EQ(cluster::step_name(1), "valley between the lowest and 2nd centres");
  EXPECT_EQ(cluster::step_name(2), "2nd centre");
  EXPECT_EQ(cluster::step_name(5), "valley between the 3rd and 4th centres");
  EXPECT_EQ(cluster::step_name(22), "12th centre");
}

TEST(PruneFitEpcLadder, LevelsOnlyEverPruneMore) {
  for (const char* policy : {"min-centre", "valley"}) {
    for (Scope scope : {Scope::kStage, Scope::kLayer}) {
      auto t = tiny_vgg();
      t.cfg.policy = policy;
      t.cfg.scope = scope;
      t.cfg.quantile = scope == Scope::kStage ? 0.1 : 0.3;
      Decision d0 = decide_meanshift(t.layers, t.cfg);
      int top = meanshift_levels(d0);
      ASSERT_GT(top, 2) << policy;
      Decision same = decide_meanshift_level(t.layers, d0, 0);
      EXPECT_EQ(same.masks, d0.masks);
      Masks prev = d0.masks;
      for (int level = 1; level <= top; ++level) {
        Decision d = decide_meanshift_level(t.layers, d0, level);
        EXPECT_EQ(d.level, level);
        EXPECT_TRUE(prunes_at_least(d.masks, prev)) << policy << " level " << level;
        for (const auto& g : d.groups) {
          if (g.centres.empty()) continue;
          EXPECT_LE(g.threshold, *std::max_element(g.centres.begin(), g.centres.end()));
        }
        for (const auto& l : d.layers) EXPECT_GE(l.kept, std::max<int64_t>(1, l.floor)) << l.name;
        check_masks(t.layers, d.masks);
        prev = d.masks;
      }
      // The top level prunes strictly more than level 0 on these scales.
      EXPECT_GT(pruned(decide_meanshift_level(t.layers, d0, top)), pruned(d0));
      EXPECT_THROW(decide_meanshift_level(t.layers, d0, top + 1), Error);
      EXPECT_THROW(decide_meanshift_level(t.layers, d0, -1), Error);
    }
  }
}

// The real measure on a tiny VGG: sizes between the unpruned and the most
// pruned model pick the least pruning that fits.
TEST(PruneFitEpc, PicksTheLeastPruningThatFits) {
  auto t = tiny_vgg();
  Floor floor;
  Decision d0 = decide_meanshift(t.layers, t.cfg);
  const int top = meanshift_levels(d0);
  std::vector<uint64_t> level_heap;
  for (int l = 0; l <= top; ++l) level_heap.push_back(heap(t.net, decide_meanshift_level(t.layers, d0, l).masks));
  const uint64_t base = exporter::exported_enclave_heap_bytes(*t.net);
  const int64_t most = max_prunable(t.layers, floor);
  const uint64_t smallest = heap(t.net, decide_slimming_count(t.layers, most, floor).masks);
  ASSERT_LT(level_heap[0], base);

  FitOptions opt{0, true, t.cfg, floor};

  // At or above the base (and at level 0's own size): mean shift's own choice.
  for (uint64_t size : {base, base * 4, level_heap[0]}) {
    opt.size = size;
    auto r = fit_epc(t.net, t.layers, opt);
    EXPECT_EQ(r.decision.masks, d0.masks) << size;
    EXPECT_EQ(r.decision.level, 0);
    EXPECT_EQ(r.step, "mean shift (min-centre)");
    EXPECT_EQ(r.reached, level_heap[0]);
    EXPECT_EQ(r.base, base);
    ASSERT_EQ(r.tried.size(), 1u);  // nothing else was needed
    EXPECT_TRUE(r.tried[0].fits);
  }

  // Sizes at which the ladder's heap reaches a new low: exactly that level
  // (the first that fits, walking up from level 0). The first lows and the
  // last one are checked (each check exports every level below).
  std::vector<int> lows;
  uint64_t low = level_heap[0];
  for (int l = 1; l <= top; ++l) {
    if (level_heap[size_t(l)] >= low) continue;
    low = level_heap[size_t(l)];
    lows.push_back(l);
  }
  const uint64_t lowest_level = low;
  ASSERT_GT(lows.size(), 3u);
  int levels_hit = 0;
  for (int l : {lows[0], lows[1], lows.back()}) {
    opt.size = level_heap[size_t(l)];
    auto r = fit_epc(t.net, t.layers, opt);
    EXPECT_EQ(r.decision.method, "meanshift");
    EXPECT_EQ(r.decision.level, l);
    EXPECT_EQ(r.reached, level_heap[size_t(l)]);
    EXPECT_EQ(r.step, meanshift_level_name(d0, l));
    EXPECT_EQ(r.decision.masks, decide_meanshift_level(t.layers, d0, l).masks);
    EXPECT_EQ(r.tried.size(), size_t(l + 1));
    // One byte less: it must prune more.
    opt.size = level_heap[size_t(l)] - 1;
    auto r2 = fit_epc(t.net, t.layers, opt);
    EXPECT_LE(r2.reached, opt.size);
    EXPECT_TRUE(r2.decision.method != "meanshift" || r2.decision.level > l);
    ++levels_hit;
  }
  EXPECT_EQ(levels_hit, 3);

  // A size in the middle: fits, and no less-pruned level does (the least pruning).
  opt.size = (level_heap[0] + lowest_level) / 2;
  auto mid = fit_epc(t.net, t.layers, opt);
  ASSERT_EQ(mid.decision.method, "meanshift");
  ASSERT_GT(mid.decision.level, 0);
  EXPECT_LE(mid.reached, opt.size);
  EXPECT_EQ(mid.reached, heap(t.net, mid.decision.masks));
  for (int l = 0; l < mid.decision.level; ++l) EXPECT_GT(level_heap[size_t(l)], opt.size) << l;
  ASSERT_EQ(mid.tried.size(), size_t(mid.decision.level + 1));
  for (const auto& c : mid.tried) EXPECT_EQ(c.fits, c.heap_bytes <= opt.size);
  auto j = mid.to_json();
  EXPECT_EQ(j["requested_bytes"].get<uint64_t>(), opt.size);
  EXPECT_EQ(j["reached_bytes"].get<uint64_t>(), mid.reached);
  EXPECT_EQ(j["base_bytes"].get<uint64_t>(), base);
  EXPECT_EQ(j["level"].get<int>(), mid.decision.level);
  EXPECT_EQ(j["chosen"], mid.step);
  EXPECT_EQ(j["candidates"].size(), mid.tried.size());

  // The same size with the long-ladder search (levels 1, 2, 4, ..., then a
  // binary search): a fitting level whose level below does not fit.
  FitOptions gallop = opt;
  gallop.linear_ladder = 0;
  auto g = fit_epc(t.net, t.layers, gallop);
  ASSERT_EQ(g.decision.method, "meanshift");
  EXPECT_LE(g.reached, opt.size);
  EXPECT_GT(level_heap[size_t(g.decision.level - 1)], opt.size);
  ASSERT_GE(g.tried.size(), 3u);
  EXPECT_EQ(g.tried[0].level, 0);
  EXPECT_EQ(g.tried[1].level, 1);
  EXPECT_EQ(g.tried[2].level, 2);

  // Below every cluster level: Network Slimming's order, the fewest channels that fit.
  ASSERT_LT(smallest, lowest_level);
  opt.size = (lowest_level + smallest) / 2;
  auto fb = fit_epc(t.net, t.layers, opt);
  EXPECT_EQ(fb.decision.method, "slimming");
  ASSERT_GT(fb.tried.size(), size_t(top + 1));  // every level first, then slimming
  for (int l = 0; l <= top; ++l) EXPECT_FALSE(fb.tried[size_t(l)].fits) << l;
  const int64_t n = pruned(fb.decision);
  EXPECT_EQ(fb.step, "slimming fallback, " + std::to_string(n) + " channels");
  EXPECT_LE(fb.reached, opt.size);
  EXPECT_GT(heap(t.net, decide_slimming_count(t.layers, n - 1, floor).masks), opt.size);
  EXPECT_EQ(fb.decision.masks, decide_slimming_count(t.layers, n, floor).masks);
  EXPECT_EQ(fb.to_json().count("level"), 0u);

  // The smallest reachable size fits exactly; one byte less is refused, naming both.
  opt.size = smallest;
  EXPECT_EQ(fit_epc(t.net, t.layers, opt).reached, smallest);
  opt.size = smallest - 1;
  try {
    fit_epc(t.net, t.layers, opt);
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(describe_size(smallest - 1)), std::string::npos) << m;
    EXPECT_NE(m.find("smallest enclave heap reachable is " + describe_size(smallest)), std::string::npos) << m;
  }
}

TEST(PruneFitEpc, SlimmingMethodSearchesTheGlobalOrderDirectly) {
  auto t = tiny_vgg();
  Floor floor = Floor::parse("0.25");
  const uint64_t base = exporter::exported_enclave_heap_bytes(*t.net);
  const int64_t most = max_prunable(t.layers, floor);
  const uint64_t smallest = heap(t.net, decide_slimming_count(t.layers, most, floor).masks);
  FitOptions opt{(base + smallest) / 2, false, {}, floor};
  auto r = fit_epc(t.net, t.layers, opt);
  EXPECT_EQ(r.decision.method, "slimming");
  EXPECT_EQ(r.levels, 0);
  EXPECT_EQ(r.tried.front().step, "slimming, " + std::to_string(most) + " channels");
  const int64_t n = pruned(r.decision);
  EXPECT_GT(n, 0);
  EXPECT_LE(r.reached, opt.size);
  EXPECT_GT(heap(t.net, decide_slimming_count(t.layers, n - 1, floor).masks), opt.size);
  for (const auto& l : r.decision.layers) EXPECT_GE(l.kept, l.floor) << l.name;
  // The base fits: nothing is pruned.
  opt.size = base;
  auto none = fit_epc(t.net, t.layers, opt);
  EXPECT_EQ(pruned(none.decision), 0);
  EXPECT_EQ(none.reached, base);
}

// A synthetic measure (bytes = kept channels, weighted per layer) checks the
// search itself: the least pruning at every size, the floor everywhere.
TEST(PruneFitEpc, SearchEndsOnTheBoundaryWithASyntheticMeasure) {
  auto t = tiny_vgg(7);
  Floor floor = Floor::parse("2");
  auto weight_of = [](const models::Net& n) {
    uint64_t b = 0;
    auto bns = n->batchnorms();
    for (size_t i = 0; i < bns.size(); ++i) b += uint64_t(bns[i].bn->weight.size(0)) * (i + 1) * 100;
    return b;
  };
  int measured = 0;
  HeapMeasure m = [&](const models::Net& n) {
    ++measured;
    return weight_of(n);
  };
  MeanShiftConfig cfg = t.cfg;
  Decision d0 = decide_meanshift(t.layers, [&] {
    auto c = cfg;
    c.floor = floor;
    return c;
  }());
  const int top = meanshift_levels(d0);
  const uint64_t base = weight_of(t.net);
  const uint64_t smallest = weight_of(compact_network(t.net, decide_slimming_count(t.layers, max_prunable(t.layers, floor), floor).masks));
  for (uint64_t size = smallest; size <= base; size += (base - smallest) / 37 + 1) {
    measured = 0;
    auto r = fit_epc(t.net, t.layers, {size, true, cfg, floor}, m);
    EXPECT_LE(r.reached, size);
    // The base once, then each distinct candidate at most once (a binary search, not a walk).
    EXPECT_LE(size_t(measured), r.tried.size() + 1);
    EXPECT_LE(r.tried.size(), size_t(top + 1 + 1 + 12));
    for (const auto& l : r.decision.layers) EXPECT_GE(l.kept, l.floor);
    if (r.decision.method == "meanshift") {
      if (r.decision.level > 0) {
        auto less = decide_meanshift_level(t.layers, d0, r.decision.level - 1);
        EXPECT_GT(weight_of(compact_network(t.net, less.masks)), size) << size;
      }
    } else {
      auto top_d = decide_meanshift_level(t.layers, d0, top);
      EXPECT_GT(weight_of(compact_network(t.net, top_d.masks)), size);
      const int64_t n = pruned(r.decision);
      if (n > 0) {
        EXPECT_GT(weight_of(compact_network(t.net, decide_slimming_count(t.layers, n - 1, floor).masks)), size);
      }
    }
  }
}

// PreResNet and DenseNet (per-layer groups, channel selections): a size a
// tenth of the way from the most pruned to the unpruned model is met (a few
// cluster levels up), every candidate tried before the chosen one is too big,
// and the report's figure is the exported model's.
TEST(PruneFitEpc, WorksForEveryFamily) {
  for (Arch a : {Arch::kPreResNet, Arch::kDenseNet}) {
    torch::set_num_threads(1);
    auto net = random_net(a, 17);
    auto layers = collect_gammas(net);
    Floor floor;
    const uint64_t base = exporter::exported_enclave_heap_bytes(*net);
    const uint64_t smallest = heap(net, decide_slimming_count(layers, max_prunable(layers, floor), floor).masks);
    ASSERT_LT(smallest, base);
    FitOptions opt{smallest + (base - smallest) / 10, true, default_meanshift_config(a), floor};
    auto r = fit_epc(net, layers, opt);
    EXPECT_LE(r.reached, opt.size) << int(a);
    EXPECT_EQ(r.reached, heap(net, r.decision.masks));
    ASSERT_FALSE(r.tried.empty());
    if (r.decision.method == "meanshift") {  // the ladder is walked: everything before was too big
      EXPECT_TRUE(r.tried.back().fits);
      for (size_t k = 0; k + 1 < r.tried.size(); ++k) EXPECT_FALSE(r.tried[k].fits) << k;
    } else {
      const int64_t n = pruned(r.decision);
      EXPECT_GT(heap(net, decide_slimming_count(layers, n - 1, floor).masks), opt.size);
    }
    check_masks(layers, r.decision.masks);
  }
}
