// LibTorch -> .msm: the zoo's graphs written with msm::Builder, plus the
// host-side holder and the LibTorch-vs-runtime parity check.
#include "export/export.h"
#include "export/torch_arrays.h"

#include <ATen/CPUGeneratorImpl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "util/error.h"
#include "util/progress.h"
#include "util/table.h"

namespace msprune::exporter {

namespace {

using models::ChannelSelectionImpl;

// Square kernel/stride/padding of a plain convolution; anything else is refused.
msm::Tensor conv(msm::Builder& b, msm::Tensor x, torch::nn::Conv2dImpl& c, torch::nn::BatchNorm2dImpl* bn,
                 bool relu) {
  const auto& o = c.options;
  const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (!pad) throw Error("convolution with 'same'/'valid' padding is not supported");
  const int64_t k = (*o.kernel_size())[0], s = (*o.stride())[0], p = (**pad)[0];
  if ((*o.kernel_size())[1] != k || (*o.stride())[1] != s || (**pad)[1] != p)
    throw Error("non-square convolution kernel, stride or padding is not supported");
  if (o.groups() != 1 || (*o.dilation())[0] != 1 || (*o.dilation())[1] != 1)
    throw Error("grouped or dilated convolution is not supported");
  if (!c10::get_if<torch::enumtype::kZeros>(&o.padding_mode()))
    throw Error("only zero padding is supported");
  if (o.in_channels() != b.shape(x).c)
    throw Error(strf("convolution expects %lld input channels, the graph has %d", (long long)o.in_channels(),
                     b.shape(x).c));
  std::vector<float> w = to_vec(c.weight), bias;
  if (c.bias.defined()) bias = to_vec(c.bias);
  if (bn) msm::fold_bn_into_conv(w, bias, bn_arrays(*bn).view());
  return b.conv2d(x, int(o.out_channels()), int(k), int(s), int(p), w, bias, relu);
}

// BN (+ channel selection) + ReLU after a sum or a concatenation.
msm::Tensor bn_affine(msm::Builder& b, msm::Tensor x, torch::nn::BatchNorm2dImpl& bn, ChannelSelectionImpl* sel) {
  if (bn.options.num_features() != b.shape(x).c)
    throw Error(strf("BatchNorm has %lld channels, the graph has %d", (long long)bn.options.num_features(),
                     b.shape(x).c));
  std::vector<uint32_t> gather;
  if (sel) {
    sel->validate("channel selection");
    if (sel->num_channels() != bn.options.num_features())
      throw Error(strf("channel selection over %lld channels follows a BatchNorm of %lld",
                       (long long)sel->num_channels(), (long long)bn.options.num_features()));
    if (sel->kept() != sel->num_channels()) {  // sorted + unique + full = identity
      auto idx = sel->indices.to(torch::kCPU).contiguous();
      for (int64_t i = 0; i < idx.numel(); ++i) gather.push_back(uint32_t(idx.data_ptr<int64_t>()[i]));
    }
  }
  std::vector<float> scale, shift;
  msm::bn_to_affine(bn_arrays(bn).view(), gather, scale, shift);
  return b.affine(x, scale, shift, gather, /*relu=*/true);
}

msm::Tensor classifier(msm::Builder& b, msm::Tensor x, torch::nn::LinearImpl& fc) {
  x = b.global_avg_pool(x);
  if (fc.options.in_features() != b.shape(x).c)
    throw Error(strf("Linear expects %lld inputs, the graph has %d", (long long)fc.options.in_features(),
                     b.shape(x).c));
  std::vector<float> bias;
  if (fc.bias.defined()) bias = to_vec(fc.bias);
  return b.linear(x, int(fc.options.out_features()), to_vec(fc.weight), bias);
}

msm::Tensor build_vgg(msm::Builder& b, models::VggImpl& m) {
  msm::Tensor x = b.input();
  for (size_t i = 0; i < m.convs.size(); ++i) {
    const std::string n = std::to_string(i);
    x = named("export", "conv" + n + "+bn" + n, [&] { return conv(b, x, *m.convs[i], m.bns[i].get(), true); });
    if (m.pool_after[i]) x = named("export", "pool" + n, [&] { return b.max_pool(x, 2, 2); });
  }
  return named("export", "fc", [&] { return classifier(b, x, *m.fc); });
}

msm::Tensor build_preresnet(msm::Builder& b, models::PreResNetImpl& m) {
  msm::Tensor x = named("export", "conv1", [&] { return conv(b, b.input(), *m.conv1, nullptr, false); });
  for (size_t i = 0; i < m.blocks.size(); ++i) {
    auto& k = *m.blocks[i];
    const std::string p = "block" + std::to_string(i) + ".";
    msm::Tensor t = named("export", p + "bn1+select", [&] { return bn_affine(b, x, *k.bn1, k.select.get()); });
    t = named("export", p + "conv1+bn2", [&] { return conv(b, t, *k.conv1, k.bn2.get(), true); });
    t = named("export", p + "conv2+bn3", [&] { return conv(b, t, *k.conv2, k.bn3.get(), true); });
    t = named("export", p + "conv3", [&] { return conv(b, t, *k.conv3, nullptr, false); });
    msm::Tensor res = x;
    if (k.downsample) res = named("export", p + "downsample", [&] { return conv(b, x, *k.downsample, nullptr, false); });
    x = named("export", p + "add", [&] { return b.add(t, res); });
  }
  x = named("export", "bn+select", [&] { return bn_affine(b, x, *m.bn, m.select.get()); });
  return named("export", "fc", [&] { return classifier(b, x, *m.fc); });
}

msm::Tensor build_densenet(msm::Builder& b, models::DenseNetImpl& m) {
  msm::Tensor x = named("export", "conv1", [&] { return conv(b, b.input(), *m.conv1, nullptr, false); });
  auto unit = [&](models::DenseUnitImpl& u, msm::Tensor in) {
    return conv(b, bn_affine(b, in, *u.bn, u.select.get()), *u.conv, nullptr, false);
  };
  for (size_t st = 0; st < m.dense.size(); ++st) {
    for (size_t l = 0; l < m.dense[st].size(); ++l) {
      const std::string n = "dense" + std::to_string(st) + "_" + std::to_string(l);
      x = named("export", n, [&] { return b.concat({x, unit(*m.dense[st][l], x)}); });
    }
    if (st < m.trans.size())
      x = named("export", "trans" + std::to_string(st), [&] { return b.avg_pool(unit(*m.trans[st], x), 2, 2); });
  }
  x = named("export", "bn+select", [&] { return bn_affine(b, x, *m.bn, m.select.get()); });
  return named("export", "fc", [&] { return classifier(b, x, *m.fc); });
}

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += strf("%02x", p[i]);
  return s;
}

[[noreturn]] void rt_fail(const char* what, const rt::Error& e) {
  throw Error(strf("%s: %s (offset %s): %s", what, rt::status_name(e.status),
                   e.offset == rt::Error::kNoOffset ? "-" : std::to_string(e.offset).c_str(), e.message));
}

}  // namespace

