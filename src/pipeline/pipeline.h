#pragma once
// `msprune pipeline`: one command from data to enclave. Runs, as separate
// `msprune` subcommands (each step's stdout kept under OUT/logs/):
//
//   train (sparsity) -> eval -> prune (mean shift) -> eval -> finetune -> eval
//   -> prune (Network Slimming at mean shift's ratio) -> eval -> finetune -> eval
//   -> export x3 -> infer x3 (runtime accuracy) -> keygen -> seal x3
//   -> bench (LibTorch vs runtime) x3 -> bench --tee emu (EPC sweep)
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

#include "models/spec.h"

namespace msprune::pipeline {

struct Preset {
  std::string name;
  int depth = 16;
  double width = 1.0;
  int64_t train_subset = -1, test_subset = -1;  // -1: the whole split
  int epochs = 160, finetune_epochs = 160;
  double lr = 0.1, finetune_lr = 0.1, sparsity = 1e-4;
  std::string schedule = "step";
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
  std::optional<int64_t> train_subset, test_subset;  // override the preset (-1: all)
  std::string data;                // CIFAR folder (resolved by the caller)
  std::filesystem::path out;       // runs/NAME
  bool resume = false;
  int threads = 1;
  std::string device = "auto";
  std::string platform_key;        // default: OUT/platform.key (created)
  std::string enclave;             // default: msprune-enclave next to msprune
  std::filesystem::path msprune;   // the msprune binary (default: this process)
};

// Runs every step; returns the report (also written to OUT/report.json and
// OUT/report.md). Throws msprune::Error naming the failed step and its log.
nlohmann::json run_pipeline(const Options& opt);

// Renders the Markdown report from report.json's content.
std::string render_report_md(const nlohmann::json& report);

}  // namespace msprune::pipeline
