// Model::load: the .msm verifier (docs/model-format.md, "Verification order").
// Every read is bounds-checked against the span before it happens; every
// size is computed in 64-bit from bounded dims or with checked additions.
#include <cmath>
#include <cstdio>
#include <cstring>

#include "runtime/internal.h"
#include "runtime/sha256.h"

namespace msprune::rt {

using fmt::kNone;
using fmt::OpRec;
using fmt::TensorRec;

Status fail(Error* err, Status s, uint64_t offset, const char* fmtstr, ...) {
  if (err) {
    err->status = s;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmtstr);
    std::vsnprintf(err->message, sizeof err->message, fmtstr, ap);
    va_end(ap);
  }
  return s;
}

const char* status_name(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kTruncated: return "truncated";
    case Status::kBadMagic: return "bad magic";
    case Status::kBadVersion: return "bad version";
    case Status::kBadHeader: return "bad header";
    case Status::kBadHash: return "bad hash";
    case Status::kBadTensor: return "bad tensor";
    case Status::kBadOp: return "bad op";
    case Status::kBadGraph: return "bad graph";
    case Status::kBadPlan: return "bad plan";
    case Status::kBadAlignment: return "bad alignment";
    case Status::kOverflow: return "overflow";
    case Status::kArenaTooSmall: return "arena too small";
    case Status::kBadArgument: return "bad argument";
    case Status::kUnsupported: return "unsupported";
    case Status::kStreamFailed: return "stream failed";
    case Status::kThreadFailed: return "thread failed";
    case Status::kNotReady: return "not ready";
  }
  return "?";
}

const char* op_type_name(OpType t) {
  switch (t) {
    case OpType::kConv2d: return "conv2d";
    case OpType::kAffine: return "affine";
    case OpType::kMaxPool: return "max_pool";
    case OpType::kAvgPool: return "avg_pool";
    case OpType::kAdd: return "add";
    case OpType::kConcat: return "concat";
    case OpType::kLinear: return "linear";
    case OpType::kSoftmax: return "softmax";
  }
  return "?";
}

