#pragma once
// The zoo's graph shapes (docs/runtime.md) built with the Torch-free writer
// from random weights (He init, BN folded as identity), for benchmarks:
// VGG-11/13/16/19, PreResNet-(9n+2) bottleneck, DenseNet-(3n+4) with growth 12.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "export/msm_writer.h"

namespace msprune::bench {

class ZooBuilder {
 public:
  explicit ZooBuilder(uint32_t seed)
      : b(3, 32, 32, {0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}), rng(seed) {}
  msm::Builder b;

  msm::Tensor conv(msm::Tensor x, int o, int k, int s, int p, bool relu, bool bias = true) {
    const int in = b.shape(x).c;
    std::normal_distribution<float> d(0.0f, std::sqrt(2.0f / float(in * k * k)));
    std::vector<float> w(size_t(o) * in * k * k);
    for (auto& v : w) v = d(rng);
    std::vector<float> bs(bias ? o : 0, 0.01f);
    return b.conv2d(x, o, k, s, p, w, bs, relu);
  }
  msm::Tensor bn_relu(msm::Tensor x) {  // affine (identity gather) + ReLU
    const int c = b.shape(x).c;
    std::vector<float> scale(c, 1.0f), shift(c, 0.01f);
    return b.affine(x, scale, shift, {}, true);
  }
  msm::Tensor classifier(msm::Tensor x, int classes = 10) {
    const int in = b.shape(x).c;
    std::normal_distribution<float> d(0.0f, std::sqrt(1.0f / float(in)));
    std::vector<float> w(size_t(classes) * in), bias(classes, 0.0f);
    for (auto& v : w) v = d(rng);
    return b.linear(x, classes, w, bias);
  }

 private:
  std::mt19937 rng;
};

inline std::vector<int> vgg_cfg(int depth) {  // 0 = max-pool
  switch (depth) {
    case 11: return {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512};
    case 13: return {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512};
    case 16: return {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512};
    default: return {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512};
  }
}

inline std::vector<uint8_t> vgg(int depth, float width = 1.0f, uint32_t seed = 1) {
  ZooBuilder z(seed);
  msm::Tensor x = z.b.input();
  for (int c : vgg_cfg(depth))
    x = c == 0 ? z.b.max_pool(x, 2, 2) : z.conv(x, std::max(1, int(std::lround(c * width))), 3, 1, 1, true);
  x = z.b.avg_pool(x, 2, 2);
  return z.b.finish(z.classifier(x));
}

inline std::vector<uint8_t> preresnet(int depth, uint32_t seed = 1, const msm::FinishOptions& fo = {}) {
  ZooBuilder z(seed);
  const int n = (depth - 2) / 9;
  msm::Tensor x = z.conv(z.b.input(), 16, 3, 1, 1, false, false);
  int inplanes = 16;
  for (int stage = 0; stage < 3; ++stage) {
    const int planes = 16 << stage;
    for (int i = 0; i < n; ++i) {
      const int stride = (stage > 0 && i == 0) ? 2 : 1;
      msm::Tensor y = z.conv(z.bn_relu(x), planes, 1, 1, 0, true);
      y = z.conv(y, planes, 3, stride, 1, true);
      y = z.conv(y, planes * 4, 1, 1, 0, false, false);
      msm::Tensor res = x;
      if (stride != 1 || inplanes != planes * 4) res = z.conv(x, planes * 4, 1, stride, 0, false, false);
      x = z.b.add(y, res);
      inplanes = planes * 4;
    }
  }
  x = z.b.global_avg_pool(z.bn_relu(x));
  return z.b.finish(z.classifier(x), fo);
}

inline std::vector<uint8_t> densenet(int depth, int growth = 12, uint32_t seed = 1,
                                     const msm::FinishOptions& fo = {}) {
  ZooBuilder z(seed);
  const int n = (depth - 4) / 3;
  msm::Tensor x = z.conv(z.b.input(), 2 * growth, 3, 1, 1, false, false);
  for (int stage = 0; stage < 3; ++stage) {
    for (int i = 0; i < n; ++i) x = z.b.concat({x, z.conv(z.bn_relu(x), growth, 3, 1, 1, false, false)});
    if (stage < 2) x = z.b.avg_pool(z.conv(z.bn_relu(x), z.b.shape(x).c, 1, 1, 0, false, false), 2, 2);
  }
  x = z.b.global_avg_pool(z.bn_relu(x));
  return z.b.finish(z.classifier(x), fo);
}

}  // namespace msprune::bench
