#pragma once
// Test helpers for the runtime: aligned buffers, a loaded model + interpreter
// bundle, and `Twin`, which records a graph twice: into the .msm Builder and
// into a naive NCHW evaluator (double accumulation, explicit bounds) that
// shares no code with the runtime.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "export/msm_writer.h"
#include "runtime/runtime.h"

namespace rt_test {

namespace rt = msprune::rt;
namespace msm = msprune::msm;

// 64-byte aligned, zero-initialised bytes.
struct Aligned {
  explicit Aligned(size_t n = 0) { resize(n); }
  void resize(size_t n) {
    size = n;
    ptr.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64 + 64)));
    std::memset(ptr.get(), 0, (n + 63) / 64 * 64 + 64);
  }
  uint8_t* data() const { return ptr.get(); }
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> ptr;
  size_t size = 0;
};

inline Aligned copy_aligned(const std::vector<uint8_t>& bytes) {
  Aligned a(bytes.size());
  if (!bytes.empty()) std::memcpy(a.data(), bytes.data(), bytes.size());
  return a;
}

// A model loaded from its own aligned copy, with an arena and an interpreter.
struct Loaded {
  Aligned bytes;
  rt::Model model;
  Aligned arena;
  rt::Interpreter interp;
  rt::Error err;

  // Returns the first failing status.
  rt::Status load(const std::vector<uint8_t>& file, rt::LoadOptions lo = {},
                  rt::InterpreterOptions io = {}) {
    bytes = copy_aligned(file);
    size_t n = file.size();
    if (lo.weights == rt::WeightMode::kStreaming) n = size_t(metadata_size(file));
    if (rt::Status s = model.load(bytes.data(), n, lo, &err); s != rt::Status::kOk) return s;
    arena.resize(model.arena_bytes());
    return interp.init(model, arena.data(), arena.size, io, &err);
  }
  static uint64_t metadata_size(const std::vector<uint8_t>& file) {
    uint64_t v = 0;
    std::memcpy(&v, file.data() + 48, 8);  // weights_offset
    return v;
  }
};

// Streaming source: copies from a full file held by the test.
struct StreamSource {
  const std::vector<uint8_t>* file = nullptr;
  int calls = 0;
  int fail_at = -1;  // op index whose fetch fails
  static int fetch(void* ctx, uint32_t op, uint64_t off, uint64_t bytes, void* dst) {
    auto* s = static_cast<StreamSource*>(ctx);
    ++s->calls;
    if (int(op) == s->fail_at) return 1;
    uint64_t wo = Loaded::metadata_size(*s->file);
    std::memcpy(dst, s->file->data() + wo + off, bytes);
    return 0;
  }
};

// --------------------------------------------------------------------------
// Naive evaluator

struct NT {  // NCHW (batch 1) float tensor
  int c = 0, h = 0, w = 0;
  std::vector<float> v;
  NT() = default;
  NT(int c_, int h_, int w_) : c(c_), h(h_), w(w_), v(size_t(c_) * h_ * w_, 0.0f) {}
  float& at(int ch, int y, int x) { return v[(size_t(ch) * h + y) * w + x]; }
  float at(int ch, int y, int x) const { return v[(size_t(ch) * h + y) * w + x]; }
};

class Twin {
 public:
  Twin(int c, int h, int w, uint32_t seed)
      : b(c, h, w, std::vector<float>(c, 0.45f), std::vector<float>(c, 0.25f)), rng(seed) {
    fns.push_back(nullptr);  // the input
    shapes.push_back({c, h, w});
  }

  msm::Builder b;
  std::mt19937 rng;
  std::vector<std::function<NT(const std::vector<NT>&)>> fns;
  std::vector<msm::Shape> shapes;

  std::vector<float> randn(size_t n, float stddev) {
    std::normal_distribution<float> d(0.0f, stddev);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
  }
  std::vector<float> uniform(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
  }
  // A random subset of [0, n) of size k, in increasing order.
  std::vector<uint32_t> subset(int n, int k) {
    std::vector<uint32_t> all(n);
    for (int i = 0; i < n; ++i) all[i] = uint32_t(i);
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(k);
    std::sort(all.begin(), all.end());
    return all;
  }

  msm::Tensor track(msm::Tensor t, std::function<NT(const std::vector<NT>&)> f) {
    EXPECT_EQ(t.id, fns.size());
    fns.push_back(std::move(f));
    shapes.push_back(b.shape(t));
    return t;
  }

