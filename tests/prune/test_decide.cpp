// Choosing channels: mean shift per layer / per stage, the floor, Network
// Slimming by percentile and at an exact count; mean-shift masks through the
// surgery for every family; the report.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "cluster/threshold.h"
#include "prune/decide.h"
#include "prune/report.h"
#include "prune/surgery.h"
#include "prune_test_util.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace msprune;
using namespace msprune::prune;
using namespace msprune::prune::testing;
using models::Arch;

namespace {

// Sets every BN scale of `net` from f(layer index, channel).
template <class F>
void set_gammas(const models::Net& net, F f) {
  torch::NoGradGuard g;
  auto bns = net->batchnorms();
  for (size_t i = 0; i < bns.size(); ++i) {
    auto& w = bns[i].bn->weight;
    for (int64_t c = 0; c < w.size(0); ++c) w[c] = f(i, c);
  }
}

int64_t pruned_total(const Decision& d) { return d.prunable_before - d.prunable_after; }

double max_diff_compact_vs_masked(const models::Net& net, const Masks& m) {
  auto compact = compact_network(net, m);
  auto masked = clone_net(net);
  zero_pruned_channels(masked, m);
  auto x = torch::randn({3, 3, 32, 32});
  return (run(compact, x) - run(masked, x)).abs().max().item<double>();
}

}  // namespace

TEST(Floor, ParsesFractionsAndCounts) {
  EXPECT_EQ(Floor::parse("1").count, 1);
  EXPECT_EQ(Floor::parse("4").count, 4);
  EXPECT_DOUBLE_EQ(Floor::parse("0.25").fraction, 0.25);
  EXPECT_EQ(Floor::parse("0.25").required(10), 3);  // ceil(2.5)
  EXPECT_EQ(Floor::parse("0.01").required(10), 1);  // at least one
  EXPECT_EQ(Floor::parse("20").required(8), 8);     // never more than exist
  for (const char* bad : {"0", "-1", "1.5", "abc", "", "nan", "inf", "2x", "1e300"})
    EXPECT_THROW(Floor::parse(bad), Error) << bad;
}

TEST(MeanShift, StageScopeClustersEachStageTogether) {
  torch::set_num_threads(1);
  auto net = random_net(Arch::kVgg, 21);
  // Two populations per layer: small (pruned by the paper's rule) and large.
  set_gammas(net, [](size_t i, int64_t c) { return c % 3 == 0 ? 0.002 + 0.0001 * double(c + i) : 0.6 + 0.01 * double(c % 5); });
  auto layers = collect_gammas(net);
  auto cfg = default_meanshift_config(Arch::kVgg);
  EXPECT_EQ(cfg.scope, Scope::kStage);
  EXPECT_DOUBLE_EQ(cfg.quantile, 0.1);
  auto d = decide_meanshift(layers, cfg);
  // VGG-11: five stages, one group each.
  ASSERT_EQ(d.groups.size(), 5u);
  for (const auto& g : d.groups) {
    for (size_t i : g.layers) EXPECT_EQ(layers[i].stage, g.stage);
    // The group's threshold is what choose_threshold gives on the concatenated values.
    cluster::ThresholdOptions o;
    o.quantile = 0.1;
    auto r = cluster::choose_threshold(g.values, o);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(g.threshold, r.threshold);
    EXPECT_LT(g.threshold, 0.3);  // the lowest centre is in the small population
  }
  // Every layer keeps exactly its large channels: |gamma| > threshold, strictly.
  for (size_t i = 0; i < layers.size(); ++i) {
    for (size_t k = 0; k < layers[i].channels.size(); ++k)
      EXPECT_EQ(d.masks[i][size_t(layers[i].channels[k])], layers[i].abs_gamma[k] > d.groups[size_t(d.layers[i].group)].threshold ? 1 : 0);
    EXPECT_FALSE(d.layers[i].floor_acted);
  }
  EXPECT_GT(pruned_total(d), 0);
}

TEST(MeanShift, LayerScopeIsOneGroupPerPrunableLayer) {
  auto net = random_net(Arch::kDenseNet, 22);
  auto layers = collect_gammas(net);
  auto cfg = default_meanshift_config(Arch::kDenseNet);
  EXPECT_EQ(cfg.scope, Scope::kLayer);
  EXPECT_DOUBLE_EQ(cfg.quantile, 0.3);
  auto d = decide_meanshift(layers, cfg);
  EXPECT_EQ(d.groups.size(), layers.size() - 1);  // the first BN is not prunable
  EXPECT_EQ(d.layers[0].group, -1);
  EXPECT_EQ(d.layers[0].kept, d.layers[0].total);
  for (size_t i = 1; i < layers.size(); ++i) EXPECT_EQ(d.groups[size_t(d.layers[i].group)].name, layers[i].name);
}

