#pragma once
// `msprune bench --tee emu`: latency of models natively and inside the
// emulated enclave at several EPC sizes, paging or weight streaming, measured
// side by side in one run, with faults, resident peak, ECALL round trip and
// the speed-up of every model over the first. Host side.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tee/enclave/protocol.h"
#include "util/stats.h"

namespace msprune::tee {

struct BenchOptions {
  std::vector<std::filesystem::path> models;  // the first is the base of every speed-up
  std::vector<double> epc_mib = {16, 32, 64, 93.5};  // 0 = unlimited
  bool stream_weights = false;  // also run weight streaming (paging always runs)
  int runs = 30, warmup = 3;
  double fault_cost_us = 0;     // > 0: also a run with this cost per fault (projection)
  int ecall_runs = 2000;
  std::filesystem::path platform_key;  // empty: a throw-away key (only .msm inputs)
  std::filesystem::path enclave;       // empty: find_enclave_binary()
  bool progress = true;
};

struct BenchModel {
  std::string name, path;
  bool sealed_input = false;
  ModelInfo info;            // from the enclave's load
  bool have_native = false;  // .msm inputs only
  Summary native_ms;
};

struct BenchCell {
  std::size_t model = 0;
  std::string mode;  // "paging" or "streaming"
  double epc_mib = 0;
  Summary host_ms, enclave_ms;  // per image: ECALL round trip, inside the enclave
  double faults_per_inf = 0, evicted_per_inf = 0, loaded_per_inf = 0;
  double handler_ms_per_inf = 0;  // measured time in the fault handler
  double stream_ms_per_inf = 0;   // measured time decrypting streamed weights
  double peak_resident_mib = 0, heap_mib = 0;
  bool projected = false;         // a run with --fault-cost-us
  Summary proj_host_ms;
  double injected_ms_per_inf = 0;
};

struct BenchResult {
  BenchOptions opts;
  std::vector<BenchModel> models;
  std::vector<BenchCell> cells;
  Summary ecall_us, ecall_image_us;  // empty ping; ping carrying one image's bytes
  std::string kernel_level;
  std::string loadavg_start, loadavg_end;  // /proc/loadavg 1/5/15-minute figures
};

BenchResult run_tee_bench(const BenchOptions& opts);
std::string format_bench(const BenchResult& r);
nlohmann::json bench_json(const BenchResult& r);
// Latency (p50) against EPC size, one line per model and mode, native as
// flat lines. Returns false (with `why`) if gnuplot failed.
bool plot_bench(const BenchResult& r, const std::filesystem::path& out, std::string* why);

}  // namespace msprune::tee
