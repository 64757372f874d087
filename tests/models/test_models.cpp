// The zoo: output shapes, parameter and MAC counts against hand-computed
// figures (computed from the layer lists in the comments, independently of
// the code), channel configurations and their validation.
#include <gtest/gtest.h>

#include "models/models.h"
#include "util/error.h"

using namespace msprune;
using namespace msprune::models;

namespace {
Net make(Arch a, int depth, double width = 1.0, int classes = 10) {
  return build_model(default_spec(a, depth, width, classes));
}
torch::Tensor out_of(Net& n, int batch = 2) {
  torch::NoGradGuard g;
  n->eval();
  return n->forward(torch::randn({batch, 3, 32, 32}));
}
}  // namespace

TEST(Zoo, Vgg16MatchesNetworkSlimming) {
  auto n = make(Arch::kVgg, 16);
  // convs: 3*64*9 + 64*64*9 + 64*128*9 + 128*128*9 + 128*256*9 + 2*256*256*9
  //        + 256*512*9 + 5*512*512*9 = 14,710,464; BN: 2*(2*64+2*128+3*256+6*512)
  //        = 8,448; linear 512*10+10 = 5,130.
  EXPECT_EQ(n->num_params(), 14724042);
  // MACs: 1,769,472 + 37,748,736 + 18,874,368 + 37,748,736 + 18,874,368
  //       + 2*37,748,736 + 18,874,368 + 2*37,748,736 + 3*9,437,184 + 5,120
  EXPECT_EQ(n->macs(), 313201664);
  EXPECT_EQ(out_of(n).sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(n->batchnorms().size(), 13u);
  EXPECT_EQ(n->batchnorms()[12].stage, 4);
}

TEST(Zoo, OtherVggDepths) {
  EXPECT_EQ(make(Arch::kVgg, 19)->num_params(), 20035018);  // Network Slimming: 20.04M
  EXPECT_EQ(make(Arch::kVgg, 11)->num_params(), 9228362);
  auto n = make(Arch::kVgg, 13, 0.5, 100);
  EXPECT_EQ(out_of(n).sizes(), (std::vector<int64_t>{2, 100}));
}

TEST(Zoo, PreResNet164MatchesNetworkSlimming) {
  auto n = make(Arch::kPreResNet, 164);
  // Per block: bn1 2*in, conv1 in*p, bn2 2p, conv2 9p^2, bn3 2p, conv3 4p^2,
  // downsample in*4p on the first block of each stage; stem 3*16*9; final BN
  // 2*256; fc 256*10+10. Network Slimming reports 1.70M.
  EXPECT_EQ(n->num_params(), 1703258);
  EXPECT_EQ(n->macs(), 247646720);
  EXPECT_EQ(out_of(n, 1).sizes(), (std::vector<int64_t>{1, 10}));
  EXPECT_EQ(n->batchnorms().size(), 3u * 54 + 1);
}

TEST(Zoo, SmallPreResNets) {
  EXPECT_EQ(make(Arch::kPreResNet, 56)->num_params(), 590426);
  EXPECT_EQ(make(Arch::kPreResNet, 56)->macs(), 87214592);
  EXPECT_EQ(make(Arch::kPreResNet, 20)->num_params(), 219482);
}

TEST(Zoo, DenseNet40MatchesNetworkSlimming) {
  auto n = make(Arch::kDenseNet, 40);
  // stem 3*24*9; dense layer with c inputs: 2c + 9*12c; transition with c: 2c + c^2;
  // final BN 2*456; fc 456*10+10. Network Slimming reports 1.06M.
  EXPECT_EQ(n->num_params(), 1059298);
  EXPECT_EQ(n->macs(), 282917328);
  EXPECT_EQ(out_of(n, 1).sizes(), (std::vector<int64_t>{1, 10}));
  auto bns = n->batchnorms();
  EXPECT_EQ(bns.size(), 3u * 12 + 2 + 1);
  EXPECT_FALSE(bns[0].prunable);
  EXPECT_TRUE(bns[1].prunable);
}

TEST(Zoo, WidthMultiplierScalesEveryFamily) {
  auto v = make(Arch::kVgg, 16, 0.25);
  EXPECT_EQ(v->spec().cfg[0], 16);
  EXPECT_EQ(v->spec().cfg.back(), 128);
  auto r = make(Arch::kPreResNet, 20, 0.5);
  EXPECT_EQ(r->spec().stage_planes(), (std::vector<int>{8, 16, 32}));
  EXPECT_EQ(out_of(r).sizes(), (std::vector<int64_t>{2, 10}));
  auto d = make(Arch::kDenseNet, 10, 0.5);
  EXPECT_EQ(d->spec().growth(), 6);
  EXPECT_EQ(out_of(d).sizes(), (std::vector<int64_t>{2, 10}));
}

TEST(Zoo, GammaInitAndKaimingInit) {
  auto n = build_model(default_spec(Arch::kVgg, 11, 0.25), 0.5);
  for (auto& b : n->batchnorms()) {
    EXPECT_TRUE(torch::all(b.bn->weight == 0.5).item<bool>());
    EXPECT_TRUE(torch::all(b.bn->bias == 0).item<bool>());
  }
  auto n1 = build_model(default_spec(Arch::kVgg, 11, 0.25), 1.0);
  EXPECT_TRUE(torch::all(n1->batchnorms()[0].bn->weight == 1.0).item<bool>());
}

TEST(Zoo, PrunedConfigBuildsSmallerNetworkOfTheSameClass) {
  auto s = default_spec(Arch::kPreResNet, 20);
  s.cfg[0] = 5;   // block 0 keeps 5 of 16 channels after bn1
  s.cfg[1] = 3;   // conv1 -> 3
  s.cfg[2] = 1;   // conv2 -> a single channel
  s.cfg.back() = 17;
  auto n = build_model(s);
  EXPECT_NE(as_preresnet(n), nullptr);
  EXPECT_EQ(out_of(n).sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_LT(n->num_params(), make(Arch::kPreResNet, 20)->num_params());
  EXPECT_EQ(n->spec().name(), "preresnet20-pruned");
  EXPECT_EQ(as_preresnet(n)->blocks[0]->select->kept(), 5);
}

TEST(Zoo, InvalidSpecsAreRefusedWithReasons) {
  EXPECT_THROW(default_spec(Arch::kVgg, 17), Error);
  EXPECT_THROW(default_spec(Arch::kPreResNet, 57), Error);
  EXPECT_THROW(default_spec(Arch::kDenseNet, 41), Error);
  EXPECT_THROW(default_spec(Arch::kVgg, 16, 0.0), Error);
  auto s = default_spec(Arch::kVgg, 16);
  s.cfg[2] = 64;  // a pool position turned into a conv
  EXPECT_THROW(validate_spec(s), Error);
  s = default_spec(Arch::kDenseNet, 40);
  s.cfg[3] = 1000;  // selects more channels than exist
  try {
    validate_spec(s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("selects 1000 channels of 60"), std::string::npos) << e.what();
  }
  s = default_spec(Arch::kVgg, 16);
  s.cfg[0] = 0;
  EXPECT_THROW(validate_spec(s), Error);
  s.cfg.pop_back();
  EXPECT_THROW(validate_spec(s), Error);
  auto j = default_spec(Arch::kVgg, 16).to_json();
  j["depth"] = "sixteen";
  EXPECT_THROW(ModelSpec::from_json(j), Error);
  EXPECT_EQ(ModelSpec::from_json(default_spec(Arch::kDenseNet, 40).to_json()).cfg,
            default_spec(Arch::kDenseNet, 40).cfg);
}

TEST(Zoo, ChannelSelectionChecksItsIndices) {
  ChannelSelection sel(8, 3);
  sel->set_indices(torch::tensor({1, 4, 7}, torch::kInt64));
  EXPECT_NO_THROW(sel->validate("t"));
  auto x = torch::arange(8, torch::kFloat32).view({1, 8, 1, 1});
  EXPECT_TRUE(torch::equal(sel->forward(x).flatten(), torch::tensor({1.f, 4.f, 7.f})));
  // The registered buffer (what checkpoints save) is the one that changed.
  EXPECT_TRUE(torch::equal(sel->named_buffers()["indices"], torch::tensor({1, 4, 7}, torch::kInt64)));
  EXPECT_THROW(sel->set_indices(torch::tensor({4, 1, 7}, torch::kInt64)), Error);
  EXPECT_THROW(sel->set_indices(torch::tensor({1, 4, 8}, torch::kInt64)), Error);
  EXPECT_THROW(sel->set_indices(torch::tensor({1, 4}, torch::kInt64)), Error);
  // A failed set leaves the old selection in place.
  EXPECT_TRUE(torch::equal(sel->indices, torch::tensor({1, 4, 7}, torch::kInt64)));
}
