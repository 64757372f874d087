// Every operator's reference kernel on small hand-computed cases; the
// optimized kernels must give the same answers on them.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "runtime/internal.h"

namespace rt = msprune::rt;

namespace {

// Dense (or padded) NHWC storage for tiny hand-written cases.
struct Img {
  int c, h, w, pad;
  std::vector<float> d;
  Img(int c_, int h_, int w_, int p = 0) : c(c_), h(h_), w(w_), pad(p),
      d(size_t(c_) * (h_ + 2 * p) * (w_ + 2 * p), 0.0f) {}
  rt::Act act() {
    rt::Act a;
    a.c = c, a.h = h, a.w = w, a.cs = c, a.rs = (w + 2 * pad) * c, a.pad = pad;
    a.p = d.data() + size_t(pad) * a.rs + size_t(pad) * c;
    return a;
  }
  // Channel-major fill, as one would write it by hand: v[c][y][x].
  void set(std::initializer_list<float> chw) {
    rt::Act a = act();
    auto it = chw.begin();
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) a.at(y, x)[ch] = *it++;
  }
  float at(int ch, int y, int x) { return act().at(y, x)[ch]; }
};

std::vector<const rt::KernelTable*> all_tables() {
  std::vector<const rt::KernelTable*> v;
  for (auto l : {rt::KernelLevel::kReference, rt::KernelLevel::kAvx2, rt::KernelLevel::kAvx512})
    if (const rt::KernelTable* t = rt::kernel_table(l)) v.push_back(t);
  return v;
}

// Packs OIHW weights the way the writer does (block 16).
std::vector<float> pack(const std::vector<float>& oihw, int o, int i, int k) {
  std::vector<float> p(size_t((o + 15) / 16 * 16) * i * k * k, 0.0f);
  for (int co = 0; co < o; ++co)
    for (int ci = 0; ci < i; ++ci)
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx)
          p[rt::fmt::conv_packed_index(co, ci, ky, kx, i, k, o, 16)] =
              oihw[((size_t(co) * i + ci) * k + ky) * k + kx];
  return p;
}

TEST(RuntimeOps, Conv3x3Pad1SumsTheNeighbourhood) {
  for (const rt::KernelTable* t : all_tables()) {
    Img x(1, 3, 3, 1), y(1, 3, 3);
    x.set({1, 2, 3, 4, 5, 6, 7, 8, 9});
    const std::vector<float> w = pack(std::vector<float>(9, 1.0f), 1, 1, 3);
    const float bias = 0.5f;
    rt::ConvArgs a;
    a.x = x.act(), a.y = y.act(), a.w = w.data(), a.bias = &bias, a.k = 3, a.stride = 1,
    a.pad = 1, a.block = 16;
    t->conv2d(a, 0, 1);
    const float want[9] = {12.5f, 21.5f, 16.5f, 27.5f, 45.5f, 33.5f, 24.5f, 39.5f, 28.5f};
    for (int i = 0; i < 9; ++i)
      EXPECT_EQ(y.at(0, i / 3, i % 3), want[i]) << rt::kernel_level_name(t->level) << " " << i;
  }
}

