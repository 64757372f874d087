#pragma once
// The input pipeline: the split lives on the training device as one uint8
// tensor, and whole batches are cropped/flipped/normalised with a handful of
// tensor ops (no per-image work on the host, no worker threads).
//
// Everything random is derived from (seed, epoch, batch index) alone, so a run
// resumed at any step sees exactly the batches an uninterrupted run would.
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "data/cifar.h"

namespace msprune::data {

// A 64-bit mix of several integers (splitmix64 chain); used to derive RNG seeds.
uint64_t mix_seed(std::initializer_list<uint64_t> parts);

class BatchPipeline {
 public:
  // `norm`: the input normalisation to apply; unset, the split's own
  // statistics (normalization_for).
  BatchPipeline(const CifarSplit& split, torch::Device device, std::optional<Normalization> norm = std::nullopt);

  int64_t size() const { return n_; }
  int64_t batches_per_epoch(int64_t batch_size) const { return (n_ + batch_size - 1) / batch_size; }

  // Batch `b` of epoch `epoch` in the epoch's shuffled order, augmented as in
  // Network Slimming's recipe: 4-pixel zero padding, random 32x32 crop,
  // random horizontal flip, then per-channel normalisation.
  // Returns (images float [B,3,32,32], labels int64 [B]) on the device.
  std::pair<torch::Tensor, torch::Tensor> train_batch(uint64_t seed, int64_t epoch, int64_t b, int64_t batch_size);

  // Data parallelism, as PyTorch's DistributedSampler (shuffle, same seed on
  // every rank, drop_last=False): the epoch's shuffled order is padded to a
  // multiple of `world` by repeating its head, and rank r takes every
  // world-th record from position r, so the shards never overlap and are of
  // equal length (at most world-1 records of an epoch are seen twice). Here
  // that order is cut into global batches of `global_batch` records (a
  // multiple of world) and rank r's batch b is the positions p = r, r+world,
  // ... of global batch b, with the augmentation those positions get in a
  // one-process batch of `global_batch`: with world = 1 (or no padding) the
  // union of the ranks' batches is exactly train_batch(seed, epoch, b,
  // global_batch), image for image.
  int64_t sharded_batches_per_epoch(int64_t global_batch, int world) const;
  std::pair<torch::Tensor, torch::Tensor> train_batch_shard(uint64_t seed, int64_t epoch, int64_t b,
                                                            int64_t global_batch, int rank, int world);

  // Records [start, start+count) in file order, normalised, no augmentation.
  std::pair<torch::Tensor, torch::Tensor> eval_batch(int64_t start, int64_t count);

  // The augmentation alone (exposed for tests): crops at offsets (ox, oy) in
  // [0, 8] of the zero-padded 40x40 image, mirrored where flip != 0.
  static torch::Tensor crop_flip(const torch::Tensor& images_u8, const std::vector<int64_t>& ox,
                                 const std::vector<int64_t>& oy, const std::vector<uint8_t>& flip);

  torch::Tensor normalize(const torch::Tensor& images_u8) const;

 private:
  const std::vector<int64_t>& permutation(uint64_t seed, int64_t epoch);

  torch::Device device_;
  torch::Tensor images_, labels_;  // on device
  torch::Tensor mean_, inv_std_;   // [1,3,1,1] on device
  int64_t n_;
  uint64_t perm_key_ = ~uint64_t(0);
  std::vector<int64_t> perm_;
};

}  // namespace msprune::data
