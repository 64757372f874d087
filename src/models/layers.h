#pragma once
// Building blocks shared by the zoo.
#include <torch/torch.h>

#include <functional>

namespace msprune::models {

// Network Slimming's channel selection: keeps the channels listed in the
// `indices` buffer (sorted, unique, each < num_channels). After a BN whose
// width a residual sum or a concatenation fixes, it is how pruning removes
// channels without touching the BN. An unpruned selection keeps everything.
class ChannelSelectionImpl : public torch::nn::Module {
 public:
  ChannelSelectionImpl(int64_t num_channels, int64_t kept);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t num_channels() const { return num_channels_; }
  int64_t kept() const { return indices.size(0); }
  // Throws msprune::Error unless indices are sorted, unique, in range and as
  // many as the configuration says.
  void validate(const std::string& where) const;
  // Replaces the kept channels (same count); validates.
  void set_indices(const torch::Tensor& idx);

  torch::Tensor indices;  // int64 [kept]

 private:
  int64_t num_channels_, expected_kept_;
};
TORCH_MODULE(ChannelSelection);

torch::nn::Conv2d make_conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1);
torch::nn::BatchNorm2d make_bn(int64_t c);

// Every BatchNorm of the zoo is applied through apply_bn: the module's own
// forward, unless a BnOverride is installed on this thread and the module is
// in training mode. That is how data-parallel training swaps in SyncBatchNorm
// (train/sync_bn.h) without another module type: parameter and buffer names,
// and so checkpoints and pruning, stay those of torch::nn::BatchNorm2d.
using BnOverride = std::function<torch::Tensor(torch::nn::BatchNorm2dImpl&, const torch::Tensor&)>;
torch::Tensor apply_bn(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x);

// Installs `f` for training-mode BN on this thread while in scope (the one
// before it comes back afterwards).
class ScopedBnOverride {
 public:
  explicit ScopedBnOverride(BnOverride f);
  ~ScopedBnOverride();
  ScopedBnOverride(const ScopedBnOverride&) = delete;
  ScopedBnOverride& operator=(const ScopedBnOverride&) = delete;

 private:
  BnOverride previous_;
};

// Network Slimming's initialisation: convs ~ N(0, sqrt(2 / (k*k*out))),
// BN gamma = gamma_init, beta = 0.
void init_conv(torch::nn::Conv2dImpl& conv);
void init_bn(torch::nn::BatchNorm2dImpl& bn, double gamma_init);
// Applies both to every conv / BN below `m`.
void init_all(torch::nn::Module& m, double gamma_init);

}  // namespace msprune::models
