// The pipeline's Markdown report: readable on its own, every figure taken
// from report.json (which the steps' own JSON output filled).
#include <cmath>
#include <sstream>

#include "pipeline/pipeline.h"
#include "util/table.h"

namespace msprune::pipeline {
using json = nlohmann::json;

namespace {

std::string pct(double v) { return v < 0 ? "n/a" : strf("%.2f%%", 100 * v); }
std::string ms(const json& s, const char* k) {
  return s.is_object() && s.contains(k) && s[k].is_number() ? strf("%.3f", s[k].get<double>()) : "n/a";
}
double num(const json& j, const char* k, double dflt = 0) {
  return j.is_object() && j.contains(k) && j[k].is_number() ? j[k].get<double>() : dflt;
}

// A Markdown table from a header and rows.
std::string md_table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::string s = "|";
  for (const auto& h : head) s += " " + h + " |";
  s += "\n|";
  for (size_t i = 0; i < head.size(); ++i) s += i == 0 ? " --- |" : " ---: |";
  s += "\n";
  for (const auto& r : rows) {
    s += "|";
    for (const auto& c : r) s += " " + c + " |";
    s += "\n";
  }
  return s;
}

}  // namespace

std::string render_report_md(const json& rep) {
  std::ostringstream o;
  const json& st = rep["settings"];
  const json& pr = st["preset"];
  o << "# msprune pipeline report: " << rep.value("name", "") << "\n\n";
  o << strf("%s-%d at width %g, preset `%s` (%s).\n\n", st.value("arch", "").c_str(), st.value("depth", 0),
            st.value("width", 1.0), pr.value("name", "").c_str(), pr.value("description", "").c_str());
  auto epochs = [](int n) { return std::to_string(n) + (n == 1 ? " epoch" : " epochs"); };
  o << strf("Sparsity training: %s, lr %g (%s), s = %g; fine-tuning: %s, lr %g. Training images: %s; "
            "test images: %s. Threads: %d, device: %s.\n\n",
            epochs(pr.value("epochs", 0)).c_str(), pr.value("lr", 0.0), pr.value("schedule", "").c_str(),
            pr.value("sparsity", 0.0), epochs(pr.value("finetune_epochs", 0)).c_str(), pr.value("finetune_lr", 0.0),
            pr.value("train_subset", -1) < 0 ? "all" : std::to_string(pr.value("train_subset", -1)).c_str(),
            pr.value("test_subset", -1) < 0 ? "all" : std::to_string(pr.value("test_subset", -1)).c_str(),
            st.value("threads", 1), st.value("device", "").c_str());
  // Reports written before data parallelism have no "processes": one.
  if (const int np = st.value("processes", 1); np > 1)
    o << strf("Training and fine-tuning: data-parallel in %d processes, batch %d each (global batch 64), %s.\n\n", np,
              64 / np,
              st.value("sync_bn", false) ? "SyncBatchNorm (BN statistics over the global batch)"
                                         : "BN statistics per process (DDP's default)");
  else
    o << "Training and fine-tuning: one process.\n\n";

  // Accuracy and size.
  const json& m = rep["models"];
  o << "## Accuracy and size\n\n";
  std::vector<std::vector<std::string>> rows;
  double base_params = num(m["base"], "params", 1), base_macs = num(m["base"], "macs", 1);
  for (const char* k : {"base", "meanshift_pruned", "meanshift", "slimming_pruned", "slimming"}) {
    if (!m.contains(k)) continue;
    const json& x = m[k];
    double pa = num(x, "params"), ma = num(x, "macs");
    rows.push_back({x.value("label", k), pct(num(x, "accuracy", -1)), human_count(pa),
                    base_params > 0 ? strf("%.1f%%", 100 * (1 - pa / base_params)) : "", human_count(ma),
                    base_macs > 0 ? strf("%.1f%%", 100 * (1 - ma / base_macs)) : ""});
  }
  o << md_table({"model", "test accuracy (LibTorch)", "parameters", "params removed", "MACs", "MACs removed"}, rows);
  if (rep.contains("prune") && rep["prune"].contains("meanshift")) {
    const json& t = rep["prune"]["meanshift"]["totals"];
    o << strf("\nMean shift (%s) removed %lld of %lld prunable channels (ratio %.4f); Network Slimming was run at "
              "exactly that channel count.",
              rep["prune"]["meanshift"].value("rule", "").c_str(),
              (long long)num(t.value("channels", json::object()), "pruned"),
              (long long)num(t.value("channels", json::object()), "before"),
              num(t.value("channels", json::object()), "pruned_ratio"));
    const json& fa = rep["prune"]["meanshift"]["floor_acted"];
    if (fa.is_array() && !fa.empty()) o << " The floor (at least one channel) acted in " << fa.size() << " layer(s).";
    const json& fit = rep["prune"]["meanshift"].value("fit_epc", json());
    if (fit.is_object() && fit.contains("reached_bytes"))
      o << strf(" `--fit-epc`: the least pruning whose model fits an enclave heap of %s was %s; its exported model "
                "needs %s (the base %s).",
                human_bytes(num(fit, "requested_bytes")).c_str(), fit.value("chosen", "").c_str(),
                human_bytes(num(fit, "reached_bytes")).c_str(), human_bytes(num(fit, "base_bytes")).c_str());
    o << "\n\n";
  }

  // The accuracy-vs-size curve (--curve).
  if (rep.contains("curve") && rep["curve"].contains("points")) {
    const json& cv = rep["curve"];
    o << "## Accuracy against size (`--curve`)\n\n";
    o << strf("Every pruned model below was fine-tuned %s at lr %g, as mean shift's was; accuracy is on %d test "
              "images. Base: %s. Plots: `plots/curve-macs.png`, `plots/curve-params.png`; numbers: `curve.json`.\n\n",
              epochs(cv.value("finetune_epochs", 0)).c_str(), cv.value("finetune_lr", 0.0), cv.value("test_records", 0),
              pct(num(cv["base"], "accuracy", -1)).c_str());
    rows.clear();
    for (const auto& pt : cv["points"]) {
      auto share = [&](const char* k) { return num(pt, k, -1) < 0 ? std::string("n/a") : strf("%.1f%%", 100 * num(pt, k)); };
      rows.push_back({pt.value("label", ""), share("channels_removed"), share("params_removed"), share("macs_removed"),
                      pct(num(pt, "accuracy_pruned", -1)), pct(num(pt, "accuracy", -1))});
    }
    o << md_table({"point", "channels removed", "params removed", "MACs removed", "accuracy before fine-tuning",
                   "accuracy fine-tuned"},
                  rows);
    o << "\n";
  }

  // Runtime vs LibTorch.
  o << "## Native inference (batch 1, one thread)\n\n";
  rows.clear();
  for (const char* k : {"base", "meanshift", "slimming"}) {
    if (!m.contains(k)) continue;
    const json& x = m[k];
    const json& n = x.value("native", json::object());
    rows.push_back({k, pct(num(x, "runtime_accuracy", -1)), ms(n.value("libtorch_ms", json()), "p50"),
                    ms(n.value("libtorch_ms", json()), "p99"), ms(n.value("runtime_ms", json()), "p50"),
                    ms(n.value("runtime_ms", json()), "p99"), strf("%.2fx", num(n, "speedup_p50")),
                    human_bytes(num(x, "weights_bytes")), human_bytes(num(x, "arena_bytes"))});
  }
  o << md_table({"model", "runtime accuracy", "LibTorch p50 ms", "LibTorch p99 ms", "runtime p50 ms", "runtime p99 ms",
                 "speed-up", "weights", "arena"},
                rows);
  if (m.contains("base") && m["base"].contains("native"))
    o << "\nLibTorch BLAS: `" << m["base"]["native"].value("blas", "") << "`.\n";

  // Enclave.
  const json& e = rep["enclave"];
  o << "\n## Inside the enclave (EMULATED: process isolation, seccomp and AES-GCM EPC paging, not SGX hardware)\n\n";
  if (e.contains("cells") && e["cells"].is_array()) {
    rows.clear();
    for (const auto& c : e["cells"]) {
      rows.push_back({c.value("model", ""), c.value("mode", ""), strf("%g", num(c, "epc_mib")),
                      ms(c.value("host_ms", json()), "p50"), ms(c.value("host_ms", json()), "p99"),
                      strf("%.1f", num(c, "faults_per_inference")), strf("%.1f", num(c, "peak_resident_mib")),
                      strf("%.2fx", num(c, "speedup_vs_first", 0))});
    }
    o << md_table({"model", "mode", "EPC MiB", "p50 ms", "p99 ms", "faults / inference", "peak resident MiB",
                   "speed-up vs base"},
                  rows);
    if (e.contains("ecall_round_trip_us"))
      o << strf("\nECALL round trip (empty): p50 %.1f us, p99 %.1f us.\n", num(e["ecall_round_trip_us"], "p50"),
                num(e["ecall_round_trip_us"], "p99"));
  } else {
    o << "(no enclave benchmark in this run)\n";
  }
  const json& ea = rep.value("enclave_accuracy", json::object());
  if (ea.contains("accuracy"))
    o << strf("\nMean-shift model inside the enclave: accuracy %s on %lld test images (sealed model, %s).\n",
              pct(num(ea, "accuracy", -1)).c_str(), (long long)num(ea, "images"), ea.value("weights", "").c_str());

  // Plots.
  if (rep.contains("plots") && !rep["plots"].empty()) {
    o << "\n## Plots\n\n";
    for (const auto& p : rep["plots"]) o << "![" << p.get<std::string>() << "](" << p.get<std::string>() << ")\n\n";
  }

  // Steps.
  o << "## Steps\n\n";
  rows.clear();
  for (const auto& s : rep["steps"])
    rows.push_back({s.value("step", ""), s.value("status", ""), strf("%.1f", num(s, "seconds")), "`" + s.value("log", "") + "`"});
  o << md_table({"step", "status", "seconds", "log"}, rows);
  o << "\nEvery figure above comes from the steps' own `--json` output (the logs); `report.json` holds them all.\n";
  return o.str();
}

}  // namespace msprune::pipeline
