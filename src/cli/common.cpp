#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "util/atomic_file.h"

namespace msprune::cli {

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
}

CLI::Option* add_threads_option(CLI::App* sub, int* threads) {
  *threads = hardware_threads();
  return sub->add_option("--threads", *threads, "Threads for compute (default: all cores)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
}

std::string resolve_data_dir(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("MSPRUNE_DATA"); env && *env) return env;
  return "data/cifar10";
}

CLI::Option* add_data_option(CLI::App* sub, std::string* dir) {
  return sub->add_option("--data", *dir, "CIFAR folder (default: $MSPRUNE_DATA, else data/cifar10)");
}

void emit_result(const nlohmann::json& j, const std::string& text, const std::string& out, bool json) {
  if (!out.empty()) atomic_write_bytes(out, j.dump(2) + "\n");
  if (json) std::printf("%s\n", j.dump().c_str());
  else std::printf("%s", text.c_str());
}

void add_torch_free_commands(CLI::App& app) {
  add_version_command(app);
  add_keygen_command(app);
  add_seal_command(app);
  add_attest_command(app);
  add_verify_report_command(app);
  add_infer_command(app);
  add_bench_command(app);
  add_meanshift_command(app);
  add_inspect_command(app);
}

int run_cli(CLI::App& app, int argc, char** argv) {
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "msprune: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace msprune::cli