TEST(RuntimeOps, Conv3x3Stride2AndFusedRelu) {
  for (const rt::KernelTable* t : all_tables()) {
    Img x(1, 4, 4, 1), y(2, 2, 2);
    x.set({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
    std::vector<float> oihw(2 * 9, -1.0f);  // channel 1: all -1 -> negative -> ReLU 0
    for (int i = 0; i < 9; ++i) oihw[i] = i == 4 ? 1.0f : 0.0f;  // channel 0: centre tap
    const std::vector<float> w = pack(oihw, 2, 1, 3);
    rt::ConvArgs a;
    a.x = x.act(), a.y = y.act(), a.w = w.data(), a.k = 3, a.stride = 2, a.pad = 1, a.block = 16,
    a.relu = true;
    t->conv2d(a, 0, 1);
    EXPECT_EQ(y.at(0, 0, 0), 0.0f);
    EXPECT_EQ(y.at(0, 0, 1), 2.0f);
    EXPECT_EQ(y.at(0, 1, 0), 8.0f);
    EXPECT_EQ(y.at(0, 1, 1), 10.0f);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(y.at(1, i / 2, i % 2), 0.0f);
  }
}

TEST(RuntimeOps, Conv1x1MixesChannels) {
  for (const rt::KernelTable* t : all_tables()) {
    Img x(2, 1, 2), y(2, 1, 2);
    x.set({3, 1, 4, 2});  // ch0 = [3, 1], ch1 = [4, 2]
    const std::vector<float> w = pack({2, -1, -2, 1}, 2, 2, 1);
    rt::ConvArgs a;
    a.x = x.act(), a.y = y.act(), a.w = w.data(), a.k = 1, a.stride = 1, a.pad = 0, a.block = 16;
    t->conv2d(a, 0, 1);
    EXPECT_EQ(y.at(0, 0, 0), 2.0f);   // 2*3 - 4
    EXPECT_EQ(y.at(0, 0, 1), 0.0f);   // 2*1 - 2
    EXPECT_EQ(y.at(1, 0, 0), -2.0f);  // -6 + 4
    EXPECT_EQ(y.at(1, 0, 1), 0.0f);
  }
}

TEST(RuntimeOps, AffineGathersScalesShiftsAndClamps) {
  for (const rt::KernelTable* t : all_tables()) {
    Img x(3, 1, 1), y(2, 1, 1);
    x.set({10, 20, 30});
    const float scale[2] = {0.5f, -1.0f}, shift[2] = {1.0f, 1.0f};
    const uint32_t idx[2] = {2, 0};
    rt::AffineArgs a;
    a.x = x.act(), a.y = y.act(), a.scale = scale, a.shift = shift, a.index = idx, a.relu = true;
    t->affine(a, 0, 1);
    EXPECT_EQ(y.at(0, 0, 0), 16.0f);
    EXPECT_EQ(y.at(1, 0, 0), 0.0f);  // -10 + 1 -> ReLU
  }
}

TEST(RuntimeOps, MaxAndAveragePool) {
  for (const rt::KernelTable* t : all_tables()) {
    Img x(1, 2, 2), mx(1, 1, 1), av(1, 1, 1);
    x.set({1, 5, 3, 2});
    rt::PoolArgs a;
    a.x = x.act(), a.y = mx.act(), a.k = 2, a.s = 2;
    t->max_pool(a, 0, 1);
    a.y = av.act();
    t->avg_pool(a, 0, 1);
    EXPECT_EQ(mx.at(0, 0, 0), 5.0f);
    EXPECT_EQ(av.at(0, 0, 0), 2.75f);
  }
}

TEST(RuntimeOps, AddWithRelu) {
  for (const rt::KernelTable* t : all_tables()) {
    Img p(2, 1, 1), q(2, 1, 1), y(2, 1, 1);
    p.set({1, -3});
    q.set({2, 1});
    rt::AddArgs a;
    a.a = p.act(), a.b = q.act(), a.y = y.act(), a.relu = true;
    t->add(a, 0, 1);
    EXPECT_EQ(y.at(0, 0, 0), 3.0f);
    EXPECT_EQ(y.at(1, 0, 0), 0.0f);
  }
}

TEST(RuntimeOps, ConcatCopiesOrSkipsInPlaceParts) {
  Img p(2, 1, 2), q(1, 1, 2), y(3, 1, 2);
  p.set({1, 2, 3, 4});
  q.set({5, 6});
  rt::ConcatArgs a;
  a.n = 2, a.parts[0] = p.act(), a.parts[1] = q.act(), a.y = y.act();
  rt::concat_ref(a);
  const float want[3][2] = {{1, 2}, {3, 4}, {5, 6}};
  for (int c = 0; c < 3; ++c)
    for (int x = 0; x < 2; ++x) EXPECT_EQ(y.at(c, 0, x), want[c][x]);
  // In place: part 1 already lives in channel 2 of y; the kernel must not touch it.
  rt::Act in_place = y.act();
  in_place.p += 2, in_place.c = 1;
  a.parts[1] = in_place;
  y.act().at(0, 0)[2] = 42.0f;
  rt::concat_ref(a);
  EXPECT_EQ(y.at(2, 0, 0), 42.0f);
}

TEST(RuntimeOps, LinearAndSoftmax) {
  for (const rt::KernelTable* t : all_tables()) {
    const float w[4] = {1, 2, 3, 4}, b[2] = {0.5f, -0.5f}, x[2] = {1, 1};
    float y[2];
    rt::LinearArgs a;
    a.x = x, a.y = y, a.in = 2, a.out = 2, a.w = w, a.bias = b;
    t->linear(a, 0, 1);
    EXPECT_EQ(y[0], 3.5f);
    EXPECT_EQ(y[1], 6.5f);
  }
  const float logits[2] = {0.0f, std::log(3.0f)};
  float p[2];
  rt::SoftmaxArgs s;
  s.x = logits, s.y = p, s.n = 2;
  rt::softmax_ref(s);
  EXPECT_NEAR(p[0], 0.25f, 1e-7f);
  EXPECT_NEAR(p[1], 0.75f, 1e-7f);
}

TEST(RuntimeOps, ZeroBorderClearsOnlyTheBorderOfTheSlice) {
  Img x(3, 2, 2, 1);
  for (auto& v : x.d) v = 7.0f;
  rt::Act a = x.act();
  a.p += 1, a.c = 1;  // channel 1 only
  rt::zero_border(a);
  rt::Act full = x.act();
  for (int y = -1; y <= 2; ++y)
    for (int xx = -1; xx <= 2; ++xx) {
      const bool border = y < 0 || y > 1 || xx < 0 || xx > 1;
      EXPECT_EQ(full.at(y, xx)[0], 7.0f);
      EXPECT_EQ(full.at(y, xx)[1], border ? 0.0f : 7.0f);
      EXPECT_EQ(full.at(y, xx)[2], 7.0f);
    }
}

}  // namespace
