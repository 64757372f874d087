// The data-parallel options of train, finetune and pipeline (dist_options.h).
// Only in msprune-torch: the front (common.cpp's library) stays free of
// LibTorch, and these reach into train/distributed.h.
#include <chrono>
#include <string>

#include "cli/dist_options.h"
#include "util/error.h"

namespace msprune::cli {

void add_dist_options(CLI::App* sub, DistCli* d) {
  sub->add_option("--nproc", d->nproc,
                  "Data-parallel on this machine: run N worker processes (Gloo on CPU); --batch-size is per process");
  sub->add_option("--master-addr", d->master_addr, "Rendezvous host: rank 0's address (env MASTER_ADDR; default 127.0.0.1)");
  sub->add_option("--master-port", d->master_port, "Rendezvous port (env MASTER_PORT; default 29500, --nproc: a free one)");
  sub->add_option("--rank", d->rank, "This process's rank in a multi-machine run (env RANK)");
  sub->add_option("--world-size", d->world_size, "Number of processes in all (env WORLD_SIZE)");
  sub->add_option("--backend", d->backend, "auto (gloo on CPU, nccl on CUDA), gloo or nccl")->capture_default_str();
  sub->add_option("--dist-timeout", d->timeout_s,
                  "Seconds a rendezvous or collective may wait for the others before failing (default 1800)");
  sub->add_flag("--freeze-bn", d->freeze_bn, "Train with BN in eval mode (running statistics used and kept)");
  sub->add_flag("--sync-bn", d->sync_bn,
                "Data-parallel: SyncBatchNorm, BN statistics over the global batch of all processes (one all-reduce "
                "per BN layer in forward and in backward); no effect with one process");
}

DistPlan resolve_dist(const DistCli& d) {
  DistPlan plan;
  train::DistConfig& c = plan.cfg;
  const bool from_env = train::dist_config_from_env(c);
  if (!d.nproc.empty()) {
    plan.nproc = int(train::parse_int_in("--nproc", d.nproc, 1, 256));
    if (!d.rank.empty() || !d.world_size.empty() || from_env)
      throw Error("--nproc launches its own workers on this machine; do not combine it with --rank/--world-size "
                  "or the RANK/WORLD_SIZE variables (those are for one process of a multi-machine run)");
  }
  if (!d.world_size.empty()) c.world_size = int(train::parse_int_in("--world-size", d.world_size, 1, 4096));
  if (!d.rank.empty()) c.rank = int(train::parse_int_in("--rank", d.rank, 0, 4095));
  if (d.rank.empty() != d.world_size.empty() && !from_env)
    throw Error(std::string(d.rank.empty() ? "--world-size" : "--rank") + " needs " +
                (d.rank.empty() ? "--rank" : "--world-size") + " too (or the RANK and WORLD_SIZE variables)");
  if (!d.master_addr.empty()) c.master_addr = d.master_addr;
  if (!d.master_port.empty()) c.master_port = int(train::parse_int_in("--master-port", d.master_port, 1, 65535));
  if (!d.timeout_s.empty())
    c.timeout = std::chrono::seconds(train::parse_int_in("--dist-timeout", d.timeout_s, 1, 86400));
  c.backend = d.backend;
  c.validate();
  return plan;
}

}  // namespace msprune::cli
