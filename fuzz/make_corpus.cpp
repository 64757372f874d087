// Writes the seed corpus: small valid models covering every op type, built
// with the Torch-free writer. Usage: make_corpus OUT_DIR
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "export/msm_writer.h"

using namespace msprune;

namespace {

std::mt19937 rng(5);
std::vector<float> rnd(size_t n) {
  std::normal_distribution<float> d(0.0f, 0.5f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}
msm::Tensor conv(msm::Builder& b, msm::Tensor x, int o, int k, int s, int p, bool relu) {
  return b.conv2d(x, o, k, s, p, rnd(size_t(o) * b.shape(x).c * k * k), rnd(o), relu);
}
msm::Tensor head(msm::Builder& b, msm::Tensor x, int classes) {
  const int c = b.shape(x).c;
  return b.linear(b.global_avg_pool(x), classes, rnd(size_t(c) * classes), rnd(classes));
}
void save(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  std::printf("%s: %zu bytes\n", path.c_str(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus OUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  {  // every op type, both conv weight layouts, in-place concat, gather
    msm::Builder b(3, 6, 6, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f});
    auto a = conv(b, b.input(), 4, 3, 1, 1, true);
    const std::vector<uint32_t> idx = {3, 1, 0, 2};
    auto s = b.affine(a, rnd(4), rnd(4), idx, true);
    auto c = conv(b, s, 2, 3, 1, 1, false);  // CONV_QUAD
    auto d = b.concat({a, c});
    auto e = b.max_pool(d, 2, 2);
    auto f = conv(b, e, 6, 1, 2, 0, false);
    auto g = b.add(f, b.avg_pool(d, 3, 3), true);
    const msm::Tensor out = b.softmax(head(b, g, 3));
    save(dir + "/sink.msm", b.finish(out));
    msm::FinishOptions quad;  // every conv CONV_QUAD (input tails of 3 and 2 channels)
    quad.conv_layout = msm::ConvLayout::kQuad;
    save(dir + "/sink-quad.msm", b.finish(out, quad));
  }
  {  // tiny VGG
    msm::Builder b(3, 8, 8, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f});
    auto x = conv(b, b.input(), 5, 3, 1, 1, true);
    x = b.max_pool(x, 2, 2);
    x = conv(b, x, 3, 3, 1, 1, true);
    x = b.max_pool(x, 2, 2);
    save(dir + "/vgg.msm", b.finish(head(b, x, 4)));
  }
  {  // tiny PreResNet block with downsample
    msm::Builder b(1, 8, 8, {0.5f}, {0.25f});
    auto x = conv(b, b.input(), 4, 3, 1, 1, false);
    const std::vector<uint32_t> idx = {0, 2};
    auto y = conv(b, b.affine(x, rnd(2), rnd(2), idx, true), 2, 1, 1, 0, true);
    y = conv(b, y, 2, 3, 2, 1, true);
    y = conv(b, y, 8, 1, 1, 0, false);
    x = b.add(y, conv(b, x, 8, 1, 2, 0, false));
    save(dir + "/preresnet.msm", b.finish(head(b, b.affine(x, rnd(8), rnd(8), {}, true), 3)));
  }
  {  // tiny DenseNet stage + transition
    msm::Builder b(3, 4, 4, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f});
    auto x = conv(b, b.input(), 3, 3, 1, 1, false);
    for (int i = 0; i < 2; ++i) {
      const int c = b.shape(x).c;
      x = b.concat({x, conv(b, b.affine(x, rnd(c), rnd(c), {}, true), 2, 3, 1, 1, false)});
    }
    const int c = b.shape(x).c;
    x = b.avg_pool(conv(b, b.affine(x, rnd(c), rnd(c), {}, true), 4, 1, 1, 0, false), 2, 2);
    save(dir + "/densenet.msm", b.finish(head(b, x, 2)));
  }
  return 0;
}
