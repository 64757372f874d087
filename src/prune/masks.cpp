#include "prune/masks.h"

#include "util/error.h"

namespace msprune::prune {

std::vector<LayerGammas> collect_gammas(const models::Net& net) {
  std::vector<LayerGammas> out;
  for (auto& bi : net->batchnorms()) {
    LayerGammas l;
    l.name = bi.name;
    l.stage = bi.stage;
    l.prunable = bi.prunable;
    l.selected = !bi.select.is_empty();
    auto g = bi.bn->weight.detach().to(torch::kCPU, torch::kFloat32).abs().contiguous();
    l.width = g.size(0);
    const float* gp = g.data_ptr<float>();
    if (l.selected) {
      auto idx = bi.select->indices.to(torch::kCPU).contiguous();
      const int64_t* ip = idx.data_ptr<int64_t>();
      l.channels.assign(ip, ip + idx.numel());
    } else {
      for (int64_t c = 0; c < l.width; ++c) l.channels.push_back(c);
    }
    for (int64_t c : l.channels) l.abs_gamma.push_back(gp[c]);
    out.push_back(std::move(l));
  }
  return out;
}

Masks keep_all(const std::vector<LayerGammas>& layers) {
  Masks m;
  for (const auto& l : layers) m.emplace_back(size_t(l.width), uint8_t(1));
  return m;
}

std::vector<uint8_t> to_mask(const LayerGammas& layer, const std::vector<uint8_t>& keep_in_use) {
  if (keep_in_use.size() != layer.channels.size())
    throw Error(layer.name + ": " + std::to_string(keep_in_use.size()) + " keep flags for " +
                std::to_string(layer.channels.size()) + " channels in use");
  std::vector<uint8_t> m(size_t(layer.width), 0);
  for (size_t k = 0; k < layer.channels.size(); ++k) m[size_t(layer.channels[k])] = keep_in_use[k] ? 1 : 0;
  return m;
}

int64_t kept_in_use(const LayerGammas& layer, const std::vector<uint8_t>& mask) {
  int64_t n = 0;
  for (int64_t c : layer.channels) n += mask[size_t(c)] ? 1 : 0;
  return n;
}

void check_masks(const std::vector<LayerGammas>& layers, const Masks& masks) {
  if (masks.size() != layers.size())
    throw Error("pruning masks: " + std::to_string(masks.size()) + " masks for " + std::to_string(layers.size()) +
                " BatchNorm layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    if (int64_t(masks[i].size()) != l.width)
      throw Error("pruning masks: " + l.name + " has " + std::to_string(l.width) + " channels, its mask " +
                  std::to_string(masks[i].size()));
    int64_t kept = kept_in_use(l, masks[i]);
    if (kept == 0) throw Error("pruning masks: " + l.name + " would keep no channel");
    if (!l.prunable && kept != int64_t(l.channels.size()))
      throw Error("pruning masks: " + l.name + " is never pruned but its mask drops " +
                  std::to_string(int64_t(l.channels.size()) - kept) + " channel(s)");
  }
}

}  // namespace msprune::prune
