#include <cstdio>

#include "cli/commands.h"

namespace msprune::cli {

void add_version_command(CLI::App& app) {
  auto* sub = app.add_subcommand("version", "Print the msprune version");
  sub->callback([] { std::printf("msprune %s\n", MSPRUNE_VERSION); });
}

}  // namespace msprune::cli
