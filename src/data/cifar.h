#pragma once
// CIFAR-10 / CIFAR-100 in the official binary layout.
//
// CIFAR-10 ("cifar-10-batches-bin"): data_batch_1..5.bin (train), test_batch.bin
// (test); each record is 1 label byte (0..9) + 3072 pixel bytes (R, G, B planes
// of 32x32, row-major). batches.meta.txt holds the class names.
// CIFAR-100 ("cifar-100-binary"): train.bin, test.bin; each record is a coarse
// label byte (0..19), a fine label byte (0..99) + 3072 pixel bytes.
// fine_label_names.txt / coarse_label_names.txt hold the names.
//
// The whole split is kept in memory as one uint8 tensor; bad data raises
// msprune::Error naming the file and the problem (missing file, a size that is
// not a whole number of records, a label out of range) — never a partial load.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace msprune::data {

enum class CifarKind { kCifar10, kCifar100 };

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

constexpr int64_t kImageBytes = 3 * 32 * 32;

// Which layout a folder holds (also accepts the parent of cifar-10-batches-bin
// or cifar-100-binary). Throws msprune::Error if neither is recognisable.
CifarKind detect_layout(const std::string& dir, std::string* resolved_dir = nullptr);

// Loads a split. `limit` >= 0 keeps the first `limit` records (reading only the
// files needed); the same `limit` always yields the same images.
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
