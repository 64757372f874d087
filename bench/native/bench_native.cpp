// LibTorch vs the enclave runtime on one checkpoint (see bench_native.h).
#include "bench/native/bench_native.h"

#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "bench/native/ort_peer.h"
#ifdef MSPRUNE_HAVE_ONNX
#include "interop/onnx_export.h"
#endif
#include "train/checkpoint.h"
#include "train/device.h"
#include "util/allocator.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/table.h"

namespace msprune::exporter {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// /proc/self/status field in bytes, -1 if unavailable.
int64_t proc_status_bytes(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string k = std::string(key) + ":";
  while (std::getline(f, line))
    if (line.rfind(k, 0) == 0) return std::stoll(line.substr(k.size())) * 1024;  // "  1234 kB"
  return -1;
}
std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  if (!(f >> a >> b >> c)) return "n/a";
  return a + " " + b + " " + c;
}
int64_t rss_bytes() { return proc_status_bytes("VmRSS"); }
int64_t hwm_bytes() { return proc_status_bytes("VmHWM"); }
// Resets VmHWM to the current RSS (Linux >= 4.0); false if not allowed.
bool reset_hwm() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return bool(f);
}
// Peak RSS growth since `base` (HWM reset just before `base` was read), -1 if unknown.
int64_t peak_growth(bool reset_ok, int64_t base) {
  const int64_t h = hwm_bytes();
  return (!reset_ok || h < 0 || base < 0) ? -1 : std::max<int64_t>(0, h - base);
}

// LibTorch's CPU allocator reports every allocation and free made while a
// MemoryReportingInfoBase is installed on this thread (c10's profiler hook);
// total_allocated counts only those, so its peak is the forward pass's own.
class AllocPeak : public c10::MemoryReportingInfoBase {
 public:
  void reportMemoryUsage(void*, int64_t, int64_t total_allocated, int64_t, c10::Device device) override {
    if (device.is_cpu()) peak = std::max(peak, total_allocated);
  }
  bool memoryProfilingEnabled() const override { return true; }
  int64_t peak = 0;
};

uint64_t tensor_bytes(const models::NetImpl& net) {
  uint64_t n = 0;
  for (const auto& p : net.named_parameters()) n += uint64_t(p.value().nbytes());
  for (const auto& b : net.named_buffers()) n += uint64_t(b.value().nbytes());
  return n;
}

struct HookState {
  uint32_t ops = 0;
  size_t run = 0;
  std::vector<double> ms;  // [op * runs + run]
  size_t runs = 0;
  Clock::time_point t0;
  static void hook(void* ctx, uint32_t op, bool after) {
    auto* s = static_cast<HookState*>(ctx);
    if (!after) {
      s->t0 = Clock::now();
    } else if (op < s->ops && s->run < s->runs) {
      s->ms[size_t(op) * s->runs + s->run] = ms_since(s->t0);
    }
  }
};

void check_options(const NativeBenchOptions& o) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw Error("bench: " + what);
  };
  need(o.batch >= 1 && o.batch <= 4096, "--batch must be 1..4096");
  need(o.threads >= 1 && o.threads <= rt::Interpreter::kMaxThreads,
       "--threads must be 1.." + std::to_string(rt::Interpreter::kMaxThreads));
  need(o.runs >= 1 && o.runs <= 1000000, "--runs must be 1..1000000");
  need(o.warmup >= 0 && o.warmup <= 1000000, "--warmup must be 0..1000000");
  need(o.block >= 1, "block must be >= 1");
  need(o.inputs >= 1 && o.inputs <= 4096, "inputs must be 1..4096");
}

