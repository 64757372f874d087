#pragma once
// Network surgery (Network Slimming's semantics): build the compact network
// that a set of per-BN-channel keep masks describes and copy the kept weights.
//
//  * VGG: a pruned channel disappears from its conv's outputs, its BN, the next
//    conv's inputs (or the linear layer's inputs after the last conv).
//  * PreResNet: bn1 keeps its width; its channel selection keeps the kept
//    channels and conv1's inputs shrink to match. bn2 masks conv1's outputs
//    (and conv2's inputs), bn3 conv2's outputs (and conv3's inputs). conv3's
//    outputs, the residual widths and the downsample convs never change. The
//    final bn keeps its width; its selection and the linear inputs shrink.
//  * DenseNet: each unit's BN keeps its width; its selection and its conv's
//    inputs shrink; conv outputs (growth, transition widths) never change. The
//    first BN is not prunable.
//
// An already-pruned network composes: a selection keeps (old selection AND
// mask). Running statistics travel with their channels, so in eval mode the
// compact network computes exactly what the original computes with the pruned
// channels' gamma and beta set to zero (zero_pruned_channels).
#include "models/models.h"
#include "prune/masks.h"

namespace msprune::prune {

// The channel configuration the masks lead to (validated by models::validate_spec).
models::ModelSpec compact_spec(const models::Net& net, const Masks& masks);

// A new network with `compact_spec(net, masks)` and the kept weights, buffers
// and running statistics; `net` is not modified. Throws msprune::Error if the
// masks do not fit (see check_masks).
models::Net compact_network(const models::Net& net, const Masks& masks);

// The "masked" network: sets gamma and beta of every channel a mask drops to
// zero, in place. Used to check surgery and to evaluate a mask without it.
void zero_pruned_channels(const models::Net& net, const Masks& masks);

}  // namespace msprune::prune
