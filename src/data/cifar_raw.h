#pragma once
// CIFAR-10 / CIFAR-100 binary files read into plain vectors, without LibTorch,
// so `msprune infer` (the runtime and the enclave, which take bytes) starts
// without loading it. cifar.h wraps the same records in tensors for training.
//
// CIFAR-10 ("cifar-10-batches-bin"): data_batch_1..5.bin (train), test_batch.bin
// (test); each record is 1 label byte (0..9) + 3072 pixel bytes (R, G, B planes
// of 32x32, row-major). batches.meta.txt holds the class names.
// CIFAR-100 ("cifar-100-binary"): train.bin, test.bin; each record is a coarse
// label byte (0..19), a fine label byte (0..99) + 3072 pixel bytes.
// fine_label_names.txt / coarse_label_names.txt hold the names.
//
// Bad data raises msprune::Error naming the file and the problem (missing
// file, a size that is not a whole number of records, a label out of range),
// never a partial load.
#include <cstdint>
#include <string>
#include <vector>

namespace msprune::data {

enum class CifarKind { kCifar10, kCifar100 };

constexpr int64_t kImageBytes = 3 * 32 * 32;

struct CifarRecords {
  CifarKind kind = CifarKind::kCifar10;
  std::vector<uint8_t> images;          // N x [3, 32, 32]
  std::vector<int64_t> labels;          // N: CIFAR-10 label or CIFAR-100 fine label
  std::vector<int64_t> coarse_labels;   // N (CIFAR-100 only, else empty)
  int num_classes = 10;
  std::vector<std::string> class_names;
  std::vector<std::string> files;  // the files read, in order
  int64_t size() const { return int64_t(labels.size()); }
};

// Which layout a folder holds (also accepts the parent of cifar-10-batches-bin
// or cifar-100-binary). Throws msprune::Error if neither is recognisable.
CifarKind detect_layout(const std::string& dir, std::string* resolved_dir = nullptr);

// Reads a split. `limit` >= 0 keeps the first `limit` records (reading only
// the files needed); the same `limit` always yields the same images.
CifarRecords read_cifar(const std::string& dir, bool train, int64_t limit = -1);

}  // namespace msprune::data
