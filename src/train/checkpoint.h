#pragma once
// Checkpoints: one file holding the model's weights, its ModelSpec
// (architecture + channel configuration), the optimizer state, the training
// state (epoch, step) and metrics. Written to a temporary file and renamed,
// so an interrupted run never leaves a broken checkpoint; read defensively
// (every problem becomes an msprune::Error naming the file).
//
// Layout: a LibTorch archive (zip) with
//   "meta"      string: JSON {"format": "msprune-checkpoint", "version": 1,
//               "spec": {...}, "state": {...}, "metrics": {...}, "train": {...}}
//   "model"     sub-archive: parameters and buffers (module->save)
//   "optimizer" sub-archive (optional): SGD state (momentum buffers)
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "models/models.h"

namespace msprune::train {

constexpr int kCheckpointVersion = 1;

struct Checkpoint {
  models::Net model;
  nlohmann::json meta;  // includes "spec"
  std::filesystem::path path;
};

// Saves atomically. `meta` may hold anything; "format", "version" and "spec"
// are filled in here.
void save_checkpoint(const std::filesystem::path& path, const models::Net& model,
                     const torch::optim::Optimizer* optimizer, nlohmann::json meta);

// Loads the model (on CPU). Throws msprune::Error on a missing, truncated or
// foreign file, a bad spec, or weights that do not match the spec.
Checkpoint load_checkpoint(const std::filesystem::path& path);

// Restores optimizer state saved with the checkpoint; false if none was saved.
bool load_optimizer_state(const std::filesystem::path& path, torch::optim::Optimizer& optimizer);

}  // namespace msprune::train
