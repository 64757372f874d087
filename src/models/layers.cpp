#include "models/layers.h"

#include <cmath>

#include "util/error.h"

namespace msprune::models {

ChannelSelectionImpl::ChannelSelectionImpl(int64_t num_channels, int64_t kept)
    : num_channels_(num_channels), expected_kept_(kept) {
  if (kept < 1 || kept > num_channels)
    throw Error("channel selection keeps " + std::to_string(kept) + " of " + std::to_string(num_channels) +
                " channels");
  indices = register_buffer("indices", torch::arange(kept, torch::kInt64));
}

torch::Tensor ChannelSelectionImpl::forward(const torch::Tensor& x) {
  if (indices.size(0) == num_channels_) return x;  // sorted + unique + full = identity
  return x.index_select(1, indices);
}

void ChannelSelectionImpl::validate(const std::string& where) const {
  if (indices.dim() != 1 || indices.scalar_type() != torch::kInt64)
    throw Error(where + ": channel selection indices must be a 1-D int64 tensor");
  if (indices.size(0) != expected_kept_)
    throw Error(where + ": channel selection holds " + std::to_string(indices.size(0)) + " indices, the configuration " +
                std::to_string(expected_kept_));
  auto idx = indices.to(torch::kCPU).contiguous();
  const int64_t* p = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i) {
    if (p[i] < 0 || p[i] >= num_channels_)
      throw Error(where + ": channel selection index " + std::to_string(p[i]) + " out of range 0.." +
                  std::to_string(num_channels_ - 1));
    if (i > 0 && p[i] <= p[i - 1]) throw Error(where + ": channel selection indices not sorted and unique");
  }
}

void ChannelSelectionImpl::set_indices(const torch::Tensor& idx) {
  if (idx.dim() != 1 || idx.size(0) != expected_kept_)
    throw Error("set_indices: expected " + std::to_string(expected_kept_) + " indices");
  torch::NoGradGuard g;
  auto old = indices.clone();
  indices.copy_(idx.to(torch::kInt64));
  try {
    validate("set_indices");
  } catch (...) {
    indices.copy_(old);
    throw;
  }
}

torch::nn::Conv2d make_conv(int64_t in, int64_t out, int64_t k, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false));
}

torch::nn::BatchNorm2d make_bn(int64_t c) { return torch::nn::BatchNorm2d(c); }

namespace {
thread_local BnOverride bn_override;
}  // namespace

torch::Tensor apply_bn(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
  if (bn_override && bn.is_training()) return bn_override(bn, x);
  return bn.forward(x);
}

ScopedBnOverride::ScopedBnOverride(BnOverride f) : previous_(std::move(bn_override)) { bn_override = std::move(f); }

ScopedBnOverride::~ScopedBnOverride() { bn_override = std::move(previous_); }

void init_conv(torch::nn::Conv2dImpl& conv) {
  torch::NoGradGuard g;
  auto& w = conv.weight;
  double n = double(w.size(2) * w.size(3) * w.size(0));
  w.normal_(0.0, std::sqrt(2.0 / n));
  if (conv.bias.defined()) conv.bias.zero_();
}

void init_bn(torch::nn::BatchNorm2dImpl& bn, double gamma_init) {
  torch::NoGradGuard g;
  bn.weight.fill_(gamma_init);
  bn.bias.zero_();
}

void init_all(torch::nn::Module& root, double gamma_init) {
  for (auto& m : root.modules(/*include_self=*/false)) {
    if (auto* c = m->as<torch::nn::Conv2dImpl>()) init_conv(*c);
    if (auto* b = m->as<torch::nn::BatchNorm2dImpl>()) init_bn(*b, gamma_init);
  }
}

}  // namespace msprune::models
