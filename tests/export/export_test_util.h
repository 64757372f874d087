#pragma once
// Networks for export tests: tiny members of each family, unpruned or with a
// random pruned configuration and random channel selections, random weights
// and non-trivial BatchNorm statistics (calibrated on real activations, then
// perturbed), so that folding, affines and gathers are all really exercised.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>
#include <string>

#include "models/models.h"
#include "prune/masks.h"
#include "prune/surgery.h"

namespace export_test {

namespace models = msprune::models;

enum class Family { kVgg, kPreResNet, kDenseNet };

inline const char* family_name(Family f) {
  return f == Family::kVgg ? "vgg" : f == Family::kPreResNet ? "preresnet" : "densenet";
}

// vgg16 width 1/8, preresnet20 width 1/2, densenet13 growth 6.
inline models::ModelSpec tiny_spec(Family f) {
  switch (f) {
    case Family::kVgg: return models::default_spec(models::Arch::kVgg, 16, 0.125);
    case Family::kPreResNet: return models::default_spec(models::Arch::kPreResNet, 20, 0.5);
    case Family::kDenseNet: return models::default_spec(models::Arch::kDenseNet, 13, 0.5);
  }
  return {};
}

// A random pruned configuration (every entry in [1, default]; about a
// quarter of the entries kept at full width so identity selections occur).
inline models::ModelSpec pruned_spec(models::ModelSpec s, std::mt19937& rng) {
  for (int& c : s.cfg) {
    if (c == models::kPool) continue;
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) continue;
    c = std::uniform_int_distribution<int>(1, c)(rng);
  }
  return s;
}

// Random sorted subsets for every channel selection that keeps fewer
// channels than its BN has.
inline void randomize_selections(models::NetImpl& net, std::mt19937& rng) {
  for (auto& m : net.modules(/*include_self=*/false)) {
    auto* sel = m->as<models::ChannelSelectionImpl>();
    if (!sel || sel->kept() == sel->num_channels()) continue;
    std::vector<int64_t> all(size_t(sel->num_channels()));
    for (size_t i = 0; i < all.size(); ++i) all[i] = int64_t(i);
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(size_t(sel->kept()));
    std::sort(all.begin(), all.end());
    sel->set_indices(torch::tensor(all, torch::kInt64));
  }
}

// Random weights and BN affine; BN running statistics from a training-mode
// pass over `calib` (normalised images), then moved a little, so that
// activations keep a sane scale through the depth and every BN is non-trivial.
inline void randomize_weights(models::NetImpl& net, const torch::Tensor& calib, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard ng;
  std::vector<torch::nn::BatchNorm2dImpl*> bns;
  for (auto& m : net.modules(false))
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) bns.push_back(bn);
  for (auto* bn : bns) {  // random affine first, so the statistics below see it
    const int64_t c = bn->options.num_features();
    auto g = torch::rand({c}).add(0.5);  // |gamma| in [0.5, 1.5), a fifth negative
    bn->weight.copy_(torch::where(torch::rand({c}) < 0.2, -g, g));
    bn->bias.copy_(torch::randn({c}).mul(0.3));
    bn->options.momentum(1.0);
  }
  net.train();
  (void)net.forward(calib);
  for (auto* bn : bns) {  // the batch's statistics, moved a little
    const int64_t c = bn->options.num_features();
    bn->options.momentum(0.1);
    bn->running_mean.add_(torch::randn({c}).mul(0.1).mul(bn->running_var.sqrt()));
    bn->running_var.mul_(torch::rand({c}).mul(0.4).add(0.8));
  }
  for (auto& m : net.modules(false))
    if (auto* fc = m->as<torch::nn::LinearImpl>()) {
      fc->weight.normal_(0, 1.0 / std::sqrt(double(fc->options.in_features())));
      fc->bias.normal_(0, 0.1);
    }
  net.eval();
}

// A tiny network of `f`, pruned or not, ready for export.
inline models::Net make_net(Family f, bool pruned, uint64_t seed, const torch::Tensor& calib = {}) {
  std::mt19937 rng{uint32_t(seed)};
  models::ModelSpec s = tiny_spec(f);
  if (pruned) s = pruned_spec(s, rng);
  torch::manual_seed(seed);
  models::Net net = models::build_model(s);
  if (pruned) randomize_selections(*net, rng);
  randomize_weights(*net, calib.defined() ? calib : torch::randn({16, 3, 32, 32}), seed);
  return net;
}

// The pruning engineer's surgery (src/prune) on a tiny unpruned network with
// random masks (each prunable BN keeps a random ~60% of its channels in use,
// at least one): the compact network, in eval mode.
inline models::Net make_surgery_net(Family f, uint64_t seed) {
  models::Net full = make_net(f, false, seed);
  std::mt19937 rng{uint32_t(seed) ^ 0x5eedu};
  auto layers = msprune::prune::collect_gammas(full);
  msprune::prune::Masks masks = msprune::prune::keep_all(layers);
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!layers[i].prunable) continue;
    std::vector<uint8_t> keep(layers[i].channels.size());
    for (auto& k : keep) k = std::bernoulli_distribution(0.6)(rng);
    keep[std::uniform_int_distribution<size_t>(0, keep.size() - 1)(rng)] = 1;
    masks[i] = msprune::prune::to_mask(layers[i], keep);
  }
  models::Net compact = msprune::prune::compact_network(full, masks);
  compact->eval();
  return compact;
}

// The msprune executable of this build (tests/export/CMakeLists.txt).
inline std::string msprune_binary() { return MSPRUNE_BINARY; }

}  // namespace export_test
