// msprune: the front end (commands.h). The commands that never touch a
// checkpoint run here, in a program without LibTorch, so they start in
// milliseconds; every other command line goes, unchanged, to msprune-torch
// next to this program (execv: the same process, stdin, stdout and stderr,
// and its exit status is ours). Which is which is decided from the command
// line alone, before parsing: the command name, and for `bench` whether --tee
// is given (without it, bench loads a checkpoint). `msprune --help` and a
// mistyped command also go to msprune-torch, which knows every command.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "cli/commands.h"

namespace {

char** g_argv = nullptr;

[[noreturn]] void hand_over_to_torch_half() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path torch = (ec ? std::filesystem::path(".") : self.parent_path()) / "msprune-torch";
  ::execv(torch.c_str(), g_argv);
  std::fprintf(stderr, "msprune: error: this command needs LibTorch, and %s cannot be run: %s\n", torch.c_str(),
               std::strerror(errno));
  std::exit(1);
}

// `app` holds the commands that need no LibTorch (add_torch_free_commands).
bool runs_here(const CLI::App& app, int argc, char** argv) {
  if (argc < 2) return false;
  const std::string_view cmd = argv[1];
  if (app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(argv[1]); }).empty()) return false;
  if (cmd != "bench") return true;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--tee" || a.substr(0, 6) == "--tee=") return true;
  }
  return false;
}

}  // namespace

namespace msprune::cli {
void run_native_bench_command(const NativeBenchArgs&) { hand_over_to_torch_half(); }
}  // namespace msprune::cli

int main(int argc, char** argv) {
  g_argv = argv;
  CLI::App app{msprune::cli::kCliDescription};
  msprune::cli::add_torch_free_commands(app);
  if (!runs_here(app, argc, argv)) hand_over_to_torch_half();
  return msprune::cli::run_cli(app, argc, argv);
}
