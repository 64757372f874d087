#pragma once
// `--nproc N`: msprune as its own torchrun for one machine. The launcher
// re-runs this very command N times without `--nproc`, each child with
// RANK/LOCAL_RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT in its environment (the
// variables torchrun sets, so the worker path is the same as under torchrun or
// with explicit --rank/--world-size), and waits for them.
//
// Failure: when a worker exits with an error or is killed, the others notice
// through their process group (Gloo reports the closed connection at once, or
// the --dist-timeout passes) and exit with their own error; the launcher gives
// them `grace` to do so, then terminates whoever is left (as torchrun does),
// and reports which rank failed first and how. SIGINT, SIGTERM and SIGHUP
// sent to the launcher are passed on to the workers.
#include <chrono>
#include <string>
#include <vector>

namespace msprune::train {

// A TCP port on the loopback that was free a moment ago (bind to port 0).
int pick_free_port();

// This process's command line (from /proc/self/cmdline) without the options
// named in `drop` and their values ("--nproc 2" and "--nproc=2" both).
std::vector<std::string> own_args_without(const std::vector<std::string>& drop);

struct LaunchResult {
  int exit_code = 0;       // 0 when every worker succeeded
  std::string message;     // the first failure, in words ("" on success)
};

// Runs `exe args...` as ranks 0..nproc-1 on this machine and waits. Only rank
// 0 keeps stdout (it alone prints); every rank keeps stderr, so an error from
// any of them is seen.
LaunchResult launch_local(int nproc, const std::string& exe, const std::vector<std::string>& args,
                          const std::string& master_addr, int master_port,
                          std::chrono::milliseconds grace = std::chrono::seconds(30));

}  // namespace msprune::train
