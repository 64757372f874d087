#include "models/models.h"

#include "util/error.h"

namespace msprune::models {
namespace F = torch::nn::functional;

int64_t NetImpl::num_params() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

// ---------------------------------------------------------------------------
// VGG

VggImpl::VggImpl(ModelSpec spec, double gamma_init) : NetImpl(std::move(spec)) {
  int64_t in = 3;
  for (int c : spec_.cfg) {
    if (c == kPool) {
      if (convs.empty()) throw Error("vgg cfg cannot start with a pool");
      pool_after.back() = true;
      continue;
    }
    size_t i = convs.size();
    auto conv = register_module("conv" + std::to_string(i), make_conv(in, c, 3));
    auto bn = register_module("bn" + std::to_string(i), make_bn(c));
    init_conv(*conv);
    init_bn(*bn, gamma_init);
    convs.push_back(conv);
    bns.push_back(bn);
    pool_after.push_back(false);
    in = c;
  }
  fc = register_module("fc", torch::nn::Linear(in, spec_.num_classes));
  torch::NoGradGuard g;
  fc->weight.normal_(0, 0.01);
  fc->bias.zero_();
}

torch::Tensor VggImpl::forward(torch::Tensor x) {
  for (size_t i = 0; i < convs.size(); ++i) {
    x = torch::relu(apply_bn(*bns[i], convs[i]->forward(x)));
    if (pool_after[i]) x = torch::max_pool2d(x, 2, 2);
  }
  x = x.mean({2, 3});  // AvgPool2d(2) on the final 2x2 map, flattened
  return fc->forward(x);
}

int64_t VggImpl::macs() const {
  int64_t s = 32, m = 0, in = 3;
  for (size_t i = 0; i < convs.size(); ++i) {
    int64_t out = convs[i]->options.out_channels();
    m += in * out * 9 * s * s;
    in = out;
    if (pool_after[i]) s /= 2;
  }
  return m + in * spec_.num_classes;
}

std::vector<BnInfo> VggImpl::batchnorms() {
  std::vector<BnInfo> v;
  int stage = 0;
  for (size_t i = 0; i < bns.size(); ++i) {
    v.push_back({"bn" + std::to_string(i), bns[i], stage, true, nullptr});
    if (pool_after[i]) ++stage;
  }
  return v;
}

// ---------------------------------------------------------------------------
// PreResNet

BottleneckImpl::BottleneckImpl(int64_t inplanes_, int64_t planes_, const int* cfg, int64_t stride_)
    : inplanes(inplanes_), planes(planes_), stride(stride_) {
  bn1 = register_module("bn1", make_bn(inplanes));
  select = register_module("select", ChannelSelection(inplanes, cfg[0]));
  conv1 = register_module("conv1", make_conv(cfg[0], cfg[1], 1));
  bn2 = register_module("bn2", make_bn(cfg[1]));
  conv2 = register_module("conv2", make_conv(cfg[1], cfg[2], 3, stride));
  bn3 = register_module("bn3", make_bn(cfg[2]));
  conv3 = register_module("conv3", make_conv(cfg[2], 4 * planes, 1));
  if (stride != 1 || inplanes != 4 * planes) downsample = register_module("downsample", make_conv(inplanes, 4 * planes, 1, stride));
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(select->forward(apply_bn(*bn1, x)));
  out = conv1->forward(out);
  out = conv2->forward(torch::relu(apply_bn(*bn2, out)));
  out = conv3->forward(torch::relu(apply_bn(*bn3, out)));
  return out + (downsample ? downsample->forward(x) : x);
}

PreResNetImpl::PreResNetImpl(ModelSpec spec, double gamma_init) : NetImpl(std::move(spec)) {
  int n = spec_.blocks_per_stage();
  auto p = spec_.stage_planes();
  conv1 = register_module("conv1", make_conv(3, p[0], 3));
  int64_t inplanes = p[0];
  for (int st = 0; st < 3; ++st) {
    for (int b = 0; b < n; ++b) {
      size_t i = blocks.size();
      int64_t stride = (st > 0 && b == 0) ? 2 : 1;
      blocks.push_back(register_module("block" + std::to_string(i),
                                       Bottleneck(inplanes, p[size_t(st)], &spec_.cfg[3 * i], stride)));
      inplanes = 4 * p[size_t(st)];
    }
  }
  bn = register_module("bn", make_bn(inplanes));
  select = register_module("select", ChannelSelection(inplanes, spec_.cfg.back()));
  fc = register_module("fc", torch::nn::Linear(spec_.cfg.back(), spec_.num_classes));
  init_all(*this, gamma_init);
}

torch::Tensor PreResNetImpl::forward(torch::Tensor x) {
  x = conv1->forward(x);
  for (auto& b : blocks) x = b->forward(x);
  x = torch::relu(select->forward(apply_bn(*bn, x)));
  return fc->forward(x.mean({2, 3}));
}

int64_t PreResNetImpl::macs() const {
  int64_t s = 32;
  int64_t m = 3 * conv1->options.out_channels() * 9 * s * s;
  for (const auto& b : blocks) {
    int64_t so = s / b->stride;
    m += b->conv1->options.in_channels() * b->conv1->options.out_channels() * s * s;
    m += b->conv2->options.in_channels() * b->conv2->options.out_channels() * 9 * so * so;
    m += b->conv3->options.in_channels() * b->conv3->options.out_channels() * so * so;
    if (b->downsample) m += b->inplanes * 4 * b->planes * so * so;
    s = so;
  }
  return m + fc->options.in_features() * spec_.num_classes;
}

std::vector<BnInfo> PreResNetImpl::batchnorms() {
  std::vector<BnInfo> v;
  int n = spec_.blocks_per_stage();
  for (size_t i = 0; i < blocks.size(); ++i) {
    auto& b = blocks[i];
    int st = int(i) / n;
    std::string p = "block" + std::to_string(i) + ".";
    v.push_back({p + "bn1", b->bn1, st, true, b->select});
    v.push_back({p + "bn2", b->bn2, st, true, nullptr});
    v.push_back({p + "bn3", b->bn3, st, true, nullptr});
  }
  v.push_back({"bn", bn, 2, true, select});
  return v;
}

void PreResNetImpl::validate_state() {
  for (size_t i = 0; i < blocks.size(); ++i) blocks[i]->select->validate("block" + std::to_string(i) + ".select");
  select->validate("select");
}

// ---------------------------------------------------------------------------
// DenseNet

DenseUnitImpl::DenseUnitImpl(int64_t inplanes_, int64_t kept, int64_t out_, int64_t k)
    : inplanes(inplanes_), out(out_) {
  bn = register_module("bn", make_bn(inplanes));
  select = register_module("select", ChannelSelection(inplanes, kept));
  conv = register_module("conv", make_conv(kept, out, k));
}

torch::Tensor DenseUnitImpl::forward(const torch::Tensor& x) {
  return conv->forward(torch::relu(select->forward(apply_bn(*bn, x))));
}

DenseNetImpl::DenseNetImpl(ModelSpec spec, double gamma_init) : NetImpl(std::move(spec)) {
  int n = spec_.blocks_per_stage();
  int64_t g = spec_.growth();
  int64_t ch = 2 * g;
  conv1 = register_module("conv1", make_conv(3, ch, 3));
  size_t ci = 0;
  dense.resize(3);
  for (int st = 0; st < 3; ++st) {
    for (int l = 0; l < n; ++l) {
      dense[size_t(st)].push_back(register_module("dense" + std::to_string(st) + "_" + std::to_string(l),
                                                  DenseUnit(ch, spec_.cfg[ci++], g, 3)));
      ch += g;
    }
    if (st < 2) {
      trans.push_back(register_module("trans" + std::to_string(st), DenseUnit(ch, spec_.cfg[ci++], ch, 1)));
    }
  }
  bn = register_module("bn", make_bn(ch));
  select = register_module("select", ChannelSelection(ch, spec_.cfg[ci]));
  fc = register_module("fc", torch::nn::Linear(spec_.cfg[ci], spec_.num_classes));
  init_all(*this, gamma_init);
}

torch::Tensor DenseNetImpl::forward(torch::Tensor x) {
  x = conv1->forward(x);
  for (int st = 0; st < 3; ++st) {
    for (auto& u : dense[size_t(st)]) x = torch::cat({x, u->forward(x)}, 1);
    if (st < 2) x = torch::avg_pool2d(trans[size_t(st)]->forward(x), 2);
  }
  x = torch::relu(select->forward(apply_bn(*bn, x)));
  return fc->forward(x.mean({2, 3}));
}

int64_t DenseNetImpl::macs() const {
  int64_t s = 32;
  int64_t m = 3 * conv1->options.out_channels() * 9 * s * s;
  for (int st = 0; st < 3; ++st) {
    for (const auto& u : dense[size_t(st)]) m += u->conv->options.in_channels() * u->out * 9 * s * s;
    if (st < 2) {
      const auto& t = trans[size_t(st)];
      m += t->conv->options.in_channels() * t->out * s * s;
      s /= 2;
    }
  }
  return m + fc->options.in_features() * spec_.num_classes;
}

std::vector<BnInfo> DenseNetImpl::batchnorms() {
  std::vector<BnInfo> v;
  for (int st = 0; st < 3; ++st) {
    for (size_t l = 0; l < dense[size_t(st)].size(); ++l) {
      auto& u = dense[size_t(st)][l];
      v.push_back({"dense" + std::to_string(st) + "_" + std::to_string(l) + ".bn", u->bn, st, true, u->select});
    }
    if (st < 2) v.push_back({"trans" + std::to_string(st) + ".bn", trans[size_t(st)]->bn, st, true, trans[size_t(st)]->select});
  }
  v.push_back({"bn", bn, 2, true, select});
  v.front().prunable = false;  // the paper never prunes DenseNet's first BN
  return v;
}

void DenseNetImpl::validate_state() {
  for (auto& bi : batchnorms()) bi.select->validate(bi.name);
}

// ---------------------------------------------------------------------------

Net build_model(const ModelSpec& spec, double gamma_init) {
  validate_spec(spec);
  switch (spec.arch) {
    case Arch::kVgg: return std::make_shared<VggImpl>(spec, gamma_init);
    case Arch::kPreResNet: return std::make_shared<PreResNetImpl>(spec, gamma_init);
    case Arch::kDenseNet: return std::make_shared<DenseNetImpl>(spec, gamma_init);
  }
  throw Error("unknown architecture");
}

VggImpl* as_vgg(const Net& n) { return dynamic_cast<VggImpl*>(n.get()); }
PreResNetImpl* as_preresnet(const Net& n) { return dynamic_cast<PreResNetImpl*>(n.get()); }
DenseNetImpl* as_densenet(const Net& n) { return dynamic_cast<DenseNetImpl*>(n.get()); }

}  // namespace msprune::models
