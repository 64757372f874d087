#pragma once
// Running a model: natively (the runtime in this process) or inside the
// emulated enclave (EnclaveClient). Shared by `msprune infer` and
// `msprune bench --tee emu`; host side, errors thrown as msprune::Error.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "tee/host/enclave_client.h"
#include "tee/enclave/keys.h"

namespace msprune::tee {

// A model file as given on the command line: a plain .msm or a sealed blob.
struct ModelFile {
  std::filesystem::path path;
  std::vector<std::uint8_t> bytes;
  bool sealed = false;
  std::string name() const { return path.stem().string(); }
};
ModelFile read_model_file(const std::filesystem::path& path);

// What to hand the enclave: a sealed file as is; a plain .msm sealed now to
// `measurement` (the host then held the plaintext, which callers report).
std::vector<std::uint8_t> sealed_bytes_for(const ModelFile& m, const Digest& measurement, const PlatformKey& key);

// The runtime in this process, resident weights, on its own arena. Keeps its
// own 64-byte-aligned copy of the model bytes.
class NativeRunner {
 public:
  NativeRunner(const ModelFile& m, int threads);
  NativeRunner(const NativeRunner&) = delete;
  NativeRunner& operator=(const NativeRunner&) = delete;
  void run_u8(const std::uint8_t* image, float* logits);
  const rt::Model& model() const { return model_; }
  std::string kernel_level() const { return rt::kernel_level_name(interp_.kernel_level()); }

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> bytes_, arena_;  // declared first: outlive the interpreter
  rt::Model model_;
  rt::Interpreter interp_;
};

// Images in the CIFAR binary layout (uint8 CHW), with optional labels.
struct ImageSet {
  const std::uint8_t* pixels = nullptr;
  const std::int64_t* labels = nullptr;  // may be null
  std::size_t count = 0;
  std::size_t c = 3, h = 32, w = 32;
  std::size_t image_bytes() const { return c * h * w; }
};

// Per-image timings of single-image calls.
struct Timings {
  std::vector<double> host_ms;     // around the call (enclave: the ECALL round trip)
  std::vector<double> enclave_ms;  // inside the enclave (empty when native)
  std::vector<std::uint64_t> faults;  // EPC faults per call (empty when native)
  std::size_t correct = 0, labelled = 0;
};

// Runs every image of `images` (index i % count for i < n) once, single-image
// calls; `logits_out` (if not null) receives n * classes floats.
Timings time_native(NativeRunner& r, const ImageSet& images, std::size_t n, bool progress,
                    std::vector<float>* logits_out = nullptr);
Timings time_enclave(EnclaveClient& c, const ImageSet& images, std::size_t n, bool progress,
                     std::vector<float>* logits_out = nullptr);

struct InferConfig {
  bool tee = false;
  EnclaveOptions enclave;     // tee: binary, key, EPC, fault cost
  bool stream_weights = false;
  int threads = 1;            // native only; the enclave runs one thread
  bool progress = true;
};

struct InferOutcome {
  std::size_t images = 0, correct = 0;
  Timings t;
  bool tee = false, streaming = false, sealed_on_the_fly = false;
  std::string kernel_level;
  ModelInfo info;        // tee
  EnclaveStats stats;    // tee: counters over the timed images only
  Digest measurement{};  // tee
  std::uint64_t load_ns = 0;  // tee: load ECALL (unseal + verify + plan)
};

InferOutcome run_infer(const ModelFile& model, const ImageSet& images, const InferConfig& cfg);

// Loads `model` into a fresh enclave (sealing a .msm on the fly). Returns the
// client; `sealed_on_the_fly` says whether the host sealed it.
std::unique_ptr<EnclaveClient> start_enclave_with(const ModelFile& model, const EnclaveOptions& opts, bool stream,
                                                  bool* sealed_on_the_fly, std::uint64_t* load_ns = nullptr);

}  // namespace msprune::tee
