// tee_make_vgg: writes a CIFAR VGG (Network Slimming's layout: 3x3 conv with
// BatchNorm folded into a bias, ReLU, 2x2 max-pools, global average pool,
// linear) with random He-initialised weights as a .msm, for the enclave
// benchmarks until real exports exist. Torch-free (the .msm writer).
//
//   tee_make_vgg --out vgg16.msm [--cfg 64,64,M,128,...] [--seed N] [--classes 10]
//
// The default cfg is VGG-16 at width 1 (14.7 M weights, about 59 MB).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "export/msm_writer.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace {

constexpr const char* kVgg16 = "64,64,M,128,128,M,256,256,256,M,512,512,512,M,512,512,512";

std::vector<int> parse_cfg(const std::string& s) {
  std::vector<int> cfg;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item == "M") {
      cfg.push_back(-1);
      continue;
    }
    std::size_t used = 0;
    int c = 0;
    try {
      c = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || c < 1 || c > 8192) throw msprune::Error("--cfg: bad entry \"" + item + "\"");
    cfg.push_back(c);
  }
  if (cfg.empty() || cfg.front() == -1) throw msprune::Error("--cfg must start with a channel count");
  return cfg;
}

std::vector<std::uint8_t> build(const std::vector<int>& cfg, int classes, std::uint32_t seed, std::size_t* params) {
  std::mt19937 rng(seed);
  auto normal = [&](std::size_t n, float stddev) {
    std::normal_distribution<float> d(0.f, stddev);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    *params += n;
    return v;
  };
  namespace msm = msprune::msm;
  msm::Builder b(3, 32, 32, {0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f});
  msm::Tensor x = b.input();
  int in = 3;
  for (int c : cfg) {
    if (c == -1) {
      x = b.max_pool(x, 2, 2);
      continue;
    }
    auto w = normal(std::size_t(c) * in * 9, std::sqrt(2.0f / float(9 * c)));  // He (fan-out), as the zoo
    auto bias = normal(std::size_t(c), 0.05f);  // a folded BatchNorm leaves a bias
    x = b.conv2d(x, c, 3, 1, 1, w, bias, true);
    in = c;
  }
  x = b.global_avg_pool(x);
  x = b.linear(x, classes, normal(std::size_t(classes) * in, 0.01f), normal(std::size_t(classes), 0.01f));
  return b.finish(x);
}

}  // namespace

int main(int argc, char** argv) {
  std::string out, cfg_text = kVgg16;
  std::uint32_t seed = 1;
  int classes = 10;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (i + 1 >= argc) throw msprune::Error("missing value after " + a);
      std::string v = argv[++i];
      if (a == "--out") out = v;
      else if (a == "--cfg") cfg_text = v;
      else if (a == "--seed") seed = std::uint32_t(std::stoul(v));
      else if (a == "--classes") classes = std::stoi(v);
      else throw msprune::Error("unknown option " + a);
    }
    if (out.empty()) throw msprune::Error("usage: tee_make_vgg --out FILE [--cfg LIST] [--seed N] [--classes N]");
    std::size_t params = 0;
    auto bytes = build(parse_cfg(cfg_text), classes, seed, &params);
    msprune::atomic_write_bytes(out, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    std::printf("%s: VGG cfg %s, %zu weights (random, seed %u), %zu bytes\n", out.c_str(), cfg_text.c_str(), params,
                seed, bytes.size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tee_make_vgg: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