data::Normalization input_normalization(const models::ModelSpec& spec) {
  if (spec.input_norm) {
    const auto& n = *spec.input_norm;
    return {{n.mean[0], n.mean[1], n.mean[2]}, {n.std[0], n.std[1], n.std[2]}};
  }
  return data::normalization_for(spec.num_classes == 100 ? data::CifarKind::kCifar100 : data::CifarKind::kCifar10);
}

std::vector<uint8_t> export_msm(models::NetImpl& net, const msm::FinishOptions& opts) {
  torch::NoGradGuard ng;
  const auto norm = input_normalization(net.spec());
  msm::Builder b(3, 32, 32, {norm.mean, norm.mean + 3}, {norm.std, norm.std + 3});
  msm::Tensor out;
  if (auto* v = dynamic_cast<models::VggImpl*>(&net)) out = build_vgg(b, *v);
  else if (auto* r = dynamic_cast<models::PreResNetImpl*>(&net)) out = build_preresnet(b, *r);
  else if (auto* d = dynamic_cast<models::DenseNetImpl*>(&net)) out = build_densenet(b, *d);
  else throw Error("export: unknown network family");
  if (b.shape(out).c != net.spec().num_classes)
    throw Error(strf("export: the graph ends in %d outputs, the spec has %d classes", b.shape(out).c,
                     net.spec().num_classes));
  return b.finish(out, opts);
}

// ---------------------------------------------------------------------------