// nullptr (with r->ort_note saying why) when ONNX Runtime is off or, in auto
// mode, not installed; with --ort on a missing piece is an error.
std::unique_ptr<bench::OrtPeer> start_ort(const NativeBenchOptions& opts, models::NetImpl& net,
                                   const std::vector<torch::Tensor>& batches, NativeBenchResult* r) {
  if (opts.ort == OrtMode::kOff) {
    r->ort_note = "off (--ort off)";
    return nullptr;
  }
  std::string why = bench::ort_unavailable_reason();
#ifndef MSPRUNE_HAVE_ONNX
  why = "msprune was built without the ONNX library (Debian: libonnx-dev libprotobuf-dev)";
#endif
  if (!why.empty()) {
    if (opts.ort == OrtMode::kOn) throw Error("bench --ort on: " + why);
    r->ort_note = "not run: " + why;
    return nullptr;
  }
#ifdef MSPRUNE_HAVE_ONNX
  std::vector<std::vector<float>> in;
  for (const torch::Tensor& b : batches) {
    const float* p = b.data_ptr<float>();
    in.emplace_back(p, p + b.numel());
  }
  auto peer = std::make_unique<bench::OrtPeer>(interop::export_onnx(net), in, int(batches[0].size(0)), 3, 32, 32,
                                               opts.threads);
  r->ort_ran = true;
  r->ort_version = peer->version();
  r->node_version = peer->node_version();
  return peer;
#else
  (void)net, (void)batches;
  return nullptr;
#endif
}

}  // namespace

