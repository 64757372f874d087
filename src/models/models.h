#pragma once
// The model zoo: Network Slimming's CIFAR networks, each built from a
// ModelSpec (so a pruned network is the same class with a smaller cfg).
//
//  * VGG-11/13/16/19: [conv3x3 (no bias) - BN - ReLU] with 2x2 max-pools
//    between stages, global average pool (AvgPool2d(2) on the final 2x2 map),
//    Linear.
//  * PreResNet-(9n+2): 3x3 stem, three stages of n pre-activation bottleneck
//    blocks (bn1 - select - relu - conv1x1 - bn2 - relu - conv3x3 - bn3 - relu
//    - conv1x1 to 4 x planes; residual = x or a strided 1x1 conv), final
//    bn - select - relu - global average pool - Linear.
//  * DenseNet-(3n+4), growth 12 x width, compression 1: 3x3 stem to 2 x growth,
//    three dense stages of n layers (bn - select - relu - conv3x3 to growth,
//    concatenated), transitions (bn - select - relu - conv1x1 - avgpool 2x2),
//    final bn - select - relu - global average pool - Linear.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "models/layers.h"
#include "models/spec.h"

namespace msprune::models {

// One BatchNorm layer as pruning sees it.
struct BnInfo {
  std::string name;              // e.g. "bn3", "block5.bn1", "dense2.layer4.bn"
  torch::nn::BatchNorm2d bn;
  int stage = 0;                 // resolution stage (0-based; VGG: index of the pooling group)
  bool prunable = true;          // false for DenseNet's first BN (paper: never pruned)
  ChannelSelection select{nullptr};  // the selection after it, if any (PreResNet/DenseNet)
};

class NetImpl : public torch::nn::Module {
 public:
  explicit NetImpl(ModelSpec spec) : spec_(std::move(spec)) {}
  virtual ~NetImpl() = default;
  virtual torch::Tensor forward(torch::Tensor x) = 0;

  const ModelSpec& spec() const { return spec_; }
  // Multiply-accumulates of one 3x32x32 image through convs and the linear
  // layer (BN, ReLU, pooling and additions are not counted, as in Network
  // Slimming's FLOP counts).
  virtual int64_t macs() const = 0;
  // Every BatchNorm in forward order.
  virtual std::vector<BnInfo> batchnorms() = 0;
  // Trainable parameters (weights, biases, BN scales/shifts; not running stats).
  int64_t num_params() const;
  // Checks buffers that a hostile checkpoint could corrupt (channel selections).
  virtual void validate_state() {}

 protected:
  ModelSpec spec_;
};
using Net = std::shared_ptr<NetImpl>;

// ---------------------------------------------------------------------------
class VggImpl : public NetImpl {
 public:
  VggImpl(ModelSpec spec, double gamma_init);
  torch::Tensor forward(torch::Tensor x) override;
  int64_t macs() const override;
  std::vector<BnInfo> batchnorms() override;

  std::vector<torch::nn::Conv2d> convs;
  std::vector<torch::nn::BatchNorm2d> bns;
  std::vector<bool> pool_after;  // max-pool after conv i
  torch::nn::Linear fc{nullptr};
};

// ---------------------------------------------------------------------------
class BottleneckImpl : public torch::nn::Module {
 public:
  // inplanes: block input width; planes: inner width of the unpruned block;
  // cfg: [selected, conv1 out, conv2 out].
  BottleneckImpl(int64_t inplanes, int64_t planes, const int* cfg, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

  int64_t inplanes, planes, stride;
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  ChannelSelection select{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::Conv2d downsample{nullptr};  // null when the residual is the identity
};
TORCH_MODULE(Bottleneck);

class PreResNetImpl : public NetImpl {
 public:
  PreResNetImpl(ModelSpec spec, double gamma_init);
  torch::Tensor forward(torch::Tensor x) override;
  int64_t macs() const override;
  std::vector<BnInfo> batchnorms() override;
  void validate_state() override;

  torch::nn::Conv2d conv1{nullptr};
  std::vector<Bottleneck> blocks;  // stage = index / n
  torch::nn::BatchNorm2d bn{nullptr};
  ChannelSelection select{nullptr};
  torch::nn::Linear fc{nullptr};
};

// ---------------------------------------------------------------------------
class DenseUnitImpl : public torch::nn::Module {
 public:
  // bn(inplanes) - select(kept) - relu - conv(kept -> out, k); a transition
  // (k = 1) is followed by a 2x2 average pool, a dense layer's output is
  // concatenated to its input.
  DenseUnitImpl(int64_t inplanes, int64_t kept, int64_t out, int64_t k);
  torch::Tensor forward(const torch::Tensor& x);

  int64_t inplanes, out;
  torch::nn::BatchNorm2d bn{nullptr};
  ChannelSelection select{nullptr};
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(DenseUnit);

class DenseNetImpl : public NetImpl {
 public:
  DenseNetImpl(ModelSpec spec, double gamma_init);
  torch::Tensor forward(torch::Tensor x) override;
  int64_t macs() const override;
  std::vector<BnInfo> batchnorms() override;
  void validate_state() override;

  torch::nn::Conv2d conv1{nullptr};
  std::vector<std::vector<DenseUnit>> dense;  // [stage][layer]
  std::vector<DenseUnit> trans;               // 2 transitions
  torch::nn::BatchNorm2d bn{nullptr};
  ChannelSelection select{nullptr};
  torch::nn::Linear fc{nullptr};
};

// Builds a network (validating the spec). gamma_init: initial BN scale
// (Network Slimming: 0.5).
Net build_model(const ModelSpec& spec, double gamma_init = 0.5);

// Downcasts (nullptr if the network is of another family).
VggImpl* as_vgg(const Net& n);
PreResNetImpl* as_preresnet(const Net& n);
DenseNetImpl* as_densenet(const Net& n);

}  // namespace msprune::models
