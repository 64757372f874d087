// The `msprune prune` command end to end on a tiny synthetic checkpoint and a
// tiny synthetic CIFAR folder: the pruned checkpoint loads, evaluates and
// fine-tunes; slimming matches mean shift's count; hostile inputs give a clear
// error and leave existing files alone; --fit-epc against export + inspect.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "run_msprune.h"
#include "tiny_cifar.h"
#include "prune/masks.h"
#include "prune/surgery.h"
#include "prune_test_util.h"
#include "train/checkpoint.h"
#include "util/table.h"

namespace fs = std::filesystem;
using namespace msprune;
using namespace msprune::prune::testing;
using nlohmann::json;

namespace {

using Result = msprune::testing::RunResult;
Result sh(const std::string& args) { return msprune::testing::run_msprune(args); }

json last_json_line(const std::string& s) {
  auto end = s.find_last_not_of('\n');
  auto start = s.rfind('\n', end);
  return json::parse(s.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1)));
}

class PruneCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    torch::set_num_threads(1);
    // One folder per process: CTest runs the tests of this suite in parallel.
    dir_ = fs::temp_directory_path() / ("msprune_prune_cli." + std::to_string(::getpid()));
    fs::remove_all(dir_);
    // A CIFAR-10 folder in the official layout with 16 records per file.
    msprune::testing::write_tiny_cifar(dir_ / "cifar", 16, false);
    // A "sparsity-trained" VGG: random scales, a third of them tiny.
    auto net = random_net(models::Arch::kVgg, 31);
    train::save_checkpoint(dir_ / "base.ckpt", net, nullptr, {{"metrics", {{"test_acc", 0.5}}}});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path p(const std::string& name) { return dir_ / name; }
  static std::string data() { return " --data " + (dir_ / "cifar").string() + " --threads 1 "; }
  static inline fs::path dir_;
};

}  // namespace