namespace {

using U = unsigned long long;  // for printf

bool add_ok(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_add_overflow(a, b, out); }

const char* op_name(uint16_t type) { return op_type_name(OpType(type)); }

// Validates one tensor record on its own (plus its root for views).
Status check_tensor(const VerifyCtx& v, uint32_t i, uint64_t activation_bytes, uint64_t* act_end,
                    Error* err) {
  const uint64_t off = v.tensor_off(i);
  const TensorRec t = v.tensor(i);
  if (t.kind == fmt::kAct) {
    if (t.dtype != fmt::kF32 || t.layout != fmt::kNHWC)
      return fail(err, Status::kBadTensor, off,
                  "tensor %u at offset %llu: activation needs dtype f32 (1) and layout NHWC (1), "
                  "got dtype %u layout %u", i, U(off), t.dtype, t.layout);
    const uint32_t c = t.dims[0], h = t.dims[1], w = t.dims[2];
    if (c < 1 || c > fmt::kMaxChannels || h < 1 || h > fmt::kMaxSpatial || w < 1 ||
        w > fmt::kMaxSpatial || t.dims[3] != 0)
      return fail(err, Status::kBadTensor, off + fmt::trec::kDims,
                  "tensor %u at offset %llu: activation dims [%u, %u, %u, %u] out of range "
                  "(C 1..%u, H/W 1..%u, dims[3] 0)", i, U(off), c, h, w, t.dims[3],
                  fmt::kMaxChannels, fmt::kMaxSpatial);
    if (t.pad > 1)
      return fail(err, Status::kBadTensor, off + fmt::trec::kPad,
                  "tensor %u at offset %llu: pad %u (must be 0 or 1)", i, U(off), t.pad);
    if (t.aux != 0)
      return fail(err, Status::kBadTensor, off + fmt::trec::kAux,
                  "tensor %u at offset %llu: aux %u must be 0 for activations", i, U(off), t.aux);
    if (t.producer != kNone && t.producer >= v.num_ops)
      return fail(err, Status::kBadTensor, off + fmt::trec::kProducer,
                  "tensor %u at offset %llu: producer %u >= num_ops %u", i, U(off), t.producer,
                  v.num_ops);
    if (t.root >= v.num_tensors)
      return fail(err, Status::kBadTensor, off + fmt::trec::kRoot,
                  "tensor %u at offset %llu: root %u >= num_tensors %u", i, U(off), t.root,
                  v.num_tensors);
    if (t.root == i) {
      const uint64_t bytes = fmt::act_bytes(c, h, w, t.pad);
      if (t.c_offset != 0)
        return fail(err, Status::kBadTensor, off + fmt::trec::kCOffset,
                    "tensor %u at offset %llu: root activation with c_offset %u (must be 0)", i,
                    U(off), t.c_offset);
      if (t.bytes != bytes)
        return fail(err, Status::kBadTensor, off + fmt::trec::kBytes,
                    "tensor %u at offset %llu: bytes %llu, expected 4*%u*(%u+2*%u)*(%u+2*%u) = %llu",
                    i, U(off), U(t.bytes), c, h, t.pad, w, t.pad, U(bytes));
      if (t.offset % fmt::kAlign != 0)
        return fail(err, Status::kBadAlignment, off + fmt::trec::kOffset,
                    "tensor %u at offset %llu: arena offset %llu is not 64-aligned", i, U(off),
                    U(t.offset));
      uint64_t end;
      if (!add_ok(t.offset, t.bytes, &end) || end > activation_bytes)
        return fail(err, Status::kBadPlan, off + fmt::trec::kOffset,
                    "tensor %u at offset %llu: arena range [%llu, +%llu) exceeds activation_bytes %llu",
                    i, U(off), U(t.offset), U(t.bytes), U(activation_bytes));
      if (end > *act_end) *act_end = end;
      if (t.live_first > t.live_last || t.live_last >= v.num_ops)
        return fail(err, Status::kBadPlan, off + fmt::trec::kLiveFirst,
                    "tensor %u at offset %llu: live range [%u, %u] invalid for %u ops", i, U(off),
                    t.live_first, t.live_last, v.num_ops);
      return Status::kOk;
    }
    // A view: its root must be a root activation with the same H, W, pad.
    const TensorRec r = v.tensor(t.root);
    if (r.kind != fmt::kAct || r.root != t.root)
      return fail(err, Status::kBadTensor, off + fmt::trec::kRoot,
                  "tensor %u at offset %llu: root %u is not a root activation", i, U(off), t.root);
    if (r.dims[1] != h || r.dims[2] != w || r.pad != t.pad)
      return fail(err, Status::kBadTensor, off + fmt::trec::kDims,
                  "tensor %u at offset %llu: view H/W/pad %u/%u/%u differ from root %u's %u/%u/%u",
                  i, U(off), h, w, t.pad, t.root, r.dims[1], r.dims[2], r.pad);
    if (uint64_t(t.c_offset) + c > r.dims[0])
      return fail(err, Status::kBadTensor, off + fmt::trec::kCOffset,
                  "tensor %u at offset %llu: view channels [%u, %llu) exceed root %u's %u", i,
                  U(off), t.c_offset, U(uint64_t(t.c_offset) + c), t.root, r.dims[0]);
    if (t.offset != 0 || t.bytes != 0 || t.live_first != 0 || t.live_last != 0)
      return fail(err, Status::kBadTensor, off + fmt::trec::kOffset,
                  "tensor %u at offset %llu: a view must have offset, bytes and live range 0", i,
                  U(off));
    return Status::kOk;
  }

  if (t.kind != fmt::kWeight && t.kind != fmt::kIndex)
    return fail(err, Status::kBadTensor, off + fmt::trec::kKind,
                "tensor %u at offset %llu: kind %u (must be 1 act, 2 weight, 3 index)", i, U(off),
                t.kind);
  const bool index = t.kind == fmt::kIndex;
  const bool quad = !index && t.layout == fmt::kConvQuad && v.version >= 2;
  const bool conv = !index && (t.layout == fmt::kConvPacked || quad);
  if (!index && t.layout == fmt::kConvQuad && !quad)
    return fail(err, Status::kBadTensor, off + fmt::trec::kLayout,
                "tensor %u at offset %llu: layout 3 (CONV_QUAD) needs format version 2, file is "
                "version %u", i, U(off), v.version);
  if ((index && (t.dtype != fmt::kU32 || t.layout != fmt::kDense)) ||
      (!index && (t.dtype != fmt::kF32 || (t.layout != fmt::kDense && !conv))))
    return fail(err, Status::kBadTensor, off + fmt::trec::kDType,
                "tensor %u at offset %llu: kind %u with dtype %u layout %u is not allowed", i,
                U(off), t.kind, t.dtype, t.layout);
  if (t.root != kNone || t.c_offset != 0 || t.pad != 0 || t.producer != kNone ||
      t.live_first != 0 || t.live_last != 0 || (!conv && t.aux != 0))
    return fail(err, Status::kBadTensor, off + fmt::trec::kRoot,
                "tensor %u at offset %llu: weight/index tensor with activation-only fields set "
                "(root, c_offset, pad, producer, live range must be NONE/0)", i, U(off));
  // dims: a non-empty prefix of values in 1..kMaxDim, then zeros.
  uint64_t count = 1;
  int rank = 0;
  while (rank < 4 && t.dims[rank] != 0) ++rank;
  for (int d = rank; d < 4; ++d)
    if (t.dims[d] != 0)
      return fail(err, Status::kBadTensor, off + fmt::trec::kDims + 4 * d,
                  "tensor %u at offset %llu: dims[%d] = %u after a zero dim", i, U(off), d,
                  t.dims[d]);
  if (rank == 0)
    return fail(err, Status::kBadTensor, off + fmt::trec::kDims,
                "tensor %u at offset %llu: weight/index tensor with no dims", i, U(off));
  for (int d = 0; d < rank; ++d) {
    if (t.dims[d] > fmt::kMaxDim)
      return fail(err, Status::kBadTensor, off + fmt::trec::kDims + 4 * d,
                  "tensor %u at offset %llu: dims[%d] = %u exceeds %u", i, U(off), d, t.dims[d],
                  fmt::kMaxDim);
    count *= t.dims[d];  // <= 2^64 / ... : 4 dims of <= 2^16 each: <= 2^64 - checked below
  }
  if (rank == 4 && count / t.dims[3] / t.dims[2] / t.dims[1] != t.dims[0])
    return fail(err, Status::kOverflow, off + fmt::trec::kDims,
                "tensor %u at offset %llu: element count overflows", i, U(off));
  if (conv) {
    if (rank != 4 || t.dims[2] != t.dims[3])
      return fail(err, Status::kBadTensor, off + fmt::trec::kDims,
                  "tensor %u at offset %llu: conv weights need dims [O, I, K, K], got "
                  "[%u, %u, %u, %u]", i, U(off), t.dims[0], t.dims[1], t.dims[2], t.dims[3]);
    if (!quad && (t.aux == 0 || t.aux % 16 != 0 || t.aux > 64))
      return fail(err, Status::kBadTensor, off + fmt::trec::kAux,
                  "tensor %u at offset %llu: packed conv block %u (must be 16, 32, 48 or 64)", i,
                  U(off), t.aux);
    if (quad && (t.aux == 0 || t.aux % 4 != 0 || t.aux > 64))
      return fail(err, Status::kBadTensor, off + fmt::trec::kAux,
                  "tensor %u at offset %llu: quad conv block %u (must be a multiple of 4, 4..64)",
                  i, U(off), t.aux);
    if (t.dims[2] > 7)
      return fail(err, Status::kBadTensor, off + fmt::trec::kDims + 8,
                  "tensor %u at offset %llu: kernel %u too large", i, U(off), t.dims[2]);
    count = quad ? fmt::conv_quad_floats(t.dims[0], t.dims[1], t.dims[2])
                 : fmt::conv_packed_floats(t.dims[0], t.dims[1], t.dims[2]);
  }
  if (count > (uint64_t(1) << 60))
    return fail(err, Status::kOverflow, off + fmt::trec::kDims,
                "tensor %u at offset %llu: %llu elements is too many", i, U(off), U(count));
  if (t.bytes != count * 4)
    return fail(err, Status::kBadTensor, off + fmt::trec::kBytes,
                "tensor %u at offset %llu: bytes %llu, expected %llu elements * 4 = %llu", i,
                U(off), U(t.bytes), U(count), U(count * 4));
  if (t.offset % fmt::kAlign != 0)
    return fail(err, Status::kBadAlignment, off + fmt::trec::kOffset,
                "tensor %u at offset %llu: data offset %llu is not 64-aligned", i, U(off),
                U(t.offset));
  uint64_t end;
  if (!add_ok(t.offset, t.bytes, &end))
    return fail(err, Status::kOverflow, off + fmt::trec::kOffset,
                "tensor %u at offset %llu: offset %llu + bytes %llu overflows", i, U(off),
                U(t.offset), U(t.bytes));
  if (index) {
    if (t.offset < v.index_begin || end > v.weights_offset)
      return fail(err, Status::kBadTensor, off + fmt::trec::kOffset,
                  "tensor %u at offset %llu: index data [%llu, %llu) outside the index region "
                  "[%llu, %llu)", i, U(off), U(t.offset), U(end), U(v.index_begin),
                  U(v.weights_offset));
  } else if (end > v.weights_bytes) {
    return fail(err, Status::kBadTensor, off + fmt::trec::kOffset,
                "tensor %u at offset %llu: weight data [%llu, %llu) exceeds the payload (%llu bytes)",
                i, U(off), U(t.offset), U(end), U(v.weights_bytes));
  }
  return Status::kOk;
}

}  // namespace

