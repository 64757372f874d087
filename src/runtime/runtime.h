#pragma once
// msprune enclave runtime: the public API (the only header other parts include).
//
// A verified interpreter for `.msm` models (byte-level spec:
// docs/model-format.md). Enclave-safe: C++ standard library only, no
// exceptions, no RTTI, no iostream, no heap allocation at all; every function
// returns a Status, and the optional Error names the field, its byte offset
// and the numbers involved.
//
// Typical use (resident weights):
//
//   msprune::rt::Model model;
//   msprune::rt::Error err;
//   if (model.load(bytes, size, {}, &err) != msprune::rt::Status::kOk) { ... err.message ... }
//   void* arena = aligned_alloc(64, model.arena_bytes());     // caller-owned
//   msprune::rt::Interpreter interp;
//   if (interp.init(model, arena, model.arena_bytes(), {}, &err) != kOk) { ... }
//   float logits[10];
//   if (interp.invoke(input_chw, logits, &err) != kOk) { ... }
//
// Weight streaming (TEE): load the metadata only with
// `LoadOptions{.weights = WeightMode::kStreaming}`, give `InterpreterOptions::
// fetch`; before each op with weights the interpreter calls it to copy that
// op's `op_info(i).weight_bytes` bytes (payload offset `weight_offset`) into a
// staging buffer inside the arena (`staging_bytes()`, the largest op's range).
// Authenticating those bytes is the caller's job.
//
// Memory: weights stay in the caller's model bytes (resident) or in the
// staging buffer (streaming); everything else the interpreter needs lives in
// the caller's arena of exactly `arena_bytes()` bytes (64-byte aligned).
// The model bytes and the arena must outlive the Interpreter; the model bytes
// must not change after load().
#include <cstddef>
#include <cstdint>

namespace msprune::rt {

struct Act;  // internal (runtime/internal.h)

// --------------------------------------------------------------------------
// Status and errors

enum class [[nodiscard]] Status : uint32_t {
  kOk = 0,
  kTruncated,       // the span ends inside a structure the format requires
  kBadMagic,        // not an .msm file
  kBadVersion,      // unsupported format version
  kBadHeader,       // a header field is out of range or inconsistent
  kBadHash,         // a SHA-256 does not match the bytes
  kBadTensor,       // a tensor record breaks a rule (kind, shape, offset, size)
  kBadOp,           // an op record breaks a rule (type, slots, shapes, params)
  kBadGraph,        // producers, use-before-definition, in-place hazards
  kBadPlan,         // lifetimes, arena bounds, overlapping live buffers, weight ranges
  kBadAlignment,    // a pointer or offset is not aligned as required
  kOverflow,        // an integer product or sum overflows
  kArenaTooSmall,   // the arena given is smaller than arena_bytes()
  kBadArgument,     // a null pointer or an option out of range
  kUnsupported,     // the requested kernel level is not available on this CPU
  kStreamFailed,    // the weight fetch callback reported failure
  kThreadFailed,    // a worker thread could not be started
  kNotReady,        // model not loaded / interpreter not initialised
};

// "ok", "truncated", ... (static strings).
const char* status_name(Status s);

struct Error {
  static constexpr uint64_t kNoOffset = ~uint64_t(0);
  Status status = Status::kOk;
  uint64_t offset = kNoOffset;  // byte offset in the model of the offending field
  char message[256] = {};       // NUL-terminated, names field, offset and numbers
};

// --------------------------------------------------------------------------
// Model: a verified view over caller-owned bytes (nothing is copied).

enum class HashCheck : uint8_t {
  kFull,      // meta_sha256 and (resident mode) weights_sha256
  kMetadata,  // meta_sha256 only (payload authenticated elsewhere)
  kNone,      // no hash check (fuzzing, tests that reach the structural checks)
};

enum class WeightMode : uint8_t {
  kResident,   // span = the whole file; weights used in place
  kStreaming,  // span = the metadata [0, weights_offset) (or the whole file);
               // weights fetched per op through InterpreterOptions::fetch
};

struct LoadOptions {
  HashCheck hash = HashCheck::kFull;
  WeightMode weights = WeightMode::kResident;
};

enum class OpType : uint16_t {
  kConv2d = 1,
  kAffine = 2,
  kMaxPool = 3,
  kAvgPool = 4,
  kAdd = 5,
  kConcat = 6,
  kLinear = 7,
  kSoftmax = 8,
};
// "conv2d", "affine", ... ("?" for values outside the enum).
const char* op_type_name(OpType t);

struct OpInfo {
  OpType type = OpType::kConv2d;
  bool relu = false;
  uint32_t num_inputs = 0;
  uint32_t in_c = 0, in_h = 0, in_w = 0;     // first input
  uint32_t out_c = 0, out_h = 0, out_w = 0;
  uint32_t kernel = 0, stride = 0, pad = 0;  // conv / pools (0 otherwise)
  bool gather = false;                       // affine with channel gather
  bool in_place = false;                     // concat: every part already in place
  bool quad = false;                         // conv: weights in CONV_QUAD (else CONV_PACKED)
  uint64_t macs = 0;           // multiply-accumulates (conv, linear); elementwise ops count 0
  uint64_t params = 0;         // weight elements (logical, without packing pad) + indices
  uint64_t weight_offset = 0;  // this op's weight range in the payload
  uint64_t weight_bytes = 0;   // its length (0: no weights)
};

class Model {
 public:
  // Verifies `data[0, size)` (docs/model-format.md, "Verification order").
  // Never reads outside the span, never aborts. On failure the model stays
  // unloaded and `err` (if given) says why.
  Status load(const void* data, size_t size, const LoadOptions& opts, Error* err);

