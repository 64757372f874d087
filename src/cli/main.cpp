// msprune-torch: every msprune command, linked with LibTorch. Users run the
// front, `msprune` (front.cpp), which hands over to this program the command
// lines that need LibTorch; commands.h explains the split.
#include "cli/commands.h"
#include "util/allocator.h"

int main(int argc, char** argv) {
  // Before any tensor: freed tensor memory stays in the process (util/allocator.h).
  msprune::tune_allocator();
  CLI::App app{msprune::cli::kCliDescription};
  using namespace msprune::cli;
  add_torch_free_commands(app);  // the front's commands (common.cpp)
  add_data_commands(app);
  add_train_command(app);
  add_eval_command(app);
  add_prune_command(app);
  add_export_command(app);
  add_pipeline_command(app);
  add_import_command(app);
  return run_cli(app, argc, argv);
}