Status VerifyCtx::act(uint32_t op, const char* slot, uint32_t t, ActShape* out, Error* err) const {
  const uint64_t off = op_off(op);
  if (t >= num_tensors)
    return fail(err, Status::kBadOp, off, "op %u at offset %llu: %s tensor %u >= num_tensors %u",
                op, U(off), slot, t, num_tensors);
  const TensorRec r = tensor(t);
  if (r.kind != fmt::kAct)
    return fail(err, Status::kBadOp, off, "op %u at offset %llu: %s tensor %u is not an activation",
                op, U(off), slot, t);
  const TensorRec root = tensor(r.root);  // validated: r.root < num_tensors
  out->index = t;
  out->root = r.root;
  out->c = r.dims[0];
  out->h = r.dims[1];
  out->w = r.dims[2];
  out->pad = r.pad;
  out->c_offset = r.c_offset;
  out->root_c = root.dims[0];
  out->producer = r.producer;
  return Status::kOk;
}

Status VerifyCtx::weight(uint32_t op, const char* slot, uint32_t t, uint8_t kind, uint16_t layout,
                         const uint32_t dims[4], Error* err) const {
  const uint64_t off = op_off(op);
  if (t >= num_tensors)
    return fail(err, Status::kBadOp, off, "op %u at offset %llu: %s tensor %u >= num_tensors %u",
                op, U(off), slot, t, num_tensors);
  const TensorRec r = tensor(t);
  if (r.kind != kind || r.layout != layout)
    return fail(err, Status::kBadOp, off,
                "op %u at offset %llu: %s tensor %u has kind %u layout %u, expected %u/%u", op,
                U(off), slot, t, r.kind, r.layout, kind, layout);
  for (int d = 0; d < 4; ++d)
    if (r.dims[d] != dims[d])
      return fail(err, Status::kBadOp, off,
                  "op %u at offset %llu: %s tensor %u dims [%u, %u, %u, %u], expected "
                  "[%u, %u, %u, %u]", op, U(off), slot, t, r.dims[0], r.dims[1], r.dims[2],
                  r.dims[3], dims[0], dims[1], dims[2], dims[3]);
  return Status::kOk;
}

