#pragma once
// Runtime internals shared by the verifier, the interpreter and the kernels.
// Not part of the public API (that is runtime.h).
#include <cstdarg>
#include <cstdint>

#include "runtime/format.h"
#include "runtime/runtime.h"

namespace msprune::rt {

// Fills `err` (may be null) and returns `s`. printf-style message.
Status fail(Error* err, Status s, uint64_t offset, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

// --------------------------------------------------------------------------
// Run-time tensors and kernel arguments (all checked at load: kernels do not
// check anything).

// A view of an activation: padded NHWC, channels [c0, c0 + c) of its root.
struct Act {
  float* p = nullptr;  // element (y = 0, x = 0, channel 0) of the view
  int32_t c = 0, h = 0, w = 0;
  int32_t cs = 0;   // floats between horizontally adjacent pixels (the root's C)
  int32_t rs = 0;   // floats between rows: (w + 2 pad) * cs
  int32_t pad = 0;  // zero border width of the root
  float* at(int y, int x) const { return p + int64_t(y) * rs + int64_t(x) * cs; }
};

struct ConvArgs {
  Act x, y;
  Act res;  // residual added before the ReLU (same shape and geometry as y), or p = null
  const float* w = nullptr;     // CONV_PACKED
  const float* bias = nullptr;  // [O] or null
  int k = 1, stride = 1, pad = 0, block = 16;
  bool quad = false;  // weights are CONV_QUAD (else CONV_PACKED)
  bool relu = false;
};
struct AffineArgs {
  Act x, y;
  const float* scale = nullptr;
  const float* shift = nullptr;
  const uint32_t* index = nullptr;  // [y.c] or null (identity)
  bool relu = false;
};
struct PoolArgs {
  Act x, y;
  int k = 2, s = 2;
};
struct AddArgs {
  Act a, b, y;
  bool relu = false;
};
struct LinearArgs {
  const float* x = nullptr;  // [in]
  float* y = nullptr;        // [out]
  int in = 0, out = 0;
  const float* w = nullptr;     // [out][in]
  const float* bias = nullptr;  // [out] or null
};
struct ConcatArgs {
  Act parts[fmt::kMaxConcat];
  int n = 0;
  Act y;
};
struct SoftmaxArgs {
  const float* x = nullptr;
  float* y = nullptr;
  int n = 0;
};

// Every kernel computes its share `part` of `parts` (threads); part 0 of 1
// is the whole op. Shares never write the same bytes.
using ConvFn = void (*)(const ConvArgs&, int part, int parts);
using AffineFn = void (*)(const AffineArgs&, int part, int parts);
using PoolFn = void (*)(const PoolArgs&, int part, int parts);
using AddFn = void (*)(const AddArgs&, int part, int parts);
using LinearFn = void (*)(const LinearArgs&, int part, int parts);

struct KernelTable {
  KernelLevel level;
  ConvFn conv2d;
  AffineFn affine;
  PoolFn max_pool;
  PoolFn avg_pool;
  AddFn add;
  LinearFn linear;
};

// The table for `level` (kAuto resolves to best_kernel_level()), or null if
// this CPU (or this build) cannot run it.
const KernelTable* kernel_table(KernelLevel level);

// Reference kernels (src/runtime/ops/*.cpp).
void conv2d_ref(const ConvArgs& a, int part, int parts);
void affine_ref(const AffineArgs& a, int part, int parts);
void max_pool_ref(const PoolArgs& a, int part, int parts);
void avg_pool_ref(const PoolArgs& a, int part, int parts);
void add_ref(const AddArgs& a, int part, int parts);
void linear_ref(const LinearArgs& a, int part, int parts);
void concat_ref(const ConcatArgs& a);
void softmax_ref(const SoftmaxArgs& a);

// Writes zeros to the `pad` border of a view's channels (no-op for pad 0).
void zero_border(const Act& a);

// [begin, end) of `n` items for share `part` of `parts`.
inline void split(int64_t n, int part, int parts, int64_t* begin, int64_t* end) {
  *begin = n * part / parts;
  *end = n * (part + 1) / parts;
}

// --------------------------------------------------------------------------
// Verification context: the decoded header and random access to records.

struct ActShape {
  uint32_t index = 0, root = 0;
  uint32_t c = 0, h = 0, w = 0, pad = 0, c_offset = 0, root_c = 0;
  uint32_t producer = fmt::kNone;
};

struct VerifyCtx {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  uint32_t num_tensors = 0, num_ops = 0;
  uint64_t tensor_table = 0, op_table = 0, weights_offset = 0, weights_bytes = 0;
  uint64_t index_begin = 0;  // first byte after the op table
  uint32_t version = 0;      // header version (kMinVersion..kVersion)
  bool resident = true;

  uint64_t tensor_off(uint32_t i) const { return tensor_table + uint64_t(i) * fmt::kTensorBytes; }
  uint64_t op_off(uint32_t i) const { return op_table + uint64_t(i) * fmt::kOpBytes; }
  fmt::TensorRec tensor(uint32_t i) const { return fmt::read_tensor(data + tensor_off(i)); }
  fmt::OpRec op(uint32_t i) const { return fmt::read_op(data + op_off(i)); }

  // An ACT tensor in slot `slot` of op `op`: kBadOp unless it exists and is ACT.
  Status act(uint32_t op, const char* slot, uint32_t t, ActShape* out, Error* err) const;
  // A WEIGHT (or INDEX) tensor with exactly these dims (trailing zeros) and layout.
  Status weight(uint32_t op, const char* slot, uint32_t t, uint8_t kind, uint16_t layout,
                const uint32_t dims[4], Error* err) const;
  // Slot w0 required (`layout`, dims `wd`), slot w1 NONE or a DENSE bias [out].
  Status weight_and_bias(uint32_t op, const fmt::OpRec& o, const char* name, uint16_t layout,
                         const uint32_t wd[4], uint32_t out, Error* err) const;
};

// Per-op verification (one function per op file): slots, params, shapes.
// Called after the tensor table has been validated.
Status verify_conv2d(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err);
Status verify_affine(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err);
Status verify_pool(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err);
Status verify_add(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err);
Status verify_concat(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err);
Status verify_linear(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err);
Status verify_softmax(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err);

// Checks the slots of `o` beyond the used ones are NONE and parameters beyond
// `np` are zero; `what` names the op in messages.
Status check_unused(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, int nin, int nw, int np,
                    Error* err);

}  // namespace msprune::rt
