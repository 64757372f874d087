// msprune attest / msprune verify-report: emulated local attestation. The
// enclave MACs (measurement, loaded model hash, nonce) under a key derived from
// the platform secret; the verifier, holding the same secret, checks it.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tee/host/host.h"
#include "tee/host/inference.h"
#include "tee/enclave/report.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::cli {
namespace {

constexpr const char* kReportFormat = "msprune-report/1";

nlohmann::json report_json(const std::vector<std::uint8_t>& raw, const tee::Report& r) {
  return {{"format", kReportFormat},
          {"note", "emulated enclave: HMAC-SHA256 under a key derived from the platform key, not an SGX quote"},
          {"measurement", tee::hex(r.measurement)},
          {"model_loaded", (r.flags & tee::kReportFlagModel) != 0},
          {"weight_streaming", (r.flags & tee::kReportFlagStreaming) != 0},
          {"model_hash", tee::hex(r.model_hash)},
          {"nonce", tee::hex({r.nonce, r.nonce_bytes})},
          {"epc_limit_bytes", r.epc_limit_bytes},
          {"report", tee::hex(raw)}};
}

std::vector<std::uint8_t> parse_nonce(const std::string& text) {
  auto n = tee::parse_hex(text, "--nonce");
  if (n.empty() || n.size() > tee::kMaxNonceBytes)
    throw Error("--nonce must be 1.." + std::to_string(tee::kMaxNonceBytes) + " bytes (2.." +
                std::to_string(2 * tee::kMaxNonceBytes) + " hex digits)");
  return n;
}

}  // namespace