class MeanShiftMasks : public ::testing::TestWithParam<Arch> {};

TEST_P(MeanShiftMasks, CompactNetworkMatchesTheMaskedOne) {
  torch::set_num_threads(1);
  auto net = random_net(GetParam(), 23);
  auto layers = collect_gammas(net);
  for (const char* policy : {"min-centre", "valley"}) {
    auto cfg = default_meanshift_config(GetParam());
    cfg.policy = policy;
    auto d = decide_meanshift(layers, cfg);
    EXPECT_GT(pruned_total(d), 0) << policy;
    EXPECT_LT(max_diff_compact_vs_masked(net, d.masks), 1e-5) << policy;
  }
  auto cfg = default_meanshift_config(GetParam());
  cfg.scope = cfg.scope == Scope::kLayer ? Scope::kStage : Scope::kLayer;
  EXPECT_LT(max_diff_compact_vs_masked(net, decide_meanshift(layers, cfg).masks), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Families, MeanShiftMasks, ::testing::Values(Arch::kVgg, Arch::kPreResNet, Arch::kDenseNet),
                         [](const auto& info) { return models::arch_name(info.param); });

TEST(MeanShift, FloorKeepsALayerTheGroupThresholdWouldEmpty) {
  torch::set_num_threads(1);
  auto net = random_net(Arch::kVgg, 24);
  // VGG-11's stage 2 holds layers 2 and 3. Layer 2 holds only tiny scales,
  // below the centre of the stage's lowest cluster (which layer 3's small
  // scales pull up): the stage threshold would empty it.
  set_gammas(net, [](size_t i, int64_t c) {
    if (i == 2) return 0.001 + 1e-6 * double(c);
    return c % 2 ? 0.5 + 0.05 * double(c) : 0.005 + 0.0001 * double(c);
  });
  auto layers = collect_gammas(net);
  auto d = decide_meanshift(layers, default_meanshift_config(Arch::kVgg));
  EXPECT_TRUE(d.layers[2].floor_acted);
  EXPECT_EQ(d.layers[2].kept, 1);
  // The survivor is the largest scale of the layer.
  EXPECT_EQ(d.masks[2].back(), 1);
  EXPECT_FALSE(d.layers[3].floor_acted);
  EXPECT_LT(max_diff_compact_vs_masked(net, d.masks), 1e-5);

  auto cfg = default_meanshift_config(Arch::kVgg);
  cfg.floor = Floor::parse("0.5");
  auto half = decide_meanshift(layers, cfg);
  EXPECT_EQ(half.layers[2].kept, (layers[2].width + 1) / 2);
  EXPECT_TRUE(half.layers[2].floor_acted);
  EXPECT_LT(max_diff_compact_vs_masked(net, half.masks), 1e-5);
}

TEST(MeanShift, EqualScalesKeepEverything) {
  auto net = models::build_model(tiny_spec(Arch::kPreResNet));  // every gamma = 0.5
  auto d = decide_meanshift(collect_gammas(net), default_meanshift_config(Arch::kPreResNet));
  EXPECT_EQ(pruned_total(d), 0);
  for (const auto& g : d.groups) EXPECT_TRUE(g.bandwidth_zero) << g.name;
  EXPECT_THROW(decide_meanshift(collect_gammas(net), {Scope::kLayer, 0.3, "lowest", {}}), Error);
  EXPECT_THROW(decide_meanshift(collect_gammas(net), {Scope::kLayer, 0.0, "min-centre", {}}), Error);
}

TEST(Slimming, PercentIsOneGlobalThreshold) {
  auto net = random_net(Arch::kPreResNet, 25);
  auto layers = collect_gammas(net);
  std::vector<float> all;
  for (const auto& l : layers) all.insert(all.end(), l.abs_gamma.begin(), l.abs_gamma.end());
  std::sort(all.begin(), all.end());
  auto d = decide_slimming_percent(layers, 0.4, Floor{});
  int64_t n = int64_t(double(all.size()) * 0.4);
  EXPECT_EQ(d.global_threshold, double(all[size_t(n - 1)]));
  int64_t acted = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    acted += d.layers[i].floor_acted;
    if (d.layers[i].floor_acted) continue;
    for (size_t k = 0; k < layers[i].channels.size(); ++k)
      EXPECT_EQ(d.masks[i][size_t(layers[i].channels[k])], layers[i].abs_gamma[k] > d.global_threshold ? 1 : 0);
  }
  EXPECT_EQ(pruned_total(d), n - acted);  // random scales: no ties; the floor keeps one channel where it acts
  EXPECT_EQ(pruned_total(decide_slimming_percent(layers, 0, Floor{})), 0);
  EXPECT_THROW(decide_slimming_percent(layers, 1.0, Floor{}), Error);
  EXPECT_THROW(decide_slimming_percent(layers, 70, Floor{}), Error);
  // Nearly everything: the floor acts in every layer.
  auto most = decide_slimming_percent(layers, 0.999, Floor{});
  for (const auto& l : most.layers) EXPECT_GE(l.kept, 1);
  EXPECT_LT(max_diff_compact_vs_masked(net, most.masks), 1e-5);
}

