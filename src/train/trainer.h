#pragma once
// Training with Network Slimming's sparsity penalty: SGD with momentum,
// weight decay, a step (x0.1 at 50% and 75% of the epochs) or cosine
// learning-rate schedule, and, after backward, `s * sign(gamma)` added to the
// gradient of every BatchNorm scale.
//
// Determinism: with a fixed seed on one thread, two runs give identical
// weights; a run stopped after k steps and resumed gives exactly the weights
// of an uninterrupted run (batches and augmentation depend only on
// (seed, epoch, batch index); optimizer state travels in the checkpoint).
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "data/augment.h"
#include "data/cifar.h"
#include "models/models.h"

namespace msprune::train {

class Distributed;

struct TrainOptions {
  int epochs = 160;
  int64_t batch_size = 64;
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 1e-4;
  double sparsity = 0.0;            // s; 0 disables the penalty
  int sparsity_warmup = 0;          // W > 0: epoch e (0-based) uses s * min(1, (e + 1) / (W + 1))
  std::string schedule = "step";    // "step" | "cosine"
  uint64_t seed = 1;
  int64_t max_steps = -1;           // stop (and checkpoint) after this many optimizer steps in total
  int64_t eval_batch = 256;
  bool progress = true;             // progress bar on stderr
  // BN layers use (and keep) their running statistics while the rest trains:
  // BN in eval mode. Makes a step independent of how a batch is split over
  // processes (used by the data-parallel equivalence test; also a common
  // fine-tuning choice). Saved only when on.
  bool freeze_bn = false;
  // SyncBatchNorm in data-parallel runs (sync_bn.h): training-mode BN uses
  // the statistics of the global batch, so a step is that of one process
  // with the whole global batch. Without a process group (one process) it
  // changes nothing, as PyTorch's SyncBatchNorm. Excludes freeze_bn (no batch
  // statistics there to synchronise). Saved only when on.
  bool sync_bn = false;

  nlohmann::json to_json() const;
  static TrainOptions from_json(const nlohmann::json& j);  // throws msprune::Error
  void validate() const;                                    // throws msprune::Error
};

// Where a run is: `epoch` epochs fully done, plus `batch` batches of the next.
struct TrainState {
  int64_t epoch = 0, batch = 0, step = 0;
  double best_acc = -1;
  nlohmann::json history = nlohmann::json::array();
  nlohmann::json to_json() const;
  static TrainState from_json(const nlohmann::json& j);
};

// Test-set accuracy in [0, 1] (eval mode, no grad; train mode restored).
double evaluate(const models::Net& model, data::BatchPipeline& test, int64_t batch = 256);

// Mean |gamma| over every BatchNorm of the model.
double mean_abs_gamma(const models::Net& model);

// Learning rate at an epoch (0-based) under a schedule.
double lr_at(const TrainOptions& o, int64_t epoch);

// The sparsity strength in an epoch (0-based): s, ramped over the warm-up.
double sparsity_at(const TrainOptions& o, int64_t epoch);

// Adds s * sign(gamma) to every BN scale's gradient (no-op for s == 0).
void add_sparsity_gradient(const models::Net& model, double s);

class Trainer {
 public:
  Trainer(models::Net model, data::BatchPipeline& train, data::BatchPipeline* test, TrainOptions opt,
          torch::Device device);

  // Data parallelism (distributed.h): this process becomes one rank of
  // `dist` (which must outlive the trainer). `opt.batch_size` is then the
  // per-process batch, as in PyTorch DDP; the global batch is batch_size x
  // world size, and everything per epoch (lr, sparsity) is the same on every
  // rank. Each rank trains on its shard of each global batch
  // (BatchPipeline::train_batch_shard), gradients are averaged over the ranks
  // before the sparsity term is added (so it is added once, see run()), BN
  // buffers follow rank 0, and only rank 0 writes checkpoints, shows progress
  // and calls on_epoch. Call before resume().
  void set_distributed(Distributed* dist);

  // Continue from a checkpoint written by this trainer: model, optimizer and
  // state. Throws if the checkpoint's spec or options disagree. A checkpoint
  // of a data-parallel run resumes with any process count that keeps the
  // global batch (batch_size x processes) the same.
  void resume(const std::filesystem::path& ckpt);

  // Data parallelism: copies rank 0's parameters, buffers, momentum buffers
  // and run state to every rank (DDP's broadcast at construction). Throws if
  // the ranks are at different steps. No-op without set_distributed().
  void sync_from_rank0();

  // Runs until `epochs` (or max_steps); after every epoch (and when stopping
  // at max_steps) writes the checkpoint `out` if not empty. `on_epoch`
  // receives one JSON record per finished epoch. Returns a summary.
  nlohmann::json run(const std::filesystem::path& out, const std::function<void(const nlohmann::json&)>& on_epoch = {},
                     const nlohmann::json& extra_meta = {});

  // One optimizer step on an explicit batch; returns the loss.
  double step(const torch::Tensor& x, const torch::Tensor& y);

  const TrainState& state() const { return state_; }
  torch::optim::SGD& optimizer() { return *opt_sgd_; }
  const models::Net& model() const { return model_; }

 private:
  void save(const std::filesystem::path& out, const nlohmann::json& extra_meta, double last_acc);
  void train_mode();
  bool lead() const;
  double evaluate_test();

  models::Net model_;
  data::BatchPipeline& train_;
  data::BatchPipeline* test_;
  TrainOptions opt_;
  torch::Device device_;
  std::unique_ptr<torch::optim::SGD> opt_sgd_;
  TrainState state_;
  Distributed* dist_ = nullptr;
};

}  // namespace msprune::train
