// A/B timing of the optimized conv2d and affine kernels: the working tree's
// simd_kernels.h (namespace ab_new) against the one at another revision
// (ab_old), both compiled for AVX-512 into this one program and timed in
// alternating blocks on the same buffers. Built and run by conv_ab.sh.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "runtime/format.h"
#include "runtime/internal.h"

namespace msprune::rt::ab_new { extern const KernelTable kTable; }
namespace msprune::rt::ab_old { extern const KernelTable kTable; }
namespace rt = msprune::rt;
namespace fmt = msprune::rt::fmt;

namespace {

struct Buf {
  int c, h, w, pad;
  std::vector<float> d;
  Buf(int c_, int h_, int w_, int p) : c(c_), h(h_), w(w_), pad(p), d(size_t(c_) * (h_ + 2 * p) * (w_ + 2 * p), 0.1f) {}
  rt::Act view() {
    rt::Act a;
    a.c = c, a.h = h, a.w = w, a.cs = c, a.rs = (w + 2 * pad) * c, a.pad = pad;
    a.p = d.data() + size_t(pad) * a.rs + size_t(pad) * a.cs;
    return a;
  }
};

using Clock = std::chrono::steady_clock;

// p50 over 200 blocks of 10 calls each, the two kernels alternating.
template <typename Fn, typename Args>
void time_pair(Fn f, Fn g, const Args& a, double* uf, double* ug) {
  for (int i = 0; i < 100; ++i) f(a, 0, 1), g(a, 0, 1);
  std::vector<double> tf, tg;
  for (int r = 0; r < 200; ++r) {
    const auto s = Clock::now();
    for (int q = 0; q < 10; ++q) f(a, 0, 1);
    const auto m = Clock::now();
    for (int q = 0; q < 10; ++q) g(a, 0, 1);
    const auto e = Clock::now();
    tf.push_back(std::chrono::duration<double, std::micro>(m - s).count() / 10);
    tg.push_back(std::chrono::duration<double, std::micro>(e - m).count() / 10);
  }
  std::sort(tf.begin(), tf.end());
  std::sort(tg.begin(), tg.end());
  *uf = tf[tf.size() / 2], *ug = tg[tg.size() / 2];
}

}  // namespace

int main() {
  struct Shape { int ci, co, hw, k, s; };
  // PreResNet-20 x0.5's thin layers (base and pruned), then wider layers of
  // VGG-16 and DenseNet shapes as the regression check.
  const Shape shapes[] = {{1, 1, 32, 1, 1},   {1, 16, 32, 1, 1},  {4, 4, 32, 1, 1},    {7, 7, 32, 1, 1},
                          {8, 8, 32, 1, 1},   {10, 3, 32, 1, 1},  {15, 10, 32, 1, 1},  {7, 32, 32, 1, 1},
                          {32, 8, 32, 1, 1},  {3, 7, 32, 3, 1},   {7, 7, 32, 3, 1},    {8, 8, 32, 3, 1},
                          {3, 16, 32, 3, 1},  {16, 16, 32, 3, 1}, {32, 32, 16, 3, 1},  {64, 64, 8, 3, 1},
                          {128, 128, 4, 3, 1}, {128, 128, 2, 3, 1}, {64, 128, 8, 3, 2}, {36, 12, 32, 3, 1},
                          {100, 12, 8, 3, 1}};
  std::printf("conv2d, 1 thread, AVX-512, p50 of 200 alternating blocks of 10 calls\n");
  std::printf("%-22s %-6s %9s %9s %7s\n", "layer", "layout", "new us", "old us", "old/new");
  for (const Shape& sh : shapes)
    for (int quad = 0; quad < 2; ++quad) {
      const int ho = (sh.hw + 2 * (sh.k / 2) - sh.k) / sh.s + 1;
      Buf x(sh.ci, sh.hw, sh.hw, 1), y(sh.co, ho, ho, 1);
      rt::ConvArgs a;
      a.x = x.view(), a.y = y.view();
      a.k = sh.k, a.stride = sh.s, a.pad = sh.k / 2, a.quad = quad != 0, a.relu = true;
      a.block = quad ? std::min(64, (sh.co + 3) / 4 * 4) : std::min(64, (sh.co + 15) / 16 * 16);
      std::vector<float> w(quad ? fmt::conv_quad_floats(sh.co, sh.ci, sh.k) : fmt::conv_packed_floats(sh.co, sh.ci, sh.k), 0.01f);
      std::vector<float> b(size_t(sh.co) + 64, 0.0f);
      a.w = w.data(), a.bias = b.data();
      double un, uo;
      time_pair(rt::ab_new::kTable.conv2d, rt::ab_old::kTable.conv2d, a, &un, &uo);
      char name[64];
      std::snprintf(name, sizeof name, "%d->%d k%d s%d @%dx%d", sh.ci, sh.co, sh.k, sh.s, sh.hw, sh.hw);
      std::printf("%-22s %-6s %9.2f %9.2f %7.2f\n", name, quad ? "quad" : "packed", un, uo, uo / un);
    }

  // The block-input affines of the cpu preset's PreResNet-20 x0.5 (BN +
  // ReLU), base and pruned (the channel selection's gather: co of ci kept,
  // in order, every other one dropped first so that chunks span wider
  // windows, as a real selection's do).
  struct AffShape { int ci, co, hw; };
  const AffShape affs[] = {{8, 8, 32}, {8, 7, 32}, {32, 32, 32}, {32, 16, 32}, {32, 27, 32},
                           {64, 64, 16}, {64, 48, 16}, {64, 58, 16}, {128, 128, 8}, {128, 104, 8},
                           {128, 88, 8}};
  std::printf("\naffine + relu, 1 thread, AVX-512, same timing\n");
  std::printf("%-22s %-6s %9s %9s %7s\n", "layer", "index", "new us", "old us", "old/new");
  for (const AffShape& sh : affs) {
    Buf x(sh.ci, sh.hw, sh.hw, 0), y(sh.co, sh.hw, sh.hw, 0);
    std::vector<float> scale(size_t(sh.co), 1.5f), shift(size_t(sh.co), -0.05f);
    std::vector<uint32_t> idx;
    for (int pass = 0; pass < 2 && int(idx.size()) < sh.co; ++pass)  // drop odd channels first
      for (int c = 0; c < sh.ci && int(idx.size()) < sh.co; ++c)
        if (c % 2 == pass) idx.push_back(uint32_t(c));
    std::sort(idx.begin(), idx.end());
    rt::AffineArgs a;
    a.x = x.view(), a.y = y.view(), a.scale = scale.data(), a.shift = shift.data(), a.relu = true;
    a.index = sh.co == sh.ci ? nullptr : idx.data();
    double un, uo;
    time_pair(rt::ab_new::kTable.affine, rt::ab_old::kTable.affine, a, &un, &uo);
    char name[64];
    std::snprintf(name, sizeof name, "%d->%d @%dx%d", sh.ci, sh.co, sh.hw, sh.hw);
    std::printf("%-22s %-6s %9.2f %9.2f %7.2f\n", name, a.index ? "gather" : "-", un, uo, uo / un);
  }
}
