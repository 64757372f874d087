#pragma once
// The `msprune` command: each subcommand lives in its own cmd_*.cpp and
// registers itself on the top-level CLI::App. Failures are reported by
// throwing msprune::Error; run_cli() prints "msprune: error: <what>" and
// returns 1.
//
// Two executables, so that commands which never touch a checkpoint start
// without loading LibTorch (which takes a second or more; docs/startup.md):
//   msprune        front.cpp: runs the commands that need no LibTorch itself
//                  (add_torch_free_commands) and hands every other command
//                  line, unchanged, to
//   msprune-torch  main.cpp: every command (linked with LibTorch).
// Users and scripts run msprune only; the front decides from the command line
// alone, before parsing it.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
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
void add_import_command(CLI::App& app);     // cmd_import.cpp (issue 15: PyTorch checkpoints in)
// The commands that need no LibTorch, all of which the front runs itself:
// version, keygen, seal, attest, verify-report, infer, bench (--tee only),
// meanshift, inspect (common.cpp).
void add_torch_free_commands(CLI::App& app);

// `bench --model CKPT` without --tee: LibTorch against the runtime. Each
// executable defines it: msprune-torch runs the benchmark
// (cmd_bench_native.cpp); the front hands the command line to msprune-torch
// (front.cpp; it does so before parsing already, so this is a safety net).
struct NativeBenchArgs {
  std::string model, out;
  int runs = 0, warmup = -1;  // 0 / -1: the benchmark's defaults
  int batch = 1, threads = 1, block = 10, inputs = 8;
  uint64_t seed = 1;
  bool layers = false, json = false;
  std::string ort = "auto";  // ONNX Runtime as a third side: auto | on | off
};
void run_native_bench_command(const NativeBenchArgs& a);

// Parses and runs `app`: exit status 0, or 1 after "msprune: error: ..." on
// stderr (CLI11's own status for usage errors).
int run_cli(CLI::App& app, int argc, char** argv);
// The top-level description both executables show.
inline constexpr const char* kCliDescription = "msprune: mean-shift network pruning for TEE inference";

// --- shared option helpers -------------------------------------------------
// Number of hardware threads (at least 1).
int hardware_threads();
// Adds `--threads T` (default: all cores) to a subcommand.
CLI::Option* add_threads_option(CLI::App* sub, int* threads);
// The CIFAR folder: --data DIR, else $MSPRUNE_DATA, else data/cifar10.
std::string resolve_data_dir(const std::string& flag_value);
// Adds `--data DIR` (see resolve_data_dir).
CLI::Option* add_data_option(CLI::App* sub, std::string* dir);
// Writes `j` to `out` (if not empty), then prints it (json) or `text`.
void emit_result(const nlohmann::json& j, const std::string& text, const std::string& out, bool json);

}  // namespace msprune::cli
