#pragma once
// CIFAR-10 / CIFAR-100 as LibTorch tensors: the records of cifar_raw.h (the
// file layouts and the checks are described there), one uint8 tensor per
// split, plus the per-channel normalisation and a torch::data dataset.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/cifar_raw.h"

namespace msprune::data {

struct CifarSplit {
  CifarKind kind = CifarKind::kCifar10;
  torch::Tensor images;         // uint8 [N, 3, 32, 32]
  torch::Tensor labels;         // int64 [N]: CIFAR-10 label or CIFAR-100 fine label
  torch::Tensor coarse_labels;  // int64 [N] (CIFAR-100 only, else undefined)
  int num_classes = 10;
  std::vector<std::string> class_names;
  std::vector<std::string> files;  // the files read, in order
  int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

// Loads a split (read_cifar, as tensors that share its buffers).
CifarSplit load_cifar(const std::string& dir, bool train, int64_t limit = -1);

// Class counts (index = label).
std::vector<int64_t> class_counts(const CifarSplit& split);

// Per-channel normalisation (CIFAR-10 training-set statistics, as used by
// Network Slimming); CIFAR-100 uses its own.
struct Normalization {
  float mean[3];
  float std[3];
};
Normalization normalization_for(CifarKind kind);

// LibTorch dataset view: example i is the normalised float image [3,32,32]
// and its label. (The trainer uses the batched pipeline in augment.h, which
// is much faster; this is for users who want torch::data loaders.)
class CifarDataset : public torch::data::datasets::Dataset<CifarDataset> {
 public:
  explicit CifarDataset(CifarSplit split);
  torch::data::Example<> get(size_t index) override;
  torch::optional<size_t> size() const override;
  const CifarSplit& split() const { return split_; }

 private:
  CifarSplit split_;
  Normalization norm_;
};

}  // namespace msprune::data
