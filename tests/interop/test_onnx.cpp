// ONNX out (export --format onnx) and ONNX in, enclave out (--from-onnx):
// the graph and its metadata, Python's ONNX checker, ONNX Runtime (through
// tools/ort/run.js) against LibTorch, the round trip ours -> ONNX -> .msm
// against the direct .msm export, real CIFAR-10 test images when
// $MSPRUNE_DATA is set, and hostile ONNX files.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>

#include "bench/native/ort_peer.h"
#include "data/cifar.h"
#include "export/export.h"
#include "export/export_test_util.h"
#include "interop/onnx_export.h"
#include "interop/onnx_import.h"
#include "train/checkpoint.h"
#include "util/error.h"

namespace {

namespace ex = msprune::exporter;
namespace io = msprune::interop;
namespace fs = std::filesystem;
using export_test::Family;
using export_test::make_net;

constexpr Family kFamilies[] = {Family::kVgg, Family::kPreResNet, Family::kDenseNet};

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("msprune_onnx_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

struct Proc {
  int status = -1;
  std::string out;  // stdout + stderr
};
Proc run(const std::string& cmd) {
  Proc r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
void spit(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

std::span<const uint8_t> span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}
std::string serialize(const onnx::ModelProto& m) {
  std::string s;
  EXPECT_TRUE(m.SerializeToString(&s));
  return s;
}

std::string shell_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

// --- the tools the tests drive ----------------------------------------------

// Debian's interpreter with python3-onnx (the pyenv python3 on PATH lacks it).
bool python_onnx(std::string* why) {
  if (!fs::exists("/usr/bin/python3")) return *why = "/usr/bin/python3 not found", false;
  if (run("/usr/bin/python3 -c 'import onnx'").status != 0)
    return *why = "/usr/bin/python3 has no onnx module (Debian: python3-onnx)", false;
  return true;
}

std::string find_node() { return msprune::bench::find_node().string(); }

const fs::path kOrtScript = fs::path(MSPRUNE_SOURCE_DIR) / "tools" / "ort" / "run.js";

bool ort_available(std::string* why) {
  if (find_node().empty()) return *why = "node not found on PATH (ONNX Runtime runs through Node.js)", false;
  if (!fs::exists(kOrtScript.parent_path() / "node_modules" / "onnxruntime-node" / "package.json"))
    return *why = "tools/ort/node_modules/onnxruntime-node missing (scripts/setup.sh installs it)", false;
  return true;
}

// ONNX Runtime's output for `x` (float [N,C,H,W]) through tools/ort/run.js.
torch::Tensor ort_logits(const std::string& onnx_bytes, const torch::Tensor& x, int64_t classes) {
  TempDir d;
  spit(d.path / "m.onnx", onnx_bytes);
  auto xc = x.to(torch::kFloat32).contiguous();
  spit(d.path / "x.f32", std::string(reinterpret_cast<const char*>(xc.data_ptr<float>()), size_t(xc.numel()) * 4));
  const std::string shape = std::to_string(x.size(0)) + "," + std::to_string(x.size(1)) + "," +
                            std::to_string(x.size(2)) + "," + std::to_string(x.size(3));
  Proc r = run(shell_quote(find_node()) + " " + shell_quote(kOrtScript.string()) + " infer " +
              shell_quote((d.path / "m.onnx").string()) + " " + shell_quote((d.path / "x.f32").string()) + " " +
              shape + " " + shell_quote((d.path / "y.f32").string()));
  if (r.status != 0) throw msprune::Error("run.js failed: " + r.out);
  const std::string y = slurp(d.path / "y.f32");
  if (y.size() != size_t(x.size(0) * classes) * 4)
    throw msprune::Error("run.js wrote " + std::to_string(y.size()) + " bytes: " + r.out);
  return torch::from_blob(const_cast<char*>(y.data()), {x.size(0), classes}, torch::kFloat32).clone();
}

struct Agreement {
  double max_abs_diff = 0, max_abs = 0;
  int64_t top1_agree = 0, n = 0;
};
Agreement agree(const torch::Tensor& a, const torch::Tensor& b) {
  Agreement g;
  g.n = a.size(0);
  g.max_abs_diff = (a - b).abs().max().item<double>();
  g.max_abs = a.abs().max().item<double>();
  g.top1_agree = a.argmax(1).eq(b.argmax(1)).sum().item<int64_t>();
  return g;
}

const char* variant_name(bool pruned, bool fold) {
  return pruned ? (fold ? "pruned, BN folded" : "pruned, BN kept") : (fold ? "base, BN folded" : "base, BN kept");
}

// --- ONNX out ---------------------------------------------------------------

std::map<std::string, int> op_counts(const onnx::ModelProto& m) {
  std::map<std::string, int> n;
  for (const auto& nd : m.graph().node()) n[nd.op_type()]++;
  return n;
}
std::string meta(const onnx::ModelProto& m, const std::string& key) {
  for (const auto& e : m.metadata_props())
    if (e.key() == key) return e.value();
  return "<missing>";
}

TEST(OnnxExport, GraphAndMetadata) {
  for (bool fold : {false, true}) {
    SCOPED_TRACE(fold ? "folded" : "kept");
    auto vgg = make_net(Family::kVgg, false, 11);
    const onnx::ModelProto m = parse(io::export_onnx(*vgg, {fold}));
    EXPECT_EQ(m.ir_version(), 8);
    ASSERT_EQ(m.opset_import_size(), 1);
    EXPECT_EQ(m.opset_import(0).version(), 13);
    auto n = op_counts(m);
    EXPECT_EQ(n["Conv"], 13);
    EXPECT_EQ(n["BatchNormalization"], fold ? 0 : 13);
    EXPECT_EQ(n["Relu"], 13);
    EXPECT_EQ(n["MaxPool"], 4);
    EXPECT_EQ(n["GlobalAveragePool"], 1);
    EXPECT_EQ(n["Flatten"], 1);
    EXPECT_EQ(n["Gemm"], 1);
    ASSERT_EQ(m.graph().input_size(), 1);
    const auto& in = m.graph().input(0).type().tensor_type().shape();
    ASSERT_EQ(in.dim_size(), 4);
    EXPECT_EQ(in.dim(0).dim_param(), "N");
    EXPECT_EQ(in.dim(1).dim_value(), 3);
    EXPECT_EQ(in.dim(3).dim_value(), 32);
    ASSERT_EQ(m.graph().output_size(), 1);
    EXPECT_EQ(m.graph().output(0).name(), "logits");
    EXPECT_EQ(m.graph().output(0).type().tensor_type().shape().dim(1).dim_value(), 10);
    // data::normalization_for(CIFAR-10), to the last bit.
    const auto norm = msprune::data::normalization_for(msprune::data::CifarKind::kCifar10);
    float mean[3], sd[3];
    ASSERT_EQ(std::sscanf(meta(m, "msprune.normalization.mean").c_str(), "%f,%f,%f", &mean[0], &mean[1], &mean[2]), 3);
    ASSERT_EQ(std::sscanf(meta(m, "msprune.normalization.std").c_str(), "%f,%f,%f", &sd[0], &sd[1], &sd[2]), 3);
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(mean[c], norm.mean[c]);
      EXPECT_EQ(sd[c], norm.std[c]);
    }
    EXPECT_EQ(meta(m, "msprune.num_classes"), "10");
    EXPECT_EQ(meta(m, "msprune.batchnorm"), fold ? "folded" : "kept");
    EXPECT_EQ(meta(m, "msprune.version"), m.producer_version());
    EXPECT_EQ(msprune::models::ModelSpec::from_json(nlohmann::json::parse(meta(m, "msprune.spec"))).name(),
              vgg->spec().name());
    EXPECT_NE(meta(m, "msprune.input").find("normalized"), std::string::npos);
  }
  // Channel selections that drop channels become Gather nodes; BNs after a
  // sum or concatenation stay BatchNormalization even when folding.
  auto res = make_net(Family::kPreResNet, true, 12);
  int selections = 0;
  for (auto& mod : res->modules(false))
    if (auto* s = mod->as<msprune::models::ChannelSelectionImpl>()) selections += s->kept() != s->num_channels();
  ASSERT_GT(selections, 0);
  auto n = op_counts(parse(io::export_onnx(*res, {true})));
  EXPECT_EQ(n["Gather"], selections);
  EXPECT_EQ(n["BatchNormalization"], 7);  // bn1 of 6 blocks + the final bn
  EXPECT_EQ(n["Add"], 6);
  EXPECT_EQ(n["Conv"], 1 + 18 + 3);
  auto d = op_counts(parse(io::export_onnx(*make_net(Family::kDenseNet, false, 13), {true})));
  EXPECT_EQ(d["Concat"], 9);
  EXPECT_EQ(d["AveragePool"], 2);
  EXPECT_EQ(d["BatchNormalization"], 12);
  EXPECT_EQ(d["Gather"], 0);  // unpruned: identity selections write nothing
}

TEST(OnnxExport, Deterministic) {
  auto net = make_net(Family::kDenseNet, true, 5);
  EXPECT_EQ(io::export_onnx(*net), io::export_onnx(*net));
  net->train();  // running statistics, whatever the mode; the mode is left alone
  const std::string t = io::export_onnx(*net);
  EXPECT_TRUE(net->is_training());
  net->eval();
  EXPECT_EQ(t, io::export_onnx(*net));
}

TEST(OnnxExport, RefusesBadBatchNormStatistics) {
  auto net = make_net(Family::kVgg, false, 3);
  {
    torch::NoGradGuard ng;
    msprune::models::as_vgg(net)->bns[4]->running_var[2] = -1.0f;
  }
  try {
    io::export_onnx(*net);
    FAIL() << "negative variance exported";
  } catch (const msprune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv4+bn4"), std::string::npos) << e.what();
  }
}

// Python's ONNX checker (full_check: with shape inference) on every variant.
TEST(OnnxExport, PythonCheckerAccepts) {
  std::string why;
  if (!python_onnx(&why)) GTEST_SKIP() << why;
  TempDir d;
  std::string files;
  int k = 0;
  for (Family f : kFamilies)
    for (bool pruned : {false, true})
      for (bool fold : {false, true}) {
        const fs::path p = d.path / (std::string(export_test::family_name(f)) + std::to_string(k++) + ".onnx");
        spit(p, io::export_onnx(*make_net(f, pruned, 20 + uint64_t(k)), {fold}));
        files += " " + shell_quote(p.string());
      }
  Proc r = run("/usr/bin/python3 -c 'import onnx, sys\n"
              "for p in sys.argv[1:]:\n"
              "    m = onnx.load(p)\n"
              "    onnx.checker.check_model(m, full_check=True)\n"
              "    print(\"ok\", m.opset_import[0].version, p)' " +
              files);
  EXPECT_EQ(r.status, 0) << r.out;
  size_t oks = 0;
  for (size_t pos = 0; (pos = r.out.find("ok 13 ", pos)) != std::string::npos; ++pos) ++oks;
  EXPECT_EQ(oks, 12u) << r.out;
}

// ONNX Runtime against LibTorch on the same normalised inputs [N,3,32,32]:
// every family, base and pruned, BN kept and folded.
void check_ort_against_torch(const torch::Tensor& x, const torch::Tensor& calib, const char* what) {
  for (Family f : kFamilies)
    for (bool pruned : {false, true})
      for (bool fold : {false, true}) {
        SCOPED_TRACE(std::string(export_test::family_name(f)) + " " + variant_name(pruned, fold));
        auto net = make_net(f, pruned, 31 + uint64_t(f), calib);
        const torch::Tensor t = ex::torch_logits(*net, x);
        const torch::Tensor o = ort_logits(io::export_onnx(*net, {fold}), x, net->spec().num_classes);
        const Agreement g = agree(t, o);
        std::printf("[ onnxruntime ] %-9s %-17s %s: %lld inputs, max |diff| %.3g (max |logit| %.3g), top-1 agree "
                    "%lld/%lld\n",
                    export_test::family_name(f), variant_name(pruned, fold), what, (long long)g.n, g.max_abs_diff,
                    g.max_abs, (long long)g.top1_agree, (long long)g.n);
        EXPECT_GT(g.max_abs, 0.1);  // logits of a real scale
        EXPECT_LE(g.max_abs_diff, 1e-4);
        EXPECT_EQ(g.top1_agree, g.n);
      }
}

TEST(OnnxRuntime, MatchesLibTorchOnRandomInputs) {
  std::string why;
  if (!ort_available(&why)) GTEST_SKIP() << why;
  check_ort_against_torch(ex::random_inputs(16, 3, 32, 32, 7), {}, "random");
}

// The check: 1,000 real CIFAR-10 test images (skipped without $MSPRUNE_DATA).
torch::Tensor normalised(const torch::Tensor& u8) {
  const auto norm = msprune::data::normalization_for(msprune::data::CifarKind::kCifar10);
  auto mean = torch::tensor({norm.mean[0], norm.mean[1], norm.mean[2]}).view({1, 3, 1, 1});
  auto sd = torch::tensor({norm.std[0], norm.std[1], norm.std[2]}).view({1, 3, 1, 1});
  return (u8.to(torch::kFloat32).div(255.0f) - mean).div(sd);
}

TEST(OnnxRuntime, MatchesLibTorchOnRealImages) {
  const char* dir = std::getenv("MSPRUNE_DATA");
  if (!dir || !*dir) GTEST_SKIP() << "MSPRUNE_DATA not set";
  std::string why;
  if (!ort_available(&why)) GTEST_SKIP() << why;
  auto test = msprune::data::load_cifar(dir, false, 1000);
  ASSERT_EQ(test.size(), 1000);
  const torch::Tensor x = normalised(test.images);
  check_ort_against_torch(x, x.slice(0, 0, 32), "CIFAR-10 test");
}

// --- ONNX in, enclave out ---------------------------------------------------

// ours -> ONNX -> .msm gives the very bytes of the direct export ours -> .msm
// (same BN folding, same graph, same normalisation from the metadata).
TEST(OnnxImport, RoundTripGivesTheDirectExport) {
  for (Family f : kFamilies)
    for (bool pruned : {false, true})
      for (bool fold : {false, true}) {
        SCOPED_TRACE(std::string(export_test::family_name(f)) + " " + variant_name(pruned, fold));
        auto net = make_net(f, pruned, 40 + uint64_t(f));
        const io::OnnxImportResult r = io::import_onnx(span(io::export_onnx(*net, {fold})));
        EXPECT_TRUE(r.normalization_from_metadata);
        EXPECT_EQ(r.opset, 13);
        EXPECT_EQ(r.msm, ex::export_msm(*net));
        ex::HostedModel h(r.msm);
        const ex::Parity p = ex::compare_random(*net, h, 4, 3);
        EXPECT_LE(p.rel(), ex::kParityTolerance);
        EXPECT_EQ(p.top1_agree, p.inputs);
      }
  // Networks cut by the real surgery (src/prune).
  for (Family f : kFamilies) {
    auto net = export_test::make_surgery_net(f, 60 + uint64_t(f));
    EXPECT_EQ(io::import_onnx(span(io::export_onnx(*net))).msm, ex::export_msm(*net)) << export_test::family_name(f);
  }
}

// The check: the same top-1 on 1,000 real test images as the direct
// export, through the runtime (invoke_u8: raw pixels, normalisation from the file).
TEST(OnnxImport, RoundTripAgreesOnRealImages) {
  const char* dir = std::getenv("MSPRUNE_DATA");
  if (!dir || !*dir) GTEST_SKIP() << "MSPRUNE_DATA not set";
  auto test = msprune::data::load_cifar(dir, false, 1000);
  ASSERT_EQ(test.size(), 1000);
  const torch::Tensor calib = normalised(test.images.slice(0, 0, 32));
  auto u8 = test.images.contiguous();
  for (Family f : kFamilies)
    for (bool pruned : {false, true})
      for (bool fold : {false, true}) {
        SCOPED_TRACE(std::string(export_test::family_name(f)) + " " + variant_name(pruned, fold));
        auto net = make_net(f, pruned, 31 + uint64_t(f), calib);
        ex::HostedModel direct(ex::export_msm(*net));
        ex::HostedModel round(io::import_onnx(span(io::export_onnx(*net, {fold}))).msm);
        std::vector<float> a(10), b(10);
        int64_t same = 0;
        double diff = 0;
        for (int64_t i = 0; i < test.size(); ++i) {
          direct.invoke_u8(u8[i].data_ptr<uint8_t>(), a.data());
          round.invoke_u8(u8[i].data_ptr<uint8_t>(), b.data());
          same += msprune::rt::argmax(a.data(), 10) == msprune::rt::argmax(b.data(), 10);
          for (int c = 0; c < 10; ++c) diff = std::max(diff, double(std::fabs(a[size_t(c)] - b[size_t(c)])));
        }
        std::printf("[ round trip ] %-9s %-17s: ours -> ONNX -> .msm vs ours -> .msm on %lld CIFAR-10 test images: "
                    "top-1 agree %lld, max |diff| %.3g\n",
                    export_test::family_name(f), variant_name(pruned, fold), (long long)test.size(), (long long)same,
                    diff);
        EXPECT_EQ(same, test.size());
      }
}

TEST(OnnxImport, NormalisationFromOptionsOrRefused) {
  auto net = make_net(Family::kVgg, true, 8);
  onnx::ModelProto m = parse(io::export_onnx(*net));
  m.clear_metadata_props();
  const std::string bare = serialize(m);
  try {
    io::import_onnx(span(bare));
    FAIL() << "imported without a normalisation";
  } catch (const msprune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--input-mean"), std::string::npos) << e.what();
  }
  io::OnnxImportOptions o;
  const auto norm = ex::input_normalization(net->spec());
  o.mean.assign(norm.mean, norm.mean + 3);
  o.std.assign(norm.std, norm.std + 3);
  const io::OnnxImportResult r = io::import_onnx(span(bare), o);
  EXPECT_FALSE(r.normalization_from_metadata);
  EXPECT_EQ(r.msm, ex::export_msm(*net));
  o.std = {1, 1};
  EXPECT_THROW(io::import_onnx(span(bare), o), msprune::Error);  // two stds for three channels
}

// A hand-built graph in another producer's style: MatMul + Add bias, a Relu
// that follows a pool (not fusable), ReduceMean, Softmax, Constant, Dropout,
// Identity, an unsorted node list.
TEST(OnnxImport, OtherProducersStyle) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(11);
  auto* g = m.mutable_graph();
  auto value = [](onnx::ValueInfoProto* v, const char* name, std::vector<int64_t> dims) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
  };
  value(g->add_input(), "x", {1, 3, 8, 8});
  value(g->add_output(), "prob", {1, 5});
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0, 0.5f);
  auto init = [&](const char* name, std::vector<int64_t> dims) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) t->add_dims(d), n *= d;
    for (int64_t i = 0; i < n; ++i) t->add_float_data(nd(rng));  // typed data, not raw_data
  };
  init("w", {4, 3, 3, 3});
  init("fc_w", {4, 5});
  auto node = [&](const char* op, const char* name, std::vector<const char*> in, std::vector<const char*> out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto* i : in) n->add_input(i);
    for (auto* o : out) n->add_output(o);
    return n;
  };
  auto ints = [](onnx::NodeProto* n, const char* name, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  };
  // Listed out of order on purpose.
  node("Softmax", "softmax", {"logits"}, {"prob"});
  auto* mean = node("ReduceMean", "mean", {"act"}, {"pooled"});
  ints(mean, "axes", {-1, -2});
  auto* kd = mean->add_attribute();
  kd->set_name("keepdims");
  kd->set_type(onnx::AttributeProto::INT);
  kd->set_i(0);
  auto* conv = node("Conv", "conv", {"x", "w"}, {"c"});
  ints(conv, "pads", {1, 1, 1, 1});
  auto* pool = node("MaxPool", "pool", {"c"}, {"p"});
  ints(pool, "kernel_shape", {2, 2});
  ints(pool, "strides", {2, 2});
  node("Relu", "relu", {"p"}, {"r"});
  node("Dropout", "drop", {"r"}, {"act", ""});
  node("MatMul", "mm", {"pooled", "fc_w"}, {"mm_out"});
  auto* k = node("Constant", "bias", {}, {"b"});
  auto* ka = k->add_attribute();
  ka->set_name("value");
  ka->set_type(onnx::AttributeProto::TENSOR);
  ka->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  ka->mutable_t()->add_dims(5);
  for (int i = 0; i < 5; ++i) ka->mutable_t()->add_float_data(0.1f * float(i));
  node("Add", "add_bias", {"mm_out", "b"}, {"sum"});
  node("Identity", "id", {"sum"}, {"logits"});

  io::OnnxImportOptions o;
  o.mean = {0.5f, 0.5f, 0.5f};
  o.std = {0.25f, 0.25f, 0.25f};
  const io::OnnxImportResult r = io::import_onnx(span(serialize(m)), o);
  EXPECT_EQ(r.fused, 1);  // the bias Add
  ex::HostedModel h(r.msm);
  EXPECT_EQ(h.model().num_classes(), 5u);
  // conv, max_pool, affine (the Relu), avg_pool (ReduceMean), linear, softmax.
  EXPECT_EQ(h.model().num_ops(), 6u);

  // The same computation in LibTorch.
  const auto& in = m.graph().initializer();
  auto tensor = [](const onnx::TensorProto& t) {
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    return torch::tensor(std::vector<float>(t.float_data().begin(), t.float_data().end())).view(dims);
  };
  auto x = torch::randn({1, 3, 8, 8});
  auto y = torch::relu(torch::max_pool2d(torch::conv2d(x, tensor(in[0]), {}, 1, 1), 2, 2)).mean({2, 3});
  y = torch::softmax(y.matmul(tensor(in[1])) + tensor(ka->t()), 1).contiguous();
  std::vector<float> got(5);
  h.invoke(x.contiguous().data_ptr<float>(), got.data());
  for (int c = 0; c < 5; ++c) EXPECT_NEAR(got[size_t(c)], y[0][c].item<float>(), 1e-5) << c;
}

