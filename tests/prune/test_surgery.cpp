// Network surgery: the compact network computes exactly what the original
// computes with the pruned channels' gamma and beta zeroed, for every family;
// masks that keep everything change nothing; bad masks are refused.
#include <gtest/gtest.h>

#include "prune/surgery.h"
#include "prune_test_util.h"
#include "util/error.h"

using namespace msprune;
using namespace msprune::prune;
using namespace msprune::prune::testing;
using models::Arch;

namespace {

class Surgery : public ::testing::TestWithParam<Arch> {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
};

// Compact network vs the masked original on one batch; returns max |diff|.
double exactness(const models::Net& net, const Masks& masks, models::Net* compact_out = nullptr) {
  auto compact = compact_network(net, masks);
  auto masked = clone_net(net);
  zero_pruned_channels(masked, masks);
  auto x = torch::randn({4, 3, 32, 32});
  auto a = run(compact, x), b = run(masked, x);
  EXPECT_EQ(a.sizes(), b.sizes());
  // The masked network must actually differ from the original somewhere,
  // otherwise the comparison proves nothing.
  if (compact_out) *compact_out = compact;
  return (a - b).abs().max().item<double>();
}

int64_t total_kept(const std::vector<LayerGammas>& layers, const Masks& m) {
  int64_t n = 0;
  for (size_t i = 0; i < layers.size(); ++i) n += kept_in_use(layers[i], m[i]);
  return n;
}

}  // namespace

TEST_P(Surgery, RandomMasksMatchTheMaskedNetwork) {
  auto net = random_net(GetParam(), 11);
  auto layers = collect_gammas(net);
  for (uint64_t seed : {1, 2, 3}) {
    auto masks = random_masks(layers, 0.5, seed);
    models::Net compact;
    EXPECT_LT(exactness(net, masks, &compact), 1e-5) << "seed " << seed;
    // The compact network really is smaller, and its BN layers report what
    // the masks kept.
    EXPECT_LT(compact->num_params(), net->num_params());
    EXPECT_LT(compact->macs(), net->macs());
    auto after = collect_gammas(compact);
    ASSERT_EQ(after.size(), layers.size());
    EXPECT_EQ(total_kept(after, keep_all(after)), total_kept(layers, masks));
    // Masked output differs from the original (the masks did something).
    auto x = torch::randn({2, 3, 32, 32});
    auto masked = clone_net(net);
    zero_pruned_channels(masked, masks);
    EXPECT_GT((run(masked, x) - run(net, x)).abs().max().item<double>(), 1e-4);
  }
}

TEST_P(Surgery, PruningAPrunedNetworkComposes) {
  auto net = random_net(GetParam(), 12);
  auto first = compact_network(net, random_masks(collect_gammas(net), 0.7, 5));
  auto layers = collect_gammas(first);
  auto masks = random_masks(layers, 0.6, 6);
  models::Net second;
  EXPECT_LT(exactness(first, masks, &second), 1e-5);
  EXPECT_EQ(total_kept(collect_gammas(second), keep_all(collect_gammas(second))), total_kept(layers, masks));
  // A channel the old selection already dropped stays out whatever its mask
  // says: setting those mask entries changes nothing.
  Masks noisy = masks;
  bool any_out = false;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::vector<uint8_t> in_use(size_t(layers[i].width), 0);
    for (int64_t c : layers[i].channels) in_use[size_t(c)] = 1;
    for (size_t c = 0; c < in_use.size(); ++c)
      if (!in_use[c]) {
        noisy[i][c] = 1;
        any_out = true;
      }
  }
  EXPECT_EQ(any_out, GetParam() != Arch::kVgg);  // VGG has no selections: its BNs shrink
  auto again = compact_network(first, noisy);
  EXPECT_EQ(again->spec().to_json(), second->spec().to_json());
  auto x = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::equal(run(again, x), run(second, x)));
}

TEST_P(Surgery, KeepingEverythingChangesNothing) {
  auto net = random_net(GetParam(), 13);
  auto compact = compact_network(net, keep_all(collect_gammas(net)));
  EXPECT_EQ(compact->spec().to_json(), net->spec().to_json());
  auto pa = net->named_parameters(), pb = compact->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  auto ba = net->named_buffers(), bb = compact->named_buffers();
  for (const auto& b : ba) EXPECT_TRUE(torch::equal(b.value(), bb[b.key()])) << b.key();
  auto x = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::equal(run(net, x), run(compact, x)));
}

TEST_P(Surgery, LayerLeftWithOneChannel) {
  auto net = random_net(GetParam(), 14);
  auto layers = collect_gammas(net);
  auto masks = random_masks(layers, 0.8, 7);
  // Cut the deepest prunable layer and a middle one to a single channel each.
  for (size_t i : {layers.size() - 1, layers.size() / 2}) {
    ASSERT_TRUE(layers[i].prunable);
    std::vector<uint8_t> k(layers[i].channels.size(), 0);
    k[k.size() / 2] = 1;
    masks[i] = to_mask(layers[i], k);
  }
  models::Net compact;
  EXPECT_LT(exactness(net, masks, &compact), 1e-5);
  auto after = collect_gammas(compact);
  EXPECT_EQ(after.back().channels.size(), 1u);
  EXPECT_EQ(after[layers.size() / 2].channels.size(), 1u);
}

TEST_P(Surgery, RefusesMasksThatDoNotFit) {
  auto net = random_net(GetParam(), 15);
  auto layers = collect_gammas(net);
  auto good = keep_all(layers);
  auto expect_error = [&](Masks m, const std::string& needle) {
    try {
      compact_network(net, m);
      ADD_FAILURE() << "accepted a bad mask (" << needle << ")";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Masks m = good;
  m.pop_back();
  expect_error(m, "masks for");
  m = good;
  m[1].push_back(1);
  expect_error(m, "its mask");
  m = good;
  std::fill(m[2].begin(), m[2].end(), 0);
  expect_error(m, "would keep no channel");
  EXPECT_THROW(zero_pruned_channels(net, Masks(1)), Error);
}

INSTANTIATE_TEST_SUITE_P(Families, Surgery, ::testing::Values(Arch::kVgg, Arch::kPreResNet, Arch::kDenseNet),
                         [](const auto& info) { return models::arch_name(info.param); });

TEST(SurgeryDenseNet, FirstBnIsNeverPruned) {
  auto net = random_net(Arch::kDenseNet, 16);
  auto layers = collect_gammas(net);
  ASSERT_FALSE(layers[0].prunable);
  auto m = keep_all(layers);
  m[0][0] = 0;
  EXPECT_THROW(compact_network(net, m), Error);
}

TEST(SurgeryVgg, ShapesFollowTheMasks) {
  auto net = random_net(Arch::kVgg, 17);
  auto layers = collect_gammas(net);
  auto masks = random_masks(layers, 0.5, 9);
  auto compact = compact_network(net, masks);
  auto* v = models::as_vgg(compact);
  ASSERT_NE(v, nullptr);
  for (size_t i = 0; i < v->convs.size(); ++i) {
    int64_t kept = kept_in_use(layers[i], masks[i]);
    EXPECT_EQ(v->convs[i]->weight.size(0), kept);
    EXPECT_EQ(v->bns[i]->weight.size(0), kept);
    if (i + 1 < v->convs.size()) {
      EXPECT_EQ(v->convs[i + 1]->weight.size(1), kept);
    }
  }
  EXPECT_EQ(v->fc->weight.size(1), kept_in_use(layers.back(), masks.back()));
}
