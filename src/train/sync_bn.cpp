#include "train/sync_bn.h"

#include <cstdint>
#include <string>
#include <vector>

#include "train/distributed.h"
#include "util/error.h"

namespace msprune::train {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The dimensions a BN reduces over: all but the channel one (1).
std::vector<int64_t> reduce_dims(const torch::Tensor& x) {
  std::vector<int64_t> d{0};
  for (int64_t i = 2; i < x.dim(); ++i) d.push_back(i);
  return d;
}

// [1, C, 1, ...] to broadcast a per-channel vector against x.
std::vector<int64_t> channel_shape(const torch::Tensor& x) {
  std::vector<int64_t> s(size_t(x.dim()), 1);
  s[1] = x.size(1);
  return s;
}

struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& running_mean,
                               const torch::Tensor& running_var, double momentum, double eps, Distributed* dist) {
    const int64_t C = x.size(1);
    const auto dims = reduce_dims(x);
    const int64_t n_local = C ? x.numel() / C : 0;
    // This rank's per-channel sum and sum of squares, from its own mean and
    // (biased) variance: var_mean's two-pass float32 figures are accurate to
    // float32, and the products below, the exchange and the cancellation in
    // E[x^2] - E[x]^2 are float64, so the global variance keeps float32
    // accuracy whatever the mean.
    torch::Tensor sum, sumsq;
    if (n_local > 0) {
      auto [var, mean] = torch::var_mean(x, dims, /*unbiased=*/false, /*keepdim=*/false);
      auto m = mean.to(torch::kFloat64);
      sum = m * double(n_local);
      sumsq = (var.to(torch::kFloat64) + m * m) * double(n_local);
    } else {
      sum = torch::zeros({C}, x.options().dtype(torch::kFloat64));
      sumsq = torch::zeros({C}, x.options().dtype(torch::kFloat64));
    }
    auto packed = torch::cat({sum, sumsq, torch::full({1}, double(n_local), sum.options())});
    dist->allreduce_sum({packed});
    const double count = packed[2 * C].item<double>();
    if (count <= 1)
      throw Error("SyncBatchNorm: expected more than 1 value per channel over all " +
                  std::to_string(dist->world_size()) + " processes in training mode, got input size " +
                  std::to_string(int64_t(count)) + " per channel");
    auto g_mean = packed.narrow(0, 0, C) / count;
    auto g_var = (packed.narrow(0, C, C) / count - g_mean * g_mean).clamp_min(0.0);
    auto mean = g_mean.to(x.scalar_type());
    auto var = g_var.to(x.scalar_type());
    auto invstd = (g_var + eps).rsqrt().to(x.scalar_type());

    // Statistics not tracked come as empty tensors (sync_batch_norm below).
    if (running_mean.numel() == C)
      running_mean.mul_(1.0 - momentum).add_(mean.to(running_mean.scalar_type()), momentum);
    if (running_var.numel() == C)
      running_var.mul_(1.0 - momentum)
          .add_((g_var * (count / (count - 1.0))).to(running_var.scalar_type()), momentum);

    // (x - mean) / sqrt(var + eps) * w + b: eval-mode batch_norm with the
    // global statistics in place of the running ones.
    auto y = torch::batch_norm(x, weight, bias, mean, var, /*training=*/false, 0.0, eps, /*cudnn_enabled=*/false);
    ctx->save_for_backward({x, weight, mean, invstd});
    ctx->saved_data["count"] = count;
    // The group outlives the step (the trainer owns it); an IValue holds no
    // raw pointer, so its address travels as an integer.
    ctx->saved_data["dist"] = int64_t(reinterpret_cast<intptr_t>(dist));
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto& mean = saved[2];
    const auto& invstd = saved[3];
    const double count = ctx->saved_data["count"].toDouble();
    auto* dist = reinterpret_cast<Distributed*>(intptr_t(ctx->saved_data["dist"].toInt()));
    variable_list out(8);
    auto g = grad_outputs[0];
    if (!g.defined()) g = torch::zeros_like(x);
    const int64_t C = x.size(1);
    const auto dims = reduce_dims(x);
    const auto shape = channel_shape(x);
    auto xmu = x - mean.view(shape);
    auto sum_dy = g.sum(dims);
    auto sum_dy_xmu = (g * xmu).sum(dims);
    if (ctx->needs_input_grad(1)) out[1] = sum_dy_xmu * invstd;
    if (ctx->needs_input_grad(2)) out[2] = sum_dy;
    if (ctx->needs_input_grad(0)) {
      // The global batch's means of dy and dy * (x - mean).
      auto packed = torch::cat({sum_dy, sum_dy_xmu}).to(torch::kFloat64);
      dist->allreduce_sum({packed});
      auto mean_dy = (packed.narrow(0, 0, C) / count).to(x.scalar_type()).view(shape);
      auto mean_dy_xmu = (packed.narrow(0, C, C) / count).to(x.scalar_type()).view(shape);
      auto is = invstd.view(shape);
      out[0] = (g - mean_dy - xmu * (is * is) * mean_dy_xmu) * (is * weight.view(shape));
    }
    return out;
  }
};

}  // namespace

torch::Tensor sync_batch_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              const torch::Tensor& running_mean, const torch::Tensor& running_var, double momentum,
                              double eps, Distributed& dist) {
  if (x.dim() < 2)
    throw Error("SyncBatchNorm: expected an input with a channel dimension ([N, C, ...]), got " +
                std::to_string(x.dim()) + " dimension(s)");
  const int64_t C = x.size(1);
  for (const auto* t : {&weight, &bias, &running_mean, &running_var})
    if (t->defined() && (t->dim() != 1 || t->size(0) != C))
      throw Error("SyncBatchNorm: the input has " + std::to_string(C) + " channels, a per-channel tensor " +
                  std::to_string(t->numel()) + " values");
  // LibTorch 1.13's custom functions take no undefined tensor: 1 and 0 for
  // missing affine parameters (no gradient asked of them), an empty tensor
  // for statistics not tracked.
  auto w = weight.defined() ? weight : torch::ones({C}, x.options());
  auto b = bias.defined() ? bias : torch::zeros({C}, x.options());
  auto none = torch::empty({0}, x.options());
  return SyncBatchNormFunction::apply(x, w, b, running_mean.defined() ? running_mean : none,
                                      running_var.defined() ? running_var : none, momentum, eps, &dist);
}

torch::Tensor sync_batch_norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x, Distributed& dist) {
  if (x.dim() != 4)
    throw Error("BatchNorm2d: expected a 4-D input, got " + std::to_string(x.dim()) + " dimension(s)");
  const auto& o = bn.options;
  double momentum = o.momentum().value_or(0.0);
  const bool track = o.track_running_stats() && bn.running_mean.defined();
  if (track && bn.num_batches_tracked.defined()) {
    torch::NoGradGuard ng;
    bn.num_batches_tracked += 1;
    if (!o.momentum()) momentum = 1.0 / bn.num_batches_tracked.item<double>();
  }
  return sync_batch_norm(x, bn.weight, bn.bias, track ? bn.running_mean : torch::Tensor(),
                         track ? bn.running_var : torch::Tensor(), momentum, o.eps(), dist);
}

SyncBatchNormScope::SyncBatchNormScope(Distributed& dist)
    : guard_([d = &dist](torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
        return sync_batch_norm(bn, x, *d);
      }) {}

}  // namespace msprune::train
