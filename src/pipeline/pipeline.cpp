#include "pipeline/pipeline.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

#include "data/cifar.h"
#include "prune/fit_epc.h"
#include "runtime/runtime.h"
#include "train/checkpoint.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/plot.h"
#include "util/table.h"

extern char** environ;

namespace msprune::pipeline {
namespace fs = std::filesystem;
using json = nlohmann::json;

// ---------------------------------------------------------------------------
// Presets

json Preset::to_json() const {
  return {{"name", name},           {"depth", depth},
          {"width", width},         {"train_subset", train_subset},
          {"test_subset", test_subset}, {"epochs", epochs},
          {"finetune_epochs", finetune_epochs}, {"lr", lr},
          {"finetune_lr", finetune_lr}, {"sparsity", sparsity},
          {"sparsity_warmup", sparsity_warmup}, {"policy", policy},
          {"schedule", schedule},   {"bench_runs", bench_runs},
          {"tee_runs", tee_runs},   {"description", description}};
}

Preset make_preset(const std::string& name, models::Arch arch, std::optional<int> depth, std::optional<double> width) {
  using models::Arch;
  Preset p;
  p.name = name;
  // The paper's sparsity: 1e-4 for VGG, 1e-5 for ResNet/DenseNet.
  p.sparsity = arch == Arch::kVgg ? 1e-4 : 1e-5;
  if (name == "quick") {
    // A few minutes on a 2-core CPU: a narrow network, 8,000 training images,
    // and a 10x stronger sparsity penalty so that a short run already splits
    // the BN scales into clusters (the paper's s needs its 160 epochs).
    p.depth = arch == Arch::kVgg ? 16 : arch == Arch::kPreResNet ? 20 : 16;
    p.width = arch == Arch::kVgg ? 0.25 : 0.5;
    p.train_subset = 8000;
    p.test_subset = 1000;
    p.epochs = 6;
    p.finetune_epochs = 2;
    p.finetune_lr = 0.01;
    p.sparsity *= 10;
    p.schedule = "step";
    p.bench_runs = 30;
    p.tee_runs = 10;
    p.description = "smoke run: a narrow network, 8,000 training images, 6 + 2 epochs, 10x the paper's sparsity; "
                    "accuracy is low by design";
  } else if (name == "cpu") {
    // About an hour per network at one thread on this 2-core machine (so two
    // networks can train side by side), the full data set, a cosine schedule.
    // Measured at --threads 1 on the idle machine (bench/train/allocator_ab.sh,
    // with msprune's malloc settings): VGG-16 x0.25 about 900 img/s,
    // PreResNet-20 x0.5 about 640, DenseNet-16 x0.5 about 430 (its many
    // small concats and BNs are slow in LibTorch on a CPU), hence fewer epochs
    // for DenseNet. PreResNet-56 x0.5 and DenseNet-40 run 3-7x slower.
    p.depth = arch == Arch::kVgg ? 16 : arch == Arch::kPreResNet ? 20 : 16;
    p.width = arch == Arch::kVgg ? 0.25 : 0.5;
    // The sparsity strength, chosen per family from whole-length runs of this
    // preset (docs/results.md, "Choosing each family's strength"):
    // * VGG-16 x0.25: s = 1e-3 (10x the paper's). The paper's 1e-4 leaves
    //   |gamma| un-collapsed in 30 epochs (mean shift cut 11% of the
    //   channels, 6.9% of the MACs); 1e-3 let it cut 56% of the channels and
    //   52.5% of the MACs at +0.6 pt after fine-tuning, the base 2.4 pt below
    //   1e-4's.
    // * PreResNet-20 x0.5: s = 1e-4 (10x the paper's). At 30 epochs: 1e-5
    //   79.85% base, mean shift cut 14.8% of the MACs; 1e-4 79.70%, 19.9%
    //   (fine-tuned -0.17 pt); 3e-4 77.17%, 22.7%; 1e-3 66.09%, 45.2%. The
    //   stronger penalties cost the base far more accuracy than they buy:
    //   the residual trunk cannot be pruned, so MACs fall slowly.
    // * DenseNet-16 x0.5: s = 1e-4 (10x the paper's). At 20 epochs: 1e-5
    //   78.42% base, mean shift cut 15.0% of the MACs; 1e-4 78.80%, 16.6%,
    //   78.78% before fine-tuning (the cut channels' |gamma| had collapsed).
    //   1e-3 was measured at 5 epochs only (base 64.1% against 1e-4's 69.3%).
    const double paper_s = p.sparsity;  // set above: the paper's value for this family
    p.sparsity = arch == Arch::kVgg ? 1e-3 : 1e-4;
    p.epochs = arch == Arch::kDenseNet ? 20 : 30;
    p.finetune_epochs = arch == Arch::kDenseNet ? 6 : 10;
    p.finetune_lr = 0.01;
    p.schedule = "cosine";
    p.bench_runs = 100;
    p.tee_runs = 30;
    {
      auto sci = [](double v) {  // 0.001 -> "1e-3"
        const int e = int(std::floor(std::log10(v) + 1e-9));
        return strf("%ge%d", v / std::pow(10.0, e), e);
      };
      p.description = strf("full CIFAR-10, shortened schedule (%d + %d + %d epochs, cosine), sparsity %s (%gx the "
                           "paper's %s), a narrow network",
                           p.epochs, p.finetune_epochs, p.finetune_epochs, sci(p.sparsity).c_str(),
                           std::round(p.sparsity / paper_s), sci(paper_s).c_str());
    }
  } else if (name == "paper") {
    // The paper's recipe (Network Slimming's): 160 epochs of sparsity training,
    // 160 of fine-tuning, lr 0.1 divided by 10 at 50% and 75%. Meant for a GPU.
    p.depth = arch == Arch::kVgg ? 16 : arch == Arch::kPreResNet ? 164 : 40;
    p.width = 1.0;
    p.epochs = 160;
    p.finetune_epochs = 160;
    p.finetune_lr = 0.1;
    p.schedule = "step";
    p.bench_runs = 100;
    p.tee_runs = 30;
    p.description = "the paper's recipe: full networks, 160 + 160 epochs (for a GPU)";
  } else {
    throw Error("unknown preset '" + name + "' (expected quick, cpu or paper)");
  }
  if (depth) p.depth = *depth;
  if (width) p.width = *width;
  models::default_spec(arch, p.depth, p.width);  // validates depth and width
  return p;
}

std::vector<double> parse_ratio_list(const std::string& s) {
  std::vector<double> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(item.c_str(), &end);
    if (item.empty() || end == item.c_str() || *end != '\0' || errno != 0 || !(v > 0 && v < 1))
      throw Error("--curve: '" + item + "' is not a ratio in (0, 1) (expected e.g. 0.2,0.4,0.6)");
    for (double w : out)
      if (w == v) throw Error("--curve: ratio " + item + " is given twice");
    out.push_back(v);
  }
  if (out.empty()) throw Error("--curve: give at least one ratio (e.g. 0.2,0.4,0.6)");
  if (out.size() > 20) throw Error("--curve: at most 20 ratios, got " + std::to_string(out.size()));
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------
// Steps

namespace {

using Clock = std::chrono::steady_clock;

// Runs `exe args...` with stdout sent to `log` (appended or truncated); stderr
// (progress bars) stays on ours. Returns the exit status, or 128 + signal.
int spawn(const fs::path& exe, const std::vector<std::string>& args, const fs::path& log, bool append) {
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) throw Error("cannot open " + log.string() + ": " + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fd, 1);
  std::vector<std::string> all{exe.string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fd);
  if (rc != 0) throw Error("cannot start " + exe.string() + ": " + std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error("waitpid failed");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

// The last line of a file that parses as a JSON object (commands print one
// object, training prints one per epoch then a summary).
std::optional<json> last_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::string line;
  std::optional<json> last;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    try {
      auto j = json::parse(line);
      if (j.is_object()) last = j;
    } catch (const json::exception&) {
    }
  }
  return last;
}

std::vector<json> all_json(const fs::path& p) {
  std::vector<json> v;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    try {
      v.push_back(json::parse(line));
    } catch (const json::exception&) {
    }
  }
  return v;
}