TEST_F(PruneCli, MeanShiftThenEvalAndFinetune) {
  auto r = sh("prune --model " + p("base.ckpt").string() + " --out " + p("ms.ckpt").string() + " --report " +
              p("ms.json").string() + " --plots " + p("plots").string() + " --threads 1 --quiet");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("mean shift pruned"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--match " + p("ms.json").string()), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(p("plots") / "kept.png"));
  EXPECT_TRUE(fs::exists(p("plots") / "hist_stage2.png"));

  std::ifstream in(p("ms.json"));
  json rep = json::parse(in);
  EXPECT_EQ(rep["method"], "meanshift");
  EXPECT_EQ(rep["options"]["scope"], "stage");
  int64_t pruned = rep["totals"]["channels"]["pruned"];
  EXPECT_GT(pruned, 0);

  // The checkpoint is a normal one: it loads, is smaller, and carries the summary.
  auto base = train::load_checkpoint(p("base.ckpt"));
  auto ck = train::load_checkpoint(p("ms.ckpt"));
  EXPECT_EQ(ck.model->num_params(), rep["totals"]["params"]["after"].get<int64_t>());
  EXPECT_LT(ck.model->num_params(), base.model->num_params());
  ASSERT_TRUE(ck.meta.contains("prune"));
  EXPECT_EQ(ck.meta["prune"]["totals"], rep["totals"]);
  EXPECT_EQ(ck.meta["prune"]["source_metrics"]["test_acc"], 0.5);

  // Its outputs are those of the base with the pruned channels zeroed.
  prune::Masks masks = prune::keep_all(prune::collect_gammas(base.model));
  auto base_bns = base.model->batchnorms();
  for (size_t i = 0; i < base_bns.size(); ++i) {
    const auto& l = rep["layers"][i];
    auto g = base_bns[i].bn->weight.abs();
    for (int64_t c = 0; c < g.size(0); ++c) masks[i][size_t(c)] = g[c].item<float>() > l["threshold"].get<double>();
  }
  auto masked = clone_net(base.model);
  prune::zero_pruned_channels(masked, masks);
  auto x = torch::randn({2, 3, 32, 32});
  EXPECT_LT((run(ck.model, x) - run(masked, x)).abs().max().item<double>(), 1e-5);

  auto e = sh("eval --model " + p("ms.ckpt").string() + data() + "--json");
  ASSERT_EQ(e.rc, 0) << e.out;
  auto ej = last_json_line(e.out);
  EXPECT_EQ(ej["params"].get<int64_t>(), ck.model->num_params());
  EXPECT_EQ(ej["test_records"].get<int64_t>(), 16);

  auto f = sh("finetune --model " + p("ms.ckpt").string() + " --out " + p("ft.ckpt").string() + data() +
              "--epochs 1 --batch-size 8 --quiet --json");
  ASSERT_EQ(f.rc, 0) << f.out;
  auto ft = train::load_checkpoint(p("ft.ckpt"));
  EXPECT_EQ(ft.model->spec().to_json(), ck.model->spec().to_json());
  EXPECT_EQ(ft.meta["prune"]["totals"], rep["totals"]);
  // Fine-tuning changed the weights (it trained).
  EXPECT_FALSE(torch::equal(ft.model->named_parameters()["conv0.weight"], ck.model->named_parameters()["conv0.weight"]));

  // Network Slimming at exactly the count mean shift chose, and at a ratio.
  auto s = sh("prune --model " + p("base.ckpt").string() + " --method slimming --match " + p("ms.json").string() +
              " --out " + p("sl.ckpt").string() + " --json --threads 1");
  ASSERT_EQ(s.rc, 0) << s.out;
  auto sj = last_json_line(s.out);
  EXPECT_EQ(sj["totals"]["channels"]["pruned"].get<int64_t>(), pruned);
  EXPECT_EQ(sj["options"]["match"], p("ms.json").string());
  auto t = sh("prune --model " + p("base.ckpt").string() + " --method slimming --percent 0.5 --out " +
              p("sl2.ckpt").string() + " --threads 1");
  ASSERT_EQ(t.rc, 0) << t.out;
  EXPECT_NE(t.out.find("Network Slimming: global threshold"), std::string::npos) << t.out;

  // Pruning the pruned checkpoint again works (composes).
  auto again = sh("prune --model " + p("ms.ckpt").string() + " --method slimming --target-ratio 0.2 --out " +
                  p("ms2.ckpt").string() + " --json --threads 1");
  ASSERT_EQ(again.rc, 0) << again.out;
  EXPECT_LT(train::load_checkpoint(p("ms2.ckpt")).model->num_params(), ck.model->num_params());
}

TEST_F(PruneCli, HostileInputsGiveClearErrors) {
  auto before = fs::file_size(p("base.ckpt"));
  auto expect_error = [](const Result& r, const std::string& needle) {
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("msprune: error:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
  };
  std::string base = " --model " + p("base.ckpt").string();
  expect_error(sh("prune" + base + " --out " + p("base.ckpt").string()), "is the input checkpoint");
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --report " + p("base.ckpt").string()),
               "also the input");
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --percent 0.5"), "for --method slimming");
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --method slimming"), "exactly one of");
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --method slimming --percent 70"), "in [0, 1)");
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --method slimming --percent -0.5"), "in [0, 1)");
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --method slimming --percent 0.5 --policy valley"),
               "for --method meanshift");
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --quantile -0.5"), "quantile must be in (0, 1]");
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --min-keep abc"), "--min-keep");
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --scope global"), "--scope");
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --policy lowest"), "unknown threshold policy");
  {
    std::ofstream o(p("garbage.json"));
    o << "{not json";
  }
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --method slimming --match " + p("garbage.json").string()),
               "not valid JSON");
  {
    std::ofstream o(p("other.json"));
    o << R"({"format":"msprune-prune-report","version":1,"model":{"spec":{"arch":"vgg","depth":16,"width":1.0,"num_classes":10,)"
      << R"("cfg":[64,64,-1,128,128,-1,256,256,256,-1,512,512,512,-1,512,512,512]}},"totals":{"channels":{"before":1,"pruned":1}}})";
  }
  expect_error(sh("prune" + base + " --out " + p("x.ckpt").string() + " --method slimming --match " + p("other.json").string()),
               "was made for vgg16");
  // A truncated checkpoint.
  {
    std::ifstream in(p("base.ckpt"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream o(p("trunc.ckpt"), std::ios::binary);
    o << bytes.substr(0, bytes.size() / 2);
  }
  expect_error(sh("prune --model " + p("trunc.ckpt").string() + " --out " + p("x.ckpt").string()), "trunc.ckpt");
  EXPECT_FALSE(fs::exists(p("x.ckpt")));
  EXPECT_EQ(fs::file_size(p("base.ckpt")), before);
}

// --fit-epc end to end: the least pruning that fits, the report's figures
// against `export` + `inspect` on the written checkpoint, and refusals that
// write nothing.
TEST_F(PruneCli, FitEpcFitsAndInspectAgrees) {
  std::string base = "prune --model " + p("base.ckpt").string() + " --threads 1 --quiet";
  // One byte: refused, naming the size asked for and the smallest reachable; nothing written.
  auto tiny = sh(base + " --out " + p("fit-none.ckpt").string() + " --report " + p("fit-none.json").string() +
                 " --fit-epc 1");
  EXPECT_EQ(tiny.rc, 1) << tiny.out;
  EXPECT_NE(tiny.out.find("msprune: error: --fit-epc 1 B (1 bytes): no admissible pruning fits"), std::string::npos)
      << tiny.out;
  auto bytes_after = [&](const std::string& text) {
    auto at = tiny.out.find(text);
    EXPECT_NE(at, std::string::npos) << tiny.out;
    if (at == std::string::npos) return uint64_t(0);
    auto open = tiny.out.find('(', at), close = tiny.out.find(" bytes)", at);
    return uint64_t(std::stoull(tiny.out.substr(open + 1, close - open - 1)));
  };
  const uint64_t smallest = bytes_after("smallest enclave heap reachable is ");
  const uint64_t base_bytes = bytes_after("the unpruned model needs ");
  ASSERT_LT(smallest, base_bytes);
  EXPECT_FALSE(fs::exists(p("fit-none.ckpt")));
  EXPECT_FALSE(fs::exists(p("fit-none.json")));

  // In between, as a human would type it (KiB, with a fraction): fits, and
  // `export` + `inspect` on the written checkpoint agree with the report.
  const double kib = double((smallest + base_bytes) / 2) / 1024.0;
  char size[64];
  std::snprintf(size, sizeof size, "%.3fKiB", kib);
  auto mid = sh(base + " --out " + p("fit.ckpt").string() + " --report " + p("fit.json").string() + " --json --fit-epc " +
                size);
  ASSERT_EQ(mid.rc, 0) << mid.out;
  auto rep = last_json_line(mid.out);
  ASSERT_TRUE(rep.contains("fit_epc")) << mid.out;
  const auto& f = rep["fit_epc"];
  EXPECT_NEAR(double(f["requested_bytes"].get<uint64_t>()), kib * 1024, 1.0);
  const uint64_t reached = f["reached_bytes"].get<uint64_t>();
  EXPECT_LE(reached, f["requested_bytes"].get<uint64_t>());
  EXPECT_EQ(f["base_bytes"].get<uint64_t>(), base_bytes);
  EXPECT_EQ(f["candidates"][0]["step"], "mean shift (min-centre)");  // mean shift's own choice first
  EXPECT_EQ(f["candidates"][0]["level"], 0);
  bool chosen_listed = false;
  for (const auto& c : f["candidates"]) chosen_listed |= c["step"] == f["chosen"] && c["heap_bytes"] == f["reached_bytes"];
  EXPECT_TRUE(chosen_listed) << f.dump();
  EXPECT_EQ(rep["method"], f["method"]);
  auto ck = train::load_checkpoint(p("fit.ckpt"));
  EXPECT_EQ(ck.meta["prune"]["fit_epc"]["reached_bytes"], f["reached_bytes"]);
  EXPECT_EQ(ck.model->num_params(), rep["totals"]["params"]["after"].get<int64_t>());

  auto ex = sh("export --model " + p("fit.ckpt").string() + " --out " + p("fit.msm").string() + " --threads 1 --json");
  ASSERT_EQ(ex.rc, 0) << ex.out;
  EXPECT_EQ(last_json_line(ex.out)["msm"]["enclave_heap_bytes"].get<uint64_t>(), reached);
  auto ins = sh("inspect " + p("fit.msm").string() + " --json");
  ASSERT_EQ(ins.rc, 0) << ins.out;
  auto ij = last_json_line(ins.out);
  EXPECT_EQ(ij["enclave_heap_bytes"].get<uint64_t>(), reached);
  EXPECT_EQ(ij["enclave_heap_bytes"].get<uint64_t>(),
            (ij["file_bytes"].get<uint64_t>() + 63) / 64 * 64 + ij["arena_bytes"].get<uint64_t>());
  auto ih = sh("inspect " + p("fit.msm").string());
  ASSERT_EQ(ih.rc, 0) << ih.out;
  EXPECT_NE(ih.out.find("enclave heap " + human_bytes(double(reached)) + " (" + std::to_string(reached) + " bytes"),
            std::string::npos)
      << ih.out;

  // --method slimming searches Network Slimming's order directly; the human text.
  auto sl = sh(base + " --method slimming --out " + p("fit-sl.ckpt").string() + " --report " + p("fit-sl.json").string() +
               " --fit-epc " + std::to_string(reached));
  ASSERT_EQ(sl.rc, 0) << sl.out;
  EXPECT_NE(sl.out.find("fit to enclave memory"), std::string::npos) << sl.out;
  EXPECT_NE(sl.out.find("  requested  " + human_bytes(double(reached))), std::string::npos) << sl.out;
  EXPECT_NE(sl.out.find("slimming pruned "), std::string::npos) << sl.out;
  std::ifstream in(p("fit-sl.json"));
  json sj = json::parse(in);
  EXPECT_EQ(sj["method"], "slimming");
  EXPECT_LE(sj["fit_epc"]["reached_bytes"].get<uint64_t>(), reached);
  EXPECT_EQ(sj["fit_epc"]["chosen"].get<std::string>().rfind("slimming, ", 0), 0u) << sj["fit_epc"].dump();

  // Refusals (the parser's cases are unit tests).
  auto expect_error = [](const Result& r, const std::string& needle) {
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("msprune: error:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
  };
  std::string x = base + " --out " + p("fit-x.ckpt").string();
  expect_error(sh(x + " --fit-epc 8XB"), "--fit-epc '8XB': unknown unit");
  expect_error(sh(x + " --percent 0.5 --fit-epc 8MiB"), "cannot be combined");
  expect_error(sh(x + " --method slimming --match " + p("fit.json").string() + " --fit-epc 8MiB"), "cannot be combined");
  EXPECT_FALSE(fs::exists(p("fit-x.ckpt")));
}
