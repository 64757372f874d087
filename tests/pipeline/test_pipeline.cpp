// `msprune pipeline` end to end on a tiny VGG and a small CIFAR-10 subset:
// every step's output loads, the report has its fields, a finished run is
// skipped on --resume, a damaged output is redone, and an existing run is
// not clobbered without --resume. Also `msprune inspect`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "pipeline/pipeline.h"
#include "runtime/runtime.h"
#include "train/checkpoint.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct CmdResult {
  int rc;
  std::string out, err;
};

// A scratch folder of this process: CTest runs this binary's tests side by
// side, and two test runs on one machine must not share run folders either.
fs::path scratch(const std::string& name) {
  return fs::temp_directory_path() / (name + "." + std::to_string(::getpid()));
}

CmdResult run(const std::string& args) {
  fs::path dir = scratch("msprune_pipeline_test_io");
  fs::create_directories(dir);
  std::string cmd = std::string(MSPRUNE_BIN) + " " + args + " >" + (dir / "out").string() + " 2>" + (dir / "err").string();
  int rc = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  return CmdResult{WIFEXITED(rc) ? WEXITSTATUS(rc) : 255, slurp(dir / "out"), slurp(dir / "err")};
}

bool msm_loads(const fs::path& p) {
  auto bytes = msprune::read_file_bytes(p);
  std::unique_ptr<void, decltype(&std::free)> buf(std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64 + 64), &std::free);
  std::memcpy(buf.get(), bytes.data(), bytes.size());
  msprune::rt::Model m;
  return m.load(buf.get(), bytes.size(), {}, nullptr) == msprune::rt::Status::kOk;
}

const char* data_dir() { return std::getenv("MSPRUNE_DATA"); }

}  // namespace