json read_json_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw Error(p.string() + ": missing");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(p.string() + ": not valid JSON");
  }
}

bool checkpoint_ok(const fs::path& p, int want_epochs) {
  try {
    auto ck = train::load_checkpoint(p);
    if (want_epochs > 0) return ck.meta.value("state", json::object()).value("epoch", 0) >= want_epochs;
    return true;
  } catch (const Error&) {
    return false;
  }
}

bool msm_ok(const fs::path& p) {
  try {
    auto bytes = read_file_bytes(p);
    std::unique_ptr<void, decltype(&std::free)> buf(std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64 + 64),
                                                    &std::free);
    if (!buf) return false;
    std::memcpy(buf.get(), bytes.data(), bytes.size());
    rt::Model m;
    return m.load(buf.get(), bytes.size(), {}, nullptr) == rt::Status::kOk;
  } catch (const Error&) {
    return false;
  }
}

bool nonempty_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && fs::file_size(p, ec) > 0;
}

fs::file_time_type mtime(const fs::path& p) {
  std::error_code ec;
  auto t = fs::last_write_time(p, ec);
  return ec ? fs::file_time_type::min() : t;
}

struct Step {
  std::string name;
  std::vector<std::string> args;      // msprune arguments
  std::vector<fs::path> outputs;      // must all exist, be valid and newer than inputs
  std::vector<fs::path> inputs;
  std::function<bool()> valid;        // output validity (beyond existence)
  bool append_log = false;            // train/finetune resume inside a run: keep the log
  std::function<std::vector<std::string>()> late_args = {};  // appended when the step runs
};

