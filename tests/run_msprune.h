#pragma once
// Runs the real `msprune` binary (MSPRUNE_BIN, set by the test's CMake) with
// a shell argument string; returns its exit status and stdout + stderr.
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace msprune::testing {

struct RunResult {
  int rc;
  std::string out;  // stdout + stderr
};

inline RunResult run_msprune(const std::string& args) {
  std::string cmd = std::string(MSPRUNE_BIN) + " " + args + " 2>&1";
  RunResult r{0, {}};
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace msprune::testing