MsmSummary summarize_msm(std::span<const uint8_t> bytes) {
  HostedModel h(bytes);
  const rt::Model& m = h.model();
  MsmSummary s;
  s.ops = m.num_ops();
  for (uint32_t i = 0; i < m.num_ops(); ++i) {
    rt::OpInfo oi;
    if (m.op_info(i, &oi) != rt::Status::kOk) throw Error(strf("op_info(%u) failed", i));
    s.params += oi.params;
    s.macs += oi.macs;
    std::string t = rt::op_type_name(oi.type);
    auto it = std::find_if(s.op_counts.begin(), s.op_counts.end(), [&](const auto& p) { return p.first == t; });
    if (it == s.op_counts.end()) s.op_counts.emplace_back(t, 1);
    else ++it->second;
  }
  s.file_bytes = m.file_bytes();
  s.weights_bytes = m.weights_bytes();
  s.metadata_bytes = m.metadata_bytes();
  s.arena_bytes = m.arena_bytes();
  s.activation_bytes = m.activation_bytes();
  s.enclave_heap_bytes = tee::enclave_heap_bytes(m);
  s.input_c = m.input_channels(), s.input_h = m.input_height(), s.input_w = m.input_width();
  s.classes = m.num_classes();
  s.content_hash = hex(m.content_hash(), 32);
  return s;
}

nlohmann::json summary_json(const MsmSummary& s) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [t, n] : s.op_counts) counts[t] = n;
  return {{"ops", s.ops},
          {"op_counts", counts},
          {"params", s.params},
          {"macs", s.macs},
          {"file_bytes", s.file_bytes},
          {"weights_bytes", s.weights_bytes},
          {"metadata_bytes", s.metadata_bytes},
          {"arena_bytes", s.arena_bytes},
          {"activation_bytes", s.activation_bytes},
          {"enclave_heap_bytes", s.enclave_heap_bytes},
          {"input", {s.input_c, s.input_h, s.input_w}},
          {"classes", s.classes},
          {"content_hash", s.content_hash}};
}

uint64_t exported_enclave_heap_bytes(models::NetImpl& net) {
  const std::vector<uint8_t> bytes = export_msm(net);
  return summarize_msm(bytes).enclave_heap_bytes;
}

// ---------------------------------------------------------------------------

HostedModel::Mapping::Mapping(size_t n) : bytes(std::max<size_t>(n, 1)) {
  ptr = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ptr == MAP_FAILED) throw Error(strf("cannot map %zu bytes", bytes));
}

HostedModel::Mapping::~Mapping() { munmap(ptr, bytes); }

HostedModel::HostedModel(std::span<const uint8_t> bytes, const rt::InterpreterOptions& opts)
    : bytes_(bytes.size()) {
  if (!bytes.empty()) std::memcpy(bytes_.ptr, bytes.data(), bytes.size());
  rt::Error err;
  if (model_.load(bytes_.ptr, bytes.size(), {}, &err) != rt::Status::kOk)
    rt_fail("the runtime rejects the model", err);
  arena_ = std::make_unique<Mapping>(model_.arena_bytes());
  if (interp_.init(model_, arena_->ptr, model_.arena_bytes(), opts, &err) != rt::Status::kOk)
    rt_fail("the runtime cannot prepare the model", err);
}

void HostedModel::invoke(const float* chw, float* logits) {
  rt::Error err;
  if (interp_.invoke(chw, logits, &err) != rt::Status::kOk) rt_fail("runtime invoke", err);
}

void HostedModel::invoke_u8(const uint8_t* chw, float* logits) {
  rt::Error err;
  if (interp_.invoke_u8(chw, logits, &err) != rt::Status::kOk) rt_fail("runtime invoke_u8", err);
}

// ---------------------------------------------------------------------------

torch::Tensor torch_logits(models::NetImpl& net, const torch::Tensor& x) {
  torch::NoGradGuard ng;
  const bool was_training = net.is_training();
  net.eval();
  auto y = net.forward(x).to(torch::kCPU, torch::kFloat32).contiguous();
  net.train(was_training);
  return y;
}

void add_to_parity(Parity& p, const float* t, const float* r, int64_t classes, int64_t label) {
  for (int64_t c = 0; c < classes; ++c) {
    p.max_abs_diff = std::max(p.max_abs_diff, double(std::fabs(t[c] - r[c])));
    p.max_abs_logit = std::max(p.max_abs_logit, double(std::fabs(t[c])));
  }
  const uint32_t at = rt::argmax(t, uint32_t(classes)), ar = rt::argmax(r, uint32_t(classes));
  p.top1_agree += at == ar;
  if (label >= 0) {
    p.labelled = true;
    p.torch_correct += int64_t(at) == label;
    p.runtime_correct += int64_t(ar) == label;
  }
  ++p.inputs;
}

namespace {
void check_io(const rt::Model& m, const models::NetImpl& net) {
  if (int64_t(m.num_classes()) != net.spec().num_classes)
    throw Error(strf("parity: the .msm has %u classes, the network %d", m.num_classes(), net.spec().num_classes));
}
}  // namespace

torch::Tensor random_inputs(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randn({n, c, h, w}, gen);
}

