#pragma once
// Helpers shared by the pruning tests: tiny networks with non-trivial BN
// statistics, deep copies, and output comparison.
#include <torch/torch.h>

#include <random>

#include "models/models.h"
#include "prune/masks.h"

namespace msprune::prune::testing {

// Tiny members of each family (fast on one thread).
inline models::ModelSpec tiny_spec(models::Arch a) {
  switch (a) {
    case models::Arch::kVgg: return models::default_spec(a, 11, 0.125);
    case models::Arch::kPreResNet: return models::default_spec(a, 20, 0.25);
    case models::Arch::kDenseNet: return models::default_spec(a, 10, 0.5);
  }
  return {};
}

// Builds a network whose BN scales, shifts and running statistics are random
// (some scales near zero, as after sparsity training), so that a copying
// mistake in the surgery shows in the outputs.
inline models::Net random_net(models::Arch a, uint64_t seed) {
  torch::manual_seed(seed);
  auto net = models::build_model(tiny_spec(a));
  torch::NoGradGuard g;
  for (auto& bi : net->batchnorms()) {
    auto& bn = bi.bn;
    int64_t c = bn->weight.size(0);
    bn->weight.copy_(torch::rand({c}) * torch::where(torch::rand({c}) < 0.4, 0.02, 1.0));
    bn->bias.copy_(torch::randn({c}) * 0.1);
    bn->running_mean.copy_(torch::randn({c}) * 0.2);
    bn->running_var.copy_(torch::rand({c}) + 0.5);
  }
  net->eval();
  return net;
}

inline models::Net clone_net(const models::Net& net) {
  auto out = models::build_model(net->spec());
  torch::NoGradGuard g;
  auto dp = out->named_parameters();
  for (const auto& p : net->named_parameters()) dp[p.key()].copy_(p.value());
  auto db = out->named_buffers();
  for (const auto& b : net->named_buffers()) db[b.key()].copy_(b.value());
  out->train(net->is_training());
  return out;
}

inline torch::Tensor run(const models::Net& net, const torch::Tensor& x) {
  torch::NoGradGuard g;
  net->eval();
  return net->forward(x);
}

// Random keep masks: each in-use channel of a prunable BN kept with
// probability p, at least one per layer.
inline Masks random_masks(const std::vector<LayerGammas>& layers, double p, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution keep(p);
  Masks m;
  for (const auto& l : layers) {
    std::vector<uint8_t> k(l.channels.size(), 1);
    if (l.prunable) {
      bool any = false;
      for (auto& v : k) {
        v = keep(rng) ? 1 : 0;
        any |= v != 0;
      }
      if (!any) k[rng() % k.size()] = 1;
    }
    m.push_back(to_mask(l, k));
  }
  return m;
}

}  // namespace msprune::prune::testing
