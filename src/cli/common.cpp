#include <cstdlib>
#include <thread>

#include "cli/commands.h"

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

}  // namespace msprune::cli
