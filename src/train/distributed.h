#pragma once
// Data-parallel training on LibTorch's own c10d engine (the one PyTorch's
// DistributedDataParallel uses): a TCPStore rendezvous and a ProcessGroupGloo
// (CPU) or ProcessGroupNCCL (CUDA, only where the LibTorch has it). No
// parameter server: every process holds the whole model, computes gradients on
// its shard of the global batch, and the gradients are all-reduced.
//
// What this file does and does not do, against DDP's defaults:
//   * parameters and buffers are broadcast from rank 0 when training starts
//     (DDP's constructor), so every rank starts from rank 0's weights;
//   * gradients are all-reduced in buckets (flattened, at most bucket_bytes
//     each, DDP's 25 MiB default) and divided by the world size; the buckets
//     are issued asynchronously and waited on together, after backward (DDP
//     overlaps them with backward through autograd hooks: a speed difference,
//     not a numerical one);
//   * buffers (BN running statistics) are broadcast from rank 0 before every
//     forward (DDP's broadcast_buffers=True), so what rank 0 checkpoints is
//     what every rank used.
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace msprune::train {

// Where a process sits in a data-parallel job and how to meet the others.
struct DistConfig {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;                       // index on this machine (CUDA device)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string backend = "auto";             // auto | gloo | nccl
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};  // PyTorch's default
  int64_t bucket_bytes = 25 << 20;

  bool distributed() const { return world_size > 1; }
  // Refuses a rank outside [0, world), a world size outside 1..4096, a port
  // outside 1..65535, an empty address, an unknown backend or a timeout
  // outside 1 s..24 h; the message names the value.
  void validate() const;
  std::string describe() const;  // "rank 1 of 2, gloo via 127.0.0.1:29500"
};

// Fills a config from torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT) where they are set; a value that is not a whole
// number in range is an error naming the variable. Returns false when neither
// RANK nor WORLD_SIZE is set (a plain single-process run).
bool dist_config_from_env(DistConfig& c);

// Parses a whole number for an option or a variable; throws msprune::Error
// "NAME: 'text' is not a whole number in [lo, hi]".
int64_t parse_int_in(const std::string& name, const std::string& text, int64_t lo, int64_t hi);

// "gloo" or "nccl" for a device and the --backend choice; throws when NCCL is
// asked for and this LibTorch has none, or NCCL for a CPU device.
std::string resolve_backend(const std::string& choice, const torch::Device& device);

// True when this build can make a process group (Gloo headers were found).
bool distributed_supported();

class ProcessGroupHandle;  // hides c10d (and Gloo's headers) from users

// One process's membership of the job. Every collective throws msprune::Error
// "rank R: <what> failed: <c10d's message> ..." when a peer died or the
// timeout passed; the object must then not be used again.
class Distributed {
 public:
  // Meets the other processes (rank 0 hosts the TCPStore) and builds the
  // process group. Blocks until all world_size processes arrived or the
  // timeout passed.
  Distributed(const DistConfig& cfg, const torch::Device& device);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return cfg_.rank; }
  int world_size() const { return cfg_.world_size; }
  const DistConfig& config() const { return cfg_; }
  const std::string& backend() const { return backend_; }

  // In-place sum over all ranks of each tensor (one flat buffer per dtype and
  // bucket).
  void allreduce_sum(const std::vector<torch::Tensor>& tensors);
  // Copies rank `root`'s values into every rank's tensors.
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
  // Averages the gradients of `params` over the ranks (bucketed, summed, then
  // divided by the world size).
  void average_gradients(const std::vector<torch::Tensor>& params);
  // Waits until every rank got here.
  void barrier();

 private:
  void fail(const std::string& what, const std::exception& e);

  DistConfig cfg_;
  std::string backend_;
  std::unique_ptr<ProcessGroupHandle> pg_;
  bool failed_ = false;
};

}  // namespace msprune::train