// --- hostile ONNX files -----------------------------------------------------

std::string import_error(const std::string& bytes) {
  try {
    io::import_onnx(span(bytes));
  } catch (const msprune::Error& e) {
    return e.what();
  }
  return "<accepted>";
}

class Hostile : public testing::Test {
 protected:
  void SetUp() override {
    net_ = make_net(Family::kVgg, true, 17);
    good_ = parse(io::export_onnx(*net_));
  }
  // The error for `good_` after `edit`.
  std::string error_after(const std::function<void(onnx::ModelProto&)>& edit) {
    onnx::ModelProto m = good_;
    edit(m);
    return import_error(serialize(m));
  }
  static onnx::AttributeProto* attr(onnx::NodeProto* n, const std::string& name) {
    for (auto& a : *n->mutable_attribute())
      if (a.name() == name) return &a;
    auto* a = n->add_attribute();
    a->set_name(name);
    return a;
  }
  msprune::models::Net net_;
  onnx::ModelProto good_;
};

#define EXPECT_HAS(hay, needle) EXPECT_NE((hay).find(needle), std::string::npos) << (hay)

TEST_F(Hostile, UnsupportedOpIsNamed) {
  // The first Relu (node 2: conv0, conv0.bn, conv0.relu) becomes a Sigmoid; a later one a Tanh.
  const std::string e = error_after([](onnx::ModelProto& m) {
    m.mutable_graph()->mutable_node(2)->set_op_type("Sigmoid");
    m.mutable_graph()->mutable_node(5)->set_op_type("Tanh");
  });
  EXPECT_HAS(e, "node 2 \"conv0.relu\" (Sigmoid)");
  EXPECT_HAS(e, "operator Sigmoid is not supported");
  EXPECT_HAS(e, "supported: Conv, BatchNormalization");
  EXPECT_EQ(e.find("Tanh"), std::string::npos) << e;  // the first one only
  EXPECT_HAS(error_after([](onnx::ModelProto& m) { m.mutable_graph()->mutable_node(2)->set_domain("com.example"); }),
             "domain com.example");
}