Parity compare_random(models::NetImpl& net, HostedModel& h, int64_t n, uint64_t seed) {
  check_io(h.model(), net);
  const rt::Model& m = h.model();
  auto x = random_inputs(n, m.input_channels(), m.input_height(), m.input_width(), seed);
  auto y = torch_logits(net, x);
  const int64_t classes = m.num_classes();
  std::vector<float> r(static_cast<size_t>(classes));
  Parity p;
  for (int64_t i = 0; i < n; ++i) {
    auto xi = x[i].contiguous();
    h.invoke(xi.data_ptr<float>(), r.data());
    add_to_parity(p, y[i].data_ptr<float>(), r.data(), classes, -1);
  }
  return p;
}

Parity compare_images(models::NetImpl& net, HostedModel& h, const torch::Tensor& images, const torch::Tensor& labels,
                      int64_t batch, bool progress) {
  check_io(h.model(), net);
  const rt::Model& m = h.model();
  if (images.dim() != 4 || images.scalar_type() != torch::kUInt8 || images.size(1) != m.input_channels() ||
      images.size(2) != m.input_height() || images.size(3) != m.input_width())
    throw Error(strf("parity: images must be uint8 [N,%u,%u,%u]", m.input_channels(), m.input_height(),
                     m.input_width()));
  const int64_t n = images.size(0), classes = m.num_classes(), c = m.input_channels();
  if (labels.defined() && (labels.dim() != 1 || labels.size(0) != n))
    throw Error("parity: labels must be [N] for N images");
  auto lab = labels.defined() ? labels.to(torch::kInt64).contiguous() : torch::Tensor();
  auto mean = torch::from_blob(const_cast<float*>(m.input_mean()), {1, c, 1, 1}).clone();
  auto sd = torch::from_blob(const_cast<float*>(m.input_std()), {1, c, 1, 1}).clone();
  Progress bar("parity", uint64_t(n), "img", progress);
  std::vector<float> r(static_cast<size_t>(classes));
  Parity p;
  for (int64_t s = 0; s < n; s += batch) {
    const int64_t e = std::min(n, s + batch);
    auto u8 = images.slice(0, s, e).contiguous();
    auto y = torch_logits(net, (u8.to(torch::kFloat32).div(255.0f) - mean).div(sd));
    for (int64_t i = s; i < e; ++i) {
      h.invoke_u8(u8[i - s].data_ptr<uint8_t>(), r.data());
      add_to_parity(p, y[i - s].data_ptr<float>(), r.data(), classes, lab.defined() ? lab.data_ptr<int64_t>()[i] : -1);
    }
    bar.tick(uint64_t(e - s));
  }
  bar.finish();
  return p;
}

std::vector<float> to_vec(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const float* p = c.data_ptr<float>();
  return std::vector<float>(p, p + c.numel());
}

BnArrays bn_arrays(torch::nn::BatchNorm2dImpl& bn) {
  BnArrays a;
  const int64_t c = bn.options.num_features();
  if (!bn.running_mean.defined() || !bn.running_var.defined())
    throw Error("BatchNorm without running statistics cannot be exported");
  a.mean = to_vec(bn.running_mean);
  a.var = to_vec(bn.running_var);
  a.gamma = bn.weight.defined() ? to_vec(bn.weight) : std::vector<float>(size_t(c), 1.0f);
  a.beta = bn.bias.defined() ? to_vec(bn.bias) : std::vector<float>(size_t(c), 0.0f);
  a.eps = float(bn.options.eps());
  if (!(a.eps > 0) || !std::isfinite(a.eps)) throw Error(strf("BatchNorm eps %g (must be > 0)", double(a.eps)));
  if (int64_t(a.mean.size()) != c || int64_t(a.var.size()) != c || int64_t(a.gamma.size()) != c ||
      int64_t(a.beta.size()) != c)
    throw Error(strf("BatchNorm of %lld channels has parameters of another size", (long long)c));
  for (size_t i = 0; i < a.var.size(); ++i) {
    if (!std::isfinite(a.mean[i]) || !std::isfinite(a.var[i]) || a.var[i] < 0)
      throw Error(strf("BatchNorm channel %zu has running mean %g, running var %g (finite, var >= 0 required)", i,
                       double(a.mean[i]), double(a.var[i])));
    if (!std::isfinite(a.gamma[i]) || !std::isfinite(a.beta[i]))
      throw Error(strf("BatchNorm channel %zu has gamma %g, beta %g", i, double(a.gamma[i]), double(a.beta[i])));
  }
  return a;
}

}  // namespace msprune::exporter