  msm::Tensor conv(msm::Tensor x, int o, int k, int s, int p, bool relu, bool with_bias = true) {
    const msm::Shape in = shapes[x.id];
    auto w = randn(size_t(o) * in.c * k * k, std::sqrt(2.0f / float(in.c * k * k)));
    auto bias = with_bias ? uniform(o, -0.2f, 0.2f) : std::vector<float>{};
    msm::Tensor t = b.conv2d(x, o, k, s, p, w, bias, relu);
    const uint32_t xi = x.id;
    return track(t, [=](const std::vector<NT>& v) {
      const NT& X = v[xi];
      NT Y(o, (X.h + 2 * p - k) / s + 1, (X.w + 2 * p - k) / s + 1);
      for (int co = 0; co < o; ++co)
        for (int oy = 0; oy < Y.h; ++oy)
          for (int ox = 0; ox < Y.w; ++ox) {
            double acc = bias.empty() ? 0.0 : bias[co];
            for (int ci = 0; ci < X.c; ++ci)
              for (int ky = 0; ky < k; ++ky)
                for (int kx = 0; kx < k; ++kx) {
                  const int iy = oy * s - p + ky, ix = ox * s - p + kx;
                  if (iy < 0 || iy >= X.h || ix < 0 || ix >= X.w) continue;
                  acc += double(w[((size_t(co) * X.c + ci) * k + ky) * k + kx]) * X.at(ci, iy, ix);
                }
            Y.at(co, oy, ox) = float(relu && acc < 0 ? 0.0 : acc);
          }
      return Y;
    });
  }

  msm::Tensor affine(msm::Tensor x, std::vector<uint32_t> gather, bool relu) {
    const msm::Shape in = shapes[x.id];
    const int c = gather.empty() ? in.c : int(gather.size());
    auto scale = uniform(c, 0.5f, 1.5f), shift = uniform(c, -0.3f, 0.3f);
    msm::Tensor t = b.affine(x, scale, shift, gather, relu);
    const uint32_t xi = x.id;
    return track(t, [=](const std::vector<NT>& v) {
      const NT& X = v[xi];
      NT Y(c, X.h, X.w);
      for (int ch = 0; ch < c; ++ch)
        for (int y = 0; y < X.h; ++y)
          for (int xx = 0; xx < X.w; ++xx) {
            const int src = gather.empty() ? ch : int(gather[ch]);
            const double r = double(scale[ch]) * X.at(src, y, xx) + shift[ch];
            Y.at(ch, y, xx) = float(relu && r < 0 ? 0.0 : r);
          }
      return Y;
    });
  }

  msm::Tensor pool(msm::Tensor x, int k, int s, bool is_max) {
    msm::Tensor t = is_max ? b.max_pool(x, k, s) : b.avg_pool(x, k, s);
    const uint32_t xi = x.id;
    return track(t, [=](const std::vector<NT>& v) {
      const NT& X = v[xi];
      NT Y(X.c, (X.h - k) / s + 1, (X.w - k) / s + 1);
      for (int ch = 0; ch < X.c; ++ch)
        for (int oy = 0; oy < Y.h; ++oy)
          for (int ox = 0; ox < Y.w; ++ox) {
            double acc = is_max ? -INFINITY : 0.0;
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                const double e = X.at(ch, oy * s + ky, ox * s + kx);
                acc = is_max ? std::max(acc, e) : acc + e;
              }
            Y.at(ch, oy, ox) = float(is_max ? acc : acc / (k * k));
          }
      return Y;
    });
  }
  msm::Tensor gap(msm::Tensor x) { return pool(x, shapes[x.id].h, 1, false); }

  msm::Tensor add(msm::Tensor a, msm::Tensor c, bool relu = false) {
    msm::Tensor t = b.add(a, c, relu);
    const uint32_t ai = a.id, ci = c.id;
    return track(t, [=](const std::vector<NT>& v) {
      NT Y = v[ai];
      for (size_t i = 0; i < Y.v.size(); ++i) {
        const float r = v[ai].v[i] + v[ci].v[i];
        Y.v[i] = relu && r < 0 ? 0.0f : r;
      }
      return Y;
    });
  }

  msm::Tensor concat(std::vector<msm::Tensor> parts) {
    msm::Tensor t = b.concat(std::span<const msm::Tensor>(parts));
    std::vector<uint32_t> ids;
    for (auto p : parts) ids.push_back(p.id);
    return track(t, [=](const std::vector<NT>& v) {
      int c = 0;
      for (uint32_t i : ids) c += v[i].c;
      NT Y(c, v[ids[0]].h, v[ids[0]].w);
      int pos = 0;
      for (uint32_t i : ids) {
        std::copy(v[i].v.begin(), v[i].v.end(), Y.v.begin() + size_t(pos) * Y.h * Y.w);
        pos += v[i].c;
      }
      return Y;
    });
  }

  msm::Tensor linear(msm::Tensor x, int o) {
    const int in = shapes[x.id].c;
    auto w = randn(size_t(o) * in, std::sqrt(1.0f / float(in)));
    auto bias = uniform(o, -0.1f, 0.1f);
    msm::Tensor t = b.linear(x, o, w, bias);
    const uint32_t xi = x.id;
    return track(t, [=](const std::vector<NT>& v) {
      NT Y(o, 1, 1);
      for (int j = 0; j < o; ++j) {
        double acc = bias[j];
        for (int i = 0; i < in; ++i) acc += double(w[size_t(j) * in + i]) * v[xi].v[i];
        Y.v[j] = float(acc);
      }
      return Y;
    });
  }

  msm::Tensor softmax(msm::Tensor x) {
    msm::Tensor t = b.softmax(x);
    const uint32_t xi = x.id;
    return track(t, [=](const std::vector<NT>& v) {
      NT Y = v[xi];
      double m = -INFINITY, sum = 0;
      for (float e : Y.v) m = std::max(m, double(e));
      for (float e : Y.v) sum += std::exp(double(e) - m);
      for (auto& e : Y.v) e = float(std::exp(double(e) - m) / sum);
      return Y;
    });
  }

  // Evaluates every tensor; returns the value of `out`.
  std::vector<float> eval(const std::vector<float>& input, msm::Tensor out) const {
    std::vector<NT> v(fns.size());
    v[0] = NT(shapes[0].c, shapes[0].h, shapes[0].w);
    v[0].v = input;
    for (size_t i = 1; i <= out.id; ++i) v[i] = fns[i](v);
    return v[out.id].v;
  }
};