TEST(Slimming, ExactCountEvenWithTiesAndTheFloor) {
  auto net = random_net(Arch::kVgg, 26);
  // Many equal scales: a threshold could not hit an exact count.
  set_gammas(net, [](size_t i, int64_t c) { return i == 0 ? 0.0001 : (c % 4 == 0 ? 0.01 : 0.5); });
  auto layers = collect_gammas(net);
  int64_t total = 0;
  for (const auto& l : layers) total += int64_t(l.channels.size());
  for (int64_t n : {int64_t(0), int64_t(1), int64_t(7), total / 2, total - int64_t(layers.size())}) {
    auto d = decide_slimming_count(layers, n, Floor{});
    EXPECT_EQ(pruned_total(d), n);
    for (const auto& l : d.layers) EXPECT_GE(l.kept, 1);
  }
  // Layer 0 holds the smallest scales: pruning more than it can spare is where the floor acts.
  auto d = decide_slimming_count(layers, layers[0].width + 3, Floor{});
  EXPECT_TRUE(d.layers[0].floor_acted);
  EXPECT_EQ(d.layers[0].kept, 1);
  EXPECT_LT(max_diff_compact_vs_masked(net, d.masks), 1e-5);
  EXPECT_THROW(decide_slimming_count(layers, total - int64_t(layers.size()) + 1, Floor{}), Error);
  EXPECT_EQ(count_for_ratio(layers, 0.5), std::llround(0.5 * double(total)));
  EXPECT_THROW(count_for_ratio(layers, 1.2), Error);
}

TEST(Slimming, MatchesTheCountMeanShiftChose) {
  auto net = random_net(Arch::kVgg, 27);
  auto layers = collect_gammas(net);
  auto ms = decide_meanshift(layers, default_meanshift_config(Arch::kVgg));
  auto compact = compact_network(net, ms.masks);
  auto rep = make_report({"base.ckpt", "pruned.ckpt", "", &ms, net, compact, {}});
  int64_t n = pruned_count_to_match(rep, net, "r.json");
  EXPECT_EQ(n, pruned_total(ms));
  auto sl = decide_slimming_count(layers, n, Floor{});
  EXPECT_EQ(sl.prunable_after, ms.prunable_after);
  // A report made for another configuration is refused.
  auto other = random_net(Arch::kPreResNet, 27);
  EXPECT_THROW(pruned_count_to_match(rep, other, "r.json"), Error);
  EXPECT_THROW(pruned_count_to_match(nlohmann::json{{"format", "x"}}, net, "r.json"), Error);
  auto broken = rep;
  broken["totals"]["channels"].erase("pruned");
  EXPECT_THROW(pruned_count_to_match(broken, net, "r.json"), Error);
}

TEST(Report, HoldsWhatTheIssueAsksFor) {
  torch::set_num_threads(1);
  auto net = random_net(Arch::kVgg, 28);
  auto layers = collect_gammas(net);
  auto d = decide_meanshift(layers, default_meanshift_config(Arch::kVgg));
  auto compact = compact_network(net, d.masks);
  auto r = make_report({"base.ckpt", "pruned.ckpt", "", &d, net, compact, {}});
  ASSERT_EQ(r["layers"].size(), layers.size());
  for (const auto& l : r["layers"])
    for (const char* k : {"n", "mean_abs_gamma", "bandwidth", "centres", "threshold", "policy", "kept", "total", "floor_acted"})
      EXPECT_TRUE(l.contains(k)) << k;
  const auto& t = r["totals"];
  EXPECT_EQ(t["params"]["before"].get<int64_t>(), net->num_params());
  EXPECT_EQ(t["params"]["after"].get<int64_t>(), compact->num_params());
  EXPECT_EQ(t["macs"]["after"].get<int64_t>(), compact->macs());
  EXPECT_EQ(t["channels"]["after"].get<int64_t>(), d.prunable_after);
  EXPECT_NEAR(t["channels"]["pruned_ratio"].get<double>(), d.pruned_ratio(), 1e-12);
  auto text = report_text(r);
  for (const auto& l : layers) EXPECT_NE(text.find(l.name), std::string::npos);
  EXPECT_NE(text.find("stage2"), std::string::npos);
  auto s = checkpoint_summary(r);
  EXPECT_EQ(s["method"], "meanshift");
  EXPECT_EQ(s["layers"].size(), layers.size());

  fs::path dir = fs::temp_directory_path() / "msprune_prune_plots";
  fs::remove_all(dir);
  auto files = write_plots(d, layers, "vgg11", dir, ".svg", false);
  EXPECT_EQ(files.size(), d.groups.size() + 1);
  for (const auto& f : files) EXPECT_GT(fs::file_size(f), 1000u) << f;
  EXPECT_THROW(write_plots(d, layers, "vgg11", dir, ".jpg", false), Error);
  fs::remove_all(dir);
}

