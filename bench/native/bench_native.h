#pragma once
// `msprune bench --model CKPT`: LibTorch against the enclave runtime on the
// same checkpoint, in one process, on the same inputs (docs/export.md).
//
// The checkpoint is exported in memory; both sides run the same random
// normalised inputs with the same thread count. After `warmup` runs each,
// the timed runs alternate between the sides in blocks of `block` (so load
// from other processes hits both alike, while each side still runs
// back-to-back, cache-warm, inside a block). One run = one batch: LibTorch
// runs one forward on [batch,3,32,32]; the runtime (batch-1 API) runs
// `batch` invokes. Latency is per batch.
//
// ONNX Runtime (issue 15) is a third side when it is installed (scripts/
// setup.sh puts onnxruntime-node 1.30 in tools/ort): the network is exported
// to ONNX in memory (src/interop, BN kept as the LibTorch side has it), and
// `tools/ort/run.js serve` runs it in a Node.js process with the same thread
// count on the same inputs, its timed blocks alternating with the other two
// sides (bench/native/ort_peer.h). Its times are taken inside Node around
// session.run, so they include the Node binding's cost per call, which is
// measured by itself on an Identity graph of the input's shape and reported
// beside it. Its memory is not measured (another process).
//
// Memory, measured, each figure labelled by what it is:
//  * runtime: the .msm bytes (weights + metadata, used in place) + the arena,
//    both exact; and the process's peak RSS growth (VmHWM, reset through
//    /proc/self/clear_refs) over copying the model into fresh pages, loading,
//    preparing and the first inference.
//  * LibTorch: parameters + buffers (exact) + the peak of bytes live in
//    LibTorch's CPU allocator during one forward pass (c10's memory
//    reporting hook: tensors, im2col and other workspaces it allocates; not
//    OpenBLAS's or oneDNN's private buffers); and the process's RSS growth
//    over loading the checkpoint plus the peak growth during the first
//    forward pass (everything: allocator caching, library buffers).
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "export/export.h"
#include "util/stats.h"

namespace msprune::exporter {

enum class OrtMode { kAuto, kOn, kOff };  // kAuto: when installed (else a note saying why not)

struct NativeBenchOptions {
  std::filesystem::path model;  // a checkpoint
  int batch = 1;
  int threads = 1;
  int runs = 50;    // timed runs per side
  int warmup = 5;   // untimed runs per side first
  int block = 10;   // timed runs alternate in blocks of this many
  int inputs = 8;   // distinct random batches, cycled
  uint64_t seed = 1;
  bool layers = false;  // keep the per-layer profile (otherwise per op type only)
  OrtMode ort = OrtMode::kAuto;
  bool progress = true;
};

struct OpProfile {
  uint32_t index = 0;
  rt::OpInfo info;
  Summary ms;  // per image
};

struct TypeProfile {
  std::string type;
  uint32_t count = 0;
  uint64_t macs = 0;
  double ms = 0;  // sum of the ops' p50
};

struct NativeBenchResult {
  NativeBenchOptions opts;
  std::string name;          // e.g. "vgg16"
  std::string torch_version, blas, kernel_level;
  std::string loadavg_start, loadavg_end;  // /proc/loadavg's 1/5/15-minute figures (other load on the machine)
  bool mkldnn = false;
  std::string allocator;  // util/allocator.h: the malloc settings LibTorch ran with
  uint64_t macs = 0;         // per image (runtime's count: convs + linear)
  Summary torch_ms, runtime_ms;  // per batch
  double speedup = 0;        // LibTorch p50 / runtime p50
  double runtime_gflops = 0; // 2·macs·batch / runtime p50
  double torch_gflops = 0;
  Parity parity;             // over every input used in the timed runs
  MsmSummary msm;
  // Memory (bytes; rss figures -1 when /proc is unavailable).
  uint64_t rt_model_bytes = 0, rt_arena_bytes = 0;
  int64_t rt_rss_growth = -1;
  uint64_t torch_weight_bytes = 0, torch_forward_peak = 0;
  int64_t torch_rss_load = -1, torch_rss_forward = -1;
  // ONNX Runtime, when it ran (ort_note says why not otherwise).
  bool ort_ran = false;
  std::string ort_note, ort_version, node_version;
  Summary ort_ms, bridge_ms;  // per batch; bridge: the Identity graph
  double ort_gflops = 0;
  Parity ort_parity;  // against LibTorch
  // Runtime profile (op hook, a separate set of `runs` single-image invokes).
  std::vector<OpProfile> ops;  // empty unless opts.layers
  std::vector<TypeProfile> types;
  double profile_total_ms = 0;  // sum of per-op p50
};

// Throws msprune::Error (unreadable checkpoint, bad options, runtime failure).
NativeBenchResult run_native_bench(const NativeBenchOptions& opts);
std::string format_native_bench(const NativeBenchResult& r);
nlohmann::json native_bench_json(const NativeBenchResult& r);

}  // namespace msprune::exporter
