// msprune keygen / msprune seal: the emulated platform key and sealed models
// (docs/tee.md). Sealing binds a .msm to one enclave build and one platform.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tee/host/host.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::cli {

void add_keygen_command(CLI::App& app) {
  struct Opts {
    std::string out;
    bool force = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("keygen", "Create an emulated platform key (32 random bytes, mode 0600)");
  sub->add_option("--out", o->out, "Key file to create")->required();
  sub->add_flag("--force", o->force, "Replace an existing key (models sealed to it become unreadable)");
  sub->callback([o] {
    tee::write_new_platform_key(o->out, o->force);
    std::printf("platform key written to %s (32 bytes, mode 0600)\n"
                "It stands in for the CPU's fused key of an SGX machine: whoever can read this file can\n"
                "unseal every model sealed to it and forge reports. Keep it off shared disks.\n",
                o->out.c_str());
  });
}

void add_seal_command(CLI::App& app) {
  struct Opts {
    std::string model, out, key, enclave;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("seal", "Seal a .msm model to this enclave build and platform key (AES-256-GCM)");
  sub->add_option("--model", o->model, "Model to seal (.msm)")->required();
  sub->add_option("--out", o->out, "Sealed model to write")->required();
  sub->add_option("--platform-key", o->key, "Platform key (default: $MSPRUNE_PLATFORM_KEY)");
  sub->add_option("--enclave", o->enclave, "Enclave program to seal to (default: msprune-enclave next to msprune)");
  sub->add_flag("--json", o->json, "Print JSON");
  sub->callback([o] {
    auto msm = read_file_bytes(o->model);
    if (tee::looks_sealed(msm)) throw Error(o->model + " is already sealed");
    const auto key = tee::load_platform_key(tee::resolve_platform_key(o->key));
    const auto enclave = o->enclave.empty() ? tee::find_enclave_binary() : std::filesystem::path(o->enclave);
    const tee::Digest meas = tee::measure_enclave(enclave);
    const tee::SealPlan plan = tee::plan_seal(msm, o->model);
    auto sealed = tee::seal_model(msm, meas, key, o->model);
    atomic_write_bytes(o->out, std::string_view(reinterpret_cast<const char*>(sealed.data()), sealed.size()));
    if (o->json) {
      nlohmann::json j = {{"model", o->model},
                          {"out", o->out},
                          {"model_bytes", msm.size()},
                          {"sealed_bytes", sealed.size()},
                          {"chunks", plan.chunks.size()},
                          {"model_hash", tee::hex(plan.content_hash)},
                          {"enclave", enclave.string()},
                          {"measurement", tee::hex(meas)}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("sealed %s -> %s\n  model hash    %s\n  enclave       %s\n  measurement   %s\n"
                  "  %s in %zu chunks (AES-256-GCM, one per op's weights)\n",
                  o->model.c_str(), o->out.c_str(), tee::hex(plan.content_hash).c_str(), enclave.c_str(),
                  tee::hex(meas).c_str(), human_bytes(double(sealed.size())).c_str(), plan.chunks.size());
    }
  });
}

}  // namespace msprune::cli
