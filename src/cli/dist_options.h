#pragma once
// The data-parallel options of `train`, `finetune` (and `--nproc` of
// `pipeline`): one machine with `--nproc N`, or several with torchrun's
// rendezvous (`--master-addr`, `--master-port`, `--rank`, `--world-size`, or
// the MASTER_ADDR/MASTER_PORT/RANK/WORLD_SIZE variables). Implemented in
// common.cpp.
#include <CLI/CLI.hpp>
#include <string>

#include "train/distributed.h"

namespace msprune::cli {

struct DistCli {
  std::string nproc, master_addr, master_port, rank, world_size, timeout_s;
  std::string backend = "auto";
  bool freeze_bn = false;
  bool sync_bn = false;
};

// Adds the options above (and --freeze-bn, --sync-bn) to a subcommand.
void add_dist_options(CLI::App* sub, DistCli* d);

// What a command should do with them.
struct DistPlan {
  int nproc = 1;               // > 1: launch this many local workers and wait
  train::DistConfig cfg;       // cfg.distributed(): this process is one rank
};

// Merges the flags over the environment and checks them; every bad value is
// an msprune::Error naming the option or variable.
DistPlan resolve_dist(const DistCli& d);

}  // namespace msprune::cli