// The small graphs of the zoo's three families (odd widths, pruning-style gathers).
inline msm::Tensor build_vgg(Twin& t) {
  auto x = t.conv(t.b.input(), 13, 3, 1, 1, true);
  x = t.conv(x, 17, 3, 1, 1, true);
  x = t.pool(x, 2, 2, true);          // 16x16
  x = t.conv(x, 33, 3, 1, 1, true);
  x = t.pool(x, 2, 2, true);          // 8x8
  x = t.conv(x, 1, 3, 1, 1, true);    // a layer pruned to one channel
  x = t.conv(x, 20, 3, 1, 1, true);
  x = t.pool(x, 2, 2, true);          // 4x4
  x = t.conv(x, 70, 3, 1, 1, true);
  x = t.pool(x, 2, 2, true);          // 2x2
  x = t.pool(x, 2, 2, false);         // AvgPool2d(2) -> 1x1
  return t.linear(x, 10);
}

// PreResNet bottleneck: bn1 -> select -> relu -> conv1x1 -> (bn2) relu -> conv3x3(s)
// -> (bn3) relu -> conv1x1(4 planes); residual = x or conv1x1(s)(x).
inline msm::Tensor preresnet_block(Twin& t, msm::Tensor x, int planes, int stride, int kept) {
  const int in = t.shapes[x.id].c;
  auto a = t.affine(x, t.subset(in, kept), true);
  auto y = t.conv(a, planes, 1, 1, 0, true);
  y = t.conv(y, planes, 3, stride, 1, true);
  y = t.conv(y, planes * 4, 1, 1, 0, false);
  msm::Tensor res = x;
  if (stride != 1 || in != planes * 4) res = t.conv(x, planes * 4, 1, stride, 0, false, false);
  return t.add(y, res);
}

inline msm::Tensor build_preresnet(Twin& t) {
  auto x = t.conv(t.b.input(), 16, 3, 1, 1, false, false);
  x = preresnet_block(t, x, 4, 1, 11);   // 16 -> 16
  x = preresnet_block(t, x, 5, 2, 9);    // 16 -> 20, 16x16
  x = preresnet_block(t, x, 5, 1, 20);   // unpruned select
  x = preresnet_block(t, x, 3, 2, 7);    // 20 -> 12, 8x8
  x = t.affine(x, t.subset(12, 10), true);
  x = t.gap(x);
  return t.linear(x, 10);
}

// DenseNet: conv3x3(3->c0); dense layer n = conv3x3(relu(select(bn(x)))), x = cat(x, n);
// transition: avgpool2(conv1x1(relu(select(bn(x))))).
inline msm::Tensor build_densenet(Twin& t, int growth = 5) {
  auto x = t.conv(t.b.input(), 7, 3, 1, 1, false, false);
  for (int stage = 0; stage < 3; ++stage) {
    for (int l = 0; l < 3; ++l) {
      const int c = t.shapes[x.id].c;
      auto a = t.affine(x, t.subset(c, c - l), true);
      auto n = t.conv(a, growth, 3, 1, 1, false, false);
      x = t.concat({x, n});
    }
    if (stage < 2) {
      const int c = t.shapes[x.id].c;
      auto a = t.affine(x, t.subset(c, c - 2), true);
      x = t.conv(a, c, 1, 1, 0, false, false);
      x = t.pool(x, 2, 2, false);
    }
  }
  const int c = t.shapes[x.id].c;
  x = t.affine(x, t.subset(c, c - 3), true);
  x = t.gap(x);
  return t.linear(x, 10);
}

}  // namespace rt_test
