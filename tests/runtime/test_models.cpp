// Whole graphs of the three families, built with the writer from random
// weights, against an independent naive evaluation (rt_test_util.h), at every
// kernel level, with threads, with weight streaming and with every planner option.
#include <gtest/gtest.h>

#include "rt_test_util.h"
#include "runtime/format.h"

using namespace rt_test;

namespace {

struct Case {
  const char* name;
  msm::Tensor (*build)(Twin&);
};

msm::Tensor vgg(Twin& t) { return build_vgg(t); }
msm::Tensor preresnet(Twin& t) { return build_preresnet(t); }
msm::Tensor densenet(Twin& t) { return build_densenet(t); }
const Case kCases[] = {{"vgg", vgg}, {"preresnet", preresnet}, {"densenet", densenet}};

std::vector<rt::KernelLevel> levels() {
  std::vector<rt::KernelLevel> v = {rt::KernelLevel::kReference};
  if (rt::best_kernel_level() >= rt::KernelLevel::kAvx2) v.push_back(rt::KernelLevel::kAvx2);
  if (rt::best_kernel_level() >= rt::KernelLevel::kAvx512) v.push_back(rt::KernelLevel::kAvx512);
  return v;
}

// Declared tolerance for whole graphs: max |runtime - naive| <= 1e-4 * max |naive| + 1e-6.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  float scale = 0, diff = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, std::fabs(want[i]));
    diff = std::max(diff, std::fabs(got[i] - want[i]));
  }
  EXPECT_LE(diff, 1e-4f * scale + 1e-6f) << what << ": max diff " << diff << " at scale " << scale;
  EXPECT_GT(scale, 1e-3f) << what << ": degenerate logits";
}

class Models : public ::testing::TestWithParam<int> {
 protected:
  // Builds case GetParam() with random weights from `seed`; a random input.
  void build(uint32_t seed) {
    twin = std::make_unique<Twin>(3, 32, 32, seed + GetParam());
    out = kCases[GetParam()].build(*twin);
    file = twin->b.finish(out);
    input = twin->uniform(3 * 32 * 32, -2.0f, 2.0f);
  }
  std::unique_ptr<Twin> twin;
  msm::Tensor out;
  std::vector<uint8_t> file;
  std::vector<float> input;
};

TEST_P(Models, MatchNaiveEvaluationEverywhere) {
  build(1234);
  const auto want = twin->eval(input, out);

  for (rt::KernelLevel level : levels())
    for (int threads : {1, 2}) {
      Loaded l;
      rt::InterpreterOptions io;
      io.kernels = level;
      io.threads = threads;
      ASSERT_EQ(l.load(file, {}, io), rt::Status::kOk) << l.err.message;
      std::vector<float> got(10);
      for (int rep = 0; rep < 2; ++rep) {  // a second run reuses the dirty arena
        ASSERT_EQ(l.interp.invoke(input.data(), got.data()), rt::Status::kOk);
        expect_close(got, want, rt::kernel_level_name(level));
      }
    }
}

TEST_P(Models, StreamingEqualsResident) {
  build(99);

  Loaded resident;
  ASSERT_EQ(resident.load(file), rt::Status::kOk) << resident.err.message;
  std::vector<float> a(10), b(10);
  ASSERT_EQ(resident.interp.invoke(input.data(), a.data()), rt::Status::kOk);

  StreamSource src{&file};
  rt::LoadOptions lo;
  lo.weights = rt::WeightMode::kStreaming;
  rt::InterpreterOptions io;
  io.fetch = &StreamSource::fetch;
  io.fetch_ctx = &src;
  Loaded streaming;
  ASSERT_EQ(streaming.load(file, lo, io), rt::Status::kOk) << streaming.err.message;
  EXPECT_EQ(streaming.model.arena_bytes(),
            resident.model.arena_bytes() + (streaming.model.staging_bytes() + 63) / 64 * 64);
  ASSERT_EQ(streaming.interp.invoke(input.data(), b.data()), rt::Status::kOk);
  EXPECT_EQ(a, b);  // same kernels, same bytes: bit-identical
  int with_weights = 0;
  for (uint32_t i = 0; i < streaming.model.num_ops(); ++i) {
    rt::OpInfo info;
    ASSERT_EQ(streaming.model.op_info(i, &info), rt::Status::kOk);
    with_weights += info.weight_bytes > 0;
    EXPECT_LE(info.weight_bytes, streaming.model.staging_bytes());
  }
  EXPECT_EQ(src.calls, with_weights);

  // A failing fetch fails the invoke cleanly, naming the op.
  src.fail_at = 0;
  rt::Error err;
  EXPECT_EQ(streaming.interp.invoke(input.data(), b.data(), &err), rt::Status::kStreamFailed);
  EXPECT_NE(std::string(err.message).find("op 0"), std::string::npos) << err.message;
}