NativeBenchResult run_native_bench(const NativeBenchOptions& opts) {
  check_options(opts);
  const std::string ext = opts.model.extension().string();
  if (ext == ".msm" || ext == ".sealed")
    throw Error("bench: " + opts.model.string() + " is a " + ext +
                " model; the LibTorch comparison needs a checkpoint (.msm/.sealed files: --tee emu)");
  NativeBenchResult r;
  r.opts = opts;
  r.torch_version = TORCH_VERSION;
  r.loadavg_start = loadavg();
  train::set_threads(opts.threads);
  torch::NoGradGuard ng;

  // --- LibTorch: load + first forward, memory measured around both.
  const int64_t rss0 = rss_bytes();
  auto ck = train::load_checkpoint(opts.model);
  models::NetImpl& net = *ck.model;
  net.eval();
  r.name = net.spec().name();
  const int64_t rss1 = rss_bytes();
  r.torch_rss_load = (rss0 < 0 || rss1 < 0) ? -1 : std::max<int64_t>(0, rss1 - rss0);
  r.torch_weight_bytes = tensor_bytes(net);
  const int64_t B = opts.batch, K = opts.inputs;
  const torch::Tensor x = random_inputs(K * B, 3, 32, 32, opts.seed);
  std::vector<torch::Tensor> batches;
  for (int64_t j = 0; j < K; ++j) batches.push_back(x.slice(0, j * B, (j + 1) * B).contiguous());
  {
    auto peak = std::make_shared<AllocPeak>();
    c10::DebugInfoGuard guard(c10::DebugInfoKind::PROFILER_STATE, peak);
    const bool reset = reset_hwm();
    const int64_t base = rss_bytes();
    (void)net.forward(batches[0]);
    r.torch_rss_forward = peak_growth(reset, base);
    r.torch_forward_peak = uint64_t(peak->peak);
  }
  r.blas = train::blas_library();  // after a forward pass: BLAS may load lazily
  r.mkldnn = at::hasMKLDNN() && at::globalContext().userEnabledMkldnn();
  r.allocator = allocator_summary();

  // --- Runtime: export in memory, then load into fresh pages.
  const std::vector<uint8_t> bytes = export_msm(net);
  r.msm = summarize_msm(bytes);
  r.macs = r.msm.macs;
  rt::InterpreterOptions io;
  io.threads = opts.threads;
  std::vector<float> logits(size_t(r.msm.classes) * size_t(B));
  auto run_rt = [&](auto& h, int64_t j) {
    const float* in = batches[size_t(j)].data_ptr<float>();
    const size_t img = size_t(3 * 32 * 32);
    for (int64_t i = 0; i < B; ++i) h.invoke(in + size_t(i) * img, logits.data() + size_t(i) * r.msm.classes);
  };
  std::unique_ptr<HostedModel> h;
  {
    const bool reset = reset_hwm();
    const int64_t base = rss_bytes();
    h = std::make_unique<HostedModel>(bytes, io);
    run_rt(*h, 0);
    r.rt_rss_growth = peak_growth(reset, base);
  }
  r.rt_model_bytes = h->model().file_bytes();
  r.rt_arena_bytes = h->model().arena_bytes();
  r.kernel_level = rt::kernel_level_name(h->interpreter().kernel_level());

  // --- ONNX Runtime: export to ONNX, start the Node peer on the same inputs.
  std::unique_ptr<bench::OrtPeer> ort = start_ort(opts, net, batches, &r);

  // --- Timing: warm-up, then alternating blocks.
  const int sides = ort ? 3 : 2;
  Progress bar("bench " + r.name, uint64_t(sides * (opts.warmup + opts.runs) + opts.runs), "run", opts.progress);
  for (int i = 0; i < opts.warmup; ++i) {
    (void)net.forward(batches[size_t(i % K)]);
    run_rt(*h, i % K);
    bar.tick(2);
  }
  if (ort) {
    (void)ort->run(opts.warmup, 0);
    (void)ort->bridge(opts.warmup);
    bar.tick(uint64_t(opts.warmup));
  }
  std::vector<double> t_torch, t_rt, t_ort, t_bridge;
  int64_t next = 0;
  while (int(t_torch.size()) < opts.runs) {
    const int n = std::min(opts.block, opts.runs - int(t_torch.size()));
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      (void)net.forward(batches[size_t((next + i) % K)]);
      t_torch.push_back(ms_since(t0));
      bar.tick();
    }
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      run_rt(*h, (next + i) % K);
      t_rt.push_back(ms_since(t0));
      bar.tick();
    }
    if (ort) {
      for (double t : ort->run(n, next)) t_ort.push_back(t);
      for (double t : ort->bridge(n)) t_bridge.push_back(t);
      bar.tick(uint64_t(n));
    }
    next += n;
  }
  r.torch_ms = summarize(t_torch);
  r.runtime_ms = summarize(t_rt);
  r.speedup = r.runtime_ms.p50 > 0 ? r.torch_ms.p50 / r.runtime_ms.p50 : 0;
  const double flop = 2.0 * double(r.macs) * double(B);
  r.runtime_gflops = r.runtime_ms.p50 > 0 ? flop / (r.runtime_ms.p50 * 1e6) : 0;
  r.torch_gflops = r.torch_ms.p50 > 0 ? flop / (r.torch_ms.p50 * 1e6) : 0;
  if (ort) {
    r.ort_ms = summarize(t_ort);
    r.bridge_ms = summarize(t_bridge);
    r.ort_gflops = r.ort_ms.p50 > 0 ? flop / (r.ort_ms.p50 * 1e6) : 0;
  }

  // --- Parity on every input used above.
  for (int64_t j = 0; j < K; ++j) {
    auto yt = torch_logits(net, batches[size_t(j)]);
    run_rt(*h, j);
    for (int64_t i = 0; i < B; ++i)
      add_to_parity(r.parity, yt[i].data_ptr<float>(), logits.data() + size_t(i) * r.msm.classes, r.msm.classes);
    if (ort) {
      const std::vector<float> yo = ort->logits(j);
      if (yo.size() != size_t(B) * r.msm.classes)
        throw Error(strf("bench: ONNX Runtime gave %zu logits for a batch of %lld", yo.size(), (long long)B));
      for (int64_t i = 0; i < B; ++i)
        add_to_parity(r.ort_parity, yt[i].data_ptr<float>(), yo.data() + size_t(i) * r.msm.classes, r.msm.classes);
    }
  }
  h.reset();
  ort.reset();

  // --- Runtime profile per op (op hook), single images.
  HookState hs;
  hs.ops = r.msm.ops;
  hs.runs = size_t(opts.runs);
  hs.ms.assign(size_t(hs.ops) * hs.runs, 0.0);
  io.hook = &HookState::hook;
  io.hook_ctx = &hs;
  HostedModel hp(bytes, io);
  for (int i = 0; i < opts.warmup; ++i) hp.invoke(batches[size_t(i % K)].data_ptr<float>(), logits.data());
  for (hs.run = 0; hs.run < hs.runs; ++hs.run) {
    hp.invoke(batches[hs.run % size_t(K)].data_ptr<float>(), logits.data());
    bar.tick();
  }
  bar.finish();
  r.loadavg_end = loadavg();
  for (uint32_t i = 0; i < hs.ops; ++i) {
    OpProfile op;
    op.index = i;
    if (hp.model().op_info(i, &op.info) != rt::Status::kOk) throw Error(strf("bench: op_info(%u) failed", i));
    op.ms = summarize(std::vector<double>(hs.ms.begin() + ptrdiff_t(i * hs.runs),
                                          hs.ms.begin() + ptrdiff_t((i + 1) * hs.runs)));
    r.profile_total_ms += op.ms.p50;
    const std::string t = rt::op_type_name(op.info.type);
    auto it = std::find_if(r.types.begin(), r.types.end(), [&](const TypeProfile& p) { return p.type == t; });
    if (it == r.types.end()) it = r.types.insert(r.types.end(), TypeProfile{t});
    it->count++;
    it->macs += op.info.macs;
    it->ms += op.ms.p50;
    if (opts.layers) r.ops.push_back(op);
  }
  return r;
}

