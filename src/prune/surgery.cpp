#include "prune/surgery.h"

#include "util/error.h"

namespace msprune::prune {
namespace {

using models::Net;
using Idx = std::vector<int64_t>;

torch::Tensor as_tensor(const Idx& v) { return torch::tensor(v, torch::kInt64); }

Idx kept_channels(const std::vector<uint8_t>& mask) {
  Idx out;
  for (size_t c = 0; c < mask.size(); ++c)
    if (mask[c]) out.push_back(int64_t(c));
  return out;
}

// A BN followed by a channel selection: the new selection (old AND mask) and,
// for the layer after it, which of its current inputs (positions in the old
// selection) survive.
struct Selection {
  Idx indices, positions;
};

Selection compose(const models::ChannelSelection& sel, const std::vector<uint8_t>& mask) {
  Selection s;
  auto idx = sel->indices.to(torch::kCPU).contiguous();
  const int64_t* p = idx.data_ptr<int64_t>();
  for (int64_t k = 0; k < idx.numel(); ++k) {
    if (mask[size_t(p[k])]) {
      s.indices.push_back(p[k]);
      s.positions.push_back(k);
    }
  }
  return s;
}

// dst = src restricted to `rows` along dim 0 and `cols` along dim 1 (an empty
// optional keeps the whole dimension). Shapes must then agree exactly.
void put(torch::Tensor& dst, const torch::Tensor& src, const Idx* rows, const Idx* cols, const char* what) {
  torch::Tensor t = src;
  if (rows) t = t.index_select(0, as_tensor(*rows));
  if (cols) t = t.index_select(1, as_tensor(*cols));
  if (t.sizes() != dst.sizes())
    throw Error(std::string("surgery: shape mismatch copying ") + what + " (" + c10::str(t.sizes()) + " into " +
                c10::str(dst.sizes()) + ")");
  dst.copy_(t);
}

void copy_conv(torch::nn::Conv2d& dst, const torch::nn::Conv2d& src, const Idx* out, const Idx* in) {
  put(dst->weight, src->weight, out, in, "conv weight");
  if (src->bias.defined()) put(dst->bias, src->bias, out, nullptr, "conv bias");
}

void copy_bn(torch::nn::BatchNorm2d& dst, const torch::nn::BatchNorm2d& src, const Idx* keep) {
  put(dst->weight, src->weight, keep, nullptr, "bn weight");
  put(dst->bias, src->bias, keep, nullptr, "bn bias");
  put(dst->running_mean, src->running_mean, keep, nullptr, "bn running_mean");
  put(dst->running_var, src->running_var, keep, nullptr, "bn running_var");
  dst->num_batches_tracked.copy_(src->num_batches_tracked);
}

void copy_linear(torch::nn::Linear& dst, const torch::nn::Linear& src, const Idx* in) {
  put(dst->weight, src->weight, nullptr, in, "linear weight");
  put(dst->bias, src->bias, nullptr, nullptr, "linear bias");
}

}  // namespace

models::ModelSpec compact_spec(const Net& net, const Masks& masks) {
  auto layers = collect_gammas(net);
  check_masks(layers, masks);
  models::ModelSpec spec = net->spec();
  if (spec.arch == models::Arch::kVgg) {
    // cfg: conv widths with pools in between.
    size_t b = 0;
    for (int& c : spec.cfg) {
      if (c == models::kPool) continue;
      c = int(kept_in_use(layers[b], masks[b]));
      ++b;
    }
  } else {
    // PreResNet: [selected, conv1 out, conv2 out] per block = its bn1, bn2, bn3,
    // then the final selection. DenseNet: one selection per BN. Both in the
    // forward order of batchnorms().
    for (size_t i = 0; i < layers.size(); ++i) spec.cfg[i] = int(kept_in_use(layers[i], masks[i]));
  }
  models::validate_spec(spec);
  return spec;
}

models::Net compact_network(const Net& net, const Masks& masks) {
  models::ModelSpec spec = compact_spec(net, masks);
  Net out = models::build_model(spec);
  out->to(torch::kCPU);
  torch::NoGradGuard guard;
  if (auto* s = models::as_vgg(net)) {
    auto* d = models::as_vgg(out);
    Idx prev;  // kept inputs of the current conv (none: all)
    for (size_t i = 0; i < s->convs.size(); ++i) {
      Idx keep = kept_channels(masks[i]);
      copy_conv(d->convs[i], s->convs[i], &keep, i == 0 ? nullptr : &prev);
      copy_bn(d->bns[i], s->bns[i], &keep);
      prev = std::move(keep);
    }
    copy_linear(d->fc, s->fc, &prev);
  } else if (auto* s = models::as_preresnet(net)) {
    auto* d = models::as_preresnet(out);
    copy_conv(d->conv1, s->conv1, nullptr, nullptr);
    for (size_t i = 0; i < s->blocks.size(); ++i) {
      auto &sb = s->blocks[i], &db = d->blocks[i];
      Selection sel = compose(sb->select, masks[3 * i]);
      Idx k2 = kept_channels(masks[3 * i + 1]), k3 = kept_channels(masks[3 * i + 2]);
      copy_bn(db->bn1, sb->bn1, nullptr);
      db->select->set_indices(as_tensor(sel.indices));
      copy_conv(db->conv1, sb->conv1, &k2, &sel.positions);
      copy_bn(db->bn2, sb->bn2, &k2);
      copy_conv(db->conv2, sb->conv2, &k3, &k2);
      copy_bn(db->bn3, sb->bn3, &k3);
      copy_conv(db->conv3, sb->conv3, nullptr, &k3);
      if (sb->downsample) copy_conv(db->downsample, sb->downsample, nullptr, nullptr);
    }
    Selection sel = compose(s->select, masks.back());
    copy_bn(d->bn, s->bn, nullptr);
    d->select->set_indices(as_tensor(sel.indices));
    copy_linear(d->fc, s->fc, &sel.positions);
  } else if (auto* s = models::as_densenet(net)) {
    auto* d = models::as_densenet(out);
    copy_conv(d->conv1, s->conv1, nullptr, nullptr);
    size_t m = 0;
    auto unit = [&](models::DenseUnit& du, const models::DenseUnit& su) {
      Selection sel = compose(su->select, masks[m++]);
      copy_bn(du->bn, su->bn, nullptr);
      du->select->set_indices(as_tensor(sel.indices));
      copy_conv(du->conv, su->conv, nullptr, &sel.positions);
    };
    for (size_t st = 0; st < s->dense.size(); ++st) {
      for (size_t l = 0; l < s->dense[st].size(); ++l) unit(d->dense[st][l], s->dense[st][l]);
      if (st < s->trans.size()) unit(d->trans[st], s->trans[st]);
    }
    Selection sel = compose(s->select, masks[m]);
    copy_bn(d->bn, s->bn, nullptr);
    d->select->set_indices(as_tensor(sel.indices));
    copy_linear(d->fc, s->fc, &sel.positions);
  } else {
    throw Error("surgery: unknown network family");
  }
  out->validate_state();
  out->train(net->is_training());
  return out;
}

void zero_pruned_channels(const Net& net, const Masks& masks) {
  auto bns = net->batchnorms();
  if (masks.size() != bns.size())
    throw Error("pruning masks: " + std::to_string(masks.size()) + " masks for " + std::to_string(bns.size()) +
                " BatchNorm layers");
  torch::NoGradGuard guard;
  for (size_t i = 0; i < bns.size(); ++i) {
    auto& bn = bns[i].bn;
    if (int64_t(masks[i].size()) != bn->weight.size(0))
      throw Error("pruning masks: " + bns[i].name + " has " + std::to_string(bn->weight.size(0)) +
                  " channels, its mask " + std::to_string(masks[i].size()));
    auto keep = torch::tensor(std::vector<int64_t>(masks[i].begin(), masks[i].end()), torch::kInt64)
                    .to(bn->weight.device(), bn->weight.scalar_type());
    bn->weight.mul_(keep);
    bn->bias.mul_(keep);
  }
}

}  // namespace msprune::prune