TEST(Pipeline, TinyVggEndToEndThenResume) {
  if (!data_dir()) GTEST_SKIP() << "MSPRUNE_DATA not set";
  fs::path out = scratch("msprune_pipeline_e2e");
  fs::remove_all(out);
  // --sparsity 1e-3 is the quick preset's own VGG value: an override that
  // changes nothing but the report's description.
  std::string base = std::string("pipeline --arch vgg --depth 11 --width 0.125 --preset quick --epochs 2 ") +
                     "--finetune-epochs 1 --sparsity 1e-3 --train-subset 512 --test-subset 256 --threads 1 --data " + data_dir() +
                     " --out " + out.string();
  CmdResult r = run(base + " --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  json rep = json::parse(r.out);

  // Every step's output exists and loads.
  for (const char* ck : {"base.ckpt", "meanshift-pruned.ckpt", "meanshift.ckpt", "slimming-pruned.ckpt", "slimming.ckpt"})
    EXPECT_NO_THROW(msprune::train::load_checkpoint(out / ck)) << ck;
  EXPECT_EQ(msprune::train::load_checkpoint(out / "base.ckpt").meta["state"]["epoch"], 2);
  for (const char* m : {"base.msm", "meanshift.msm", "slimming.msm"}) EXPECT_TRUE(msm_loads(out / m)) << m;
  for (const char* s : {"base.sealed", "meanshift.sealed", "slimming.sealed", "platform.key", "report.md",
                        "report.json", "prune-meanshift.json", "prune-slimming.json"})
    EXPECT_TRUE(fs::exists(out / s)) << s;

  // The report's fields.
  EXPECT_EQ(rep["format"], "msprune-pipeline-report");
  for (const char* k : {"base", "meanshift_pruned", "meanshift", "slimming_pruned", "slimming"}) {
    ASSERT_TRUE(rep["models"].contains(k)) << k;
    double acc = rep["models"][k]["accuracy"].get<double>();
    EXPECT_GE(acc, 0.0) << k;
    EXPECT_LE(acc, 1.0) << k;
    EXPECT_GT(rep["models"][k]["params"].get<int64_t>(), 0) << k;
  }
  // Slimming ran at mean shift's channel count.
  EXPECT_EQ(rep["prune"]["meanshift"]["totals"]["channels"]["pruned"],
            rep["prune"]["slimming"]["totals"]["channels"]["pruned"]);
  EXPECT_LE(rep["models"]["meanshift"]["params"].get<int64_t>(), rep["models"]["base"]["params"].get<int64_t>());
  for (const char* k : {"base", "meanshift", "slimming"}) {
    // The runtime gives the same test accuracy as LibTorch (same images).
    EXPECT_NEAR(rep["models"][k]["runtime_accuracy"].get<double>(), rep["models"][k]["accuracy"].get<double>(), 0.01) << k;
    EXPECT_GT(rep["models"][k]["native"]["runtime_ms"]["p50"].get<double>(), 0.0) << k;
    EXPECT_GT(rep["models"][k]["native"]["libtorch_ms"]["p50"].get<double>(), 0.0) << k;
  }
  ASSERT_TRUE(rep["enclave"].contains("cells"));
  // 3 models x (93.5 MiB, half the smallest, and between pruned and base if they differ by 10%).
  EXPECT_GE(rep["enclave"]["cells"].size(), 3u * 2u);
  EXPECT_LE(rep["enclave"]["cells"].size(), 3u * 3u);
  EXPECT_NEAR(rep["enclave_accuracy"]["accuracy"].get<double>(), rep["models"]["meanshift"]["accuracy"].get<double>(),
              0.01);
  EXPECT_GE(rep["training"]["epochs"].size(), 2u);
  EXPECT_DOUBLE_EQ(rep["settings"]["preset"]["sparsity"].get<double>(), 1e-3);
  // The description says what the command line changed.
  EXPECT_NE(rep["settings"]["preset"]["description"].get<std::string>().find(
                "overridden on the command line: 2 training epochs, 1 fine-tuning epoch, s = 0.001, 512 training "
                "images, 256 test images"),
            std::string::npos)
      << rep["settings"]["preset"]["description"];
  std::ifstream md(out / "report.md");
  std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("## Accuracy and size"), std::string::npos);
  EXPECT_NE(text.find("EMULATED"), std::string::npos);
  EXPECT_NE(text.find("plots/enclave-latency.png"), std::string::npos);
  // The process count is stated (this run: one process).
  EXPECT_EQ(rep["settings"]["processes"], 1);
  EXPECT_NE(text.find("Training and fine-tuning: one process."), std::string::npos);

  // docs/results.md's table is made from such reports by tools/results_table.py.
  if (fs::exists("/usr/bin/python3")) {
    fs::path table = out / "table.md";
    std::string cmd = std::string("/usr/bin/python3 ") + MSPRUNE_SOURCE_DIR + "/tools/results_table.py " +
                      (out / "report.json").string() + " > " + table.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream tin(table);
    std::string t((std::istreambuf_iterator<char>(tin)), std::istreambuf_iterator<char>());
    EXPECT_NE(t.find("| base |"), std::string::npos) << t;
    EXPECT_NE(t.find("| mean shift + FT |"), std::string::npos) << t;
    EXPECT_NE(t.find("| Network Slimming, same ratio, + FT |"), std::string::npos) << t;
    EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 5) << t;  // header, rule, three rows
    fs::remove(table);
  }

  // An existing run is not clobbered.
  r = run(base);
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("add --resume"), std::string::npos) << r.err;

  // Resume: everything is up to date.
  r = run(base + " --resume --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  json again = json::parse(r.out);
  for (const auto& s : again["steps"]) EXPECT_EQ(s["status"], "skipped") << s["step"];

  // A damaged export is redone, with what depends on it; training is not.
  {
    std::ofstream(out / "meanshift.msm", std::ios::trunc) << "damaged";
  }
  r = run(base + " --resume --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  json third = json::parse(r.out);
  std::map<std::string, std::string> status;
  for (const auto& s : third["steps"]) status[s["step"]] = s["status"];
  EXPECT_EQ(status["train"], "skipped");
  EXPECT_EQ(status["finetune-meanshift"], "skipped");
  EXPECT_EQ(status["export-meanshift"], "ran");
  EXPECT_EQ(status["seal-meanshift"], "ran");
  EXPECT_EQ(status["bench-enclave"], "ran");
  EXPECT_EQ(status["export-base"], "skipped");
  EXPECT_TRUE(msm_loads(out / "meanshift.msm"));
  fs::remove_all(out);
}

TEST(Pipeline, CurvePutsEveryMethodOnTheSameAxes) {
  if (!data_dir()) GTEST_SKIP() << "MSPRUNE_DATA not set";
  fs::path out = scratch("msprune_pipeline_curve");
  fs::remove_all(out);
  // VGG-16 (so that the authors' grouping applies), tiny and short.
  CmdResult r = run(std::string("pipeline --arch vgg --depth 16 --width 0.125 --preset quick --epochs 1 ") +
                    "--finetune-epochs 1 --train-subset 256 --test-subset 128 --threads 1 --curve 0.6,0.3 " +
                    "--fit-epc 700KiB --data " + data_dir() + " --out " + out.string() + " --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  json rep = json::parse(r.out);
  ASSERT_TRUE(rep.contains("curve"));
  json cv = json::parse(std::ifstream(out / "curve.json"));
  EXPECT_EQ(cv, rep["curve"]);
  std::map<std::string, json> pts;
  for (const auto& p : cv["points"]) pts[p["key"].get<std::string>()] = p;
  for (const char* k : {"meanshift", "slimming-matched", "slimming-0.3", "slimming-0.6", "random", "authors"}) {
    ASSERT_TRUE(pts.count(k)) << k;
    EXPECT_GE(pts[k]["accuracy"].get<double>(), 0.0) << k;  // fine-tuned and evaluated
    EXPECT_GE(pts[k]["accuracy_pruned"].get<double>(), 0.0) << k;
    EXPECT_GT(pts[k]["macs_removed"].get<double>(), 0.0) << k;
  }
  // Slimming at the asked ratios (exact counts, rounded), in order along the axis.
  EXPECT_NEAR(pts["slimming-0.3"]["channels_removed"].get<double>(), 0.3, 0.01);
  EXPECT_NEAR(pts["slimming-0.6"]["channels_removed"].get<double>(), 0.6, 0.01);
  EXPECT_LT(pts["slimming-0.3"]["params_removed"].get<double>(), pts["slimming-0.6"]["params_removed"].get<double>());
  // The random control has mean shift's architecture exactly, other channels.
  EXPECT_EQ(pts["random"]["params"], pts["meanshift"]["params"]);
  EXPECT_EQ(pts["random"]["macs"], pts["meanshift"]["macs"]);
  EXPECT_EQ(pts["random"]["method"], "random");
  EXPECT_EQ(pts["authors"]["method"], "authors");
  for (const char* f : {"plots/curve-macs.png", "plots/curve-params.png", "curve/random.ckpt", "curve/authors.ckpt"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  // --fit-epc: mean shift's model fits 700 KiB of enclave heap (the base,
  // about 980 KiB, does not); at that EPC the base pages and it does not.
  const json& fit = rep["prune"]["meanshift"]["fit_epc"];
  ASSERT_TRUE(fit.is_object()) << rep["prune"]["meanshift"].dump();
  EXPECT_EQ(fit["requested_bytes"], 700 * 1024);
  EXPECT_LE(fit["reached_bytes"].get<int64_t>(), 700 * 1024);
  EXPECT_GT(fit["base_bytes"].get<int64_t>(), 700 * 1024);
  bool saw_fit_epc = false;
  for (const auto& c : rep["enclave"]["cells"]) {
    if (std::abs(c["epc_mib"].get<double>() - 0.684) > 1e-9 || c["mode"] != "paging") continue;
    saw_fit_epc = true;
    if (c["model"] == "base") {
      EXPECT_GT(c["faults_per_inference"].get<double>(), 0.0);
    } else if (c["model"] == "meanshift") {
      EXPECT_EQ(c["faults_per_inference"].get<double>(), 0.0);
    }
  }
  EXPECT_TRUE(saw_fit_epc) << rep["enclave"].dump();
  std::ifstream md(out / "report.md");
  std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("## Accuracy against size"), std::string::npos);
  EXPECT_NE(text.find("`--fit-epc`"), std::string::npos);
  // Resume: nothing reruns.
  r = run(std::string("pipeline --arch vgg --depth 16 --width 0.125 --preset quick --epochs 1 ") +
          "--finetune-epochs 1 --train-subset 256 --test-subset 128 --threads 1 --curve 0.6,0.3 --fit-epc 700KiB " +
          "--data " + data_dir() + " --out " + out.string() + " --json --resume");
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const auto& s : json::parse(r.out)["steps"]) EXPECT_EQ(s["status"], "skipped") << s["step"];
  fs::remove_all(out);
}

// The cpu preset's strengths were chosen per family from whole-length runs
// (docs/results.md); the paper preset keeps the paper's. The description
// names the value the preset trains with.
TEST(Pipeline, PresetStrengthsPerFamily) {
  using msprune::models::Arch;
  using msprune::pipeline::make_preset;
  EXPECT_DOUBLE_EQ(make_preset("cpu", Arch::kVgg).sparsity, 1e-3);
  EXPECT_DOUBLE_EQ(make_preset("cpu", Arch::kPreResNet).sparsity, 1e-4);
  EXPECT_DOUBLE_EQ(make_preset("cpu", Arch::kDenseNet).sparsity, 1e-4);
  EXPECT_DOUBLE_EQ(make_preset("paper", Arch::kVgg).sparsity, 1e-4);
  EXPECT_DOUBLE_EQ(make_preset("paper", Arch::kPreResNet).sparsity, 1e-5);
  EXPECT_DOUBLE_EQ(make_preset("paper", Arch::kDenseNet).sparsity, 1e-5);
  for (Arch a : {Arch::kVgg, Arch::kPreResNet, Arch::kDenseNet}) {
    auto p = make_preset("cpu", a);
    const double paper = make_preset("paper", a).sparsity;
    char want[96];
    std::snprintf(want, sizeof want, "(%gx the paper's", std::round(p.sparsity / paper));
    EXPECT_NE(p.description.find(want), std::string::npos) << p.description;
  }
  EXPECT_NE(make_preset("cpu", Arch::kPreResNet).description.find("sparsity 1e-4 (10x the paper's 1e-5)"),
            std::string::npos)
      << make_preset("cpu", Arch::kPreResNet).description;
  EXPECT_NE(make_preset("cpu", Arch::kVgg).description.find("(30 + 10 + 10 epochs, cosine), sparsity 1e-3 (10x the "
                                                            "paper's 1e-4)"),
            std::string::npos)
      << make_preset("cpu", Arch::kVgg).description;
}

TEST(Pipeline, BadArgumentsAreRefused) {
  const std::string bad = scratch("msprune_pipeline_bad").string();
  CmdResult r = run("pipeline --arch vgg --preset fast --out " + bad + " --data /nonexistent");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("unknown preset 'fast'"), std::string::npos) << r.err;
  r = run("pipeline --arch vgg --depth 17 --preset quick --out " + bad + " --data /nonexistent");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("depth 17 is not supported"), std::string::npos) << r.err;
  // A missing data folder is named before the run folder is created.
  fs::remove_all(bad);
  r = run("pipeline --arch vgg --preset quick --out " + bad + " --data /nonexistent");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("/nonexistent"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(bad));
  // A bad --sparsity is named before anything is created.
  for (const char* s : {"-1", "2", "nan", "inf", "abc"}) {
    r = run("pipeline --arch vgg --preset quick --out " + bad + " --data /nonexistent --sparsity " + s);
    EXPECT_NE(r.rc, 0) << s;
    EXPECT_NE(r.err.find("--sparsity"), std::string::npos) << s << ": " << r.err;
    EXPECT_FALSE(fs::exists(bad));
  }
  r = run("pipeline --arch vgg --preset quick --out " + bad + " --data /nonexistent --fit-epc 12XB");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("12XB"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(bad));
  // A bad --curve is named before anything is created.
  for (const char* curve : {"0.3,abc", "1.5", "0.2,0.2", "", "0"}) {
    r = run("pipeline --arch vgg --preset quick --out " + bad + " --data /nonexistent --curve '" + curve + "'");
    EXPECT_NE(r.rc, 0) << curve;
    EXPECT_NE(r.err.find("--curve"), std::string::npos) << curve << ": " << r.err;
    EXPECT_FALSE(fs::exists(bad));
  }
}