Status VerifyCtx::weight_and_bias(uint32_t op, const OpRec& o, const char* name, uint16_t layout,
                                  const uint32_t wd[4], uint32_t out, Error* err) const {
  if (o.w[0] == kNone)
    return fail(err, Status::kBadOp, op_off(op) + fmt::orec::kW, "op %u (%s) at offset %llu: no weights",
                op, name, U(op_off(op)));
  if (Status s = weight(op, "weight", o.w[0], fmt::kWeight, layout, wd, err); s != Status::kOk) return s;
  if (o.w[1] == kNone) return Status::kOk;
  const uint32_t bd[4] = {out, 0, 0, 0};
  return weight(op, "bias", o.w[1], fmt::kWeight, fmt::kDense, bd, err);
}

Status check_unused(const VerifyCtx& v, uint32_t i, const OpRec& o, int nin, int nw, int np,
                    Error* err) {
  const uint64_t off = v.op_off(i);
  for (int s = nin; s < 4; ++s)
    if (o.in[s] != kNone)
      return fail(err, Status::kBadOp, off + fmt::orec::kIn + 4 * s,
                  "op %u (%s) at offset %llu: input slot %d must be NONE, got %u", i,
                  op_name(o.type), U(off), s, o.in[s]);
  for (int s = nw; s < 4; ++s)
    if (o.w[s] != kNone)
      return fail(err, Status::kBadOp, off + fmt::orec::kW + 4 * s,
                  "op %u (%s) at offset %llu: weight slot %d must be NONE, got %u", i,
                  op_name(o.type), U(off), s, o.w[s]);
  for (int s = np; s < 6; ++s)
    if (o.p[s] != 0)
      return fail(err, Status::kBadOp, off + fmt::orec::kP + 4 * s,
                  "op %u (%s) at offset %llu: parameter %d must be 0, got %u", i, op_name(o.type),
                  U(off), s, o.p[s]);
  return Status::kOk;
}

