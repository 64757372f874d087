// LibTorch -> .msm export: graph structure, parity with LibTorch for every
// family (unpruned and pruned, random and raw uint8 inputs, every kernel
// level), real CIFAR-10 images when $MSPRUNE_DATA is set, hostile inputs.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "data/cifar.h"
#include "bench/native/bench_native.h"
#include "bench/native/ort_peer.h"
#include "export/export.h"
#include "export_test_util.h"
#include "train/checkpoint.h"
#include "util/error.h"

namespace {

namespace ex = msprune::exporter;
namespace rt = msprune::rt;
namespace models = msprune::models;
using export_test::Family;
using export_test::make_net;

std::map<std::string, int> count_ops(const rt::Model& m, int* gathers = nullptr, int* in_place = nullptr) {
  std::map<std::string, int> n;
  for (uint32_t i = 0; i < m.num_ops(); ++i) {
    rt::OpInfo oi;
    EXPECT_EQ(m.op_info(i, &oi), rt::Status::kOk);
    n[rt::op_type_name(oi.type)]++;
    if (oi.type == rt::OpType::kConv2d && oi.num_inputs == 2) n["conv2d+add"]++;
    if (gathers) *gathers += oi.gather;
    if (in_place && oi.type == rt::OpType::kConcat) *in_place += oi.in_place;
  }
  return n;
}

int pruned_selections(models::NetImpl& net) {
  int n = 0;
  for (auto& m : net.modules(false))
    if (auto* s = m->as<models::ChannelSelectionImpl>()) n += s->kept() != s->num_channels();
  return n;
}

// The op list the export must produce for the tiny networks.
TEST(Export, GraphStructure) {
  for (bool pruned : {false, true}) {
    {
      auto net = make_net(Family::kVgg, pruned, 11);
      ex::HostedModel h(ex::export_msm(*net));
      auto n = count_ops(h.model());
      EXPECT_EQ(n["conv2d"], 13);  // every BN folded: no affine at all
      EXPECT_EQ(n["affine"], 0);
      EXPECT_EQ(n["max_pool"], 4);
      EXPECT_EQ(n["avg_pool"], 1);
      EXPECT_EQ(n["linear"], 1);
      EXPECT_EQ(h.model().total_macs(), uint64_t(net->macs())) << "pruned=" << pruned;
    }
    {
      auto net = make_net(Family::kPreResNet, pruned, 12);
      ex::HostedModel h(ex::export_msm(*net));
      int gathers = 0;
      auto n = count_ops(h.model(), &gathers);
      EXPECT_EQ(n["affine"], 7);       // bn1 of 6 blocks + the final bn; bn2/bn3 folded
      EXPECT_EQ(n["conv2d"], 1 + 18 + 3);  // stem, 3 per block, 3 downsamples
      EXPECT_EQ(n["add"], 0);              // each block's add fused into its last conv
      EXPECT_EQ(n["conv2d+add"], 6);
      EXPECT_EQ(gathers, pruned_selections(*net));
      EXPECT_EQ(h.model().total_macs(), uint64_t(net->macs()));
      if (!pruned) {
        EXPECT_EQ(gathers, 0);
      }
      // Unfused (msprune export --no-fuse-add): the adds are ops again, and
      // the logits are the same bits.
      msprune::msm::FinishOptions plain;
      plain.fuse_residual_add = false;
      ex::HostedModel u(ex::export_msm(*net, plain));
      auto nu = count_ops(u.model());
      EXPECT_EQ(nu["add"], 6);
      EXPECT_EQ(nu["conv2d+add"], 0);
      EXPECT_EQ(u.model().num_ops(), h.model().num_ops() + 6);
      std::vector<float> in(3 * 32 * 32), a(10), b(10);
      for (size_t i = 0; i < in.size(); ++i) in[i] = float(int(i % 29) - 14) / 7.0f;
      h.invoke(in.data(), a.data());
      u.invoke(in.data(), b.data());
      EXPECT_EQ(a, b) << "pruned=" << pruned;
    }
    {
      auto net = make_net(Family::kDenseNet, pruned, 13);
      ex::HostedModel h(ex::export_msm(*net));
      int gathers = 0, in_place = 0;
      auto n = count_ops(h.model(), &gathers, &in_place);
      EXPECT_EQ(n["affine"], 12);  // every BN
      EXPECT_EQ(n["conv2d"], 12);
      EXPECT_EQ(n["concat"], 9);
      EXPECT_EQ(in_place, 9);      // every concatenation planned in place
      EXPECT_EQ(n["avg_pool"], 3);
      EXPECT_EQ(gathers, pruned_selections(*net));
      EXPECT_EQ(h.model().total_macs(), uint64_t(net->macs()));
    }
  }
}

struct Case {
  Family family;
  bool pruned;
  rt::KernelLevel kernels;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << export_test::family_name(c.family) << (c.pruned ? " pruned " : " full ") << rt::kernel_level_name(c.kernels);
}

std::string case_name(const testing::TestParamInfo<Case>& i) {
  return std::string(export_test::family_name(i.param.family)) + (i.param.pruned ? "_pruned" : "_full") + "_" +
         rt::kernel_level_name(i.param.kernels);
}

class Parity : public testing::TestWithParam<Case> {};

void expect_parity(const ex::Parity& p, const char* what) {
  SCOPED_TRACE(what);
  EXPECT_GT(p.max_abs_logit, 1e-2);  // logits of a real scale, not all ~0
  EXPECT_LE(p.rel(), ex::kParityTolerance) << "max |diff| " << p.max_abs_diff << " of " << p.max_abs_logit;
  EXPECT_EQ(p.top1_agree, p.inputs);
}

TEST_P(Parity, RandomAndRawInputs) {
  const Case c = GetParam();
  if (c.kernels != rt::KernelLevel::kReference && int(c.kernels) > int(rt::best_kernel_level()))
    GTEST_SKIP() << "CPU lacks " << rt::kernel_level_name(c.kernels);
  for (uint64_t seed : {1, 2}) {
    auto net = make_net(c.family, c.pruned, seed * 100 + uint64_t(c.family));
    rt::InterpreterOptions io;
    io.kernels = c.kernels;
    ex::HostedModel h(ex::export_msm(*net), io);
    expect_parity(ex::compare_random(*net, h, 6, seed), "random normal inputs");
    torch::manual_seed(seed);
    auto u8 = torch::randint(0, 256, {6, 3, 32, 32}).to(torch::kUInt8);
    expect_parity(ex::compare_images(*net, h, u8, {}), "raw uint8 images through invoke_u8");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Families, Parity,
    testing::Values(Case{Family::kVgg, false, rt::KernelLevel::kAuto}, Case{Family::kVgg, true, rt::KernelLevel::kAuto},
                    Case{Family::kPreResNet, false, rt::KernelLevel::kAuto},
                    Case{Family::kPreResNet, true, rt::KernelLevel::kAuto},
                    Case{Family::kDenseNet, false, rt::KernelLevel::kAuto},
                    Case{Family::kDenseNet, true, rt::KernelLevel::kAuto},
                    Case{Family::kVgg, true, rt::KernelLevel::kReference},
                    Case{Family::kPreResNet, true, rt::KernelLevel::kReference},
                    Case{Family::kDenseNet, true, rt::KernelLevel::kReference},
                    Case{Family::kPreResNet, true, rt::KernelLevel::kAvx2},
                    Case{Family::kDenseNet, true, rt::KernelLevel::kAvx2}),
    case_name);

// Networks pruned by the real surgery (src/prune) with random masks.
TEST(Export, ParityAfterSurgery) {
  for (Family f : {Family::kVgg, Family::kPreResNet, Family::kDenseNet}) {
    SCOPED_TRACE(export_test::family_name(f));
    auto net = export_test::make_surgery_net(f, 50 + uint64_t(f));
    EXPECT_FALSE(net->spec().is_default_cfg());
    for (rt::KernelLevel k : {rt::KernelLevel::kAuto, rt::KernelLevel::kReference}) {
      rt::InterpreterOptions io;
      io.kernels = k;
      ex::HostedModel h(ex::export_msm(*net), io);
      expect_parity(ex::compare_random(*net, h, 4, 9), "surgery, random inputs");
      torch::manual_seed(3);
      expect_parity(ex::compare_images(*net, h, torch::randint(0, 256, {4, 3, 32, 32}).to(torch::kUInt8), {}),
                    "surgery, raw images");
    }
    EXPECT_EQ(ex::HostedModel(ex::export_msm(*net)).model().total_macs(), uint64_t(net->macs()));
  }
}

// The export reads BN running statistics even when the module is in
// training mode, and leaves the module's mode alone.
TEST(Export, UsesRunningStatisticsInAnyMode) {
  auto net = make_net(Family::kPreResNet, true, 7);
  net->train();
  auto bytes = ex::export_msm(*net);
  EXPECT_TRUE(net->is_training());
  ex::HostedModel h(bytes);
  expect_parity(ex::compare_random(*net, h, 3, 5), "export from training mode");
  EXPECT_TRUE(net->is_training());
  net->eval();
  EXPECT_EQ(ex::export_msm(*net), bytes);  // deterministic
}

// Real CIFAR-10 test images (skipped without $MSPRUNE_DATA): the same top-1
// on (nearly) every image, logits within tolerance.
TEST(Export, RealImagesAgree) {
  const char* dir = std::getenv("MSPRUNE_DATA");
  if (!dir || !*dir) GTEST_SKIP() << "MSPRUNE_DATA not set";
  auto test = msprune::data::load_cifar(dir, false, 300);
  const auto norm = msprune::data::normalization_for(test.kind);
  auto mean = torch::tensor({norm.mean[0], norm.mean[1], norm.mean[2]}).view({1, 3, 1, 1});
  auto sd = torch::tensor({norm.std[0], norm.std[1], norm.std[2]}).view({1, 3, 1, 1});
  auto calib = (test.images.slice(0, 0, 32).to(torch::kFloat32).div(255) - mean).div(sd);
  for (Family f : {Family::kVgg, Family::kPreResNet, Family::kDenseNet}) {
    auto net = make_net(f, true, 31, calib);
    ex::HostedModel h(ex::export_msm(*net));
    ex::Parity p = ex::compare_images(*net, h, test.images, test.labels);
    std::printf("[ real data ] %s pruned: top-1 agree %lld/%lld, max |diff| %.3g of max |logit| %.3g\n",
                export_test::family_name(f), (long long)p.top1_agree, (long long)p.inputs, p.max_abs_diff,
                p.max_abs_logit);
    RecordProperty(std::string(export_test::family_name(f)) + "_top1_agree", int(p.top1_agree));
    EXPECT_EQ(p.inputs, 300);
    EXPECT_LE(p.rel(), ex::kParityTolerance);
    EXPECT_GE(p.top1_agree, 299);
  }
}

// --- hostile inputs ---------------------------------------------------------

TEST(Export, RejectsBadBatchNormStatistics) {
  auto net = make_net(Family::kVgg, false, 3);
  auto* vgg = models::as_vgg(net);
  {
    torch::NoGradGuard ng;
    vgg->bns[4]->running_var[2] = -1.0f;
  }
  try {
    (void)ex::export_msm(*net);
    FAIL() << "negative running variance accepted";
  } catch (const msprune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv4+bn4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("running var -1"), std::string::npos) << e.what();
  }
  {
    torch::NoGradGuard ng;
    vgg->bns[4]->running_var[2] = 1.0f;
    vgg->bns[1]->running_mean[0] = std::numeric_limits<float>::quiet_NaN();
  }
  EXPECT_THROW((void)ex::export_msm(*net), msprune::Error);
}

TEST(Export, HostedModelRejectsBadBytes) {
  auto net = make_net(Family::kDenseNet, false, 4);
  auto bytes = ex::export_msm(*net);
  bytes[300] ^= 1;  // inside the tensor table: the content hash no longer matches
  try {
    ex::HostedModel h(bytes);
    FAIL() << "corrupted model accepted";
  } catch (const msprune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad hash"), std::string::npos) << e.what();
  }
}

// --- the command line ---------------------------------------------------------

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("msprune_export_" + std::to_string(::getpid()) + "_" +
                                                    std::to_string(std::rand()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

struct CliRun {
  int status = -1;
  std::string out;
};
CliRun run_cli(const std::string& args) {
  CliRun r;
  std::string cmd = export_test::msprune_binary() + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(ExportCli, WritesAVerifiedModel) {
  TempDir d;
  auto net = make_net(Family::kPreResNet, true, 21);
  msprune::train::save_checkpoint(d.path / "p.ckpt", net, nullptr, {});
  CliRun r = run_cli("export --model " + (d.path / "p.ckpt").string() + " --out " + (d.path / "p.msm").string() + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_LE(j["parity_random"]["rel"].get<double>(), ex::kParityTolerance);
  EXPECT_EQ(j["msm"]["ops"].get<int>(), 7 + 22 + 2);  // the 6 adds fused into convs
  EXPECT_EQ(j["msm"]["macs"].get<uint64_t>(), uint64_t(net->macs()));
  const std::string file = slurp(d.path / "p.msm");
  std::vector<uint8_t> bytes(file.begin(), file.end());
  EXPECT_EQ(bytes, ex::export_msm(*net));
  EXPECT_EQ(j["msm"]["file_bytes"].get<uint64_t>(), bytes.size());

  CliRun human = run_cli("export --model " + (d.path / "p.ckpt").string() + " --out " + (d.path / "q.msm").string());
  ASSERT_EQ(human.status, 0) << human.out;
  EXPECT_NE(human.out.find("parity"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("arena"), std::string::npos) << human.out;

  CliRun plain = run_cli("export --model " + (d.path / "p.ckpt").string() + " --out " +
                         (d.path / "u.msm").string() + " --no-fuse-add --json");
  ASSERT_EQ(plain.status, 0) << plain.out;
  EXPECT_EQ(nlohmann::json::parse(plain.out)["msm"]["ops"].get<int>(), 7 + 22 + 6 + 2);
  CliRun onnx = run_cli("export --model " + (d.path / "p.ckpt").string() + " --out " +
                        (d.path / "u.onnx").string() + " --format onnx --no-fuse-add");
  EXPECT_EQ(onnx.status, 1);
  EXPECT_NE(onnx.out.find("--no-fuse-add applies to the .msm export"), std::string::npos) << onnx.out;
  EXPECT_FALSE(std::filesystem::exists(d.path / "u.onnx"));
}

TEST(ExportCli, BadCheckpointIsAClearErrorAndKeepsTheOutput) {
  TempDir d;
  const auto out = d.path / "keep.msm";
  { std::ofstream(out) << "previous export"; }
  { std::ofstream(d.path / "garbage.ckpt") << "this is not a checkpoint"; }
  CliRun r = run_cli("export --model " + (d.path / "garbage.ckpt").string() + " --out " + out.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("msprune: error:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("garbage.ckpt"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(out), "previous export");

  CliRun missing = run_cli("export --model " + (d.path / "none.ckpt").string() + " --out " + out.string());
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.out.find("not found"), std::string::npos) << missing.out;

  // A truncated real checkpoint.
  auto net = make_net(Family::kVgg, false, 5);
  msprune::train::save_checkpoint(d.path / "v.ckpt", net, nullptr, {});
  std::string full = slurp(d.path / "v.ckpt");
  { std::ofstream(d.path / "cut.ckpt", std::ios::binary) << full.substr(0, full.size() / 2); }
  CliRun cut = run_cli("export --model " + (d.path / "cut.ckpt").string() + " --out " + out.string());
  EXPECT_EQ(cut.status, 1);
  EXPECT_NE(cut.out.find("cut.ckpt"), std::string::npos) << cut.out;
  EXPECT_EQ(slurp(out), "previous export");

  // The checkpoint itself as --out.
  CliRun self = run_cli("export --model " + (d.path / "v.ckpt").string() + " --out " + (d.path / "v.ckpt").string());
  EXPECT_EQ(self.status, 1);
  EXPECT_NE(self.out.find("refusing"), std::string::npos) << self.out;
  EXPECT_EQ(slurp(d.path / "v.ckpt"), full);
}

// --- the LibTorch-vs-runtime benchmark (function, not timing) -----------------

TEST(NativeBench, ReportsBothSides) {
  TempDir d;
  auto net = make_net(Family::kDenseNet, true, 41);
  msprune::train::save_checkpoint(d.path / "d.ckpt", net, nullptr, {});
  ex::NativeBenchOptions o;
  o.model = d.path / "d.ckpt";
  o.runs = 4;
  o.warmup = 1;
  o.block = 3;
  o.inputs = 3;
  o.batch = 2;
  o.layers = true;
  o.progress = false;
  o.ort = ex::OrtMode::kOff;  // NativeBench.OnnxRuntimeIsTheThirdSide
  ex::NativeBenchResult r = ex::run_native_bench(o);
  EXPECT_EQ(r.torch_ms.n, 4u);
  EXPECT_EQ(r.runtime_ms.n, 4u);
  EXPECT_GT(r.torch_ms.p50, 0);
  EXPECT_GT(r.runtime_ms.p50, 0);
  EXPECT_EQ(r.parity.inputs, 6);
  EXPECT_LE(r.parity.rel(), ex::kParityTolerance);
  EXPECT_EQ(r.macs, uint64_t(net->macs()));
  EXPECT_EQ(r.ops.size(), r.msm.ops);
  EXPECT_GT(r.rt_arena_bytes, 0u);
  EXPECT_GT(r.torch_weight_bytes, 0u);
  EXPECT_GT(r.torch_forward_peak, 0u);
  uint32_t counted = 0;
  for (const auto& t : r.types) counted += t.count;
  EXPECT_EQ(counted, r.msm.ops);
  const std::string text = ex::format_native_bench(r);
  EXPECT_NE(text.find("speed-up"), std::string::npos);
  auto j = ex::native_bench_json(r);
  EXPECT_EQ(j["parity"]["inputs"].get<int>(), 6);
  EXPECT_EQ(j["profile"]["ops"].size(), r.msm.ops);

  o.model = d.path / "missing.ckpt";
  EXPECT_THROW((void)ex::run_native_bench(o), msprune::Error);
  o.model = d.path / "d.ckpt";
  o.threads = 0;
  EXPECT_THROW((void)ex::run_native_bench(o), msprune::Error);
}

// ONNX Runtime (tools/ort, installed by scripts/setup.sh) as the third side:
// same inputs, alternating blocks, its logits checked against LibTorch's, and
// the Node binding's own cost reported beside it.
TEST(NativeBench, OnnxRuntimeIsTheThirdSide) {
  const std::string ort_dir = std::string(MSPRUNE_SOURCE_DIR) + "/tools/ort";
  ::setenv("MSPRUNE_ORT_DIR", ort_dir.c_str(), 1);
  if (const std::string why = msprune::bench::ort_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir d;
  for (Family f : {Family::kVgg, Family::kPreResNet}) {
    auto net = make_net(f, true, 43);
    msprune::train::save_checkpoint(d.path / "m.ckpt", net, nullptr, {});
    ex::NativeBenchOptions o;
    o.model = d.path / "m.ckpt";
    o.runs = 6;
    o.warmup = 1;
    o.block = 4;
    o.inputs = 3;
    o.batch = 2;
    o.progress = false;
    o.ort = ex::OrtMode::kOn;
    ex::NativeBenchResult r = ex::run_native_bench(o);
    ASSERT_TRUE(r.ort_ran) << r.ort_note;
    EXPECT_EQ(r.ort_ms.n, 6u);
    EXPECT_EQ(r.bridge_ms.n, 6u);
    EXPECT_GT(r.ort_ms.p50, 0);
    EXPECT_GT(r.bridge_ms.p50, 0);
    EXPECT_EQ(r.ort_version, "1.30.0");
    EXPECT_EQ(r.ort_parity.inputs, 6);
    EXPECT_EQ(r.ort_parity.top1_agree, 6);
    EXPECT_LE(r.ort_parity.max_abs_diff, 1e-4) << "ONNX Runtime against LibTorch";
    const std::string text = ex::format_native_bench(r);
    EXPECT_NE(text.find("ONNX Runtime 1.30.0"), std::string::npos) << text;
    EXPECT_NE(text.find("Node binding"), std::string::npos) << text;
    const auto j = ex::native_bench_json(r);
    EXPECT_TRUE(j["onnxruntime"]["ran"].get<bool>());
    EXPECT_EQ(j["onnxruntime"]["latency_ms"]["n"].get<int>(), 6);
  }
  // Required but missing: a clear error; in auto mode a note instead.
  auto net = make_net(Family::kVgg, false, 44);
  msprune::train::save_checkpoint(d.path / "v.ckpt", net, nullptr, {});
  ex::NativeBenchOptions o;
  o.model = d.path / "v.ckpt";
  o.runs = 2;
  o.warmup = 0;
  o.progress = false;
  ::setenv("MSPRUNE_ORT_DIR", (d.path / "nowhere").c_str(), 1);
  o.ort = ex::OrtMode::kOn;
  try {
    (void)ex::run_native_bench(o);
    ADD_FAILURE() << "--ort on without ONNX Runtime did not fail";
  } catch (const msprune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nowhere"), std::string::npos) << e.what();
  }
  o.ort = ex::OrtMode::kAuto;
  ex::NativeBenchResult r = ex::run_native_bench(o);
  EXPECT_FALSE(r.ort_ran);
  EXPECT_NE(r.ort_note.find("not run"), std::string::npos) << r.ort_note;
  ::unsetenv("MSPRUNE_ORT_DIR");
}

}  // namespace