void add_attest_command(CLI::App& app) {
  struct Opts {
    std::string nonce, model, key, out, enclave;
    double epc_mib = 93.5;
    bool stream = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("attest", "Start the enclave (optionally with a model) and get a signed report");
  sub->add_option("--nonce", o->nonce, "Verifier's challenge, hex (1..64 bytes)")->required();
  sub->add_option("--model", o->model, "Model to load first (.sealed, or .msm sealed on the fly)");
  sub->add_option("--platform-key", o->key, "Platform key (default: $MSPRUNE_PLATFORM_KEY)");
  sub->add_option("--out", o->out, "Write the report (JSON) here");
  sub->add_option("--enclave", o->enclave, "Enclave program (default: msprune-enclave next to msprune)");
  sub->add_option("--epc-mib", o->epc_mib, "EPC size in MiB (0 = unlimited)")->capture_default_str();
  sub->add_flag("--stream-weights", o->stream, "Load the model in weight-streaming mode");
  sub->add_flag("--json", o->json, "Print the report as JSON");
  sub->callback([o] {
    const auto nonce = parse_nonce(o->nonce);
    tee::EnclaveOptions eo;
    eo.binary = o->enclave.empty() ? tee::find_enclave_binary() : std::filesystem::path(o->enclave);
    eo.platform_key = tee::resolve_platform_key(o->key);
    eo.epc_mib = o->epc_mib;
    std::unique_ptr<tee::EnclaveClient> c;
    bool on_the_fly = false;
    if (!o->model.empty()) {
      c = tee::start_enclave_with(tee::read_model_file(o->model), eo, o->stream, &on_the_fly);
    } else {
      c = std::make_unique<tee::EnclaveClient>(eo);
    }
    auto raw = c->report(nonce);
    c->shutdown();
    tee::Report r;
    tee::TeeError err;
    if (!tee::parse_report(raw, &r, &err)) throw Error(std::string("the enclave sent a malformed report: ") + err.message);
    nlohmann::json j = report_json(raw, r);
    if (!o->out.empty()) atomic_write_bytes(o->out, j.dump(2) + "\n");
    if (o->json) {
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("report from the emulated enclave\n"
                "  measurement  %s\n  model        %s\n  nonce        %s\n  EPC limit    %s\n",
                tee::hex(r.measurement).c_str(),
                (r.flags & tee::kReportFlagModel) ? tee::hex(r.model_hash).c_str() : "(none loaded)",
                tee::hex({r.nonce, r.nonce_bytes}).c_str(),
                r.epc_limit_bytes ? human_bytes(double(r.epc_limit_bytes)).c_str() : "unlimited");
    if (on_the_fly) std::printf("  note: %s was a plain .msm, sealed on the fly by this host\n", o->model.c_str());
    if (!o->out.empty()) std::printf("written to %s (check it with `msprune verify-report`)\n", o->out.c_str());
  });
}

void add_verify_report_command(CLI::App& app) {
  struct Opts {
    std::string report, nonce, key, enclave, measurement, model, model_hash;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("verify-report", "Check a report from `msprune attest` (exit 1 if it does not verify)");
  sub->add_option("--report", o->report, "Report file (JSON from attest --out)")->required();
  sub->add_option("--nonce", o->nonce, "The nonce you sent, hex")->required();
  sub->add_option("--platform-key", o->key, "Platform key (default: $MSPRUNE_PLATFORM_KEY)");
  auto* em = sub->add_option("--measurement", o->measurement, "Expected enclave measurement, hex");
  sub->add_option("--enclave", o->enclave, "Expected enclave program (default: msprune-enclave next to msprune)")
      ->excludes(em);
  auto* mh = sub->add_option("--model-hash", o->model_hash, "Expected model hash, hex");
  sub->add_option("--model", o->model, "Expected model (.msm or .sealed)")->excludes(mh);
  sub->add_flag("--json", o->json, "Print JSON");
  sub->callback([o] {
    auto text = read_file_bytes(o->report, 1 << 20);
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("report") || !j["report"].is_string())
      throw Error(o->report + ": not a report file (expected JSON with a \"report\" hex field)");
    const auto raw = tee::parse_hex(j["report"].get<std::string>(), o->report + ": report");
    const auto key = tee::load_platform_key(tee::resolve_platform_key(o->key));
    tee::Report r;
    tee::TeeError err;
    if (!tee::verify_report(raw, key, &r, &err)) throw Error(o->report + ": " + err.message);
    const auto nonce = parse_nonce(o->nonce);
    if (nonce.size() != r.nonce_bytes || !std::equal(nonce.begin(), nonce.end(), r.nonce))
      throw Error(o->report + ": nonce mismatch (the report answers " + tee::hex({r.nonce, r.nonce_bytes}) +
                  ", not your challenge): a replayed report");
    tee::Digest want_meas;
    std::string meas_src;
    if (!o->measurement.empty()) {
      auto m = tee::parse_hex(o->measurement, "--measurement");
      if (m.size() != 32) throw Error("--measurement must be 32 bytes (64 hex digits)");
      std::copy(m.begin(), m.end(), want_meas.begin());
      meas_src = "--measurement";
    } else {
      auto bin = o->enclave.empty() ? tee::find_enclave_binary() : std::filesystem::path(o->enclave);
      want_meas = tee::measure_enclave(bin);
      meas_src = bin.string();
    }
    if (want_meas != r.measurement)
      throw Error(o->report + ": enclave measurement " + tee::hex(r.measurement) + " is not the expected " +
                  tee::hex(want_meas) + " (" + meas_src + ")");
    std::string model_check = "not checked";
    if (!o->model_hash.empty() || !o->model.empty()) {
      tee::Digest want{};
      if (!o->model_hash.empty()) {
        auto h = tee::parse_hex(o->model_hash, "--model-hash");
        if (h.size() != 32) throw Error("--model-hash must be 32 bytes (64 hex digits)");
        std::copy(h.begin(), h.end(), want.begin());
      } else {
        auto mf = tee::read_model_file(o->model);
        if (mf.sealed) {
          tee::SealedModel s;
          if (!tee::peek_sealed_header(mf.bytes, &s, &err)) throw Error(o->model + ": " + err.message);
          want = s.model_hash;
        } else {
          want = tee::plan_seal(mf.bytes, o->model).content_hash;
        }
      }
      if (!(r.flags & tee::kReportFlagModel)) throw Error(o->report + ": the enclave had no model loaded");
      if (want != r.model_hash)
        throw Error(o->report + ": loaded model " + tee::hex(r.model_hash) + " is not the expected " + tee::hex(want));
      model_check = "matches";
    }
    if (o->json) {
      nlohmann::json out = {{"ok", true}, {"measurement", tee::hex(r.measurement)}, {"model", model_check},
                            {"model_hash", tee::hex(r.model_hash)}};
      std::printf("%s\n", out.dump().c_str());
    } else {
      std::printf("report OK (emulated enclave): MAC verifies under the platform key, nonce matches,\n"
                  "  measurement %s (%s), model %s\n",
                  tee::hex(r.measurement).substr(0, 16).c_str(), meas_src.c_str(), model_check.c_str());
    }
  });
}

}  // namespace msprune::cli