TEST_P(Models, PlannerOptionsDoNotChangeResults) {
  build(7);
  const auto want = twin->eval(input, out);
  uint64_t reuse_bytes = 0, no_reuse_bytes = 0;
  for (int block : {16, 32, 48, 64})
    for (bool in_place : {true, false})
      for (bool reuse : {true, false}) {
        msm::FinishOptions fo;
        fo.conv_block = block;
        fo.concat_in_place = in_place;
        fo.reuse_buffers = reuse;
        Loaded l;
        ASSERT_EQ(l.load(twin->b.finish(out, fo)), rt::Status::kOk) << l.err.message;
        std::vector<float> got(10);
        ASSERT_EQ(l.interp.invoke(input.data(), got.data()), rt::Status::kOk);
        expect_close(got, want, "planner option");
        if (block == 64 && in_place) (reuse ? reuse_bytes : no_reuse_bytes) = l.model.activation_bytes();
      }
  EXPECT_LT(reuse_bytes, no_reuse_bytes) << "lifetime-based reuse must save arena bytes";
  // Every conv in one weight layout, at every kernel level.
  for (msm::ConvLayout layout : {msm::ConvLayout::kPacked, msm::ConvLayout::kQuad}) {
    msm::FinishOptions fo;
    fo.conv_layout = layout;
    const std::vector<uint8_t> f = twin->b.finish(out, fo);
    for (rt::KernelLevel level : levels()) {
      Loaded l;
      rt::InterpreterOptions io;
      io.kernels = level;
      ASSERT_EQ(l.load(f, {}, io), rt::Status::kOk) << l.err.message;
      for (uint32_t i = 0; i < l.model.num_ops(); ++i) {
        rt::OpInfo info;
        ASSERT_EQ(l.model.op_info(i, &info), rt::Status::kOk);
        if (info.type == rt::OpType::kConv2d) {
          EXPECT_EQ(info.quad, layout == msm::ConvLayout::kQuad) << "op " << i;
        }
      }
      std::vector<float> got(10);
      ASSERT_EQ(l.interp.invoke(input.data(), got.data()), rt::Status::kOk);
      expect_close(got, want, layout == msm::ConvLayout::kQuad ? "all CONV_QUAD" : "all CONV_PACKED");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Runtime, Models, ::testing::Values(0, 1, 2),
                         [](const auto& info) { return std::string(kCases[info.param].name); });

TEST(RuntimeModels, DenseNetConcatsArePlannedInPlace) {
  Twin t(3, 32, 32, 5);
  msm::Tensor out = build_densenet(t);
  Loaded l;
  ASSERT_EQ(l.load(t.b.finish(out)), rt::Status::kOk) << l.err.message;
  int concats = 0;
  for (uint32_t i = 0; i < l.model.num_ops(); ++i) {
    rt::OpInfo info;
    ASSERT_EQ(l.model.op_info(i, &info), rt::Status::kOk);
    if (info.type != rt::OpType::kConcat) continue;
    ++concats;
    EXPECT_TRUE(info.in_place) << "concat op " << i << " copies";
  }
  EXPECT_EQ(concats, 9);
  // Without in-place planning the same graph copies.
  msm::FinishOptions fo;
  fo.concat_in_place = false;
  Loaded c;
  ASSERT_EQ(c.load(t.b.finish(out, fo)), rt::Status::kOk);
  for (uint32_t i = 0; i < c.model.num_ops(); ++i) {
    rt::OpInfo info;
    ASSERT_EQ(c.model.op_info(i, &info), rt::Status::kOk);
    if (info.type == rt::OpType::kConcat) {
      EXPECT_FALSE(info.in_place);
    }
  }
}

// Op types of a loaded model, and how many convs carry a residual input.
struct OpCounts {
  int adds = 0, convs = 0, residual_convs = 0;
};
OpCounts count_ops(const rt::Model& m) {
  OpCounts c;
  for (uint32_t i = 0; i < m.num_ops(); ++i) {
    rt::OpInfo info;
    EXPECT_EQ(m.op_info(i, &info), rt::Status::kOk);
    c.adds += info.type == rt::OpType::kAdd;
    c.convs += info.type == rt::OpType::kConv2d;
    c.residual_convs += info.type == rt::OpType::kConv2d && info.num_inputs == 2;
  }
  return c;
}

TEST(RuntimeModels, PreResNetAddsFuseIntoTheirConvs) {
  Twin t(3, 32, 32, 17);
  msm::Tensor out = build_preresnet(t);
  const auto input = t.uniform(3 * 32 * 32, -2.0f, 2.0f);
  const auto want = t.eval(input, out);
  msm::FinishOptions plain;
  plain.fuse_residual_add = false;
  const std::vector<uint8_t> fused_file = t.b.finish(out), plain_file = t.b.finish(out, plain);
  // The oldest version that holds each file: 3 for a residual, else 2.
  EXPECT_EQ(rt::fmt::rd<uint32_t>(fused_file.data() + rt::fmt::hdr::kVersionOff), 3u);
  EXPECT_EQ(rt::fmt::rd<uint32_t>(plain_file.data() + rt::fmt::hdr::kVersionOff), 2u);
  for (rt::KernelLevel level : levels()) {
    rt::InterpreterOptions io;
    io.kernels = level;
    Loaded fused, unfused;
    ASSERT_EQ(fused.load(fused_file, {}, io), rt::Status::kOk) << fused.err.message;
    ASSERT_EQ(unfused.load(plain_file, {}, io), rt::Status::kOk) << unfused.err.message;
    // Every block's add went into a conv: the last conv of the block, or
    // the downsampling shortcut (computed after it) where there is one.
    const OpCounts f = count_ops(fused.model), u = count_ops(unfused.model);
    EXPECT_EQ(u.adds, 4);
    EXPECT_EQ(u.residual_convs, 0);
    EXPECT_EQ(f.adds, 0);
    EXPECT_EQ(f.residual_convs, 4);
    EXPECT_EQ(f.convs, u.convs);
    EXPECT_EQ(fused.model.num_ops(), unfused.model.num_ops() - 4);
    EXPECT_LT(fused.model.activation_bytes(), unfused.model.activation_bytes() + 1);
    std::vector<float> a(10), b(10);
    ASSERT_EQ(fused.interp.invoke(input.data(), a.data()), rt::Status::kOk);
    ASSERT_EQ(unfused.interp.invoke(input.data(), b.data()), rt::Status::kOk);
    EXPECT_EQ(a, b) << rt::kernel_level_name(level) << ": the same sums in the same order";
    expect_close(a, want, rt::kernel_level_name(level));
  }
}

TEST(RuntimeModels, AddsThatCannotFuseStayAdds) {
  Twin t(3, 8, 8, 23);
  auto x = t.conv(t.b.input(), 8, 3, 1, 1, false);
  auto y = t.conv(x, 8, 1, 1, 0, false);
  auto z = t.add(y, x);                    // fuses: y's only use, x exists before y's conv
  auto w = t.conv(z, 8, 3, 1, 1, true);
  auto v = t.add(w, z, true);              // no: w's conv has its own ReLU
  auto u = t.conv(v, 8, 1, 1, 0, false);
  auto s = t.add(u, u);                    // no: both operands are the conv's output
  auto q = t.conv(s, 8, 1, 1, 0, false);
  auto r = t.add(q, s);                    // no: q is read again below
  auto p = t.add(r, q, true);              // no: r comes from an add
  auto out = t.linear(t.gap(p), 10);
  Loaded l;
  ASSERT_EQ(l.load(t.b.finish(out)), rt::Status::kOk) << l.err.message;
  const OpCounts c = count_ops(l.model);
  EXPECT_EQ(c.adds, 4);
  EXPECT_EQ(c.residual_convs, 1);
  const auto input = t.uniform(3 * 8 * 8, -2.0f, 2.0f);
  std::vector<float> got(10);
  ASSERT_EQ(l.interp.invoke(input.data(), got.data()), rt::Status::kOk);
  expect_close(got, t.eval(input, out), "partly fused");
}

TEST(RuntimeModels, AutoLayoutFollowsTheMeasuredRule) {
  EXPECT_TRUE(msm::prefer_quad_layout(12, 24, 3));    // DenseNet growth layers
  EXPECT_TRUE(msm::prefer_quad_layout(12, 456, 3));
  EXPECT_TRUE(msm::prefer_quad_layout(16, 64, 1));    // one vector of outputs
  EXPECT_TRUE(msm::prefer_quad_layout(21, 37, 3));    // 21 of 32 packed lanes used
  EXPECT_FALSE(msm::prefer_quad_layout(12, 3, 3));    // a quad would be mostly zeros
  EXPECT_TRUE(msm::prefer_quad_layout(7, 7, 1));      // pruned thin 1x1 layers
  EXPECT_FALSE(msm::prefer_quad_layout(16, 1, 1));
  EXPECT_FALSE(msm::prefer_quad_layout(32, 7, 1));    // too few terms per output
  EXPECT_FALSE(msm::prefer_quad_layout(24, 24, 1));
  EXPECT_FALSE(msm::prefer_quad_layout(32, 128, 1));  // no padding to save
  EXPECT_FALSE(msm::prefer_quad_layout(64, 64, 3));
  EXPECT_FALSE(msm::prefer_quad_layout(168, 168, 1)); // 168 of 176: little to save
  EXPECT_FALSE(msm::prefer_quad_layout(0, 64, 3));
  Twin t(3, 32, 32, 5);
  msm::Tensor out = build_densenet(t);  // growth 5
  Loaded l;
  ASSERT_EQ(l.load(t.b.finish(out)), rt::Status::kOk) << l.err.message;
  int quad = 0, packed = 0;
  for (uint32_t i = 0; i < l.model.num_ops(); ++i) {
    rt::OpInfo info;
    ASSERT_EQ(l.model.op_info(i, &info), rt::Status::kOk);
    if (info.type != rt::OpType::kConv2d) continue;
    EXPECT_EQ(info.quad, msm::prefer_quad_layout(info.out_c, info.in_c, info.kernel)) << "op " << i;
    if (info.kernel == 3 && info.out_c == 5) {
      EXPECT_TRUE(info.quad) << "growth conv, op " << i;
    }
    (info.quad ? quad : packed)++;
  }
  // 9 growth convs and the 35 -> 37 transition; the 3 -> 7 stem (27 terms)
  // and the 20 -> 22 transition (20 terms) stay packed.
  EXPECT_EQ(quad, 10);
  EXPECT_EQ(packed, 2);
}

TEST(RuntimeModels, ConcatCornerCasesStillPlanCorrectly) {
  // The same tensor twice, nested concats, a part that is also read later,
  // and a concat feeding a 3x3 conv (padded root).
  Twin t(3, 8, 8, 11);
  auto a = t.conv(t.b.input(), 4, 3, 1, 1, true);
  auto b = t.conv(a, 3, 1, 1, 0, false);
  auto c1 = t.concat({a, b, a});
  auto c2 = t.concat({c1, a});
  auto d = t.conv(c2, 6, 3, 1, 1, true);
  auto e = t.add(t.conv(b, 6, 1, 1, 0, false), d);
  auto out = t.linear(t.gap(e), 5);
  const auto input = t.uniform(3 * 8 * 8, -1, 1);
  const auto want = t.eval(input, out);
  Loaded l;
  ASSERT_EQ(l.load(t.b.finish(out)), rt::Status::kOk) << l.err.message;
  std::vector<float> got(5);
  ASSERT_EQ(l.interp.invoke(input.data(), got.data()), rt::Status::kOk);
  expect_close(got, want, "concat corner cases");
}

TEST(RuntimeModels, Uint8InputIsNormalisedInside) {
  Twin t(3, 32, 32, 3);
  msm::Tensor out = build_vgg(t);
  const auto file = t.b.finish(out);
  std::vector<uint8_t> img(3 * 32 * 32);
  for (size_t i = 0; i < img.size(); ++i) img[i] = uint8_t(i * 37 + 11);
  std::vector<float> norm(img.size());
  for (size_t i = 0; i < img.size(); ++i) norm[i] = (float(img[i]) / 255.0f - 0.45f) / 0.25f;
  Loaded l;
  ASSERT_EQ(l.load(file), rt::Status::kOk);
  std::vector<float> a(10), b(10);
  ASSERT_EQ(l.interp.invoke_u8(img.data(), a.data()), rt::Status::kOk);
  ASSERT_EQ(l.interp.invoke(norm.data(), b.data()), rt::Status::kOk);
  EXPECT_EQ(a, b);
  expect_close(a, t.eval(norm, out), "u8");
}

TEST(RuntimeModels, SoftmaxOutputAndHelpers) {
  Twin t(3, 8, 8, 4);
  auto x = t.gap(t.conv(t.b.input(), 6, 3, 1, 1, true));
  auto out = t.softmax(t.linear(x, 7));
  const auto input = t.uniform(3 * 8 * 8, -1, 1);
  Loaded l;
  ASSERT_EQ(l.load(t.b.finish(out)), rt::Status::kOk);
  std::vector<float> p(7);
  ASSERT_EQ(l.interp.invoke(input.data(), p.data()), rt::Status::kOk);
  expect_close(p, t.eval(input, out), "softmax");
  float sum = 0;
  for (float v : p) sum += v;
  EXPECT_NEAR(sum, 1.0f, 1e-5f);
  const float v[] = {0.1f, 3.0f, -2.0f, 3.0f};
  EXPECT_EQ(rt::argmax(v, 4), 1u);  // first of the ties
  EXPECT_EQ(rt::argmax(v, 0), 0u);
}

}  // namespace
