#include "data/augment.h"

#include <random>

#include "util/error.h"

namespace msprune::data {

uint64_t mix_seed(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint64_t p : parts) {
    h ^= p + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    // splitmix64 finaliser
    uint64_t z = h;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    h = z ^ (z >> 31);
  }
  return h;
}

BatchPipeline::BatchPipeline(const CifarSplit& split, torch::Device device, std::optional<Normalization> norm)
    : device_(device), n_(split.size()) {
  if (n_ == 0) throw Error("dataset is empty");
  images_ = split.images.to(device_);
  labels_ = split.labels.to(device_);
  const Normalization nm = norm ? *norm : normalization_for(split.kind);
  mean_ = torch::tensor({nm.mean[0], nm.mean[1], nm.mean[2]}).view({1, 3, 1, 1}).to(device_);
  inv_std_ = (1.0 / torch::tensor({nm.std[0], nm.std[1], nm.std[2]})).view({1, 3, 1, 1}).to(device_);
}

const std::vector<int64_t>& BatchPipeline::permutation(uint64_t seed, int64_t epoch) {
  uint64_t key = mix_seed({seed, uint64_t(epoch), 0x5045524dull});
  if (key == perm_key_ && int64_t(perm_.size()) == n_) return perm_;
  perm_.resize(size_t(n_));
  for (int64_t i = 0; i < n_; ++i) perm_[size_t(i)] = i;
  std::mt19937_64 rng(key);
  for (int64_t i = n_ - 1; i > 0; --i) {  // Fisher-Yates with an exact uniform draw
    std::uniform_int_distribution<int64_t> d(0, i);
    std::swap(perm_[size_t(i)], perm_[size_t(d(rng))]);
  }
  perm_key_ = key;
  return perm_;
}

torch::Tensor BatchPipeline::normalize(const torch::Tensor& u8) const {
  return (u8.to(torch::kFloat32).mul_(1.0 / 255.0) - mean_).mul_(inv_std_);
}

torch::Tensor BatchPipeline::crop_flip(const torch::Tensor& u8, const std::vector<int64_t>& ox,
                                       const std::vector<int64_t>& oy, const std::vector<uint8_t>& flip) {
  const int64_t B = u8.size(0);
  auto dev = u8.device();
  auto padded = torch::constant_pad_nd(u8, {4, 4, 4, 4}, 0);  // [B,3,40,40]
  auto opts = torch::TensorOptions().dtype(torch::kInt64);
  auto ar = torch::arange(32, opts);
  auto oxt = torch::from_blob(const_cast<int64_t*>(ox.data()), {B, 1}, opts).clone();
  auto oyt = torch::from_blob(const_cast<int64_t*>(oy.data()), {B, 1}, opts).clone();
  auto fl = torch::from_blob(const_cast<uint8_t*>(flip.data()), {B, 1}, torch::kUInt8).to(torch::kBool);
  auto rows = oyt + ar.view({1, 32});                                      // [B,32]
  auto cols = oxt + torch::where(fl, 31 - ar.view({1, 32}), ar.view({1, 32}));  // [B,32]
  auto bidx = torch::arange(B, opts).view({B, 1, 1, 1}).to(dev);
  auto cidx = torch::arange(3, opts).view({1, 3, 1, 1}).to(dev);
  using torch::indexing::TensorIndex;
  return padded.index({bidx, cidx, rows.view({B, 1, 32, 1}).to(dev), cols.view({B, 1, 1, 32}).to(dev)});
}

std::pair<torch::Tensor, torch::Tensor> BatchPipeline::train_batch(uint64_t seed, int64_t epoch, int64_t b,
                                                                   int64_t batch_size) {
  const auto& perm = permutation(seed, epoch);
  int64_t start = b * batch_size;
  if (start >= n_ || b < 0) throw Error("batch index " + std::to_string(b) + " out of range");
  int64_t B = std::min(batch_size, n_ - start);
  auto idx = torch::from_blob(const_cast<int64_t*>(perm.data() + start), {B}, torch::kInt64).to(device_);
  auto u8 = images_.index_select(0, idx);
  auto y = labels_.index_select(0, idx);
  std::mt19937_64 rng(mix_seed({seed, uint64_t(epoch), uint64_t(b), 0x41554721ull}));
  std::vector<int64_t> ox(static_cast<size_t>(B)), oy(static_cast<size_t>(B));
  std::vector<uint8_t> fl(static_cast<size_t>(B));
  for (int64_t i = 0; i < B; ++i) {
    uint64_t r = rng();
    ox[size_t(i)] = int64_t(r % 9);
    oy[size_t(i)] = int64_t((r >> 8) % 9);
    fl[size_t(i)] = uint8_t((r >> 16) & 1);
  }
  return {normalize(crop_flip(u8, ox, oy, fl)), y};
}

int64_t BatchPipeline::sharded_batches_per_epoch(int64_t global_batch, int world) const {
  const int64_t padded = (n_ + world - 1) / world * world;
  return (padded + global_batch - 1) / global_batch;
}

std::pair<torch::Tensor, torch::Tensor> BatchPipeline::train_batch_shard(uint64_t seed, int64_t epoch, int64_t b,
                                                                         int64_t global_batch, int rank, int world) {
  if (world < 1 || rank < 0 || rank >= world || global_batch < world || global_batch % world != 0)
    throw Error("sharded batch: rank " + std::to_string(rank) + " of " + std::to_string(world) + ", global batch " +
                std::to_string(global_batch) + " (must be a positive multiple of the world size)");
  const auto& perm = permutation(seed, epoch);
  const int64_t padded = (n_ + world - 1) / world * world;
  const int64_t start = b * global_batch;
  if (start >= padded || b < 0) throw Error("batch index " + std::to_string(b) + " out of range");
  const int64_t G = std::min(global_batch, padded - start);  // a multiple of world
  const int64_t B = G / world;
  std::vector<int64_t> sel(static_cast<size_t>(B));
  std::vector<int64_t> ox(static_cast<size_t>(B)), oy(static_cast<size_t>(B));
  std::vector<uint8_t> fl(static_cast<size_t>(B));
  // The same draws, in the same order, as train_batch for a batch of G.
  std::mt19937_64 rng(mix_seed({seed, uint64_t(epoch), uint64_t(b), 0x41554721ull}));
  for (int64_t p = 0; p < G; ++p) {
    uint64_t r = rng();
    if (p % world != rank) continue;
    const size_t i = size_t(p / world);
    sel[i] = perm[size_t((start + p) % n_)];  // padding repeats the order's head
    ox[i] = int64_t(r % 9);
    oy[i] = int64_t((r >> 8) % 9);
    fl[i] = uint8_t((r >> 16) & 1);
  }
  auto idx = torch::from_blob(sel.data(), {B}, torch::kInt64).to(device_);
  auto u8 = images_.index_select(0, idx);
  auto y = labels_.index_select(0, idx);
  return {normalize(crop_flip(u8, ox, oy, fl)), y};
}

std::pair<torch::Tensor, torch::Tensor> BatchPipeline::eval_batch(int64_t start, int64_t count) {
  if (start < 0 || count <= 0 || start + count > n_)
    throw Error("eval batch [" + std::to_string(start) + ", " + std::to_string(start + count) + ") out of range");
  return {normalize(images_.narrow(0, start, count)), labels_.narrow(0, start, count)};
}

}  // namespace msprune::data