TEST_F(Hostile, UnsupportedAttributesAreNamed) {
  auto conv0 = [](onnx::ModelProto& m) { return m.mutable_graph()->mutable_node(0); };
  EXPECT_HAS(error_after([&](onnx::ModelProto& m) {
               auto* a = attr(conv0(m), "dilations");
               a->clear_ints();
               a->add_ints(2), a->add_ints(2);
             }),
             "node 0 \"conv0\" (Conv): dilations [2,2] are not supported");
  EXPECT_HAS(error_after([&](onnx::ModelProto& m) { attr(conv0(m), "group")->set_i(3); }), "group = 3");
  EXPECT_HAS(error_after([&](onnx::ModelProto& m) {
               auto* n = conv0(m);
               auto* a = attr(n, "auto_pad");
               a->set_type(onnx::AttributeProto::STRING);
               a->set_s("SAME_UPPER");
             }),
             "auto_pad SAME_UPPER is not supported");
  EXPECT_HAS(error_after([&](onnx::ModelProto& m) {
               auto* a = attr(conv0(m), "pads");
               a->clear_ints();
               for (int v : {1, 0, 1, 0}) a->add_ints(v);
             }),
             "pads [1,0,1,0]");
  EXPECT_HAS(error_after([&](onnx::ModelProto& m) { attr(conv0(m), "strides")->set_type(onnx::AttributeProto::INT); }),
             "attribute 'strides' is not of type INTS");
  EXPECT_HAS(error_after([&](onnx::ModelProto& m) {
               auto* a = attr(conv0(m), "frobnicate");
               a->set_type(onnx::AttributeProto::INT);
             }),
             "attribute 'frobnicate' is not supported for Conv");
  // A 5x5 kernel (a consistent weight and kernel_shape): the runtime has 1x1 and 3x3.
  EXPECT_HAS(error_after([&](onnx::ModelProto& m) {
               auto* w = m.mutable_graph()->mutable_initializer(0);
               w->set_dims(2, 5), w->set_dims(3, 5);
               w->set_raw_data(std::string(size_t(w->dims(0) * w->dims(1)) * 25 * 4, '\0'));
               auto* a = attr(conv0(m), "kernel_shape");
               a->set_ints(0, 5), a->set_ints(1, 5);
               auto* p = attr(conv0(m), "pads");
               for (int i = 0; i < 4; ++i) p->set_ints(i, 2);
             }),
             "kernel 5x5");
  // Training-mode BatchNormalization (node 1, folded into conv0 on import).
  EXPECT_HAS(error_after([](onnx::ModelProto& m) {
               auto* a = attr(m.mutable_graph()->mutable_node(1), "training_mode");
               a->set_type(onnx::AttributeProto::INT);
               a->set_i(1);
             }),
             "node 1 \"conv0.bn\" (BatchNormalization): training_mode = 1 is not supported");
}