  bool loaded() const { return data_ != nullptr; }
  WeightMode weight_mode() const { return mode_; }

  uint32_t input_channels() const { return in_c_; }
  uint32_t input_height() const { return in_h_; }
  uint32_t input_width() const { return in_w_; }
  uint32_t num_classes() const { return classes_; }
  uint32_t num_ops() const { return num_ops_; }
  uint32_t num_tensors() const { return num_tensors_; }
  const float* input_mean() const { return mean_; }  // input_channels() entries
  const float* input_std() const { return std_; }

  uint64_t file_bytes() const { return file_bytes_; }
  uint64_t metadata_bytes() const { return weights_offset_; }  // = weights_offset
  uint64_t weights_bytes() const { return weights_bytes_; }
  uint64_t activation_bytes() const { return activation_bytes_; }
  uint64_t staging_bytes() const { return staging_bytes_; }
  const uint8_t* content_hash() const { return meta_hash_; }   // meta_sha256, 32 bytes
  const uint8_t* weights_hash() const { return weights_hash_; }  // weights_sha256, 32 bytes

  // Bytes the interpreter needs from the caller's arena: prepared op table,
  // gather indices, activations, and (streaming mode) the staging buffer.
  // Exact and known before any inference; 0 if not loaded.
  size_t arena_bytes() const;

  // Per-op description (shapes, MACs, weight range); kBadArgument if i is out of range.
  Status op_info(uint32_t i, OpInfo* out) const;
  uint64_t total_macs() const;

