// msprune infer: CIFAR test-set accuracy and per-image latency of a .msm model,
// natively (the runtime in this process) or, with --tee emu, inside the
// emulated enclave (the work is in src/tee/host/inference.cpp; this is the CLI).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/cifar_raw.h"
#include "tee/host/host.h"
#include "tee/host/inference.h"
#include "util/error.h"
#include "util/stats.h"
#include "util/table.h"

namespace msprune::cli {
namespace {

nlohmann::json summary_json(const Summary& s) {
  return {{"n", s.n}, {"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"min", s.min}, {"max", s.max}};
}

}  // namespace

void add_infer_command(CLI::App& app) {
  struct Opts {
    std::string model, data, tee, key, enclave;
    int64_t limit = -1;
    int threads = 1;
    double epc_mib = 93.5, fault_cost_us = 0;
    bool stream = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("infer", "Test-set accuracy and per-image latency of a model (runtime or enclave)");
  sub->add_option("--model", o->model, "Model: .msm, or .sealed with --tee emu")->required();
  add_data_option(sub, &o->data);
  sub->add_option("--limit", o->limit, "Use the first N test records")->check(CLI::PositiveNumber);
  auto* threads = add_threads_option(sub, &o->threads);
  sub->add_option("--tee", o->tee, "Run inside an enclave: emu (the emulated enclave; see docs/tee.md)")
      ->check(CLI::IsMember({"emu"}));
  sub->add_option("--platform-key", o->key, "Platform key (with --tee; default: $MSPRUNE_PLATFORM_KEY)");
  sub->add_option("--enclave", o->enclave, "Enclave program (default: msprune-enclave next to msprune)");
  auto* epc = sub->add_option("--epc-mib", o->epc_mib, "EPC size in MiB, 0 = unlimited (with --tee)")
                  ->capture_default_str()
                  ->check(CLI::NonNegativeNumber);
  auto* cost = sub->add_option("--fault-cost-us", o->fault_cost_us,
                               "Added cost per EPC fault in us, to project SGX1 (~13); reported apart")
                   ->check(CLI::Range(0.0, 1e6));
  auto* stream = sub->add_flag("--stream-weights", o->stream, "Decrypt each op's weights just before it runs");
  sub->add_flag("--json", o->json, "Print JSON");
  sub->callback([o, epc, cost, stream, threads] {
    const bool tee = !o->tee.empty();
    if (!tee && (epc->count() || cost->count() || stream->count() || !o->key.empty()))
      throw Error("--epc-mib, --fault-cost-us, --stream-weights and --platform-key need --tee emu");
    tee::ModelFile model = tee::read_model_file(o->model);
    if (model.sealed && !tee)
      throw Error(o->model + " is sealed: it can only run inside the enclave (add --tee emu --platform-key FILE)");
    const data::CifarRecords test = data::read_cifar(resolve_data_dir(o->data), false, o->limit);
    tee::ImageSet set;
    set.pixels = test.images.data();
    set.labels = test.labels.data();
    set.count = std::size_t(test.size());

    tee::InferConfig cfg;
    cfg.tee = tee;
    cfg.threads = o->threads;
    cfg.stream_weights = o->stream;
    cfg.progress = !o->json;
    if (tee) {
      cfg.enclave.binary = o->enclave.empty() ? tee::find_enclave_binary() : std::filesystem::path(o->enclave);
      cfg.enclave.platform_key = tee::resolve_platform_key(o->key);
      cfg.enclave.epc_mib = o->epc_mib;
      cfg.enclave.fault_cost_us = o->fault_cost_us;
      if (threads->count() && o->threads != 1)
        std::fprintf(stderr, "msprune: note: the enclave runs one thread; --threads applies to native runs\n");
    }
    tee::InferOutcome r = tee::run_infer(model, set, cfg);
    const Summary lat = summarize(r.t.host_ms);
    const double acc = r.images ? double(r.correct) / double(r.images) : 0;
    const double n = double(r.images);

    if (o->json) {
      nlohmann::json j = {{"model", o->model},
                          {"mode", tee ? "tee-emu" : "native"},
                          {"images", r.images},
                          {"correct", r.correct},
                          {"accuracy", acc},
                          {"latency_ms", summary_json(lat)}};
      if (!tee) {
        j["threads"] = o->threads;
        j["kernels"] = r.kernel_level;
      } else {
        j["environment"] = "emulated enclave, not SGX hardware";
        j["enclave_ms"] = summary_json(summarize(r.t.enclave_ms));
        j["epc_mib"] = o->epc_mib;
        j["weights"] = o->stream ? "streaming" : "paging";
        j["sealed_on_the_fly"] = r.sealed_on_the_fly;
        j["measurement"] = tee::hex(r.measurement);
        j["model_hash"] = tee::hex(r.info.model_hash);
        j["heap_bytes"] = r.info.heap_bytes;
        j["load_ms"] = double(r.load_ns) / 1e6;
        j["faults_per_image"] = double(r.stats.faults) / n;
        j["pages_evicted"] = r.stats.pages_evicted;
        j["pages_loaded"] = r.stats.pages_loaded;
        j["peak_resident_bytes"] = r.stats.peak_resident_pages * 4096;
        j["handler_ms_per_image_measured"] = double(r.stats.handler_ns) / 1e6 / n;
        j["fault_cost_us"] = o->fault_cost_us;
        j["added_ms_per_image_projected"] = double(r.stats.injected_ns) / 1e6 / n;
      }
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    if (!tee) {
      std::printf("%s: native runtime (%s kernels, %d thread%s)\n", o->model.c_str(), r.kernel_level.c_str(),
                  o->threads, o->threads == 1 ? "" : "s");
    } else {
      std::printf("%s: EMULATED ENCLAVE (not SGX hardware), EPC %s, %s, 1 thread\n", o->model.c_str(),
                  o->epc_mib == 0 ? "unlimited" : strf("%g MiB", o->epc_mib).c_str(),
                  o->stream ? "weight streaming" : "weights paged");
      if (r.sealed_on_the_fly)
        std::printf("  note: plain .msm sealed on the fly by this host, which therefore held the plaintext\n");
    }
    std::printf("  accuracy   %.2f%% (%zu of %zu test images)\n", 100 * acc, r.correct, r.images);
    std::printf("  latency    p50 %.3f ms  p99 %.3f ms per image%s\n", lat.p50, lat.p99,
                tee ? " (host round trip, one ECALL per image)" : "");
    if (tee) {
      const Summary in = summarize(r.t.enclave_ms);
      std::printf("  enclave    p50 %.3f ms  p99 %.3f ms inside; load %.1f ms\n", in.p50, in.p99,
                  double(r.load_ns) / 1e6);
      std::printf("  EPC        %.1f faults/image, %llu pages evicted, %llu reloaded, peak resident %s of heap %s\n",
                  double(r.stats.faults) / n, (unsigned long long)r.stats.pages_evicted,
                  (unsigned long long)r.stats.pages_loaded,
                  human_bytes(double(r.stats.peak_resident_pages) * 4096).c_str(),
                  human_bytes(double(r.info.heap_bytes)).c_str());
      std::printf("  handler    %.3f ms/image measured", double(r.stats.handler_ns) / 1e6 / n);
      if (o->fault_cost_us > 0)
        std::printf("; + %.3f ms/image added at %g us/fault (projected SGX cost, included in the latency above)",
                    double(r.stats.injected_ns) / 1e6 / n, o->fault_cost_us);
      std::printf("\n");
    }
  });
}

}  // namespace msprune::cli
