#pragma once
// SyncBatchNorm (PyTorch's nn.SyncBatchNorm after convert_sync_batchnorm,
// under DDP): in training mode every BatchNorm normalises with the mean and
// variance of the *global* batch, all ranks together, and its input gradient
// is the exact gradient of that global-batch BatchNorm.
//
//   forward:  one all-reduce per BN layer of the packed per-channel
//             [sum x, sum x^2, count] (float64); normalise with the global
//             mean and biased variance; running_mean / running_var move
//             towards the global mean and the *unbiased* global variance
//             (N / (N - 1)), as torch.nn.BatchNorm2d and PyTorch's SyncBN do;
//   backward: one all-reduce of the packed per-channel [sum dy,
//             sum dy * (x - mean)] (float64), so that
//               dx = w * invstd * (dy - mean(dy) - (x - mean) * invstd^2 * mean(dy * (x - mean)))
//             uses the means over the global batch; dgamma and dbeta stay
//             this rank's own sums (DDP's gradient average then makes them
//             the global-batch gradients, as in PyTorch).
//
// With one process there is nothing to synchronise: the trainer then uses the
// plain BatchNorm (as PyTorch's SyncBatchNorm does without a process group).
// Every rank must call the same BN layers in the same order (the same model
// on the same code path), as for any collective.
#include <torch/torch.h>

#include "models/layers.h"

namespace msprune::train {

class Distributed;

// Training-mode batch normalisation of x ([N, C, *], this rank's part of the
// global batch) over every rank of `dist`. weight and bias: [C] (undefined:
// 1 and 0); running_mean / running_var: [C], updated in place with
// `momentum` (undefined: not tracked). Differentiable in x, weight and bias.
// Throws msprune::Error when x has no channel dimension, C does not match, or
// the global batch has at most one value per channel (as batch_norm); every
// rank then throws alike, since the count is the all-reduced one.
torch::Tensor sync_batch_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              const torch::Tensor& running_mean, const torch::Tensor& running_var, double momentum,
                              double eps, Distributed& dist);

// The module form: BatchNorm2dImpl::forward in training mode with the global
// batch's statistics (num_batches_tracked counted, momentum = nullopt meaning
// the cumulative average, as there).
torch::Tensor sync_batch_norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x, Distributed& dist);

// While in scope, every training-mode BN of the zoo run on this thread
// (models::apply_bn) is a SyncBatchNorm over `dist` (which must outlive the
// backward pass of what ran in scope).
class SyncBatchNormScope {
 public:
  explicit SyncBatchNormScope(Distributed& dist);

 private:
  models::ScopedBnOverride guard_;
};

}  // namespace msprune::train