Status Model::load(const void* data, size_t size, const LoadOptions& opts, Error* err) {
  *this = Model();
  if (err) *err = Error();
  if (data == nullptr)
    return fail(err, Status::kBadArgument, Error::kNoOffset, "model data pointer is null");
  if (opts.hash != HashCheck::kFull && opts.hash != HashCheck::kMetadata &&
      opts.hash != HashCheck::kNone)
    return fail(err, Status::kBadArgument, Error::kNoOffset, "hash option %u invalid",
                unsigned(opts.hash));
  if (opts.weights != WeightMode::kResident && opts.weights != WeightMode::kStreaming)
    return fail(err, Status::kBadArgument, Error::kNoOffset, "weight mode %u invalid",
                unsigned(opts.weights));
  const uint8_t* p = static_cast<const uint8_t*>(data);
  const bool resident = opts.weights == WeightMode::kResident;
  using namespace fmt::hdr;
  using fmt::rd;

  // 1. Fixed header fields, table placement, sizes.
  if (size < fmt::kHeaderBytes)
    return fail(err, Status::kTruncated, size,
                "model is %llu bytes, shorter than the %u-byte header", U(size), fmt::kHeaderBytes);
  if (std::memcmp(p, fmt::kMagic, 8) != 0)
    return fail(err, Status::kBadMagic, 0, "magic at offset 0 is not \"MSMODEL\\0\"");
  const uint32_t version = rd<uint32_t>(p + kVersionOff);
  if (version < fmt::kMinVersion || version > fmt::kVersion)
    return fail(err, Status::kBadVersion, kVersionOff,
                "version %u at offset %u (supported: %u..%u)", version, kVersionOff,
                fmt::kMinVersion, fmt::kVersion);
  const uint32_t header_bytes = rd<uint32_t>(p + kHeaderBytesOff);
  if (header_bytes != fmt::kHeaderBytes)
    return fail(err, Status::kBadHeader, kHeaderBytesOff, "header_bytes %u at offset %u (must be %u)",
                header_bytes, kHeaderBytesOff, fmt::kHeaderBytes);
  VerifyCtx v;
  v.data = p;
  v.size = size;
  v.version = version;
  v.resident = resident;
  v.num_tensors = rd<uint32_t>(p + kNumTensors);
  v.num_ops = rd<uint32_t>(p + kNumOps);
  if (v.num_tensors < 2 || v.num_tensors > fmt::kMaxTensors)
    return fail(err, Status::kBadHeader, kNumTensors, "num_tensors %u at offset %u (must be 2..%u)",
                v.num_tensors, kNumTensors, fmt::kMaxTensors);
  if (v.num_ops < 1 || v.num_ops > fmt::kMaxOps)
    return fail(err, Status::kBadHeader, kNumOps, "num_ops %u at offset %u (must be 1..%u)",
                v.num_ops, kNumOps, fmt::kMaxOps);
  v.tensor_table = rd<uint64_t>(p + kTensorTable);
  v.op_table = rd<uint64_t>(p + kOpTable);
  v.weights_offset = rd<uint64_t>(p + kWeightsOffset);
  v.weights_bytes = rd<uint64_t>(p + kWeightsBytes);
  const uint64_t file_bytes = rd<uint64_t>(p + kFileBytes);
  if (v.tensor_table != fmt::kHeaderBytes)
    return fail(err, Status::kBadHeader, kTensorTable, "tensor_table_offset %llu at offset %u (must be %u)",
                U(v.tensor_table), kTensorTable, fmt::kHeaderBytes);
  const uint64_t op_table = v.tensor_table + uint64_t(v.num_tensors) * fmt::kTensorBytes;
  if (v.op_table != op_table)
    return fail(err, Status::kBadHeader, kOpTable,
                "op_table_offset %llu at offset %u (must be %u + 64 * %u = %llu)", U(v.op_table),
                kOpTable, fmt::kHeaderBytes, v.num_tensors, U(op_table));
  v.index_begin = v.op_table + uint64_t(v.num_ops) * fmt::kOpBytes;
  if (v.weights_offset % fmt::kAlign != 0 || v.weights_offset < v.index_begin)
    return fail(err, Status::kBadHeader, kWeightsOffset,
                "weights_offset %llu at offset %u must be 64-aligned and >= end of op table %llu",
                U(v.weights_offset), kWeightsOffset, U(v.index_begin));
  if (v.weights_bytes % fmt::kAlign != 0)
    return fail(err, Status::kBadHeader, kWeightsBytes, "weights_bytes %llu at offset %u is not 64-aligned",
                U(v.weights_bytes), kWeightsBytes);
  uint64_t expect_file;
  if (!add_ok(v.weights_offset, v.weights_bytes, &expect_file) || file_bytes != expect_file)
    return fail(err, Status::kBadHeader, kFileBytes,
                "file_bytes %llu at offset %u != weights_offset %llu + weights_bytes %llu",
                U(file_bytes), kFileBytes, U(v.weights_offset), U(v.weights_bytes));
  if (resident ? size != file_bytes : (size != file_bytes && size != v.weights_offset)) {
    const Status s = size < file_bytes ? Status::kTruncated : Status::kBadHeader;
    if (resident)
      return fail(err, s, kFileBytes, "span is %llu bytes but file_bytes at offset %u says %llu",
                  U(size), kFileBytes, U(file_bytes));
    return fail(err, s, kWeightsOffset,
                "streaming span is %llu bytes; must be weights_offset %llu or file_bytes %llu",
                U(size), U(v.weights_offset), U(file_bytes));
  }
  if (resident && reinterpret_cast<uintptr_t>(p) % 4 != 0)
    return fail(err, Status::kBadAlignment, Error::kNoOffset,
                "model bytes at address %p are not 4-byte aligned (64 is best)", data);

  // 2. Authenticate before parsing.
  if (opts.hash != HashCheck::kNone) {
    uint8_t got[32];
    static const uint8_t kZeros[32] = {};
    Sha256 h;
    h.update(p, kMetaHash);
    h.update(kZeros, 32);
    h.update(p + fmt::kHeaderBytes, v.weights_offset - fmt::kHeaderBytes);
    h.final(got);
    if (std::memcmp(got, p + kMetaHash, 32) != 0)
      return fail(err, Status::kBadHash, kMetaHash,
                  "meta_sha256 at offset %u does not match bytes [0, %llu)", kMetaHash,
                  U(v.weights_offset));
    if (opts.hash == HashCheck::kFull && size == file_bytes) {
      Sha256::hash(p + v.weights_offset, v.weights_bytes, got);
      if (std::memcmp(got, p + kWeightsHash, 32) != 0)
        return fail(err, Status::kBadHash, kWeightsHash,
                    "weights_sha256 at offset %u does not match the payload [%llu, %llu)",
                    kWeightsHash, U(v.weights_offset), U(file_bytes));
    }
  }

  // 3. Remaining header fields.
  if (rd<uint32_t>(p + kFlags) != 0)
    return fail(err, Status::kBadHeader, kFlags, "flags %u at offset %u must be 0",
                rd<uint32_t>(p + kFlags), kFlags);
  for (uint32_t b = kReserved; b < kReservedEnd; ++b)
    if (p[b] != 0)
      return fail(err, Status::kBadHeader, b, "reserved header byte at offset %u is %u (must be 0)",
                  b, p[b]);
  const uint32_t in_c = rd<uint32_t>(p + kInputC), in_h = rd<uint32_t>(p + kInputH),
                 in_w = rd<uint32_t>(p + kInputW), classes = rd<uint32_t>(p + kNumClasses);
  if (in_c < 1 || in_c > fmt::kMaxInputC)
    return fail(err, Status::kBadHeader, kInputC, "input_c %u at offset %u (must be 1..%u)", in_c,
                kInputC, fmt::kMaxInputC);
  if (classes < 1 || classes > fmt::kMaxChannels)
    return fail(err, Status::kBadHeader, kNumClasses, "num_classes %u at offset %u (must be 1..%u)",
                classes, kNumClasses, fmt::kMaxChannels);
  float mean[4], stdv[4];
  for (uint32_t c = 0; c < 4; ++c) {
    mean[c] = rd<float>(p + kMean + 4 * c);
    stdv[c] = rd<float>(p + kStd + 4 * c);
    const bool used = c < in_c;
    if (used ? !std::isfinite(mean[c]) : mean[c] != 0.0f || std::signbit(mean[c]))
      return fail(err, Status::kBadHeader, kMean + 4 * c,
                  "mean[%u] at offset %u is %g (must be finite; 0 for unused channels)", c,
                  kMean + 4 * c, double(mean[c]));
    if (used ? !(std::isfinite(stdv[c]) && stdv[c] > 0.0f) : stdv[c] != 0.0f || std::signbit(stdv[c]))
      return fail(err, Status::kBadHeader, kStd + 4 * c,
                  "std[%u] at offset %u is %g (must be finite and > 0; 0 for unused channels)", c,
                  kStd + 4 * c, double(stdv[c]));
  }
  const uint64_t activation_bytes = rd<uint64_t>(p + kActivationBytes);
  const uint64_t staging_bytes = rd<uint64_t>(p + kStagingBytes);
  const uint32_t input_tensor = rd<uint32_t>(p + kInputTensor);
  const uint32_t output_tensor = rd<uint32_t>(p + kOutputTensor);
  if (activation_bytes % fmt::kAlign != 0 || activation_bytes > (uint64_t(1) << 50))
    return fail(err, Status::kBadHeader, kActivationBytes,
                "activation_bytes %llu at offset %u must be 64-aligned and < 2^50",
                U(activation_bytes), kActivationBytes);

  // 4. Tensors on their own.
  uint64_t act_end = 0, index_bytes = 0;
  for (uint32_t i = 0; i < v.num_tensors; ++i) {
    if (Status s = check_tensor(v, i, activation_bytes, &act_end, err); s != Status::kOk) return s;
    const TensorRec t = v.tensor(i);
    if (t.kind == fmt::kIndex) index_bytes += fmt::round_up(t.bytes, fmt::kAlign);
  }
  if (activation_bytes != fmt::round_up(act_end, fmt::kAlign))
    return fail(err, Status::kBadPlan, kActivationBytes,
                "activation_bytes %llu at offset %u, but the roots end at %llu (expected %llu)",
                U(activation_bytes), kActivationBytes, U(act_end),
                U(fmt::round_up(act_end, fmt::kAlign)));

  // 5. Input and output tensors.
  auto is_root_act = [&](uint32_t t) {
    if (t >= v.num_tensors) return false;
    const TensorRec r = v.tensor(t);
    return r.kind == fmt::kAct && r.root == t;
  };
  if (!is_root_act(input_tensor))
    return fail(err, Status::kBadHeader, kInputTensor,
                "input_tensor %u at offset %u is not a root activation", input_tensor, kInputTensor);
  if (!is_root_act(output_tensor) || output_tensor == input_tensor)
    return fail(err, Status::kBadHeader, kOutputTensor,
                "output_tensor %u at offset %u is not a root activation distinct from the input",
                output_tensor, kOutputTensor);
  {
    const TensorRec t = v.tensor(input_tensor);
    if (t.dims[0] != in_c || t.dims[1] != in_h || t.dims[2] != in_w || t.producer != kNone ||
        t.live_first != 0)
      return fail(err, Status::kBadHeader, kInputC,
                  "input tensor %u is [%u, %u, %u] producer %u live_first %u; header says "
                  "[%u, %u, %u], and it must have no producer and live_first 0",
                  input_tensor, t.dims[0], t.dims[1], t.dims[2], t.producer, t.live_first, in_c,
                  in_h, in_w);
    const TensorRec o = v.tensor(output_tensor);
    if (o.dims[0] != classes || o.dims[1] != 1 || o.dims[2] != 1 || o.pad != 0 ||
        o.producer == kNone || o.live_last != v.num_ops - 1)
      return fail(err, Status::kBadHeader, kOutputTensor,
                  "output tensor %u is [%u, %u, %u] pad %u producer %u live_last %u; must be "
                  "[num_classes %u, 1, 1], pad 0, produced, live until op %u",
                  output_tensor, o.dims[0], o.dims[1], o.dims[2], o.pad, o.producer, o.live_last,
                  classes, v.num_ops - 1);
  }

  // 6. Ops: per-op rules, graph rules, lifetimes, weight ranges.
  uint64_t range_end = 0, max_range = 0;
  for (uint32_t i = 0; i < v.num_ops; ++i) {
    const uint64_t off = v.op_off(i);
    const OpRec o = v.op(i);
    const char* name = op_name(o.type);
    for (int b = 0; b < 16; ++b)
      if (o.reserved[b] != 0)
        return fail(err, Status::kBadOp, off + fmt::orec::kReserved + b,
                    "op %u at offset %llu: reserved byte %d is %u (must be 0)", i, U(off), b,
                    o.reserved[b]);
    if (o.type < uint16_t(OpType::kConv2d) || o.type > uint16_t(OpType::kSoftmax))
      return fail(err, Status::kBadOp, off + fmt::orec::kType,
                  "op %u at offset %llu: type %u is not an op (1..8)", i, U(off), o.type);
    const bool relu_ok = o.type == uint16_t(OpType::kConv2d) ||
                         o.type == uint16_t(OpType::kAffine) || o.type == uint16_t(OpType::kAdd);
    if ((o.flags & ~uint16_t(fmt::kRelu)) != 0 || (!relu_ok && o.flags != 0))
      return fail(err, Status::kBadOp, off + fmt::orec::kFlags,
                  "op %u (%s) at offset %llu: flags 0x%x not allowed", i, name, U(off), o.flags);
    Status s;
    switch (OpType(o.type)) {
      case OpType::kConv2d: s = verify_conv2d(v, i, o, err); break;
      case OpType::kAffine: s = verify_affine(v, i, o, err); break;
      case OpType::kMaxPool:
      case OpType::kAvgPool: s = verify_pool(v, i, o, err); break;
      case OpType::kAdd: s = verify_add(v, i, o, err); break;
      case OpType::kConcat: s = verify_concat(v, i, o, err); break;
      case OpType::kLinear: s = verify_linear(v, i, o, err); break;
      case OpType::kSoftmax: s = verify_softmax(v, i, o, err); break;
    }
    if (s != Status::kOk) return s;

    // Graph: single producer, defined before use, no in-place hazards, lifetimes.
    // (The per-op verifier has checked that every used slot names an ACT tensor.)
    ActShape y;
    if (Status s2 = v.act(i, "output", o.out, &y, err); s2 != Status::kOk) return s2;
    if (y.producer != i)
      return fail(err, Status::kBadGraph, off + fmt::orec::kOut,
                  "op %u (%s) at offset %llu: output tensor %u names producer %u, not this op", i,
                  name, U(off), o.out, y.producer);
    if (o.out == input_tensor)
      return fail(err, Status::kBadGraph, off + fmt::orec::kOut,
                  "op %u (%s) at offset %llu: writes the graph input", i, name, U(off));
    const TensorRec yroot = v.tensor(y.root);
    if (i < yroot.live_first || i > yroot.live_last)
      return fail(err, Status::kBadPlan, v.tensor_off(y.root) + fmt::trec::kLiveFirst,
                  "op %u (%s) writes buffer %u outside its live range [%u, %u]", i, name, y.root,
                  yroot.live_first, yroot.live_last);
    uint32_t pos = 0;  // concat: channel position of the current part
    for (int s3 = 0; s3 < 4 && o.in[s3] != kNone; ++s3) {
      ActShape x;
      if (Status s2 = v.act(i, "input", o.in[s3], &x, err); s2 != Status::kOk) return s2;
      if (o.in[s3] != input_tensor && (x.producer == kNone || x.producer >= i))
        return fail(err, Status::kBadGraph, off + fmt::orec::kIn + 4 * s3,
                    "op %u (%s) at offset %llu: input %d (tensor %u) is produced by op %d, not "
                    "before this op", i, name, U(off), s3, o.in[s3],
                    x.producer == kNone ? -1 : int(x.producer));
      const TensorRec xroot = v.tensor(x.root);
      if (i < xroot.live_first || i > xroot.live_last)
        return fail(err, Status::kBadPlan, v.tensor_off(x.root) + fmt::trec::kLiveFirst,
                    "op %u (%s) reads buffer %u outside its live range [%u, %u]", i, name, x.root,
                    xroot.live_first, xroot.live_last);
      if (x.root == y.root) {
        const bool in_place = o.type == uint16_t(OpType::kConcat) &&
                              x.c_offset == uint64_t(y.c_offset) + pos;
        if (!in_place)
          return fail(err, Status::kBadGraph, off + fmt::orec::kIn + 4 * s3,
                      "op %u (%s) at offset %llu: input %d (tensor %u, channels %u..) shares "
                      "buffer %u with the output (channels %u..) and is not an in-place part",
                      i, name, U(off), s3, o.in[s3], x.c_offset, x.root, y.c_offset + pos);
      }
      pos += x.c;
    }

    // Weight range.
    if (o.range_bytes == 0) {
      if (o.range_off != 0)
        return fail(err, Status::kBadPlan, off + fmt::orec::kRangeOff,
                    "op %u (%s) at offset %llu: empty weight range with offset %llu", i, name,
                    U(off), U(o.range_off));
    } else {
      uint64_t end;
      if (o.range_off % fmt::kAlign != 0 || o.range_off < range_end ||
          !add_ok(o.range_off, o.range_bytes, &end) || end > v.weights_bytes)
        return fail(err, Status::kBadPlan, off + fmt::orec::kRangeOff,
                    "op %u (%s) at offset %llu: weight range [%llu, +%llu) must be 64-aligned, "
                    "after the previous range (ends %llu) and inside the payload (%llu bytes)",
                    i, name, U(off), U(o.range_off), U(o.range_bytes), U(range_end),
                    U(v.weights_bytes));
      range_end = end;
      if (o.range_bytes > max_range) max_range = o.range_bytes;
    }
    for (int s3 = 0; s3 < 4 && o.w[s3] != kNone; ++s3) {
      const TensorRec t = v.tensor(o.w[s3]);  // per-op verifier checked the index
      if (t.kind != fmt::kWeight) continue;   // INDEX lives in the metadata
      if (t.offset < o.range_off || t.offset + t.bytes > o.range_off + o.range_bytes)
        return fail(err, Status::kBadPlan, off + fmt::orec::kW + 4 * s3,
                    "op %u (%s) at offset %llu: weight tensor %u [%llu, +%llu) lies outside the "
                    "op's weight range [%llu, +%llu)", i, name, U(off), o.w[s3], U(t.offset),
                    U(t.bytes), U(o.range_off), U(o.range_bytes));
    }
  }
  if (staging_bytes != max_range)
    return fail(err, Status::kBadHeader, kStagingBytes,
                "staging_bytes %llu at offset %u, but the largest op weight range is %llu",
                U(staging_bytes), kStagingBytes, U(max_range));

  // 7. Lifetimes are consistent with producers; live roots never overlap.
  for (uint32_t i = 0; i < v.num_tensors; ++i) {
    const TensorRec t = v.tensor(i);
    if (t.kind != fmt::kAct || t.producer == kNone) continue;
    if (fmt::rd<uint32_t>(p + v.op_off(t.producer) + fmt::orec::kOut) != i)
      return fail(err, Status::kBadGraph, v.tensor_off(i) + fmt::trec::kProducer,
                  "tensor %u names producer op %u, but that op writes tensor %u", i, t.producer,
                  fmt::rd<uint32_t>(p + v.op_off(t.producer) + fmt::orec::kOut));
    const TensorRec r = v.tensor(t.root);
    if (t.producer < r.live_first)
      return fail(err, Status::kBadPlan, v.tensor_off(t.root) + fmt::trec::kLiveFirst,
                  "tensor %u is produced by op %u before its buffer %u is live (op %u)", i,
                  t.producer, t.root, r.live_first);
  }
  for (uint32_t i = 0; i < v.num_tensors; ++i) {
    const TensorRec a = v.tensor(i);
    if (a.kind != fmt::kAct || a.root != i) continue;
    for (uint32_t j = i + 1; j < v.num_tensors; ++j) {
      const uint8_t* rj = p + v.tensor_off(j);
      if (rj[0] != fmt::kAct || fmt::rd<uint32_t>(rj + fmt::trec::kRoot) != j) continue;
      const TensorRec b = v.tensor(j);
      const bool time = a.live_first <= b.live_last && b.live_first <= a.live_last;
      const bool space = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
      if (time && space)
        return fail(err, Status::kBadPlan, v.tensor_off(j) + fmt::trec::kOffset,
                    "buffers %u [%llu, +%llu) live [%u, %u] and %u [%llu, +%llu) live [%u, %u] "
                    "overlap in the arena while both are live", i, U(a.offset), U(a.bytes),
                    a.live_first, a.live_last, j, U(b.offset), U(b.bytes), b.live_first,
                    b.live_last);
    }
  }

  data_ = p;
  size_ = size;
  mode_ = opts.weights;
  in_c_ = in_c;
  in_h_ = in_h;
  in_w_ = in_w;
  classes_ = classes;
  num_ops_ = v.num_ops;
  num_tensors_ = v.num_tensors;
  input_tensor_ = input_tensor;
  output_tensor_ = output_tensor;
  std::memcpy(mean_, mean, sizeof mean_);
  std::memcpy(std_, stdv, sizeof std_);
  file_bytes_ = file_bytes;
  weights_offset_ = v.weights_offset;
  weights_bytes_ = v.weights_bytes;
  activation_bytes_ = activation_bytes;
  staging_bytes_ = staging_bytes;
  index_bytes_ = index_bytes;
  std::memcpy(meta_hash_, p + kMetaHash, 32);
  std::memcpy(weights_hash_, p + kWeightsHash, 32);
  return Status::kOk;
}

}  // namespace msprune::rt
