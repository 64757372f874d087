// Optimized kernels against their reference kernels, on many shapes: odd
// channel counts and one channel (vector tails), 1x1..9x9 maps, strides,
// strided channel views (DenseNet slices), conv residuals, and thread shares.
//
// Declared tolerances (per output element):
//   conv2d, linear: |opt - ref| <= 1e-5 * sum_i |w_i * x_i| (+ |bias|)   (sum order and FMA differ)
//   affine:         |opt - ref| <= 1e-6 * (|scale * x| + |shift|)        (one FMA rounding)
//   max/avg pool, add: bit-identical (same operations in the same order)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "runtime/internal.h"

namespace rt = msprune::rt;

namespace {

// A padded NHWC root buffer and a channel view of it.
struct Buf {
  int c_total, h, w, pad;
  std::vector<float> data;
  Buf(int c, int h_, int w_, int p) : c_total(c), h(h_), w(w_), pad(p),
      data(size_t(c) * (h_ + 2 * p) * (w_ + 2 * p), 0.0f) {}
  rt::Act view(int c0, int c) {
    rt::Act a;
    a.c = c, a.h = h, a.w = w, a.cs = c_total, a.rs = (w + 2 * pad) * c_total, a.pad = pad;
    a.p = data.data() + size_t(pad) * a.rs + size_t(pad) * a.cs + c0;
    return a;
  }
};

std::mt19937 rng(42);
void fill(std::vector<float>& v, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> d(lo, hi);
  for (auto& x : v) x = d(rng);
}
// Random interior values, zero border (as the interpreter guarantees).
void fill_act(Buf& b, const rt::Act& a, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> d(lo, hi);
  for (int y = 0; y < a.h; ++y)
    for (int x = 0; x < a.w; ++x)
      for (int c = 0; c < a.c; ++c) a.at(y, x)[c] = d(rng);
  (void)b;
}

std::vector<const rt::KernelTable*> optimized() {
  std::vector<const rt::KernelTable*> v;
  for (auto l : {rt::KernelLevel::kAvx2, rt::KernelLevel::kAvx512})
    if (const rt::KernelTable* t = rt::kernel_table(l)) v.push_back(t);
  return v;
}

struct ConvShape {
  int ci, co, h, w, k, stride, pad;
};

TEST(RuntimeKernels, Conv2dMatchesReference) {
  const auto tables = optimized();
  if (tables.empty()) GTEST_SKIP() << "no optimized kernels on this CPU";
  std::vector<ConvShape> shapes;
  for (int co : {1, 3, 12, 16, 17, 31, 33, 48, 64, 65, 100})
    for (int ci : {1, 3, 7, 16})
      shapes.push_back({ci, co, 5, 7, 3, 1, 1});
  for (int hw : {1, 2, 3, 4, 8, 9}) {
    shapes.push_back({19, 24, hw, hw, 3, 1, 1});
    shapes.push_back({19, 24, hw, hw, 1, 1, 0});
    shapes.push_back({5, 70, hw, hw, 3, 2, 1});
    shapes.push_back({8, 40, hw, hw, 1, 2, 0});
    if (hw >= 3) shapes.push_back({6, 10, hw, hw, 3, 1, 0});
  }
  shapes.push_back({64, 64, 8, 8, 3, 1, 1});
  shapes.push_back({3, 64, 16, 16, 3, 1, 1});
  shapes.push_back({130, 12, 6, 6, 3, 1, 1});
  shapes.push_back({36, 12, 8, 8, 3, 1, 1});   // DenseNet growth layers (CONV_QUAD)
  shapes.push_back({42, 12, 4, 4, 3, 1, 1});   // ... with a pruned (not /4) input
  shapes.push_back({21, 20, 3, 5, 1, 1, 0});
  // Rows several tiles wide with a short last tile, shares that start and end
  // mid-row (parts 3), and PreResNet's thin pruned layers.
  shapes.push_back({7, 7, 11, 19, 1, 1, 0});
  shapes.push_back({7, 32, 7, 22, 3, 1, 1});
  shapes.push_back({10, 3, 9, 32, 1, 1, 0});
  shapes.push_back({9, 40, 10, 21, 3, 2, 1});
  // (layout, block): CONV_PACKED blocks 16..64 step 16, CONV_QUAD 4..64 step 4.
  std::vector<std::pair<bool, int>> layouts;
  for (int block : {16, 32, 48, 64}) layouts.push_back({false, block});
  for (int block : {4, 8, 12, 16, 20, 32, 64}) layouts.push_back({true, block});
  int checked = 0, checked_quad = 0, checked_residual = 0;
  for (const ConvShape& s : shapes)
    for (const auto& [quad, block] : layouts)
      for (bool relu : {false, true})
        for (bool bias : {true, false}) {
          if (block > (quad ? (s.co + 3) / 4 * 4 : (s.co + 15) / 16 * 16)) continue;
          const int ho = (s.h + 2 * s.pad - s.k) / s.stride + 1, wo = (s.w + 2 * s.pad - s.k) / s.stride + 1;
          // Input and output are channel slices of wider buffers (offset 2 / 3).
          Buf in(s.ci + 5, s.h, s.w, 1), out_ref(s.co + 4, ho, wo, 1);
          rt::Act x = in.view(2, s.ci);
          fill_act(in, x);
          std::vector<float> w(quad ? rt::fmt::conv_quad_floats(s.co, s.ci, s.k)
                                    : rt::fmt::conv_packed_floats(s.co, s.ci, s.k)),
              b(s.co);
          fill(w);
          fill(b);
          // Half the cases add a residual (the same geometry as the output,
          // another buffer): with and without ReLU and bias.
          const bool residual = relu != bias;
          Buf res(s.co + 4, ho, wo, 1), res_abs(s.co + 4, ho, wo, 1);
          fill(res.data);
          for (size_t i = 0; i < res.data.size(); ++i) res_abs.data[i] = std::fabs(res.data[i]);
          rt::ConvArgs a;
          a.x = x;
          a.y = out_ref.view(3, s.co);
          if (residual) a.res = res.view(3, s.co);
          a.w = w.data();
          a.bias = bias ? b.data() : nullptr;
          a.k = s.k, a.stride = s.stride, a.pad = s.pad, a.block = block, a.relu = relu;
          a.quad = quad;
          rt::conv2d_ref(a, 0, 1);
          // Magnitudes for the tolerance: the same conv on |x|, |w|, |b|.
          Buf in_abs = in, mag(s.co + 4, ho, wo, 1);
          for (auto& v : in_abs.data) v = std::fabs(v);
          std::vector<float> w_abs = w, b_abs = b;
          for (auto& v : w_abs) v = std::fabs(v);
          for (auto& v : b_abs) v = std::fabs(v);
          rt::ConvArgs m = a;
          m.x = in_abs.view(2, s.ci), m.y = mag.view(3, s.co), m.w = w_abs.data();
          m.bias = bias ? b_abs.data() : nullptr, m.relu = false;
          if (residual) m.res = res_abs.view(3, s.co);
          rt::conv2d_ref(m, 0, 1);
          for (const rt::KernelTable* t : tables)
            for (int parts : {1, 3}) {
              Buf out(s.co + 4, ho, wo, 1);
              for (auto& v : out.data) v = 12345.0f;  // sentinel outside the view
              rt::ConvArgs o = a;
              o.y = out.view(3, s.co);
              for (int p = 0; p < parts; ++p) t->conv2d(o, p, parts);
              for (int y = 0; y < ho; ++y)
                for (int xx = 0; xx < wo; ++xx) {
                  const float* r = a.y.at(y, xx);
                  const float* g = o.y.at(y, xx);
                  const float* mm = m.y.at(y, xx);
                  for (int c = 0; c < s.co; ++c)
                    ASSERT_LE(std::fabs(g[c] - r[c]), 1e-5f * mm[c] + 1e-30f)
                        << rt::kernel_level_name(t->level) << " ci " << s.ci << " co " << s.co
                        << " " << s.h << "x" << s.w << " k" << s.k << " s" << s.stride << " p"
                        << s.pad << (quad ? " quad" : " packed") << " block " << block
                        << (residual ? " residual" : "")
                        << " at " << y << "," << xx << "," << c;
                  // Channels outside the view are untouched.
                  for (int c = -3; c < 0; ++c) ASSERT_EQ(g[c], 12345.0f);
                  for (int c = s.co; c < s.co + 1; ++c) ASSERT_EQ(g[c], 12345.0f);
                }
              ++checked;
              checked_quad += quad;
              checked_residual += residual;
            }
        }
  EXPECT_GT(checked, 1000);
  EXPECT_GT(checked_quad, 500);
  EXPECT_GT(checked_residual, 500);
}

TEST(RuntimeKernels, AffineMatchesReference) {
  const auto tables = optimized();
  if (tables.empty()) GTEST_SKIP();
  // Gathers: random indices (any order, repeats: the hardware-gather
  // fallback where a chunk spans more than 2 vectors of input channels) and
  // sorted selections, as pruning writes them (the permute path, several
  // passes of up to 4 chunks; a sparse selection mixes both paths).
  for (int cin : {1, 5, 16, 33, 100, 130})
    for (int cout : {1, 3, 16, 17, 40, 100})
      for (int gather : {0, 1, 2})
        for (bool relu : {false, true}) {
          if (!gather && cout != cin) continue;
          if (gather == 2 && cout > cin) continue;
          Buf in(cin + 3, 3, 5, 1), ref(cout, 3, 5, 1);
          rt::Act x = in.view(1, cin);
          fill_act(in, x);
          std::vector<float> sc(cout), sh(cout);
          fill(sc), fill(sh);
          std::vector<uint32_t> idx(cout);
          for (auto& v : idx) v = uint32_t(rng() % cin);
          if (gather == 2) {  // a sorted selection of cout of the cin channels
            std::vector<uint32_t> all(cin);
            std::iota(all.begin(), all.end(), 0u);
            std::shuffle(all.begin(), all.end(), rng);
            idx.assign(all.begin(), all.begin() + cout);
            std::sort(idx.begin(), idx.end());
          }
          rt::AffineArgs a;
          a.x = x, a.y = ref.view(0, cout), a.scale = sc.data(), a.shift = sh.data();
          a.index = gather ? idx.data() : nullptr, a.relu = relu;
          rt::affine_ref(a, 0, 1);
          for (const rt::KernelTable* t : tables) {
            Buf out(cout, 3, 5, 1);
            rt::AffineArgs o = a;
            o.y = out.view(0, cout);
            t->affine(o, 0, 2), t->affine(o, 1, 2);
            for (int y = 0; y < 3; ++y)
              for (int xx = 0; xx < 5; ++xx)
                for (int c = 0; c < cout; ++c) {
                  const float xv = x.at(y, xx)[gather ? idx[c] : c];
                  const float tol = 1e-6f * (std::fabs(sc[c] * xv) + std::fabs(sh[c])) + 1e-30f;
                  ASSERT_LE(std::fabs(o.y.at(y, xx)[c] - a.y.at(y, xx)[c]), tol)
                      << rt::kernel_level_name(t->level) << " cin " << cin << " cout " << cout;
                }
          }
        }
}

TEST(RuntimeKernels, PoolsAndAddAreBitIdentical) {
  const auto tables = optimized();
  if (tables.empty()) GTEST_SKIP();
  for (int c : {1, 7, 16, 17, 64, 65})
    for (auto [h, k, s] : {std::tuple{8, 2, 2}, {9, 3, 2}, {8, 8, 1}, {2, 2, 1}, {5, 1, 1}}) {
      Buf in(c, h, h, 1);
      rt::Act x = in.view(0, c);
      fill_act(in, x, -3, 3);
      const int ho = (h - k) / s + 1;
      for (bool is_max : {true, false}) {
        Buf ref(c, ho, ho, 0);
        rt::PoolArgs a;
        a.x = x, a.y = ref.view(0, c), a.k = k, a.s = s;
        (is_max ? rt::max_pool_ref : rt::avg_pool_ref)(a, 0, 1);
        for (const rt::KernelTable* t : tables) {
          Buf out(c, ho, ho, 0);
          rt::PoolArgs o = a;
          o.y = out.view(0, c);
          (is_max ? t->max_pool : t->avg_pool)(o, 0, 1);
          EXPECT_EQ(out.data, ref.data) << (is_max ? "max" : "avg") << " c " << c << " h " << h;
        }
      }
    }
  for (int c : {1, 9, 16, 40})
    for (bool relu : {false, true}) {
      Buf p(c + 2, 4, 3, 0), q(c, 4, 3, 1), ref(c, 4, 3, 0);
      rt::AddArgs a;
      a.a = p.view(2, c), a.b = q.view(0, c), a.y = ref.view(0, c), a.relu = relu;
      fill_act(p, a.a), fill_act(q, a.b);
      rt::add_ref(a, 0, 1);
      for (const rt::KernelTable* t : tables) {
        Buf out(c, 4, 3, 0);
        rt::AddArgs o = a;
        o.y = out.view(0, c);
        t->add(o, 0, 1);
        EXPECT_EQ(out.data, ref.data) << "add c " << c;
      }
    }
}

TEST(RuntimeKernels, LinearMatchesReference) {
  const auto tables = optimized();
  if (tables.empty()) GTEST_SKIP();
  for (int in : {1, 5, 16, 17, 100, 512})
    for (int outn : {1, 10, 33}) {
      std::vector<float> x(in), w(size_t(in) * outn), b(outn), ref(outn);
      fill(x), fill(w), fill(b);
      rt::LinearArgs a;
      a.x = x.data(), a.y = ref.data(), a.in = in, a.out = outn, a.w = w.data(), a.bias = b.data();
      rt::linear_ref(a, 0, 1);
      for (const rt::KernelTable* t : tables) {
        std::vector<float> got(outn);
        rt::LinearArgs o = a;
        o.y = got.data();
        t->linear(o, 0, 2), t->linear(o, 1, 2);
        for (int j = 0; j < outn; ++j) {
          float mag = std::fabs(b[j]);
          for (int i = 0; i < in; ++i) mag += std::fabs(w[size_t(j) * in + i] * x[i]);
          ASSERT_LE(std::fabs(got[j] - ref[j]), 1e-5f * mag) << "in " << in << " out " << outn;
        }
      }
    }
}

TEST(RuntimeKernels, DispatchReportsLevels) {
  EXPECT_NE(rt::kernel_table(rt::KernelLevel::kReference), nullptr);
  EXPECT_NE(rt::kernel_table(rt::KernelLevel::kAuto), nullptr);
  EXPECT_EQ(rt::kernel_table(rt::KernelLevel::kAuto)->level, rt::best_kernel_level());
  EXPECT_EQ(rt::kernel_table(rt::KernelLevel(77)), nullptr);
}

}  // namespace
