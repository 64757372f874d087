#pragma once
// LibTorch -> .msm export (host side; docs/export.md).
//
// Turns a network of the zoo (src/models), pruned or not, into the runtime's
// graph with the Torch-free writer (export/msm_writer.h):
//  * BatchNorm that follows a convolution is folded into it (VGG's BNs,
//    PreResNet's bn2/bn3);
//  * BatchNorm that follows a sum or a concatenation becomes a per-channel
//    affine with ReLU, and the channel selection after it becomes the
//    affine's gather (PreResNet's bn1 and final bn, every DenseNet BN);
//  * DenseNet's concatenations are planned in place by the writer.
// Inference semantics: BN running statistics, whatever the module's mode.
//
// Also here: a host-side holder for a loaded .msm (aligned copy, arena,
// interpreter) and the parity check between LibTorch and the runtime that
// `msprune export` runs on every file it writes.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "data/cifar.h"
#include "tee/enclave/enclave_heap.h"
#include "export/msm_writer.h"
#include "models/models.h"
#include "runtime/runtime.h"

namespace msprune::exporter {

// The input normalisation stored in the file (what `invoke_u8` applies): the
// one the spec records (imported networks, `msprune import --normalize`), else
// CIFAR-100's statistics for 100-class models, CIFAR-10's otherwise — the
// same constants the trainer and `msprune eval` use (data::normalization_for).
// `eval` and `finetune` normalise their data with this too.
data::Normalization input_normalization(const models::ModelSpec& spec);

// Builds the .msm bytes of `net` (verified by the runtime before returning).
// Throws msprune::Error naming the layer if something cannot be expressed.
std::vector<uint8_t> export_msm(models::NetImpl& net, const msm::FinishOptions& opts = {});

// ---------------------------------------------------------------------------
// What a file holds, read back through the runtime's verifier.
struct MsmSummary {
  uint32_t ops = 0;
  std::vector<std::pair<std::string, uint32_t>> op_counts;  // by type, in first-seen order
  uint64_t params = 0, macs = 0;
  uint64_t file_bytes = 0, weights_bytes = 0, metadata_bytes = 0;
  uint64_t arena_bytes = 0, activation_bytes = 0;
  uint64_t enclave_heap_bytes = 0;  // round_up_64(file_bytes) + arena_bytes (tee/enclave/enclave_heap.h)
  uint32_t input_c = 0, input_h = 0, input_w = 0, classes = 0;
  std::string content_hash;  // meta_sha256, hex
};
// Throws msprune::Error if the runtime rejects the bytes.
MsmSummary summarize_msm(std::span<const uint8_t> bytes);
nlohmann::json summary_json(const MsmSummary& s);

// The enclave heap the exported `net` needs (tee/enclave/enclave_heap.h): exports
// it in memory exactly as `msprune export` does (default FinishOptions: BN
// folded, memory plan), loads the bytes with the runtime and returns
// round_up_64(.msm bytes) + arena_bytes. `inspect` on the file `export`
// writes for the same network prints the same number. Throws msprune::Error
// as export_msm does.
uint64_t exported_enclave_heap_bytes(models::NetImpl& net);

// ---------------------------------------------------------------------------
// A .msm loaded for use on the host: its own 64-byte-aligned copy of the
// bytes, a verified Model, a caller-side arena and an Interpreter. The copy
// and the arena are fresh anonymous mappings, so the pages they occupy are
// exactly the pages the runtime touches (see bench/native/bench_native.h).
class HostedModel {
 public:
  HostedModel(std::span<const uint8_t> bytes, const rt::InterpreterOptions& opts = {});
  HostedModel(const HostedModel&) = delete;
  HostedModel& operator=(const HostedModel&) = delete;

  const rt::Model& model() const { return model_; }
  rt::Interpreter& interpreter() { return interp_; }
  // Both throw msprune::Error with the runtime's message on failure.
  void invoke(const float* chw, float* logits);
  void invoke_u8(const uint8_t* chw, float* logits);

 private:
  struct Mapping {  // an anonymous mapping, unmapped on destruction
    explicit Mapping(size_t n);
    ~Mapping();
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    void* ptr = nullptr;
    size_t bytes = 0;
  };
  // Declaration order = destruction in reverse: the interpreter goes first.
  Mapping bytes_;
  std::unique_ptr<Mapping> arena_;
  rt::Model model_;
  rt::Interpreter interp_;
};

// ---------------------------------------------------------------------------
// Parity between LibTorch (eval, no grad) and the runtime.
struct Parity {
  int64_t inputs = 0;
  double max_abs_diff = 0;    // largest |logit_torch - logit_runtime|
  double max_abs_logit = 0;   // largest |logit_torch|
  double rel() const { return max_abs_logit > 0 ? max_abs_diff / max_abs_logit : max_abs_diff; }
  int64_t top1_agree = 0;     // same argmax
  // Labelled data only (labels given):
  int64_t torch_correct = 0, runtime_correct = 0;
  bool labelled = false;
};

// Adds one image's logits (`classes` each) to `p`; `label` < 0: unlabelled.
void add_to_parity(Parity& p, const float* torch_logits, const float* runtime_logits, int64_t classes,
                   int64_t label = -1);

// Random normalised inputs (standard normal, seeded): `n` images through both.
// random_inputs() makes the same tensor [n,C,H,W] for a model.
Parity compare_random(models::NetImpl& net, HostedModel& rt_model, int64_t n, uint64_t seed);
torch::Tensor random_inputs(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed);

// Raw images (uint8 [N,3,H,W], CIFAR layout): LibTorch on the normalised
// image ((x/255 - mean)/std, as the trainer does) against the runtime's
// invoke_u8; `labels` (int64 [N]) optional. Batches of `batch` for LibTorch.
// `progress` shows a bar on stderr.
Parity compare_images(models::NetImpl& net, HostedModel& rt_model, const torch::Tensor& images,
                      const torch::Tensor& labels, int64_t batch = 100, bool progress = false);

// LibTorch's logits for one batch of normalised inputs [N,C,H,W] (eval mode,
// NoGradGuard; the module's mode is restored).
torch::Tensor torch_logits(models::NetImpl& net, const torch::Tensor& x);

// The relative tolerance `msprune export` enforces (parity rel() must not exceed it).
constexpr double kParityTolerance = 1e-4;

}  // namespace msprune::exporter