  // Internal accessors (used by the interpreter).
  const uint8_t* bytes() const { return data_; }
  size_t size() const { return size_; }
  uint64_t index_bytes() const { return index_bytes_; }
  uint32_t input_tensor() const { return input_tensor_; }
  uint32_t output_tensor() const { return output_tensor_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  WeightMode mode_ = WeightMode::kResident;
  uint32_t in_c_ = 0, in_h_ = 0, in_w_ = 0, classes_ = 0;
  uint32_t num_ops_ = 0, num_tensors_ = 0;
  uint32_t input_tensor_ = 0, output_tensor_ = 0;
  float mean_[4] = {}, std_[4] = {};
  uint64_t file_bytes_ = 0, weights_offset_ = 0, weights_bytes_ = 0;
  uint64_t activation_bytes_ = 0, staging_bytes_ = 0, index_bytes_ = 0;
  uint8_t meta_hash_[32] = {}, weights_hash_[32] = {};
};

// --------------------------------------------------------------------------
// Interpreter

// Copies `bytes` bytes of the payload starting at `payload_offset` (op
// `op_index`'s weight range) into `dst` (64-byte aligned). Returns 0 on
// success; anything else makes invoke() fail with kStreamFailed.
using WeightFetchFn = int (*)(void* ctx, uint32_t op_index, uint64_t payload_offset,
                              uint64_t bytes, void* dst);

// Called before (after = false) and after (after = true) each op; for
// per-layer profiling. Must not call back into the interpreter.
using OpHookFn = void (*)(void* ctx, uint32_t op_index, bool after);

enum class KernelLevel : uint8_t {
  kAuto = 0,       // the best this CPU supports
  kReference = 1,  // scalar reference kernels
  kAvx2 = 2,       // AVX2 + FMA
  kAvx512 = 3,     // AVX-512F
};
const char* kernel_level_name(KernelLevel k);
// The best level this CPU supports (never kAuto).
KernelLevel best_kernel_level();

struct InterpreterOptions {
  int threads = 1;  // 1 ..= kMaxThreads; 1 (default) runs everything on the caller's thread
  KernelLevel kernels = KernelLevel::kAuto;
  WeightFetchFn fetch = nullptr;  // required in streaming mode
  void* fetch_ctx = nullptr;
  OpHookFn hook = nullptr;
  void* hook_ctx = nullptr;
};

class Interpreter {
 public:
  static constexpr int kMaxThreads = 64;

  Interpreter() = default;
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Prepares `model` (loaded, must outlive this) on `arena` (64-byte
  // aligned, `arena_size >= model.arena_bytes()`, caller-owned). Fails with
  // kArenaTooSmall naming both numbers if the arena is short.
  Status init(const Model& model, void* arena, size_t arena_size, const InterpreterOptions& opts,
              Error* err);

  // One image: `input` is C×H×W floats (CHW, already normalised), `logits`
  // receives num_classes() floats. No heap, no checks on the model.
  Status invoke(const float* input, float* logits, Error* err = nullptr);
  // One raw 8-bit image in CHW order (CIFAR binary layout), normalised
  // inside the runtime with the model's mean/std.
  Status invoke_u8(const uint8_t* image, float* logits, Error* err = nullptr);

  bool ready() const { return ops_ != nullptr; }
  KernelLevel kernel_level() const { return level_; }
  int threads() const { return threads_; }

  // Internal: the input view (the type lives in runtime/internal.h).
  Act input_act() const;

 private:
  Status check_call(const void* input, const float* logits, Error* err) const;
  Status run(float* logits, Error* err);  // input already written
  void shutdown();

  const Model* model_ = nullptr;
  KernelLevel level_ = KernelLevel::kReference;
  int threads_ = 1;
  InterpreterOptions opts_{};
  uint8_t* arena_ = nullptr;
  void* ops_ = nullptr;          // prepared op table (in the arena)
  uint8_t* act_ = nullptr;       // activation region (in the arena)
  uint8_t* staging_ = nullptr;   // streaming staging buffer (in the arena)
  const void* kernels_ = nullptr;  // kernel table for level_
  float* in_ = nullptr;          // input view: data, then C, H, W, pixel/row stride, pad
  int32_t in_geom_[6] = {};
  const float* out_ = nullptr;   // output (logits) in the arena
  void* pool_ = nullptr;         // worker pool (threads > 1), lives in pool_storage_
  alignas(64) unsigned char pool_storage_[8192];
};

// --------------------------------------------------------------------------
// Helpers on logits

// Index of the largest value (first one on ties); 0 if n == 0.
uint32_t argmax(const float* v, uint32_t n);
// Numerically stable softmax; `out` may equal `in`.
void softmax(const float* in, float* out, uint32_t n);

}  // namespace msprune::rt
