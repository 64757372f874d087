#pragma once
// `msprune pipeline`: one command from data to enclave. Runs, as separate
// `msprune` subcommands (each step's stdout kept under OUT/logs/):
//
//   train (sparsity) -> eval -> prune (mean shift) -> eval -> finetune -> eval
//   -> prune (Network Slimming at mean shift's ratio) -> eval -> finetune -> eval
//   -> export x3 -> infer x3 (runtime accuracy) -> keygen -> seal x3
//   -> bench (LibTorch vs runtime) x3 -> bench --tee emu (EPC sweep)
//   [--curve: prune/finetune/eval per extra point -> curve.json + plots]
//   -> report.md + report.json
//
// A step is skipped when its outputs exist, are valid (checkpoints load,
// .msm files verify, logs parse) and are newer than its inputs, so an
// interrupted pipeline resumes (`--resume`); training and fine-tuning resume
// inside a run from their last epoch.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "models/spec.h"

namespace msprune::pipeline {

struct Preset {
  std::string name;
  int depth = 16;
  double width = 1.0;
  int64_t train_subset = -1, test_subset = -1;  // -1: the whole split
  int epochs = 160, finetune_epochs = 160;
  double lr = 0.1, finetune_lr = 0.1, sparsity = 1e-4;
  int sparsity_warmup = 0;               // epochs over which s ramps up (train --sparsity-warmup)
  std::string schedule = "step";
  std::string policy = "min-centre";     // mean shift's threshold policy (prune --policy)
  int bench_runs = 50, tee_runs = 30;
  std::string description;
  nlohmann::json to_json() const;
};

// quick | cpu | paper, for an architecture; depth/width override the preset's.
Preset make_preset(const std::string& name, models::Arch arch, std::optional<int> depth = {},
                   std::optional<double> width = {});

struct Options {
  models::Arch arch = models::Arch::kVgg;
  std::string preset = "quick";
  std::optional<int> depth;
  std::optional<double> width;
  std::optional<int> epochs, finetune_epochs;  // override the preset
  std::optional<double> sparsity;                // override the preset's s (>= 0, finite, <= 1)
  std::optional<int64_t> train_subset, test_subset;  // override the preset (-1: all)
  std::string data;                // CIFAR folder (resolved by the caller)
  std::filesystem::path out;       // runs/NAME
  bool resume = false;
  int threads = 1;
  std::string device = "auto";
  std::string platform_key;        // default: OUT/platform.key (created)
  std::string enclave;             // default: msprune-enclave next to msprune
  std::filesystem::path msprune;   // the msprune binary (default: this process)
  // The accuracy-vs-size curve (--curve): Network Slimming at each of these
  // channel ratios, a random-channel control at mean shift's per-layer counts
  // and, for VGG-16, the authors' per-group mean shift; every point
  // fine-tuned like mean shift's. Empty: no curve.
  std::vector<double> curve;
  // --fit-epc SIZE: mean shift prunes as little as possible beyond its own
  // choice so that the exported model fits an enclave heap of SIZE (prune
  // --fit-epc); the EPC sweep then includes SIZE. Empty: mean shift's choice.
  std::string fit_epc;
  // --nproc N (> 1): training and fine-tuning run data-parallel in N local
  // processes (`train --nproc N`), each with batch 64 / N so that the global
  // batch, and with it the recipe's learning-rate schedule, stays the paper's
  // 64; N must divide 64. The other steps are single-process as before.
  int nproc = 1;
  // --sync-bn: with nproc > 1, training and fine-tuning use SyncBatchNorm
  // (`train --sync-bn`): BN statistics over the global batch of 64, as one
  // process computes them. No effect with one process.
  bool sync_bn = false;
};

// Parses "0.2,0.3,0.5" (each in (0, 1), at most 20, no repeats); throws
// msprune::Error naming the bad item.
std::vector<double> parse_ratio_list(const std::string& s);

// Runs every step; returns the report (also written to OUT/report.json and
// OUT/report.md). Throws msprune::Error naming the failed step and its log.
nlohmann::json run_pipeline(const Options& opt);

// Renders the Markdown report from report.json's content.
std::string render_report_md(const nlohmann::json& report);

}  // namespace msprune::pipeline
