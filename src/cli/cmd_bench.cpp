// msprune bench: side-by-side latency benchmarks. A thin dispatcher:
//   --model CKPT           LibTorch against the runtime (and ONNX Runtime) on one checkpoint
//                          (bench/native/bench_native.cpp, run by
//                          run_native_bench_command: msprune-torch only)
//   --tee emu --model A,B  models natively and inside the emulated enclave at
//                          several EPC sizes (bench/tee/bench.cpp, docs/tee.md)
#include <cstdio>
#include <sstream>

#include "bench/tee/bench.h"
#include "cli/commands.h"
#include "util/error.h"

namespace msprune::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<double> parse_epc_list(const std::string& s) {
  std::vector<double> out;
  for (const std::string& item : split_list(s)) {
    std::size_t used = 0;
    double v = -1;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !(v >= 0) || v > 1e6)
      throw Error("--epc-mib: \"" + item + "\" is not a size in MiB (0 = unlimited)");
    out.push_back(v);
  }
  if (out.empty()) throw Error("--epc-mib: no sizes given");
  return out;
}

}  // namespace

void add_bench_command(CLI::App& app) {
  struct Opts {
    std::string tee, models, epc = "16,32,64,93.5", key, enclave, plot, out;
    int runs = 0, warmup = -1, ecall_runs = 2000;  // 0 / -1: the mode's default
    int batch = 1, threads = 1, block = 10, inputs = 8;
    uint64_t seed = 1;
    double fault_cost_us = 0;
    bool stream = false, json = false, layers = false;
    std::string ort = "auto";
  };
  auto o = std::make_shared<Opts>();
  auto* sub =
      app.add_subcommand("bench", "Latency benchmarks measured side by side: LibTorch vs runtime, or --tee emu");
  sub->add_option("--model", o->models,
                  "A checkpoint (LibTorch vs runtime); with --tee: models, comma-separated (.msm or .sealed), "
                  "the first is the base")
      ->required();
  sub->add_option("--runs", o->runs, "Timed runs per side / per setting (default 50 / 30 with --tee)")
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--warmup", o->warmup, "Warm-up runs per side / per setting (default 5 / 3 with --tee)")
      ->check(CLI::Range(0, 100000));
  sub->add_option("--out", o->out, "Also write the JSON results to this file");
  sub->add_flag("--json", o->json, "Print JSON");
  // LibTorch vs runtime.
  auto* batch =
      sub->add_option("--batch", o->batch, "Images per run")->check(CLI::Range(1, 4096))->capture_default_str();
  auto* threads =
      sub->add_option("--threads", o->threads, "Threads for both sides")->check(CLI::Range(1, 1024))->capture_default_str();
  auto* block = sub->add_option("--block", o->block, "Timed runs alternate between the sides in blocks of this many")
                    ->check(CLI::Range(1, 100000))
                    ->capture_default_str();
  auto* inputs = sub->add_option("--inputs", o->inputs, "Distinct random input batches, cycled")
                     ->check(CLI::Range(1, 100000))
                     ->capture_default_str();
  auto* seed = sub->add_option("--seed", o->seed, "Seed of the random inputs")->capture_default_str();
  auto* layers = sub->add_flag("--layers", o->layers, "Also print the runtime's per-layer profile");
  auto* ort = sub->add_option("--ort", o->ort,
                              "ONNX Runtime (npm onnxruntime-node, through Node.js) as a third side: auto = when "
                              "installed, on = required, off")
                  ->check(CLI::IsMember({"auto", "on", "off"}))
                  ->capture_default_str();
  // --tee emu.
  sub->add_option("--tee", o->tee, "emu: natively and inside the emulated enclave at each EPC size")
      ->check(CLI::IsMember({"emu"}));
  auto* epc = sub->add_option("--epc-mib", o->epc, "EPC sizes in MiB, comma-separated (0 = unlimited)")
                  ->capture_default_str();
  auto* stream = sub->add_flag("--stream-weights", o->stream, "Also run with weight streaming (paging always runs)");
  auto* ecall = sub->add_option("--ecall-runs", o->ecall_runs, "Round trips timed for the ECALL cost")
                    ->check(CLI::Range(1, 10000000))
                    ->capture_default_str();
  auto* cost = sub->add_option("--fault-cost-us", o->fault_cost_us,
                               "Also run with this cost added per EPC fault (projection; SGX1 ~13 us)")
                   ->check(CLI::Range(0.0, 1e6));
  auto* key =
      sub->add_option("--platform-key", o->key, "Platform key (needed for .sealed models; else a throw-away key)");
  auto* enclave = sub->add_option("--enclave", o->enclave, "Enclave program (default: msprune-enclave next to msprune)");
  auto* plot = sub->add_option("--plot", o->plot, "Write a latency-against-EPC plot (.png or .svg)");
  const std::vector<CLI::Option*> native_only = {batch, threads, block, inputs, seed, layers, ort};
  const std::vector<CLI::Option*> tee_only = {epc, stream, ecall, cost, key, enclave, plot};
  sub->callback([o, native_only, tee_only] {
    const bool tee = !o->tee.empty();
    for (CLI::Option* opt : tee ? native_only : tee_only)
      if (opt->count()) throw Error(opt->get_name() + (tee ? " does not apply with --tee" : " needs --tee emu"));
    if (!tee) {
      NativeBenchArgs n;
      n.model = o->models;
      n.out = o->out;
      n.runs = o->runs;
      n.warmup = o->warmup;
      n.batch = o->batch;
      n.threads = o->threads;
      n.block = o->block;
      n.inputs = o->inputs;
      n.seed = o->seed;
      n.layers = o->layers;
      n.json = o->json;
      n.ort = o->ort;
      run_native_bench_command(n);
      return;
    }
    tee::BenchOptions b;
    for (const std::string& m : split_list(o->models)) b.models.push_back(m);
    if (b.models.empty()) throw Error("--model: no models given");
    b.epc_mib = parse_epc_list(o->epc);
    b.stream_weights = o->stream;
    if (o->runs > 0) b.runs = o->runs;
    if (o->warmup >= 0) b.warmup = o->warmup;
    b.ecall_runs = o->ecall_runs;
    b.fault_cost_us = o->fault_cost_us;
    b.platform_key = o->key;
    b.enclave = o->enclave;
    b.progress = !o->json;
    tee::BenchResult r = tee::run_tee_bench(b);
    emit_result(tee::bench_json(r), tee::format_bench(r), o->out, o->json);
    if (!o->plot.empty()) {
      std::string why;
      if (tee::plot_bench(r, o->plot, &why)) std::fprintf(stderr, "plot written to %s\n", o->plot.c_str());
      else std::fprintf(stderr, "msprune: warning: no plot: %s\n", why.c_str());
    }
  });
}

}  // namespace msprune::cli