// ---------------------------------------------------------------------------

namespace {

std::string mib(double b) { return strf("%.2f MiB", b / 1048576.0); }
std::string rss(int64_t b) { return b < 0 ? std::string("n/a") : mib(double(b)); }
double gflops(uint64_t macs, double ms) { return ms > 0 ? 2.0 * double(macs) / (ms * 1e6) : 0; }

std::string op_shape(const rt::OpInfo& i) {
  std::string s = strf("%ux%ux%u -> %ux%ux%u", i.in_c, i.in_h, i.in_w, i.out_c, i.out_h, i.out_w);
  if (i.kernel) s += strf("  k%u s%u p%u", i.kernel, i.stride, i.pad);
  if (i.gather) s += "  gather";
  if (i.type == rt::OpType::kConv2d && i.num_inputs == 2) s += "  +add";
  if (i.relu) s += "  relu";
  return s;
}

}  // namespace

std::string format_native_bench(const NativeBenchResult& r) {
  const auto& o = r.opts;
  std::string s = strf("%s (%s): batch %d, %d thread%s, %d timed runs per side after %d warm-up (alternating blocks of %d)\n",
                       o.model.string().c_str(), r.name.c_str(), o.batch, o.threads, o.threads == 1 ? "" : "s",
                       o.runs, o.warmup, o.block);
  s += strf("  LibTorch %s, BLAS %s, mkldnn %s; runtime kernels %s\n", r.torch_version.c_str(), r.blas.c_str(),
            r.mkldnn ? "on" : "off", r.kernel_level.c_str());
  s += strf("  allocator: %s\n", r.allocator.c_str());
  s += strf("  load average %s at start, %s at end (other processes share these cores)\n", r.loadavg_start.c_str(),
            r.loadavg_end.c_str());
  s += strf("  %s MACs per image, %s params, %s ops in the .msm\n\n", human_count(double(r.macs)).c_str(),
            human_count(double(r.msm.params)).c_str(), std::to_string(r.msm.ops).c_str());

  const double torch_exact = double(r.torch_weight_bytes + r.torch_forward_peak);
  const double rt_exact = double(r.rt_model_bytes + r.rt_arena_bytes);
  const int64_t torch_rss =
      r.torch_rss_load < 0 ? -1 : r.torch_rss_load + std::max<int64_t>(0, r.torch_rss_forward);
  Table t({"", "p50 ms", "p99 ms", "min ms", "GFLOP/s", "memory", "RSS growth"});
  t.add({"LibTorch", strf("%.3f", r.torch_ms.p50), strf("%.3f", r.torch_ms.p99), strf("%.3f", r.torch_ms.min),
         strf("%.1f", r.torch_gflops), mib(torch_exact), rss(torch_rss)});
  t.add({"runtime", strf("%.3f", r.runtime_ms.p50), strf("%.3f", r.runtime_ms.p99), strf("%.3f", r.runtime_ms.min),
         strf("%.1f", r.runtime_gflops), mib(rt_exact), rss(r.rt_rss_growth)});
  if (r.ort_ran)
    t.add({"ONNX Runtime", strf("%.3f", r.ort_ms.p50), strf("%.3f", r.ort_ms.p99), strf("%.3f", r.ort_ms.min),
           strf("%.1f", r.ort_gflops), "n/a", "n/a"});
  s += t.str();
  s += strf("\n  memory: LibTorch %s weights + %s peak in its CPU allocator during a forward pass;"
            "\n          runtime %s model bytes + %s arena (exact)\n",
            mib(double(r.torch_weight_bytes)).c_str(), mib(double(r.torch_forward_peak)).c_str(),
            mib(double(r.rt_model_bytes)).c_str(), mib(double(r.rt_arena_bytes)).c_str());
  s += strf("  RSS growth: LibTorch %s over the checkpoint load + %s peak in the first forward pass;"
            "\n              runtime %s peak over copy, load, init and first inference",
            rss(r.torch_rss_load).c_str(), rss(r.torch_rss_forward).c_str(), rss(r.rt_rss_growth).c_str());
  if (r.rt_rss_growth >= 0) s += strf(" = %.3fx model + arena", double(r.rt_rss_growth) / rt_exact);
  s += "\n";
  s += strf("  speed-up (LibTorch p50 / runtime p50): %.2fx\n", r.speedup);
  s += strf("  logits: max |diff| %.3g over %lld images (%.3g of max |logit| %.3g), top-1 agree %lld/%lld\n",
            r.parity.max_abs_diff, (long long)r.parity.inputs, r.parity.rel(), r.parity.max_abs_logit,
            (long long)r.parity.top1_agree, (long long)r.parity.inputs);
  if (r.ort_ran) {
    s += strf("  ONNX Runtime %s (npm onnxruntime-node, Node.js %s, another process; memory not measured): "
              "p50 / runtime p50 %.2fx, LibTorch p50 / its p50 %.2fx\n",
              r.ort_version.c_str(), r.node_version.c_str(), r.runtime_ms.p50 > 0 ? r.ort_ms.p50 / r.runtime_ms.p50 : 0,
              r.ort_ms.p50 > 0 ? r.torch_ms.p50 / r.ort_ms.p50 : 0);
    s += strf("    its times include the Node binding, which costs %.3f ms p50 (%.3f min) per call by itself "
              "(an Identity graph on the same input)\n",
              r.bridge_ms.p50, r.bridge_ms.min);
    s += strf("    logits against LibTorch: max |diff| %.3g over %lld images, top-1 agree %lld/%lld\n",
              r.ort_parity.max_abs_diff, (long long)r.ort_parity.inputs, (long long)r.ort_parity.top1_agree,
              (long long)r.ort_parity.inputs);
  } else {
    s += "  ONNX Runtime: " + r.ort_note + "\n";
  }

  s += strf("\n  runtime per op type (op hook, single image, sum of per-op p50 = %.3f ms):\n", r.profile_total_ms);
  Table ty({"  type", "ops", "ms", "share", "GFLOP/s"});
  for (const auto& p : r.types)
    ty.add({"  " + p.type, std::to_string(p.count), strf("%.3f", p.ms),
            strf("%.1f%%", r.profile_total_ms > 0 ? 100 * p.ms / r.profile_total_ms : 0),
            p.macs ? strf("%.1f", gflops(p.macs, p.ms)) : std::string("-")});
  s += ty.str();
  if (!r.ops.empty()) {
    s += "\n  runtime per layer:\n";
    Table tl({"  #", "op", "shape", "MACs", "p50 ms", "p99 ms", "GFLOP/s"});
    for (const auto& p : r.ops)
      tl.add({strf("  %u", p.index), rt::op_type_name(p.info.type), op_shape(p.info),
              p.info.macs ? human_count(double(p.info.macs)) : std::string("-"), strf("%.4f", p.ms.p50),
              strf("%.4f", p.ms.p99), p.info.macs ? strf("%.1f", gflops(p.info.macs, p.ms.p50)) : std::string("-")});
    s += tl.str();
    // Layers of one kind together: (type, kernel, stride, outputs, output map)
    // for convs and linear, (type, output map) for the rest. DenseNet's dense
    // layers differ only in their input width, for example.
    struct Kind {
      std::string key;
      uint32_t n = 0;
      uint64_t macs = 0;
      double ms = 0;
    };
    std::vector<Kind> kinds;
    for (const auto& p : r.ops) {
      const auto& i = p.info;
      std::string key = rt::op_type_name(i.type);
      if (i.kernel) key += strf(" k%u s%u", i.kernel, i.stride);
      if (i.macs) key += strf(" -> %u", i.out_c);  // weightless ops: by map size only
      key += strf(" @%ux%u", i.out_h, i.out_w);
      auto it = std::find_if(kinds.begin(), kinds.end(), [&](const Kind& k) { return k.key == key; });
      if (it == kinds.end()) it = kinds.insert(kinds.end(), Kind{key});
      it->n++, it->macs += i.macs, it->ms += p.ms.p50;
    }
    s += "\n  runtime per kind of layer (sum of per-op p50):\n";
    Table tk({"  kind", "ops", "MACs", "ms", "share", "GFLOP/s"});
    for (const auto& k : kinds)
      tk.add({"  " + k.key, std::to_string(k.n), k.macs ? human_count(double(k.macs)) : std::string("-"),
              strf("%.3f", k.ms), strf("%.1f%%", r.profile_total_ms > 0 ? 100 * k.ms / r.profile_total_ms : 0),
              k.macs ? strf("%.1f", gflops(k.macs, k.ms)) : std::string("-")});
    s += tk.str();
  }
  return s;
}

