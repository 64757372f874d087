#include "train/checkpoint.h"

#include "util/atomic_file.h"
#include "util/error.h"

namespace msprune::train {
namespace fs = std::filesystem;

void save_checkpoint(const fs::path& path, const models::Net& model, const torch::optim::Optimizer* optimizer,
                     nlohmann::json meta) {
  meta["format"] = "msprune-checkpoint";
  meta["version"] = kCheckpointVersion;
  meta["spec"] = model->spec().to_json();
  torch::serialize::OutputArchive root;
  root.write("meta", c10::IValue(meta.dump()));
  torch::serialize::OutputArchive m;
  // Save from CPU so checkpoints are device-independent.
  auto dev = model->parameters().empty() ? torch::Device(torch::kCPU) : model->parameters()[0].device();
  if (dev.is_cpu()) {
    model->save(m);
  } else {
    model->to(torch::kCPU);
    model->save(m);
    model->to(dev);
  }
  root.write("model", m);
  if (optimizer) {
    torch::serialize::OutputArchive o;
    optimizer->save(o);
    root.write("optimizer", o);
  }
  atomic_write(path, [&](const fs::path& tmp) { root.save_to(tmp.string()); });
}

static torch::serialize::InputArchive open_archive(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path.string() + ": checkpoint not found");
  if (!fs::is_regular_file(path, ec)) throw Error(path.string() + ": not a regular file");
  torch::serialize::InputArchive root;
  try {
    root.load_from(path.string());
  } catch (const std::exception& e) {
    std::string w = e.what();
    throw Error(path.string() + ": not a readable msprune checkpoint (" + w.substr(0, w.find('\n')) + ")");
  }
  return root;
}

Checkpoint load_checkpoint(const fs::path& path) {
  auto root = open_archive(path);
  Checkpoint ck;
  ck.path = path;
  c10::IValue meta;
  if (!root.try_read("meta", meta) || !meta.isString())
    throw Error(path.string() + ": checkpoint has no metadata (not an msprune checkpoint?)");
  try {
    ck.meta = nlohmann::json::parse(meta.toStringRef());
  } catch (const std::exception& e) {
    throw Error(path.string() + ": checkpoint metadata is not valid JSON");
  }
  if (!ck.meta.is_object() || ck.meta.value("format", "") != "msprune-checkpoint")
    throw Error(path.string() + ": not an msprune checkpoint (format field missing)");
  if (ck.meta.value("version", 0) != kCheckpointVersion)
    throw Error(path.string() + ": checkpoint version " + ck.meta.value("version", nlohmann::json(0)).dump() +
                " not supported (expected " + std::to_string(kCheckpointVersion) + ")");
  if (!ck.meta.contains("spec")) throw Error(path.string() + ": checkpoint has no model spec");
  models::ModelSpec spec;
  try {
    spec = models::ModelSpec::from_json(ck.meta["spec"]);
  } catch (const Error& e) {
    throw Error(path.string() + ": " + e.what());
  }
  ck.model = models::build_model(spec);
  torch::serialize::InputArchive m;
  if (!root.try_read("model", m)) throw Error(path.string() + ": checkpoint has no model weights");
  // Module::load replaces tensors wholesale (set_), so shapes and dtypes are
  // checked here against what the spec builds.
  std::vector<std::pair<std::string, torch::Tensor>> expected;
  for (const auto& p : ck.model->named_parameters()) expected.emplace_back(p.key(), torch::empty_like(p.value()));
  for (const auto& b : ck.model->named_buffers()) expected.emplace_back(b.key(), torch::empty_like(b.value()));
  try {
    ck.model->load(m);
  } catch (const std::exception& e) {
    std::string w = e.what();
    throw Error(path.string() + ": weights do not match the " + spec.name() + " configuration (" +
                w.substr(0, w.find('\n')) + ")");
  }
  auto params = ck.model->named_parameters();
  auto buffers = ck.model->named_buffers();
  for (const auto& [key, want] : expected) {
    const torch::Tensor* got = params.find(key);
    if (!got) got = buffers.find(key);
    if (!got || got->sizes() != want.sizes() || got->scalar_type() != want.scalar_type())
      throw Error(path.string() + ": weights do not match the " + spec.name() + " configuration (" + key + " has shape " +
                  (got ? c10::str(got->sizes()) : std::string("<missing>")) + ", expected " + c10::str(want.sizes()) +
                  ")");
  }
  // Also reject non-finite weights and bad channel selections.
  for (const auto& p : params) {
    if (!torch::isfinite(p.value()).all().item<bool>())
      throw Error(path.string() + ": parameter " + p.key() + " holds NaN or infinity");
  }
  try {
    ck.model->validate_state();
  } catch (const Error& e) {
    throw Error(path.string() + ": " + e.what());
  }
  return ck;
}

bool load_optimizer_state(const fs::path& path, torch::optim::Optimizer& optimizer) {
  auto root = open_archive(path);
  torch::serialize::InputArchive o;
  if (!root.try_read("optimizer", o)) return false;
  try {
    optimizer.load(o);
  } catch (const std::exception& e) {
    std::string w = e.what();
    throw Error(path.string() + ": optimizer state does not match the model (" + w.substr(0, w.find('\n')) + ")");
  }
  return true;
}

}  // namespace msprune::train