class Runner {
 public:
  Runner(const Options& o, fs::path exe, fs::path logs) : opt_(o), exe_(std::move(exe)), logs_(std::move(logs)) {}

  void add(Step s) { steps_.push_back(std::move(s)); }

  json run() {
    json record = json::array();
    for (size_t i = 0; i < steps_.size(); ++i) {
      const Step& s = steps_[i];
      fs::path log = logs_ / (s.name + ".log");
      std::string tag = strf("[%zu/%zu] %s", i + 1, steps_.size(), s.name.c_str());
      if (up_to_date(s)) {
        std::fprintf(stderr, "%s: up to date, skipped\n", tag.c_str());
        record.push_back({{"step", s.name}, {"status", "skipped"}, {"seconds", 0.0}, {"log", log.string()}});
        continue;
      }
      std::vector<std::string> args = s.args;
      if (s.late_args) {
        auto more = s.late_args();
        args.insert(args.end(), more.begin(), more.end());
      }
      std::fprintf(stderr, "%s: running  msprune %s\n", tag.c_str(), join(args).c_str());
      std::fflush(stderr);
      auto t0 = Clock::now();
      int rc = spawn(exe_, args, log, s.append_log);
      double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      if (rc != 0)
        throw Error("pipeline step '" + s.name + "' failed (exit status " + std::to_string(rc) + "); its output is in " +
                    log.string() + "; fix the cause and re-run with --resume");
      for (const auto& o : s.outputs)
        if (!nonempty_file(o)) throw Error("pipeline step '" + s.name + "' did not write " + o.string());
      if (s.valid && !s.valid()) throw Error("pipeline step '" + s.name + "' wrote an output that does not verify");
      std::fprintf(stderr, "%s: done in %s\n", tag.c_str(), format_secs(secs).c_str());
      record.push_back({{"step", s.name}, {"status", "ran"}, {"seconds", secs}, {"log", log.string()}});
    }
    return record;
  }

 private:
  bool up_to_date(const Step& s) const {
    if (!opt_.resume) return false;
    fs::file_time_type newest_in = fs::file_time_type::min();
    for (const auto& in : s.inputs) newest_in = std::max(newest_in, mtime(in));
    for (const auto& o : s.outputs)
      if (!nonempty_file(o) || mtime(o) < newest_in) return false;
    return !s.valid || s.valid();
  }
  static std::string join(const std::vector<std::string>& a) {
    std::string s;
    for (const auto& x : a) {
      if (!s.empty()) s += ' ';
      s += x;
    }
    return s;
  }
  static std::string format_secs(double s) { return s < 60 ? strf("%.1fs", s) : strf("%dm%02ds", int(s) / 60, int(s) % 60); }

  const Options& opt_;
  fs::path exe_, logs_;
  std::vector<Step> steps_;
};

std::string num(double v) { return strf("%.12g", v); }

// EPC sizes for the sweep, in MiB: SGX1's usable 93.5; one between the
// pruned (mean-shift) model and the base, so that only the pruned one fits;
// and half the base, where neither fits; with --fit-epc, its size too. Sizes
// are the .msm files (weights + metadata; the enclave adds its arena).
std::string epc_sweep(const fs::path& base_msm, const fs::path& pruned_msm, double extra_mib) {
  std::error_code ec;
  double b = double(fs::file_size(base_msm, ec)) / (1024.0 * 1024.0);
  if (ec) return "93.5";
  double q = double(fs::file_size(pruned_msm, ec)) / (1024.0 * 1024.0);
  auto round1 = [](double v) { return std::max(0.5, std::round(v * 10) / 10); };
  std::vector<double> sizes = {93.5};
  if (!ec && q < 0.9 * b) sizes.push_back(round1(0.5 * (b + q)));
  sizes.push_back(round1(0.5 * (ec ? b : std::min(b, q))));
  if (extra_mib > 0) sizes.push_back(std::ceil(extra_mib * 1000) / 1000);  // --fit-epc's size (never below it)
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  std::string s;
  for (double v : sizes) {
    if (!s.empty()) s += ',';
    s += strf("%g", v);
  }
  return s;
}

