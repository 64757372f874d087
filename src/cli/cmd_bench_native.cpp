// `msprune bench --model CKPT` (no --tee): the LibTorch half of the bench
// command, in msprune-torch only (commands.h). The options are cmd_bench.cpp's.
#include "bench/native/bench_native.h"
#include "cli/commands.h"

namespace msprune::cli {

void run_native_bench_command(const NativeBenchArgs& a) {
  exporter::NativeBenchOptions n;
  n.model = a.model;
  n.batch = a.batch;
  n.threads = a.threads;
  if (a.runs > 0) n.runs = a.runs;
  if (a.warmup >= 0) n.warmup = a.warmup;
  n.block = a.block;
  n.inputs = a.inputs;
  n.seed = a.seed;
  n.layers = a.layers;
  n.ort = a.ort == "on" ? exporter::OrtMode::kOn : a.ort == "off" ? exporter::OrtMode::kOff : exporter::OrtMode::kAuto;
  n.progress = !a.json;
  exporter::NativeBenchResult r = exporter::run_native_bench(n);
  emit_result(exporter::native_bench_json(r), exporter::format_native_bench(r), a.out, a.json);
}

}  // namespace msprune::cli