TEST(MeanShift, AuthorsScopeGroupsVgg16AsTheirScriptDoes) {
  torch::set_num_threads(1);
  torch::manual_seed(4);
  auto net = models::build_model(models::default_spec(Arch::kVgg, 16, 0.125));
  // Layer i's |gamma|: half near 0.01 * (i + 1), half near 1.
  set_gammas(net, [](size_t i, int64_t c) { return c % 2 ? 1.0 + 0.001 * double(c) : 0.01 * double(i + 1); });
  MeanShiftConfig cfg{Scope::kAuthors, 0.1, "min-centre", {}};
  auto d = decide_meanshift(collect_gammas(net), cfg);
  ASSERT_EQ(d.groups.size(), 4u);
  const std::vector<std::vector<size_t>> want = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9, 10, 11, 12}};
  for (size_t g = 0; g < 4; ++g) {
    EXPECT_EQ(d.groups[g].layers, want[g]) << g;
    EXPECT_EQ(d.groups[g].name, "group" + std::to_string(g));
  }
  // VGG-16's stages group differently (BN 0-1, 2-3, 4-6, 7-9, 10-12).
  auto st = decide_meanshift(collect_gammas(net), {Scope::kStage, 0.1, "min-centre", {}});
  EXPECT_EQ(st.groups.size(), 5u);
  // Other networks are refused with the reason.
  try {
    decide_meanshift(collect_gammas(random_net(Arch::kVgg, 3)), cfg);  // VGG-11
    FAIL() << "VGG-11 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("13 BN layers"), std::string::npos) << e.what();
  }
  EXPECT_STREQ(scope_name(Scope::kAuthors), "authors");
}

TEST(RandomControl, KeepsTheGivenCountsWithSeededChoices) {
  torch::set_num_threads(1);
  for (Arch a : {Arch::kVgg, Arch::kPreResNet, Arch::kDenseNet}) {
    auto net = random_net(a, 31);
    auto layers = collect_gammas(net);
    auto ms = decide_meanshift(layers, default_meanshift_config(a));
    std::map<std::string, int64_t> kept;
    for (const auto& l : ms.layers)
      if (l.prunable) kept[l.name] = l.kept;
    auto r1 = decide_random_counts(layers, kept, 7), r2 = decide_random_counts(layers, kept, 7),
         r3 = decide_random_counts(layers, kept, 8);
    EXPECT_EQ(r1.method, "random");
    for (size_t i = 0; i < layers.size(); ++i) {
      if (!layers[i].prunable) {
        EXPECT_EQ(r1.layers[i].kept, r1.layers[i].total);
        continue;
      }
      EXPECT_EQ(r1.layers[i].kept, kept[layers[i].name]) << layers[i].name;
      EXPECT_EQ(kept_in_use(layers[i], r1.masks[i]), kept[layers[i].name]);
    }
    EXPECT_EQ(r1.masks, r2.masks);  // same seed, same draw
    EXPECT_NE(r1.masks, r3.masks);  // another seed, another draw
    EXPECT_EQ(r1.prunable_after, ms.prunable_after);
    EXPECT_NE(r1.masks, ms.masks);  // |gamma| is not what chose
    check_masks(layers, r1.masks);
    EXPECT_LT(max_diff_compact_vs_masked(net, r1.masks), 1e-5);
    // Counts that do not fit the layer, or a missing layer, are refused.
    auto bad = kept;
    bad.begin()->second = 0;
    EXPECT_THROW(decide_random_counts(layers, bad, 7), Error);
    bad = kept;
    bad.erase(bad.begin());
    EXPECT_THROW(decide_random_counts(layers, bad, 7), Error);
  }
}