TEST_F(Hostile, StructuralErrors) {
  // A missing initializer.
  EXPECT_HAS(error_after([](onnx::ModelProto& m) {
               m.mutable_graph()->mutable_initializer()->DeleteSubrange(0, 1);
             }),
             "input 'conv0.weight' is not a graph input, an initializer or any node's output");
  // A cycle: conv0 reads conv1's output.
  EXPECT_HAS(error_after([](onnx::ModelProto& m) { m.mutable_graph()->mutable_node(0)->set_input(0, "conv1.relu"); }),
             "is part of a cycle");
  // A value produced twice.
  EXPECT_HAS(error_after([](onnx::ModelProto& m) { m.mutable_graph()->mutable_node(2)->set_output(0, "conv0"); }),
             "is also produced by node 0");
  // A weight that does not fit the activation (4 input channels for 3).
  EXPECT_HAS(error_after([](onnx::ModelProto& m) {
               auto* w = m.mutable_graph()->mutable_initializer(0);
               w->set_dims(1, 4);
               w->set_raw_data(std::string(size_t(w->dims(0)) * 4 * 9 * 4, '\0'));
             }),
             "for an input of 3 channels");
  // Data that does not fit the declared shape.
  EXPECT_HAS(error_after([](onnx::ModelProto& m) { m.mutable_graph()->mutable_initializer(0)->set_dims(0, 1000); }),
             "but ");
  // Absurd sizes.
  EXPECT_HAS(error_after([](onnx::ModelProto& m) {
               auto* w = m.mutable_graph()->mutable_initializer(0);
               w->set_dims(0, int64_t(1) << 30), w->set_dims(1, int64_t(1) << 30);
             }),
             "more than 2^28 elements");
  EXPECT_HAS(error_after([](onnx::ModelProto& m) {
               m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(
                   2)->set_dim_value(int64_t(1) << 40);
             }),
             "height and width 1..4096");
  EXPECT_HAS(error_after([](onnx::ModelProto& m) {
               m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(
                   3)->set_dim_param("W");
             }),
             "dimension 3 is symbolic");
  // Weights kept outside the file.
  EXPECT_HAS(error_after([](onnx::ModelProto& m) {
               auto* w = m.mutable_graph()->mutable_initializer(0);
               w->set_data_location(onnx::TensorProto::EXTERNAL);
               auto* e = w->add_external_data();
               e->set_key("location");
               e->set_value("/etc/passwd");
             }),
             "external file");
  // NaN weights.
  EXPECT_HAS(error_after([](onnx::ModelProto& m) {
               auto* w = m.mutable_graph()->mutable_initializer(0);
               std::string raw = w->raw_data();
               const float nan = std::numeric_limits<float>::quiet_NaN();
               std::memcpy(raw.data() + 8, &nan, 4);
               w->set_raw_data(raw);
             }),
             "finite values only");
  // Two outputs; no graph; an unknown opset.
  EXPECT_HAS(error_after([](onnx::ModelProto& m) { *m.mutable_graph()->add_output() = m.graph().output(0); }),
             "2 outputs");
  EXPECT_HAS(error_after([](onnx::ModelProto& m) { m.clear_graph(); }), "no graph");
  EXPECT_HAS(error_after([](onnx::ModelProto& m) { m.mutable_opset_import(0)->set_version(99); }), "opset 99");
  // Flatten of a map that is not 1x1 (the pool removed before the classifier).
  EXPECT_HAS(error_after([](onnx::ModelProto& m) {
               auto* g = m.mutable_graph();
               for (auto& n : *g->mutable_node())
                 if (n.op_type() == "Flatten") n.set_input(0, "conv12.relu");
             }),
             "the runtime's linear layer takes a 1x1 map");
}

