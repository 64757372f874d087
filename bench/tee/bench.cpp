#include "bench/tee/bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>

#include "tee/host/host.h"
#include "tee/host/inference.h"
#include "util/error.h"
#include "util/plot.h"
#include "util/progress.h"
#include "util/table.h"

namespace msprune::tee {
namespace fs = std::filesystem;
namespace {

constexpr double kMiB = 1048576.0;

// A platform key that lives as long as the bench when the user gave none.
struct ThrowawayKey {
  fs::path dir, path;
  ThrowawayKey() {
    dir = fs::temp_directory_path() / ("msprune-bench-key." + std::to_string(::getpid()));
    fs::create_directories(dir);
    path = dir / "platform.key";
    write_new_platform_key(path, true);
  }
  ~ThrowawayKey() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  if (!(f >> a >> b >> c)) return "?";
  return a + " " + b + " " + c;
}

std::string epc_label(double mib) { return mib == 0 ? "unlimited" : strf("%g", mib); }

Summary time_pings(EnclaveClient& c, std::size_t bytes, int runs) {
  std::vector<std::uint8_t> payload(bytes, 0xA5);
  for (int i = 0; i < std::max(10, runs / 20); ++i) c.ping(payload);
  std::vector<double> us;
  us.reserve(std::size_t(runs));
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    c.ping(payload);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  return summarize(us);
}

nlohmann::json summary_json(const Summary& s) {
  return {{"n", s.n}, {"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"min", s.min}, {"max", s.max}};
}

const BenchCell* find_cell(const BenchResult& r, std::size_t model, const std::string& mode, double epc) {
  for (const BenchCell& c : r.cells)
    if (c.model == model && c.mode == mode && c.epc_mib == epc) return &c;
  return nullptr;
}

std::vector<std::string> modes_of(const BenchOptions& o) {
  std::vector<std::string> m = {"paging"};
  if (o.stream_weights) m.push_back("streaming");
  return m;
}

}  // namespace

BenchResult run_tee_bench(const BenchOptions& opts) {
  if (opts.models.empty()) throw Error("bench: no models given");
  if (opts.epc_mib.empty()) throw Error("bench: no EPC sizes given");
  for (double e : opts.epc_mib)
    if (!(e == 0 || e * kMiB >= 16 * 4096.0)) throw Error(strf("bench: EPC size %g MiB is neither 0 nor >= 0.0625", e));
  if (opts.runs < 1 || opts.warmup < 0) throw Error("bench: --runs must be >= 1 and --warmup >= 0");
  BenchResult res;
  res.opts = opts;
  res.loadavg_start = loadavg();

  std::vector<ModelFile> files;
  for (const auto& p : opts.models) files.push_back(read_model_file(p));
  std::unique_ptr<ThrowawayKey> tmp_key;
  EnclaveOptions base;
  base.binary = opts.enclave.empty() ? find_enclave_binary() : opts.enclave;
  if (!opts.platform_key.empty()) {
    base.platform_key = opts.platform_key;
  } else {
    for (const auto& f : files)
      if (f.sealed) throw Error(f.path.string() + " is sealed: give its --platform-key");
    tmp_key = std::make_unique<ThrowawayKey>();
    base.platform_key = tmp_key->path;
  }

  // The same few random images for every run (latency does not depend on them).
  std::mt19937 rng(2021);
  const std::size_t kImages = 8, kImageBytes = 3 * 32 * 32;
  std::vector<std::uint8_t> pixels(kImages * kImageBytes);
  for (auto& p : pixels) p = std::uint8_t(rng());
  std::vector<float> logits(65536);
  auto image = [&](int r) { return pixels.data() + std::size_t(r) % kImages * kImageBytes; };
  auto ms_since = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };

  const std::vector<std::string> modes = modes_of(opts);
  const int passes = opts.fault_cost_us > 0 ? 2 : 1;
  Progress bar("bench", 2 + modes.size() * opts.epc_mib.size(), "setting", opts.progress);

  {  // ECALL round trip, on an enclave with no model
    EnclaveClient c(base);
    res.ecall_us = time_pings(c, 0, opts.ecall_runs);
    res.ecall_image_us = time_pings(c, kImageBytes, opts.ecall_runs);
    c.shutdown();
    bar.tick(1, "ECALL round trip");
  }

  // Every comparison below interleaves its sides run by run (model A, model
  // B, A, B, ...), so load from other processes falls on all of them alike.
  {  // native
    std::vector<std::unique_ptr<NativeRunner>> runners(files.size());
    std::vector<std::vector<double>> ms(files.size());
    for (std::size_t m = 0; m < files.size(); ++m) {
      res.models.push_back({files[m].name(), files[m].path.string(), files[m].sealed, {}, false, {}});
      if (files[m].sealed) continue;
      runners[m] = std::make_unique<NativeRunner>(files[m], 1);
      res.kernel_level = runners[m]->kernel_level();
      for (int r = 0; r < opts.warmup; ++r) runners[m]->run_u8(image(r), logits.data());
    }
    for (int r = 0; r < opts.runs; ++r)
      for (std::size_t m = 0; m < files.size(); ++m) {
        if (!runners[m]) continue;
        auto t0 = std::chrono::steady_clock::now();
        runners[m]->run_u8(image(r), logits.data());
        ms[m].push_back(ms_since(t0));
      }
    for (std::size_t m = 0; m < files.size(); ++m)
      if (runners[m]) res.models[m].native_ms = summarize(ms[m]), res.models[m].have_native = true;
    bar.tick(1, "native");
  }

  for (const std::string& mode : modes) {
    for (double epc : opts.epc_mib) {
      // One enclave per model and pass (pass 1: with the added fault cost).
      const std::size_t n = files.size() * std::size_t(passes);
      std::vector<std::unique_ptr<EnclaveClient>> cs(n);
      std::vector<std::vector<double>> host(n), inside(n);
      for (std::size_t k = 0; k < n; ++k) {
        EnclaveOptions eo = base;
        eo.epc_mib = epc;
        eo.fault_cost_us = k % passes == 0 ? 0 : opts.fault_cost_us;
        cs[k] = start_enclave_with(files[k / passes], eo, mode == "streaming", nullptr);
        if (cs[k]->model().classes > logits.size()) throw Error("bench: model has too many classes");
        for (int r = 0; r < opts.warmup; ++r) cs[k]->infer_u8(image(r), 1, logits.data());
        cs[k]->stats(true);
      }
      for (int r = 0; r < opts.runs; ++r)
        for (std::size_t k = 0; k < n; ++k) {
          auto t0 = std::chrono::steady_clock::now();
          InferResult ir = cs[k]->infer_u8(image(r), 1, logits.data());
          host[k].push_back(ms_since(t0));
          inside[k].push_back(double(ir.enclave_ns) / 1e6);
        }
      for (std::size_t m = 0; m < files.size(); ++m) {
        BenchCell cell;
        cell.model = m;
        cell.mode = mode;
        cell.epc_mib = epc;
        for (int pass = 0; pass < passes; ++pass) {
          const std::size_t k = m * std::size_t(passes) + std::size_t(pass);
          EnclaveStats s = cs[k]->stats();
          const double runs = double(opts.runs);
          if (pass == 0) {
            if (mode == "paging" && epc == opts.epc_mib.front()) res.models[m].info = cs[k]->model();
            cell.host_ms = summarize(host[k]);
            cell.enclave_ms = summarize(inside[k]);
            cell.faults_per_inf = double(s.faults) / runs;
            cell.evicted_per_inf = double(s.pages_evicted) / runs;
            cell.loaded_per_inf = double(s.pages_loaded) / runs;
            cell.handler_ms_per_inf = double(s.handler_ns) / 1e6 / runs;
            cell.stream_ms_per_inf = double(s.stream_ns) / 1e6 / runs;
            cell.peak_resident_mib = double(s.peak_resident_pages) * 4096 / kMiB;
            cell.heap_mib = double(cs[k]->model().heap_bytes) / kMiB;
          } else {
            cell.projected = true;
            cell.proj_host_ms = summarize(host[k]);
            cell.injected_ms_per_inf = double(s.injected_ns) / 1e6 / runs;
          }
          cs[k]->shutdown();
        }
        res.cells.push_back(cell);
      }
      bar.tick(1, mode + " EPC " + epc_label(epc));
    }
  }
  bar.finish();
  res.loadavg_end = loadavg();
  return res;
}

std::string format_bench(const BenchResult& r) {
  const BenchOptions& o = r.opts;
  std::string out;
  out += "EMULATED ENCLAVE (msprune-enclave: separate process, seccomp allow-list, AES-256-GCM EPC paging;\n"
         "not SGX hardware). Batch 1, one thread, " + std::to_string(o.runs) + " timed runs after " +
         std::to_string(o.warmup) + " warm-up per setting; latency per image.\n"
         "Within each setting the models (and the projected runs) alternate run by run.\n\n";
  Table mt({"model", "weights", "heap (paging)", "heap (streaming)", "native p50 ms", "native p99 ms"});
  for (std::size_t m = 0; m < r.models.size(); ++m) {
    const BenchModel& bm = r.models[m];
    const BenchCell* s = o.stream_weights ? find_cell(r, m, "streaming", o.epc_mib.front()) : nullptr;
    mt.add({bm.name, human_bytes(double(bm.info.weight_bytes)), human_bytes(double(bm.info.heap_bytes)),
            s ? strf("%.2f MiB", s->heap_mib) : "-", bm.have_native ? strf("%.3f", bm.native_ms.p50) : "n/a (sealed)",
            bm.have_native ? strf("%.3f", bm.native_ms.p99) : "-"});
  }
  out += mt.str();
  out += strf("\nECALL round trip (empty ping): p50 %.1f us, p99 %.1f us; carrying one 3 KiB image: p50 %.1f us, "
              "p99 %.1f us\n\n",
              r.ecall_us.p50, r.ecall_us.p99, r.ecall_image_us.p50, r.ecall_image_us.p99);

  std::vector<std::string> head = {"model",         "mode",          "EPC MiB",       "p50 ms",
                                   "p99 ms",        "in-encl p50",   "faults/inf",    "handler ms/inf",
                                   "us/fault",      "stream ms/inf", "peak res MiB",  "speed-up"};
  if (o.fault_cost_us > 0) {
    head.push_back(strf("proj p50 (+%gus/fault)", o.fault_cost_us));
    head.push_back("proj p99");
    head.push_back("proj speed-up");
  }
  Table t(head);
  for (const std::string& mode : modes_of(o)) {
    for (double epc : o.epc_mib) {
      const BenchCell* base = find_cell(r, 0, mode, epc);
      for (std::size_t m = 0; m < r.models.size(); ++m) {
        const BenchCell* c = find_cell(r, m, mode, epc);
        if (!c) continue;
        std::vector<std::string> row = {
            r.models[m].name,
            mode,
            epc_label(epc),
            strf("%.3f", c->host_ms.p50),
            strf("%.3f", c->host_ms.p99),
            strf("%.3f", c->enclave_ms.p50),
            strf("%.0f", c->faults_per_inf),
            strf("%.3f", c->handler_ms_per_inf),
            c->faults_per_inf > 0 ? strf("%.1f", c->handler_ms_per_inf * 1000 / c->faults_per_inf) : "-",
            c->mode == "streaming" ? strf("%.3f", c->stream_ms_per_inf) : "-",
            strf("%.1f", c->peak_resident_mib),
            m == 0 ? "1.00x (base)" : strf("%.2fx", base->host_ms.p50 / c->host_ms.p50)};
        if (o.fault_cost_us > 0) {
          row.push_back(strf("%.3f", c->proj_host_ms.p50));
          row.push_back(strf("%.3f", c->proj_host_ms.p99));
          row.push_back(m == 0 ? "1.00x (base)" : strf("%.2fx", base->proj_host_ms.p50 / c->proj_host_ms.p50));
        }
        t.add(row);
      }
      t.add_rule();
    }
  }
  out += t.str();
  if (o.stream_weights) {
    out += "\nweight streaming against paging (gain = paging p50 / streaming p50; > 1: streaming is faster):\n";
    Table g({"model", "EPC MiB", "paging p50 ms", "streaming p50 ms", "gain"});
    for (std::size_t m = 0; m < r.models.size(); ++m)
      for (double epc : o.epc_mib) {
        const BenchCell* p = find_cell(r, m, "paging", epc);
        const BenchCell* st = find_cell(r, m, "streaming", epc);
        if (p && st)
          g.add({r.models[m].name, epc_label(epc), strf("%.3f", p->host_ms.p50), strf("%.3f", st->host_ms.p50),
                 strf("%.2fx", p->host_ms.p50 / st->host_ms.p50)});
      }
    out += g.str();
  }
  if (r.models.size() > 1 && r.models[0].have_native) {
    out += "\nnative speed-up over " + r.models[0].name + ":";
    for (std::size_t m = 1; m < r.models.size(); ++m)
      if (r.models[m].have_native)
        out += strf(" %s %.2fx", r.models[m].name.c_str(), r.models[0].native_ms.p50 / r.models[m].native_ms.p50);
    out += "\n";
  }
  out += "\nfaults/inf: EPC faults per inference (each evicts and/or reloads a 4 KiB page with AES-GCM).\n"
         "handler ms/inf: measured time in the fault handler (us/fault: the same per fault; signal delivery\n"
         "and return are not included); stream ms/inf: measured time decrypting streamed weights.\n"
         "speed-up: p50 of the first model / p50 of this one, same mode and EPC.\n";
  if (o.fault_cost_us > 0)
    out += strf("proj: a second run that busy-waits %g us per fault on top (projection to published SGX1 paging "
                "costs); the columns before it are measured without it.\n",
                o.fault_cost_us);
  if (!r.kernel_level.empty()) out += "runtime kernels: " + r.kernel_level + "\n";
  out += "load average " + r.loadavg_start + " at start, " + r.loadavg_end + " at end (other processes share these cores)\n";
  return out;
}

nlohmann::json bench_json(const BenchResult& r) {
  const BenchOptions& o = r.opts;
  nlohmann::json j;
  j["environment"] = "emulated enclave (process isolation + seccomp + AES-GCM EPC paging), not SGX hardware";
  j["runs"] = o.runs;
  j["warmup"] = o.warmup;
  j["fault_cost_us"] = o.fault_cost_us;
  j["kernel_level"] = r.kernel_level;
  j["loadavg_start"] = r.loadavg_start;
  j["loadavg_end"] = r.loadavg_end;
  j["ecall_round_trip_us"] = summary_json(r.ecall_us);
  j["ecall_round_trip_3kib_us"] = summary_json(r.ecall_image_us);
  for (const BenchModel& m : r.models) {
    nlohmann::json jm = {{"name", m.name},
                         {"path", m.path},
                         {"sealed_input", m.sealed_input},
                         {"weight_bytes", m.info.weight_bytes},
                         {"model_bytes", m.info.model_bytes},
                         {"heap_bytes_paging", m.info.heap_bytes},
                         {"model_hash", hex(m.info.model_hash)}};
    if (m.have_native) jm["native_ms"] = summary_json(m.native_ms);
    j["models"].push_back(jm);
  }
  for (const BenchCell& c : r.cells) {
    const BenchCell* base = find_cell(r, 0, c.mode, c.epc_mib);
    nlohmann::json jc = {{"model", r.models[c.model].name},
                         {"mode", c.mode},
                         {"epc_mib", c.epc_mib},
                         {"host_ms", summary_json(c.host_ms)},
                         {"enclave_ms", summary_json(c.enclave_ms)},
                         {"faults_per_inference", c.faults_per_inf},
                         {"pages_evicted_per_inference", c.evicted_per_inf},
                         {"pages_loaded_per_inference", c.loaded_per_inf},
                         {"handler_ms_per_inference", c.handler_ms_per_inf},
                         {"stream_ms_per_inference", c.stream_ms_per_inf},
                         {"peak_resident_mib", c.peak_resident_mib},
                         {"heap_mib", c.heap_mib},
                         {"speedup_vs_first", base->host_ms.p50 / c.host_ms.p50}};
    if (c.projected) {
      jc["projected_host_ms"] = summary_json(c.proj_host_ms);
      jc["injected_ms_per_inference"] = c.injected_ms_per_inf;
      jc["projected_speedup_vs_first"] = base->proj_host_ms.p50 / c.proj_host_ms.p50;
    }
    j["cells"].push_back(jc);
  }
  return j;
}

bool plot_bench(const BenchResult& r, const fs::path& out, std::string* why) {
  const BenchOptions& o = r.opts;
  PlotSpec spec;
  // (The label goes in the title: PlotSpec::note does not render its line break.)
  spec.title = strf("Latency vs EPC size - EMULATED enclave, not SGX hardware (p50 of %d runs, batch 1, 1 thread)",
                    o.runs);
  spec.xlabel = "EPC size (MiB)";
  spec.ylabel = "latency per image, p50 (ms)";
  spec.logy = true;
  spec.logx = true;  // EPC sizes span 1 to ~100 MiB
  spec.width = 1100;
  spec.height = 600;
  std::vector<double> xs;
  for (double e : o.epc_mib)
    if (e > 0) xs.push_back(e);
  std::sort(xs.begin(), xs.end());
  if (xs.empty()) {
    if (why) *why = "no finite EPC size to plot";
    return false;
  }
  for (std::size_t m = 0; m < r.models.size(); ++m) {
    const std::string& name = r.models[m].name;
    for (const std::string& mode : modes_of(o)) {
      PlotSeries s{name + " " + mode, {}, {}, "linespoints"};
      PlotSeries p{name + " " + mode + strf(" +%gus/fault (proj.)", o.fault_cost_us), {}, {}, "linespoints"};
      bool faulted = false;
      for (double x : xs) {
        const BenchCell* c = find_cell(r, m, mode, x);
        faulted |= c->faults_per_inf > 0;
        s.x.push_back(x);
        s.y.push_back(c->host_ms.p50);
        if (c->projected) {
          p.x.push_back(x);
          p.y.push_back(c->proj_host_ms.p50);
        }
      }
      spec.series.push_back(s);
      if (!p.x.empty() && faulted) spec.series.push_back(p);  // without faults it repeats `s`
    }
    if (r.models[m].have_native)
      spec.series.push_back({name + " native", {xs.front(), xs.back()},
                             {r.models[m].native_ms.p50, r.models[m].native_ms.p50}, "lines"});
  }
  return render_plot(spec, out, why);
}

}  // namespace msprune::tee
