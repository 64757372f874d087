// msprune: mean-shift channel pruning for CNNs served inside a TEE.
#include <cstdio>
#include <exception>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"msprune: mean-shift network pruning for TEE inference"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

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
