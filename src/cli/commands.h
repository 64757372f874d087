#pragma once
// The `msprune` command: each subcommand lives in its own cmd_*.cpp and
// registers itself on the top-level CLI::App. Failures are reported by
// throwing msprune::Error; main() prints "msprune: error: <what>" and exits 1.
#include <CLI/CLI.hpp>
#include <string>

namespace msprune::cli {

// Registration functions (one per cmd_*.cpp).
void add_version_command(CLI::App& app);
void add_data_commands(CLI::App& app);
void add_train_command(CLI::App& app);  // also `finetune`
void add_eval_command(CLI::App& app);
void add_prune_command(CLI::App& app);  // cmd_prune.cpp (issue 4)
void add_export_command(CLI::App& app);  // cmd_export.cpp
void add_keygen_command(CLI::App& app);         // cmd_seal.cpp
void add_seal_command(CLI::App& app);           // cmd_seal.cpp
void add_attest_command(CLI::App& app);         // cmd_attest.cpp
void add_verify_report_command(CLI::App& app);  // cmd_attest.cpp
void add_infer_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_meanshift_command(CLI::App& app);  // cmd_meanshift.cpp (issue 3)
void add_inspect_command(CLI::App& app);    // cmd_inspect.cpp
void add_pipeline_command(CLI::App& app);   // cmd_pipeline.cpp (issue 7)

// --- shared option helpers -------------------------------------------------
// Number of hardware threads (at least 1).
int hardware_threads();
// Adds `--threads T` (default: all cores) to a subcommand.
CLI::Option* add_threads_option(CLI::App* sub, int* threads);
// The CIFAR folder: --data DIR, else $MSPRUNE_DATA, else data/cifar10.
std::string resolve_data_dir(const std::string& flag_value);
// Adds `--data DIR` (see resolve_data_dir).
CLI::Option* add_data_option(CLI::App* sub, std::string* dir);

}  // namespace msprune::cli
