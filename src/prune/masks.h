#pragma once
// What pruning sees of a network: the BatchNorm scales of every BN layer, in
// forward order (models::NetImpl::batchnorms()), and per-channel keep masks.
//
// A mask has one entry per channel of its BN (the BN's full width). For a BN
// followed by a channel selection (PreResNet bn1 / final bn, every DenseNet
// BN) only the channels the selection already keeps are "in use": pruning an
// already-pruned network composes with the old selection, so a channel that is
// out stays out whatever its mask says.
#include <cstdint>
#include <string>
#include <vector>

#include "models/models.h"

namespace msprune::prune {

// keep[i][c] != 0: keep channel c of the i-th BatchNorm (forward order).
using Masks = std::vector<std::vector<uint8_t>>;

struct LayerGammas {
  std::string name;                // BnInfo::name, e.g. "bn3", "block5.bn1"
  int stage = 0;                   // resolution stage
  bool prunable = true;            // false: never pruned (DenseNet's first BN)
  bool selected = false;           // followed by a channel selection
  int64_t width = 0;               // BN channels
  std::vector<int64_t> channels;   // channels in use (sorted BN indices)
  std::vector<float> abs_gamma;    // |gamma| of those channels, same order
};

// |gamma| of every BN in forward order, prunable or not.
std::vector<LayerGammas> collect_gammas(const models::Net& net);

// A mask keeping every channel of every BN.
Masks keep_all(const std::vector<LayerGammas>& layers);

// Turns a keep flag per in-use channel (same order as LayerGammas::channels)
// into a full-width mask.
std::vector<uint8_t> to_mask(const LayerGammas& layer, const std::vector<uint8_t>& keep_in_use);

// Channels of `layer` in use and kept by `mask`.
int64_t kept_in_use(const LayerGammas& layer, const std::vector<uint8_t>& mask);

// Throws msprune::Error unless `masks` fits `layers` (one mask per BN, one
// entry per channel), keeps at least one in-use channel per BN and keeps every
// in-use channel of a BN that is not prunable.
void check_masks(const std::vector<LayerGammas>& layers, const Masks& masks);

}  // namespace msprune::prune