TEST_F(Hostile, BrokenBytes) {
  const std::string good = serialize(good_);
  EXPECT_HAS(import_error(""), "empty");
  EXPECT_HAS(import_error(good.substr(0, good.size() / 2)), "onnx import: ");
  EXPECT_HAS(import_error("this is not an ONNX file at all, just some text\n"), "protobuf parsing failed");
  // Every truncation and many random byte flips: a model or an Error, never a crash.
  // (A cut exactly between two metadata entries, after the normalisation,
  // is a valid smaller model; a flipped weight byte a valid other model.)
  int cuts = 0, cut_errors = 0, flip_errors = 0;
  for (size_t cut = 0; cut < good.size(); cut += std::max<size_t>(1, good.size() / 300), ++cuts) {
    const std::string e = import_error(good.substr(0, cut));
    cut_errors += e != "<accepted>";
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    std::string b = good;
    for (int k = 0; k < 4; ++k) b[rng() % b.size()] = char(rng());
    const std::string e = import_error(b);
    flip_errors += e != "<accepted>";
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  std::printf("[ hostile ] %d truncations: %d refused; 300 models with 4 random bytes: %d refused\n", cuts,
              cut_errors, flip_errors);
  EXPECT_GE(cut_errors, cuts - 2);
}

// --- the command line ---------------------------------------------------------

std::string msprune() { return export_test::msprune_binary(); }

TEST(OnnxCli, ExportsAndImports) {
  TempDir d;
  auto net = make_net(Family::kPreResNet, true, 21);
  msprune::train::save_checkpoint(d.path / "p.ckpt", net, nullptr, {});
  const std::string ck = shell_quote((d.path / "p.ckpt").string());
  Proc r = run(msprune() + " export --model " + ck + " --format onnx --fold-bn --out " +
              shell_quote((d.path / "p.onnx").string()) + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["onnx"]["opset"].get<int>(), 13);
  EXPECT_EQ(j["onnx"]["batchnorm"].get<std::string>(), "folded");
  EXPECT_LE(j["parity_random"]["rel"].get<double>(), ex::kParityTolerance);
  EXPECT_EQ(slurp(d.path / "p.onnx"), io::export_onnx(*net, {true}));

  Proc human = run(msprune() + " export --model " + ck + " --format onnx --out " + shell_quote((d.path / "k.onnx").string()));
  ASSERT_EQ(human.status, 0) << human.out;
  EXPECT_HAS(human.out, "normalised");
  EXPECT_HAS(human.out, "read back");

  Proc imp = run(msprune() + " export --from-onnx " + shell_quote((d.path / "k.onnx").string()) + " --out " +
                shell_quote((d.path / "k.msm").string()) + " --json");
  ASSERT_EQ(imp.status, 0) << imp.out;
  auto ji = nlohmann::json::parse(imp.out);
  EXPECT_TRUE(ji["onnx"]["normalization_from_metadata"].get<bool>());
  const std::string msm = slurp(d.path / "k.msm");
  EXPECT_EQ(std::vector<uint8_t>(msm.begin(), msm.end()), ex::export_msm(*net));
  Proc inspect = run(msprune() + " inspect " + shell_quote((d.path / "k.msm").string()));
  EXPECT_EQ(inspect.status, 0) << inspect.out;
}

TEST(OnnxCli, RefusalsAreOneLineAndKeepTheOutput) {
  TempDir d;
  const fs::path keep = d.path / "keep.msm";
  spit(keep, "previous export");
  onnx::ModelProto m = parse(io::export_onnx(*make_net(Family::kDenseNet, true, 3)));
  m.mutable_graph()->mutable_node(3)->set_op_type("Sigmoid");
  spit(d.path / "sig.onnx", serialize(m));
  Proc r = run(msprune() + " export --from-onnx " + shell_quote((d.path / "sig.onnx").string()) + " --out " +
              shell_quote(keep.string()));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(r.out, "msprune: error:");
  EXPECT_HAS(r.out, "sig.onnx");
  EXPECT_HAS(r.out, "(Sigmoid)");
  EXPECT_EQ(slurp(keep), "previous export");

  spit(d.path / "cut.onnx", io::export_onnx(*make_net(Family::kVgg, false, 3)).substr(0, 1000));
  Proc cut = run(msprune() + " export --from-onnx " + shell_quote((d.path / "cut.onnx").string()) + " --out " +
                shell_quote(keep.string()));
  EXPECT_EQ(cut.status, 1);
  EXPECT_HAS(cut.out, "cut.onnx");
  EXPECT_EQ(slurp(keep), "previous export");

  Proc missing = run(msprune() + " export --from-onnx " + shell_quote((d.path / "none.onnx").string()) + " --out " +
                    shell_quote(keep.string()));
  EXPECT_EQ(missing.status, 1);
  EXPECT_HAS(missing.out, "not found");

  Proc both = run(msprune() + " export --model a.ckpt --from-onnx b.onnx --out " + shell_quote(keep.string()));
  EXPECT_EQ(both.status, 1);
  EXPECT_HAS(both.out, "either --model");
  Proc fold = run(msprune() + " export --model a.ckpt --fold-bn --out " + shell_quote(keep.string()));
  EXPECT_EQ(fold.status, 1);
  EXPECT_HAS(fold.out, "--fold-bn applies to --format onnx");
  EXPECT_EQ(slurp(keep), "previous export");
}

// tools/ort/run.js itself: clear one-line errors.
TEST(OrtScript, ClearErrors) {
  std::string why;
  if (!ort_available(&why)) GTEST_SKIP() << why;
  TempDir d;
  const std::string node = shell_quote(find_node()) + " " + shell_quote(kOrtScript.string());
  spit(d.path / "m.onnx", io::export_onnx(*make_net(Family::kVgg, false, 1)));
  spit(d.path / "x.f32", std::string(100, '\0'));
  Proc shape = run(node + " infer " + shell_quote((d.path / "m.onnx").string()) + " " +
                  shell_quote((d.path / "x.f32").string()) + " 1,3,32,32 " + shell_quote((d.path / "y").string()));
  EXPECT_EQ(shape.status, 1);
  EXPECT_HAS(shape.out, "has 100 bytes, shape 1x3x32x32 needs 12288");
  spit(d.path / "bad.onnx", "garbage");
  spit(d.path / "x.f32", std::string(12288, '\0'));
  Proc bad = run(node + " infer " + shell_quote((d.path / "bad.onnx").string()) + " " +
                shell_quote((d.path / "x.f32").string()) + " 1,3,32,32 " + shell_quote((d.path / "y").string()));
  EXPECT_EQ(bad.status, 1);
  EXPECT_HAS(bad.out, "run.js: error: ONNX Runtime cannot load");
}

}  // namespace