TEST(Inspect, VerifiesGoodFilesAndNamesTheProblemInBadOnes) {
  fs::path dir = scratch("msprune_inspect_test");
  fs::remove_all(dir);
  fs::create_directories(dir);
  CmdResult r = run("train --arch vgg --depth 11 --width 0.125 --epochs 1 --max-steps 1 --train-subset 16 --test-subset 16 "
              "--threads 1 --quiet --data " + std::string(data_dir() ? data_dir() : "/nonexistent") + " --out " +
              (dir / "m.ckpt").string());
  if (!data_dir()) GTEST_SKIP() << "MSPRUNE_DATA not set";
  ASSERT_EQ(r.rc, 0) << r.err;
  r = run("export --model " + (dir / "m.ckpt").string() + " --out " + (dir / "m.msm").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  r = run("inspect " + (dir / "m.msm").string() + " --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_TRUE(j["valid"].get<bool>());
  EXPECT_EQ(j["layers"].size(), j["ops"].get<size_t>());
  EXPECT_GT(j["arena_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(j["layers"][0]["type"], "conv2d");
  // Truncated: refused, naming the field and the offset.
  auto bytes = msprune::read_file_bytes(dir / "m.msm");
  msprune::atomic_write_bytes(dir / "t.msm", std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size() / 2));
  r = run("inspect " + (dir / "t.msm").string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("invalid model: truncated (byte offset 16)"), std::string::npos) << r.err;
  // A flipped byte in the weights: the content hash catches it.
  bytes[bytes.size() - 100] ^= 0x40;
  msprune::atomic_write_bytes(dir / "f.msm", std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  r = run("inspect " + (dir / "f.msm").string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("invalid model"), std::string::npos) << r.err;
  fs::remove_all(dir);
}
