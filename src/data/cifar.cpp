#include "data/cifar.h"

#include <memory>

#include "util/error.h"

namespace msprune::data {

CifarSplit load_cifar(const std::string& dir, bool train, int64_t limit) {
  // The tensors use the reader's buffers in place (no copy of the 150 MB
  // training set); the records live as long as the last tensor on them.
  auto r = std::make_shared<CifarRecords>(read_cifar(dir, train, limit));
  CifarSplit s;
  s.kind = r->kind;
  s.num_classes = r->num_classes;
  s.class_names = r->class_names;
  s.files = r->files;
  const int64_t n = r->size();
  auto keep = [r](void*) {};
  auto view = [&](auto& v, torch::IntArrayRef sizes, torch::ScalarType t) {
    return n == 0 ? torch::empty(sizes, t) : torch::from_blob(v.data(), sizes, keep, t);
  };
  s.images = view(r->images, {n, 3, 32, 32}, torch::kUInt8);
  s.labels = view(r->labels, {n}, torch::kInt64);
  if (r->kind == CifarKind::kCifar100) s.coarse_labels = view(r->coarse_labels, {n}, torch::kInt64);
  return s;
}

std::vector<int64_t> class_counts(const CifarSplit& split) {
  std::vector<int64_t> c(size_t(split.num_classes), 0);
  if (split.size() == 0) return c;
  auto l = split.labels.contiguous();
  const int64_t* p = l.data_ptr<int64_t>();
  for (int64_t i = 0; i < l.numel(); ++i) c[size_t(p[i])]++;
  return c;
}

Normalization normalization_for(CifarKind kind) {
  if (kind == CifarKind::kCifar100) return {{0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}};
  return {{0.4914f, 0.4822f, 0.4465f}, {0.2023f, 0.1994f, 0.2010f}};
}

CifarDataset::CifarDataset(CifarSplit split) : split_(std::move(split)), norm_(normalization_for(split_.kind)) {}

torch::data::Example<> CifarDataset::get(size_t index) {
  if (int64_t(index) >= split_.size())
    throw Error("CIFAR index " + std::to_string(index) + " out of range (size " + std::to_string(split_.size()) + ")");
  auto x = split_.images[int64_t(index)].to(torch::kFloat32).div_(255.0);
  auto mean = torch::tensor({norm_.mean[0], norm_.mean[1], norm_.mean[2]}).view({3, 1, 1});
  auto sd = torch::tensor({norm_.std[0], norm_.std[1], norm_.std[2]}).view({3, 1, 1});
  return {(x - mean) / sd, split_.labels[int64_t(index)]};
}

torch::optional<size_t> CifarDataset::size() const { return size_t(split_.size()); }

}  // namespace msprune::data