// Accuracy after fine-tuning against the share of MACs (or parameters)
// removed: Network Slimming's points as a line, every other method as its
// own marker, the base as a flat line.
PlotSpec curve_plot(const json& cj, const std::string& axis) {
  PlotSpec ps;
  ps.title = "accuracy vs " + std::string(axis == "macs" ? "MACs" : "parameters") + " removed: " +
             cj.value("network", std::string());
  ps.xlabel = (axis == "macs" ? "MACs removed (%)" : "parameters removed (%)");
  ps.ylabel = "test accuracy after fine-tuning (%)";
  const int ft_epochs = cj.value("finetune_epochs", 0);
  ps.note = strf("every pruned point fine-tuned %d epoch%s at lr %g; %d test images", ft_epochs, ft_epochs == 1 ? "" : "s",
                 cj.value("finetune_lr", 0.0), cj.value("test_records", 0));
  std::vector<std::pair<double, double>> sl;
  std::map<std::string, PlotSeries> others;
  double xmax = 0;
  for (const auto& pt : cj["points"]) {
    double x = 100 * pt.value(axis + "_removed", -1.0), y = 100 * pt.value("accuracy", -1.0);
    if (x < 0 || y < 0) continue;
    xmax = std::max(xmax, x);
    const std::string m = pt.value("method", "");
    if (m == "slimming") {
      sl.push_back({x, y});
    } else {
      auto& s = others[m];
      s.title = m == "meanshift" ? "mean shift (automatic)" : m == "random" ? "random channels (mean shift's counts)"
                                                                             : "mean shift, authors' VGG groups";
      s.style = "points";
      s.x.push_back(x);
      s.y.push_back(y);
    }
  }
  std::sort(sl.begin(), sl.end());
  PlotSeries s{"Network Slimming (global |gamma| order)", {}, {}, "linespoints"};
  for (auto [x, y] : sl) {
    s.x.push_back(x);
    s.y.push_back(y);
  }
  if (!s.x.empty()) ps.series.push_back(s);
  for (auto& [k, v] : others) ps.series.push_back(v);
  double base = 100 * cj.value("base", json::object()).value("accuracy", -1.0);
  if (base >= 0) ps.series.push_back({"base (not pruned)", {0, std::max(1.0, xmax)}, {base, base}, "lines"});
  return ps;
}

}  // namespace

// ---------------------------------------------------------------------------