nlohmann::json native_bench_json(const NativeBenchResult& r) {
  auto sum = [](const Summary& s) {
    return nlohmann::json{{"n", s.n}, {"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90},
                          {"p99", s.p99}, {"min", s.min}, {"max", s.max}};
  };
  auto opt_i = [](int64_t v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); };
  nlohmann::json types = nlohmann::json::array(), ops = nlohmann::json::array();
  for (const auto& p : r.types)
    types.push_back({{"type", p.type}, {"ops", p.count}, {"macs", p.macs}, {"ms", p.ms},
                     {"gflops", p.macs ? nlohmann::json(gflops(p.macs, p.ms)) : nlohmann::json(nullptr)}});
  for (const auto& p : r.ops)
    ops.push_back({{"index", p.index}, {"type", rt::op_type_name(p.info.type)},
                   {"in", {p.info.in_c, p.info.in_h, p.info.in_w}}, {"out", {p.info.out_c, p.info.out_h, p.info.out_w}},
                   {"kernel", p.info.kernel}, {"stride", p.info.stride}, {"macs", p.info.macs}, {"ms", sum(p.ms)}});
  const auto& o = r.opts;
  return {
      {"model", o.model.string()},
      {"name", r.name},
      {"batch", o.batch},
      {"threads", o.threads},
      {"runs", o.runs},
      {"warmup", o.warmup},
      {"block", o.block},
      {"inputs", o.inputs},
      {"seed", o.seed},
      {"torch_version", r.torch_version},
      {"blas", r.blas},
      {"mkldnn", r.mkldnn},
      {"allocator", r.allocator},
      {"kernel_level", r.kernel_level},
      {"loadavg", {{"start", r.loadavg_start}, {"end", r.loadavg_end}}},
      {"macs_per_image", r.macs},
      {"msm", summary_json(r.msm)},
      {"latency_ms", {{"torch", sum(r.torch_ms)}, {"runtime", sum(r.runtime_ms)}}},
      {"onnxruntime",
       r.ort_ran ? nlohmann::json{{"ran", true},
                                  {"version", r.ort_version},
                                  {"node", r.node_version},
                                  {"latency_ms", sum(r.ort_ms)},
                                  {"bridge_ms", sum(r.bridge_ms)},
                                  {"gflops_p50", r.ort_gflops},
                                  {"parity_vs_torch",
                                   {{"inputs", r.ort_parity.inputs},
                                    {"max_abs_diff", r.ort_parity.max_abs_diff},
                                    {"top1_agree", r.ort_parity.top1_agree}}}}
                 : nlohmann::json{{"ran", false}, {"note", r.ort_note}}},
      {"speedup_p50", r.speedup},
      {"gflops_p50", {{"torch", r.torch_gflops}, {"runtime", r.runtime_gflops}}},
      {"memory_bytes",
       {{"runtime", {{"model", r.rt_model_bytes}, {"arena", r.rt_arena_bytes}, {"rss_growth", opt_i(r.rt_rss_growth)}}},
        {"torch",
         {{"weights", r.torch_weight_bytes},
          {"forward_alloc_peak", r.torch_forward_peak},
          {"rss_growth_load", opt_i(r.torch_rss_load)},
          {"rss_growth_first_forward", opt_i(r.torch_rss_forward)}}}}},
      {"parity",
       {{"inputs", r.parity.inputs},
        {"max_abs_diff", r.parity.max_abs_diff},
        {"max_abs_logit", r.parity.max_abs_logit},
        {"rel", r.parity.rel()},
        {"top1_agree", r.parity.top1_agree}}},
      {"profile", {{"total_ms", r.profile_total_ms}, {"types", types}, {"ops", ops}}},
  };
}

}  // namespace msprune::exporter
