// msprune-torch: every msprune command, linked with LibTorch. Users run the
// front, `msprune` (front.cpp), which hands over to this program the command
// lines that need LibTorch; commands.h explains the split.
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{msprune::cli::kCliDescription};
  using namespace msprune::cli;
  add_version_command(app);
  add_data_commands(app);
  add_train_command(app);
  add_eval_command(app);
  add_prune_command(app);
  add_export_command(app);
  add_keygen_command(app);
  add_seal_command(app);
  add_attest_command(app);
  add_verify_report_command(app);
  add_infer_command(app);
  add_bench_command(app);
  add_meanshift_command(app);
  add_inspect_command(app);
  add_pipeline_command(app);
  return run_cli(app, argc, argv);
}