json run_pipeline(const Options& opt) {
  Preset p = make_preset(opt.preset, opt.arch, opt.depth, opt.width);
  // Overrides are applied, and said in the description, so that the report's
  // first line never describes a recipe the run did not follow.
  std::vector<std::string> overridden;
  auto count = [](int64_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
  if (opt.epochs) {
    p.epochs = *opt.epochs;
    overridden.push_back(count(p.epochs, "training epoch"));
  }
  if (opt.finetune_epochs) {
    p.finetune_epochs = *opt.finetune_epochs;
    overridden.push_back(count(p.finetune_epochs, "fine-tuning epoch"));
  }
  if (opt.sparsity) {
    if (!std::isfinite(*opt.sparsity) || *opt.sparsity < 0 || *opt.sparsity > 1)
      throw Error("--sparsity must be a number in [0, 1], got " + num(*opt.sparsity));
    p.sparsity = *opt.sparsity;
    overridden.push_back("s = " + num(p.sparsity));
  }
  if (opt.train_subset) {
    p.train_subset = *opt.train_subset;
    overridden.push_back(p.train_subset < 0 ? "all training images" : count(p.train_subset, "training image"));
  }
  if (opt.test_subset) {
    p.test_subset = *opt.test_subset;
    overridden.push_back(p.test_subset < 0 ? "all test images" : count(p.test_subset, "test image"));
  }
  if (!overridden.empty()) {
    std::string list;
    for (const auto& o : overridden) list += (list.empty() ? "" : ", ") + o;
    p.description += "; overridden on the command line: " + list;
  }
  if (p.epochs < 1 || p.finetune_epochs < 1) throw Error("epochs must be at least 1");
  if (opt.out.empty()) throw Error("--out is required");
  if (opt.nproc < 1 || opt.nproc > 64 || 64 % opt.nproc != 0)
    throw Error("--nproc must divide the recipe's batch of 64 (1, 2, 4, 8, 16, 32 or 64), got " +
                std::to_string(opt.nproc));
  // A wrong data folder is reported before anything is created or trained.
  data::detect_layout(opt.data);
  const fs::path out = opt.out;
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) throw Error(out.string() + " exists and is not a folder");
  if (!opt.resume && fs::exists(out, ec) && !fs::is_empty(out, ec))
    throw Error(out.string() + " already holds a pipeline run; add --resume to continue it, or choose another --out");
  const fs::path logs = out / "logs", plots = out / "plots";
  fs::create_directories(logs);
  fs::create_directories(plots);
  // Steps run through the front, `msprune` next to this program (msprune-torch),
  // so those that need no LibTorch start without loading it (src/cli/commands.h).
  fs::path exe = opt.msprune;
  if (exe.empty()) {
    const fs::path self = fs::read_symlink("/proc/self/exe");
    exe = fs::is_regular_file(self.parent_path() / "msprune") ? self.parent_path() / "msprune" : self;
  }

  const std::string arch = models::arch_name(opt.arch);
  const std::string th = std::to_string(opt.threads);
  // Data-parallel training steps: N processes share the threads and the
  // recipe's global batch of 64 (see Options::nproc).
  std::vector<std::string> dp_args;
  std::string train_th = th;
  if (opt.nproc > 1) {
    dp_args = {"--nproc", std::to_string(opt.nproc), "--batch-size", std::to_string(64 / opt.nproc)};
    if (opt.sync_bn) dp_args.push_back("--sync-bn");
    train_th = std::to_string(std::max(1, opt.threads / opt.nproc));
  }
  auto with_dp = [&](std::vector<std::string> a) {
    a.insert(a.end(), dp_args.begin(), dp_args.end());
    return a;
  };
  auto subset = [&](std::vector<std::string> a, bool train_too) {
    if (train_too && p.train_subset >= 0) a.insert(a.end(), {"--train-subset", std::to_string(p.train_subset)});
    if (p.test_subset >= 0) a.insert(a.end(), {"--test-subset", std::to_string(p.test_subset)});
    return a;
  };
  const fs::path base = out / "base.ckpt";
  const fs::path ms_pruned = out / "meanshift-pruned.ckpt", ms_final = out / "meanshift.ckpt";
  const fs::path sl_pruned = out / "slimming-pruned.ckpt", sl_final = out / "slimming.ckpt";
  const fs::path ms_report = out / "prune-meanshift.json", sl_report = out / "prune-slimming.json";
  const fs::path key = opt.platform_key.empty() ? out / "platform.key" : fs::path(opt.platform_key);

  Runner r(opt, exe, logs);
  r.add({"train",
         with_dp(subset({"train", "--arch", arch, "--depth", std::to_string(p.depth), "--width", num(p.width), "--epochs",
                 std::to_string(p.epochs), "--lr", num(p.lr), "--schedule", p.schedule, "--sparsity", num(p.sparsity),
                 "--sparsity-warmup", std::to_string(p.sparsity_warmup), "--data", opt.data, "--out", base.string(), "--threads", train_th, "--device", opt.device, "--json",
                 "--resume"},
                true)),
         {base}, {}, [&] { return checkpoint_ok(base, p.epochs); }, true});
  auto eval_step = [&](const std::string& name, const fs::path& ck) {
    fs::path log = logs / (name + ".log");
    r.add({name,
           subset({"eval", "--model", ck.string(), "--data", opt.data, "--threads", th, "--device", opt.device, "--json"},
                  false),
           {log}, {ck}, [log] { return last_json(log).has_value(); }});
  };
  auto finetune_step = [&](const std::string& name, const fs::path& in, const fs::path& ck) {
    r.add({name,
           with_dp(subset({"finetune", "--model", in.string(), "--epochs", std::to_string(p.finetune_epochs), "--lr",
                           num(p.finetune_lr), "--schedule", p.schedule, "--data", opt.data, "--out", ck.string(),
                           "--threads", train_th, "--device", opt.device, "--json", "--resume"},
                          true)),
           {ck}, {in}, [&, ck] { return checkpoint_ok(ck, p.finetune_epochs); }, true});
  };
  eval_step("eval-base", base);
  r.add({"prune-meanshift",
         [&] {
           std::vector<std::string> a = {"prune", "--model", base.string(), "--method", "meanshift", "--policy",
                                         p.policy, "--out", ms_pruned.string(), "--report", ms_report.string(),
                                         "--plots", (plots / "meanshift").string(), "--quiet"};
           if (!opt.fit_epc.empty()) a.insert(a.end(), {"--fit-epc", opt.fit_epc});
           return a;
         }(),
         {ms_pruned, ms_report}, {base}, [&] { return checkpoint_ok(ms_pruned, 0); }});
  eval_step("eval-meanshift-pruned", ms_pruned);
  finetune_step("finetune-meanshift", ms_pruned, ms_final);
  eval_step("eval-meanshift", ms_final);
  r.add({"prune-slimming",
         {"prune", "--model", base.string(), "--method", "slimming", "--match", ms_report.string(), "--out",
          sl_pruned.string(), "--report", sl_report.string(), "--plots", (plots / "slimming").string(), "--quiet"},
         {sl_pruned, sl_report}, {base, ms_report}, [&] { return checkpoint_ok(sl_pruned, 0); }});
  eval_step("eval-slimming-pruned", sl_pruned);
  finetune_step("finetune-slimming", sl_pruned, sl_final);
  eval_step("eval-slimming", sl_final);

  struct Final {
    std::string tag;
    fs::path ckpt;
  };
  const std::vector<Final> finals = {{"base", base}, {"meanshift", ms_final}, {"slimming", sl_final}};
  for (const auto& f : finals) {
    fs::path msm = out / (f.tag + ".msm");
    r.add({"export-" + f.tag,
           {"export", "--model", f.ckpt.string(), "--out", msm.string(), "--threads", "1", "--json"},
           {msm},
           {f.ckpt},
           [msm] { return msm_ok(msm); }});
  }
  for (const auto& f : finals) {
    fs::path msm = out / (f.tag + ".msm"), log = logs / ("infer-" + f.tag + ".log");
    std::vector<std::string> a = {"infer", "--model", msm.string(), "--data", opt.data, "--threads", "1", "--json"};
    if (p.test_subset >= 0) a.insert(a.end(), {"--limit", std::to_string(p.test_subset)});
    r.add({"infer-" + f.tag, a, {log}, {msm}, [log] { return last_json(log).has_value(); }});
  }
  if (opt.platform_key.empty())
    r.add({"keygen", {"keygen", "--out", key.string()}, {key}, {}, {}});
  std::vector<std::string> enclave_arg;
  if (!opt.enclave.empty()) enclave_arg = {"--enclave", opt.enclave};
  for (const auto& f : finals) {
    fs::path msm = out / (f.tag + ".msm"), sealed = out / (f.tag + ".sealed");
    std::vector<std::string> a = {"seal", "--model", msm.string(), "--out", sealed.string(), "--platform-key",
                                  key.string(), "--json"};
    a.insert(a.end(), enclave_arg.begin(), enclave_arg.end());
    r.add({"seal-" + f.tag, a, {sealed}, {msm, key}, {}});
  }
  for (const auto& f : finals) {
    fs::path log = logs / ("bench-native-" + f.tag + ".log");
    r.add({"bench-native-" + f.tag,
           {"bench", "--model", f.ckpt.string(), "--threads", "1", "--runs", std::to_string(p.bench_runs), "--json"},
           {log},
           {f.ckpt},
           [log] { return last_json(log).has_value(); }});
  }
  // Accuracy inside the enclave, for the mean-shift model.
  {
    fs::path log = logs / "infer-enclave-meanshift.log";
    std::vector<std::string> a = {"infer", "--model", (out / "meanshift.sealed").string(), "--tee", "emu",
                                  "--platform-key", key.string(), "--data", opt.data, "--threads", "1", "--json"};
    if (p.test_subset >= 0) a.insert(a.end(), {"--limit", std::to_string(p.test_subset)});
    a.insert(a.end(), enclave_arg.begin(), enclave_arg.end());
    r.add({"infer-enclave-meanshift", a, {log}, {out / "meanshift.sealed"}, [log] { return last_json(log).has_value(); }});
  }
  // The EPC sweep (sizes known once the models are exported).
  const fs::path tee_log = logs / "bench-enclave.log", tee_plot = plots / "enclave-latency.png";
  {
    std::string models;
    for (const auto& f : finals) {
      if (!models.empty()) models += ',';
      models += (out / (f.tag + ".sealed")).string();
    }
    Step s{"bench-enclave",
           {"bench", "--tee", "emu", "--model", models, "--platform-key", key.string(), "--runs",
            std::to_string(p.tee_runs), "--json", "--plot", tee_plot.string()},
           {tee_log},
           {out / "base.sealed", out / "meanshift.sealed", out / "slimming.sealed"},
           [&] { return last_json(tee_log).has_value(); }};
    s.args.insert(s.args.end(), enclave_arg.begin(), enclave_arg.end());
    s.late_args = [&] {
      const double fit_mib = opt.fit_epc.empty() ? 0.0 : double(prune::parse_size(opt.fit_epc)) / (1024.0 * 1024.0);
      return std::vector<std::string>{"--epc-mib", epc_sweep(out / "base.msm", out / "meanshift.msm", fit_mib)};
    };
    r.add(std::move(s));
  }

  // The accuracy-vs-size curve: more pruned points, each fine-tuned and
  // evaluated like mean shift's (same epochs, learning rate and data).
  struct CurvePoint {
    std::string key, method, label;
    double ratio = -1;  // slimming's target ratio, else -1
    fs::path pruned, final_ck, report;
  };
  std::vector<CurvePoint> curve;
  if (!opt.curve.empty()) {
    fs::create_directories(out / "curve");
    auto point = [&](const std::string& key, const std::string& method, const std::string& label, double ratio) {
      curve.push_back({key, method, label, ratio, out / "curve" / (key + "-pruned.ckpt"), out / "curve" / (key + ".ckpt"),
                       out / "curve" / ("prune-" + key + ".json")});
    };
    for (double ratio : opt.curve) point(strf("slimming-%g", ratio), "slimming", strf("Network Slimming %g", ratio), ratio);
    point("random", "random", "random channels, mean shift's per-layer counts", -1);
    if (opt.arch == models::Arch::kVgg && p.depth == 16)
      point("authors", "meanshift", "mean shift, the authors' VGG groups (BN 0-2, 3-5, 6-8, 9-12)", -1);
    for (const auto& c : curve) {
      std::vector<std::string> a = {"prune", "--model", base.string(), "--out", c.pruned.string(), "--report",
                                    c.report.string(), "--quiet"};
      std::vector<fs::path> ins = {base};
      if (c.method == "slimming") {
        a.insert(a.end(), {"--method", "slimming", "--target-ratio", num(c.ratio)});
      } else if (c.method == "random") {
        a.insert(a.end(), {"--method", "random", "--match", ms_report.string(), "--seed", "1"});
        ins.push_back(ms_report);
      } else {
        a.insert(a.end(), {"--method", "meanshift", "--scope", "authors", "--quantile", "0.1", "--policy", "min-centre"});
      }
      const fs::path pruned = c.pruned;
      r.add({"prune-curve-" + c.key, a, {c.pruned, c.report}, ins, [pruned] { return checkpoint_ok(pruned, 0); }});
      eval_step("eval-curve-" + c.key + "-pruned", c.pruned);
      finetune_step("finetune-curve-" + c.key, c.pruned, c.final_ck);
      eval_step("eval-curve-" + c.key, c.final_ck);
    }
  }

  json settings = {{"arch", arch},
                   {"depth", p.depth},
                   {"width", p.width},
                   {"preset", p.to_json()},
                   {"data", opt.data},
                   {"threads", opt.threads},
                   {"device", opt.device},
                   {"processes", opt.nproc},
                   {"sync_bn", opt.nproc > 1 && opt.sync_bn},
                   {"platform_key", key.string()}};
  json steps = r.run();

  // -------------------------------------------------------------------------
  // Collect the report from the logs.
  json rep = {{"format", "msprune-pipeline-report"}, {"version", 1}, {"name", out.filename().string()},
              {"out", out.string()}, {"settings", settings}, {"steps", steps}};
  auto eval_of = [&](const std::string& step) { return last_json(logs / (step + ".log")).value_or(json::object()); };
  auto train_log = all_json(logs / "train.log");
  json train = {{"epochs", json::array()}};
  for (const auto& j : train_log) {
    if (j.contains("summary")) train["summary"] = j;
    else if (j.contains("epoch")) train["epochs"].push_back(j);
  }
  rep["training"] = train;
  json models_j = json::object();
  auto add_model = [&](const std::string& key_name, const std::string& eval_step, const fs::path& ck, const char* label) {
    json e = eval_of(eval_step);
    models_j[key_name] = {{"label", label},
                          {"checkpoint", ck.string()},
                          {"accuracy", e.value("accuracy", -1.0)},
                          {"test_records", e.value("test_records", 0)},
                          {"params", e.value("params", 0)},
                          {"macs", e.value("macs", 0)},
                          {"name", e.value("name", "")}};
  };
  add_model("base", "eval-base", base, "base (sparsity-trained)");
  add_model("meanshift_pruned", "eval-meanshift-pruned", ms_pruned, "mean shift, pruned, before fine-tuning");
  add_model("meanshift", "eval-meanshift", ms_final, "mean shift, fine-tuned");
  add_model("slimming_pruned", "eval-slimming-pruned", sl_pruned, "Network Slimming at the same ratio, before fine-tuning");
  add_model("slimming", "eval-slimming", sl_final, "Network Slimming at the same ratio, fine-tuned");
  for (const auto& f : finals) {
    json ex = last_json(logs / ("export-" + f.tag + ".log")).value_or(json::object());
    json in = last_json(logs / ("infer-" + f.tag + ".log")).value_or(json::object());
    json bn = last_json(logs / ("bench-native-" + f.tag + ".log")).value_or(json::object());
    auto& m = models_j[f.tag];
    m["msm"] = (out / (f.tag + ".msm")).string();
    m["sealed"] = (out / (f.tag + ".sealed")).string();
    m["weights_bytes"] = ex.value("msm", json::object()).value("weights_bytes", 0);
    m["arena_bytes"] = ex.value("msm", json::object()).value("arena_bytes", 0);
    m["runtime_accuracy"] = in.value("accuracy", -1.0);
    m["native"] = {{"runtime_ms", bn.value("latency_ms", json::object()).value("runtime", json::object())},
                   {"libtorch_ms", bn.value("latency_ms", json::object()).value("torch", json::object())},
                   {"speedup_p50", bn.value("speedup_p50", 0.0)},
                   {"blas", bn.value("blas", "")},
                   {"max_abs_logit_diff", bn.value("parity", json::object()).value("max_abs_diff", -1.0)}};
  }
  rep["models"] = models_j;
  try {
    json msr = read_json_file(ms_report), slr = read_json_file(sl_report);
    rep["prune"] = {{"meanshift", {{"rule", msr.value("rule", "")},
                                   {"totals", msr.value("totals", json::object())},
                                   {"floor_acted", msr.value("floor_acted", json::array())},
                                   {"groups", msr.value("groups", json::array())},
                                   {"layers", msr.value("layers", json::array())},
                                   {"fit_epc", msr.value("fit_epc", json())}}},
                    {"slimming", {{"rule", slr.value("rule", "")}, {"totals", slr.value("totals", json::object())}}}};
  } catch (const Error&) {
  }
  if (!curve.empty()) {
    // Every point on the same axes: the base, mean shift's own choice,
    // Network Slimming at its count (the main run), then the curve's points.
    auto channels_of = [&](const fs::path& report) {
      try {
        return read_json_file(report).value("totals", json::object()).value("channels", json::object());
      } catch (const Error&) {
        return json::object();
      }
    };
    const json& bm = models_j["base"];
    const double bp = bm.value("params", 0.0), bmac = bm.value("macs", 0.0);
    auto make = [&](const std::string& key, const std::string& method, const std::string& label, double ratio,
                    const std::string& pruned_step, const std::string& final_step, const fs::path& report) {
      json pe = eval_of(pruned_step), fe = eval_of(final_step);
      double pa = fe.value("params", 0.0), ma = fe.value("macs", 0.0);
      json ch = channels_of(report);
      return json{{"key", key},
                  {"method", method},
                  {"label", label},
                  {"target_ratio", ratio},
                  {"channels_removed", ch.value("pruned_ratio", -1.0)},
                  {"channels_pruned", ch.value("pruned", int64_t(-1))},
                  {"params", pa},
                  {"macs", ma},
                  {"params_removed", bp > 0 && pa > 0 ? 1 - pa / bp : -1.0},
                  {"macs_removed", bmac > 0 && ma > 0 ? 1 - ma / bmac : -1.0},
                  {"accuracy_pruned", pe.value("accuracy", -1.0)},
                  {"accuracy", fe.value("accuracy", -1.0)}};
    };
    json pts = json::array();
    pts.push_back(make("meanshift", "meanshift", "mean shift (automatic)", -1, "eval-meanshift-pruned", "eval-meanshift",
                       ms_report));
    pts.push_back(make("slimming-matched", "slimming", "Network Slimming at mean shift's count", -1,
                       "eval-slimming-pruned", "eval-slimming", sl_report));
    for (const auto& c : curve)
      pts.push_back(make(c.key, c.method == "meanshift" ? "authors" : c.method, c.label, c.ratio,
                         "eval-curve-" + c.key + "-pruned", "eval-curve-" + c.key, c.report));
    json cj = {{"format", "msprune-curve"},
               {"version", 1},
               {"name", out.filename().string()},
               {"network", bm.value("name", "")},
               {"finetune_epochs", p.finetune_epochs},
               {"finetune_lr", p.finetune_lr},
               {"test_records", bm.value("test_records", 0)},
               {"base", {{"accuracy", bm.value("accuracy", -1.0)}, {"params", bp}, {"macs", bmac}}},
               {"points", pts}};
    atomic_write_bytes(out / "curve.json", cj.dump(2) + "\n");
    for (const char* axis : {"macs", "params"}) {
      std::string why;
      if (!render_plot(curve_plot(cj, axis), plots / strf("curve-%s.png", axis), &why))
        std::fprintf(stderr, "pipeline: warning: curve plot not drawn: %s\n", why.c_str());
    }
    rep["curve"] = cj;
  }
  rep["enclave"] = last_json(tee_log).value_or(json::object());
  rep["enclave_accuracy"] = last_json(logs / "infer-enclave-meanshift.log").value_or(json::object());
  // Plots, relative to OUT.
  json pics = json::array();
  if (fs::exists(plots))
    for (const auto& e : fs::recursive_directory_iterator(plots))
      if (e.path().extension() == ".png" || e.path().extension() == ".svg")
        pics.push_back(fs::relative(e.path(), out).string());
  std::vector<std::string> sorted = pics.get<std::vector<std::string>>();
  std::sort(sorted.begin(), sorted.end());
  rep["plots"] = sorted;

  atomic_write_bytes(out / "report.json", rep.dump(2) + "\n");
  atomic_write_bytes(out / "report.md", render_report_md(rep));
  return rep;
}

}  // namespace msprune::pipeline
