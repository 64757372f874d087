// PyTorch checkpoints in (issue 15 point 1): files written by Python's
// torch.save in the layout of the paper's / Network Slimming's models/
// (tests/interop/make_pytorch_ckpts.py, run with Debian's /usr/bin/python3 and
// its torch) are imported and must give Python's logits on the same inputs;
// the imported checkpoint then goes through prune, export and eval; hostile
// files get one-line errors naming the problem.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/augment.h"
#include "export/export.h"
#include "interop/pytorch_import.h"
#include "run_msprune.h"
#include "tiny_cifar.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "util/error.h"

namespace fs = std::filesystem;
using msprune::Error;
using msprune::interop::import_pytorch;
using msprune::interop::PytorchImportOptions;
using msprune::models::Arch;
using msprune::testing::run_msprune;

namespace {

const fs::path& dir() {
  static const fs::path d = fs::temp_directory_path() / ("msprune_interop_" + std::to_string(::getpid()));
  return d;
}

// Empty when the files are there; else why they are not.
std::string generated() {
  static std::string why = [] {
    if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
      return std::string("/usr/bin/python3 has no torch (Debian python3-torch; scripts/setup.sh installs it)");
    fs::remove_all(dir());
    const std::string cmd = "/usr/bin/python3 " MSPRUNE_SOURCE_DIR "/tests/interop/make_pytorch_ckpts.py " +
                            dir().string() + " 2>&1";
    if (std::system(cmd.c_str()) != 0) return std::string("FAILED: ") + cmd;
    return std::string();
  }();
  return why;
}

#define NEED_FILES()                                                     \
  do {                                                                   \
    const std::string why = generated();                                 \
    if (why.rfind("FAILED", 0) == 0) FAIL() << why;                      \
    if (!why.empty()) GTEST_SKIP() << why;                               \
  } while (0)

std::vector<float> read_floats(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

torch::Tensor inputs() {
  auto v = read_floats(dir() / "inputs.bin");
  return torch::from_blob(v.data(), {4, 3, 32, 32}).clone();
}

torch::Tensor python_logits(const std::string& name) {
  auto v = read_floats(dir() / (name + ".logits.bin"));
  return torch::from_blob(v.data(), {4, int64_t(v.size()) / 4}).clone();
}

double max_diff(msprune::models::Net& net, const std::string& name) {
  torch::NoGradGuard g;
  net->eval();
  auto ours = net->forward(inputs());
  auto theirs = python_logits(name);
  EXPECT_EQ(ours.sizes(), theirs.sizes()) << name;
  if (ours.sizes() != theirs.sizes()) return INFINITY;
  return (ours - theirs).abs().max().item<double>();
}

Arch arch_of(const std::string& a) { return msprune::models::parse_arch(a); }

PytorchImportOptions opts(Arch a) {
  PytorchImportOptions o;
  o.arch = a;
  o.input_norm = msprune::interop::ns_cifar10_norm();
  return o;
}

// The message of the Error import_pytorch throws ("" if none).
std::string import_error(const std::string& file, PytorchImportOptions o) {
  try {
    import_pytorch(dir() / file, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(PytorchImport, LogitsMatchPython) {
  NEED_FILES();
  std::ifstream mf(dir() / "manifest.json");
  const auto manifest = nlohmann::json::parse(mf);
  ASSERT_EQ(manifest["cases"].size(), 6u);
  for (const auto& c : manifest["cases"]) {
    const std::string name = c["name"];
    auto imp = import_pytorch(dir() / (name + ".pth"), opts(arch_of(c["arch"])));
    const double d = max_diff(imp.model, name);
    std::printf("[parity] %-20s %-16s layout %-10s max |ours - python| = %.3g\n", name.c_str(),
                imp.model->spec().name().c_str(), imp.about["layout"].get<std::string>().c_str(), d);
    EXPECT_LE(d, 1e-4) << name;
    EXPECT_EQ(imp.model->spec().num_classes, c["classes"].get<int>()) << name;
  }
}

TEST(PytorchImport, InfersSpecAndSelections) {
  NEED_FILES();
  auto v = import_pytorch(dir() / "vgg11_bare.pth", opts(Arch::kVgg));
  EXPECT_EQ(v.model->spec().depth, 11);
  EXPECT_DOUBLE_EQ(v.model->spec().width, 0.125);  // 1/8-width default cfg
  EXPECT_TRUE(v.model->spec().is_default_cfg());
  auto vp = import_pytorch(dir() / "vgg11_pruned.pth", opts(Arch::kVgg));
  const int M = msprune::models::kPool;
  EXPECT_EQ(vp.model->spec().cfg, (std::vector<int>{6, M, 11, M, 20, 32, M, 40, 17, M, 9, 50}));
  EXPECT_EQ(vp.about["layout"], "dict");
  EXPECT_TRUE(vp.about["cfg_in_file"].get<bool>());
  auto r = import_pytorch(dir() / "preresnet20_pruned.pth", opts(Arch::kPreResNet));
  EXPECT_EQ(r.model->spec().cfg,
            (std::vector<int>{12, 9, 14, 50, 3, 16, 41, 30, 7, 100, 20, 31, 47, 60, 2, 200, 5, 64, 180}));
  auto* pr = msprune::models::as_preresnet(r.model);
  ASSERT_NE(pr, nullptr);
  EXPECT_EQ(pr->blocks[0]->select->kept(), 12);
  EXPECT_LT(pr->blocks[0]->select->indices[11].item<int64_t>(), 16);
  auto t = import_pytorch(dir() / "preresnet20_train.pth", opts(Arch::kPreResNet));
  EXPECT_EQ(t.about["layout"], "training");
  EXPECT_EQ(t.about["ignored_entries"], nlohmann::json({"epoch", "best_prec1", "optimizer"}));
  auto d = import_pytorch(dir() / "densenet10_pruned.pth", opts(Arch::kDenseNet));
  EXPECT_EQ(d.model->spec().depth, 10);
  EXPECT_EQ(d.model->spec().num_classes, 100);
  EXPECT_EQ(d.model->spec().cfg, (std::vector<int>{24, 20, 30, 40, 33, 52, 60, 41, 70}));
}

TEST(PytorchImport, ErrorsNameTheProblem) {
  NEED_FILES();
  std::string e = import_error("preresnet20_pruned.pth", opts(Arch::kVgg));
  EXPECT_NE(e.find("expected a vgg state_dict, found a preresnet one"), std::string::npos) << e;
  e = import_error("vgg11_bare.pth", opts(Arch::kDenseNet));
  EXPECT_NE(e.find("expected a densenet state_dict, found a vgg one"), std::string::npos) << e;
  e = import_error("err_missing.pth", opts(Arch::kPreResNet));
  EXPECT_NE(e.find("tensor 'layer2.1.bn2.running_var' missing"), std::string::npos) << e;
  e = import_error("err_shape.pth", opts(Arch::kPreResNet));
  EXPECT_NE(e.find("tensor 'layer1.0.bn2.running_mean' has shape [17], expected [16]"), std::string::npos) << e;
  e = import_error("err_extra.pth", opts(Arch::kPreResNet));
  EXPECT_NE(e.find("unexpected tensors for preresnet: head.bias, layer1.0.attention.weight"), std::string::npos) << e;
  e = import_error("err_legacy.pth", opts(Arch::kPreResNet));
  EXPECT_NE(e.find("legacy (pre-1.6, non-zip) torch.save format"), std::string::npos) << e;
  EXPECT_NE(e.find("_use_new_zipfile_serialization=True"), std::string::npos) << e;
  e = import_error("err_cfg.pth", opts(Arch::kVgg));
  EXPECT_NE(e.find("the file's cfg [6, M, 12, M"), std::string::npos) << e;
  EXPECT_NE(e.find("does not match its tensors, which say [6, M, 11, M"), std::string::npos) << e;
  e = import_error("err_no_state_dict.pth", opts(Arch::kVgg));
  EXPECT_NE(e.find("no 'state_dict' entry"), std::string::npos) << e;
  auto o = opts(Arch::kPreResNet);
  o.depth = 164;
  e = import_error("preresnet20_train.pth", o);
  EXPECT_NE(e.find("--depth 164 given, but the file holds depth 20"), std::string::npos) << e;
  e = import_error("err_pickle_underflow.pth", opts(Arch::kVgg));
  EXPECT_NE(e.find("data.pkl pops an empty stack at byte 2"), std::string::npos) << e;
  e = import_error("err_pickle_opcode.pth", opts(Arch::kVgg));
  EXPECT_NE(e.find("data.pkl has an unknown pickle opcode 0xff at byte 3"), std::string::npos) << e;
  e = import_error("no_such_file.pth", opts(Arch::kVgg));
  EXPECT_NE(e.find("file not found"), std::string::npos) << e;

  // Truncated archives (cut at several points) and garbage.
  std::ifstream in(dir() / "vgg11_pruned.pth", std::ios::binary);
  const std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t cut : {size_t(2), size_t(100), whole.size() / 2, whole.size() - 30}) {
    std::ofstream(dir() / "cut.pth", std::ios::binary) << whole.substr(0, cut);
    e = import_error("cut.pth", opts(Arch::kVgg));
    EXPECT_FALSE(e.empty()) << "cut at " << cut;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    std::printf("[error] cut at %zu of %zu bytes: %s\n", cut, whole.size(), e.c_str());
  }
  std::ofstream(dir() / "garbage.pth", std::ios::binary) << std::string(4096, '\x42');
  e = import_error("garbage.pth", opts(Arch::kVgg));
  EXPECT_NE(e.find("not a PyTorch checkpoint"), std::string::npos) << e;
}

TEST(PytorchImport, NormalizationRecordedAndHonoured) {
  NEED_FILES();
  auto o = opts(Arch::kVgg);
  o.input_norm = msprune::interop::named_input_norm("none");
  auto imp = import_pytorch(dir() / "vgg11_pruned.pth", o);
  ASSERT_TRUE(imp.model->spec().input_norm.has_value());
  const fs::path ck = dir() / "vgg_none.ckpt";
  msprune::train::save_checkpoint(ck, imp.model, nullptr, {{"command", "import"}});
  auto back = msprune::train::load_checkpoint(ck);
  ASSERT_TRUE(back.model->spec().input_norm.has_value());
  EXPECT_EQ(*back.model->spec().input_norm, msprune::models::InputNorm{});  // mean 0, std 1
  // The rule eval / finetune / export use.
  auto n = msprune::exporter::input_normalization(back.model->spec());
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(n.mean[c], 0.f);
    EXPECT_EQ(n.std[c], 1.f);
  }
  // ... and what the .msm carries.
  const auto bytes = msprune::exporter::export_msm(*back.model);
  msprune::exporter::HostedModel h(bytes);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(h.model().input_mean()[c], 0.f);
    EXPECT_EQ(h.model().input_std()[c], 1.f);
  }
  // The default records Network Slimming's CIFAR-10 statistics.
  auto def = import_pytorch(dir() / "vgg11_pruned.pth", opts(Arch::kVgg));
  EXPECT_FLOAT_EQ(def.model->spec().input_norm->mean[0], 0.4914f);
  EXPECT_FLOAT_EQ(def.model->spec().input_norm->std[2], 0.2010f);
  // A spec without the field (every checkpoint from before) keeps the dataset's.
  auto j = def.model->spec().to_json();
  j.erase("input_norm");
  auto old = msprune::models::ModelSpec::from_json(j);
  EXPECT_FALSE(old.input_norm.has_value());
  EXPECT_FLOAT_EQ(msprune::exporter::input_normalization(old).mean[1], 0.4822f);
}

TEST(PytorchImport, CliImportPruneExportEval) {
  NEED_FILES();
  const fs::path ck = dir() / "res.ckpt", none = dir() / "res_none.ckpt", pr = dir() / "res_pruned.ckpt",
                 msm = dir() / "res.msm", data = dir() / "tiny";
  auto r = run_msprune("import --from pytorch " + (dir() / "preresnet20_train.pth").string() +
                       " --arch preresnet --out " + ck.string() + " --threads 1");
  ASSERT_EQ(r.rc, 0) << r.out;
  std::printf("%s", r.out.c_str());
  // The checkpoint gives Python's logits too.
  auto loaded = msprune::train::load_checkpoint(ck);
  const double d = max_diff(loaded.model, "preresnet20_train");
  std::printf("[parity] through msprune import + load_checkpoint: max |diff| = %.3g\n", d);
  EXPECT_LE(d, 1e-4);
  r = run_msprune("prune --model " + ck.string() + " --out " + pr.string() + " --quiet --threads 1");
  ASSERT_EQ(r.rc, 0) << r.out;
  r = run_msprune("export --model " + pr.string() + " --out " + msm.string() + " --threads 1");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("top-1 agree 8/8"), std::string::npos) << r.out;
  std::printf("%s", r.out.c_str());

  // eval normalises with the recorded statistics: compare with a direct evaluation.
  r = run_msprune("import --from pytorch " + (dir() / "preresnet20_train.pth").string() +
                  " --arch preresnet --normalize none --out " + none.string() + " --threads 1");
  ASSERT_EQ(r.rc, 0) << r.out;
  msprune::testing::write_tiny_cifar(data, 200, true);
  auto test = msprune::data::load_cifar(data.string(), false);
  for (const auto& [file, norm] : {std::pair{ck, msprune::interop::ns_cifar10_norm()},
                                   std::pair{none, msprune::models::InputNorm{}}}) {
    msprune::data::Normalization dn{{norm.mean[0], norm.mean[1], norm.mean[2]}, {norm.std[0], norm.std[1], norm.std[2]}};
    msprune::data::BatchPipeline pipe(test, torch::kCPU, dn);
    const double want = msprune::train::evaluate(loaded.model, pipe);
    r = run_msprune("eval --model " + file.string() + " --data " + data.string() + " --json --threads 1");
    ASSERT_EQ(r.rc, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    std::printf("[eval] %s: accuracy %.3f (direct %.3f)\n", file.filename().c_str(), j["accuracy"].get<double>(), want);
    EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), want) << file;
  }
  // The two normalisations do feed the network different inputs.
  msprune::data::BatchPipeline a(test, torch::kCPU), b(test, torch::kCPU, msprune::data::Normalization{{0, 0, 0}, {1, 1, 1}});
  EXPECT_GT((a.eval_batch(0, 8).first - b.eval_batch(0, 8).first).abs().max().item<double>(), 0.1);

  // Errors through the CLI: one line, non-zero.
  r = run_msprune("import --from pytorch " + (dir() / "err_shape.pth").string() + " --arch preresnet --out " +
                  (dir() / "x.ckpt").string());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_EQ(r.out.rfind("msprune: error: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("has shape [17], expected [16]"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir() / "x.ckpt"));
  r = run_msprune("--help");
  EXPECT_NE(r.out.find("import"), std::string::npos) << r.out;
}
