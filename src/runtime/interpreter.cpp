// Interpreter: prepares a verified model on the caller's arena once (TFLM's
// Prepare), then runs it without checks (Eval). No heap, no exceptions.
#include <cstring>
#include <new>

#include "runtime/internal.h"
#include "runtime/thread_pool.h"

namespace msprune::rt {

using fmt::kNone;

namespace {

using U = unsigned long long;

// One prepared op, constructed in the arena at init.
struct PrepOp {
  uint16_t type = 0;
  uint32_t index = 0;
  uint64_t range_off = 0, range_bytes = 0;  // weight range in the payload
  // Streaming: where the weight pointers live relative to the range start.
  uint64_t rel[2] = {0, 0};
  bool has_w[2] = {false, false};
  Act out;  // for the zero border
  union Args {
    Args() {}
    ConvArgs conv;
    AffineArgs affine;
    PoolArgs pool;
    AddArgs add;
    LinearArgs linear;
    ConcatArgs concat;
    SoftmaxArgs softmax;
  } a;
};

constexpr uint64_t ops_region(uint32_t num_ops) {
  return fmt::round_up(uint64_t(num_ops) * sizeof(PrepOp), fmt::kAlign);
}

}  // namespace

size_t Model::arena_bytes() const {
  if (!loaded()) return 0;
  uint64_t n = ops_region(num_ops_) + index_bytes_ + activation_bytes_;
  if (mode_ == WeightMode::kStreaming) n += fmt::round_up(staging_bytes_, fmt::kAlign);
  return size_t(n);
}

Status Model::op_info(uint32_t i, OpInfo* out) const {
  if (!loaded()) return Status::kNotReady;
  if (i >= num_ops_ || out == nullptr) return Status::kBadArgument;
  const uint64_t op_table = fmt::kHeaderBytes + uint64_t(num_tensors_) * fmt::kTensorBytes;
  const fmt::OpRec o = fmt::read_op(data_ + op_table + uint64_t(i) * fmt::kOpBytes);
  auto tensor = [&](uint32_t t) {
    return fmt::read_tensor(data_ + fmt::kHeaderBytes + uint64_t(t) * fmt::kTensorBytes);
  };
  OpInfo r;
  r.type = OpType(o.type);
  r.relu = (o.flags & fmt::kRelu) != 0;
  while (r.num_inputs < 4 && o.in[r.num_inputs] != kNone) ++r.num_inputs;
  const fmt::TensorRec x = tensor(o.in[0]), y = tensor(o.out);
  r.in_c = x.dims[0];
  r.in_h = x.dims[1];
  r.in_w = x.dims[2];
  r.out_c = y.dims[0];
  r.out_h = y.dims[1];
  r.out_w = y.dims[2];
  r.weight_offset = o.range_off;
  r.weight_bytes = o.range_bytes;
  for (int s = 0; s < 4; ++s)
    if (o.w[s] != kNone) {
      const fmt::TensorRec w = tensor(o.w[s]);
      uint64_t n = 1;
      for (int d = 0; d < 4 && w.dims[d] != 0; ++d) n *= w.dims[d];
      r.params += n;
    }
  switch (r.type) {
    case OpType::kConv2d:
      r.kernel = o.p[0];
      r.stride = o.p[1];
      r.pad = o.p[2];
      r.macs = uint64_t(r.out_c) * r.out_h * r.out_w * r.in_c * r.kernel * r.kernel;
      r.quad = tensor(o.w[0]).layout == fmt::kConvQuad;
      break;
    case OpType::kMaxPool:
    case OpType::kAvgPool:
      r.kernel = o.p[0];
      r.stride = o.p[1];
      break;
    case OpType::kAffine: r.gather = o.w[2] != kNone; break;
    case OpType::kLinear: r.macs = uint64_t(r.out_c) * r.in_c; break;
    case OpType::kConcat: {
      r.in_place = true;
      uint32_t pos = 0;
      for (uint32_t k = 0; k < r.num_inputs; ++k) {
        const fmt::TensorRec p = tensor(o.in[k]);
        if (p.root != y.root || p.c_offset != y.c_offset + pos) r.in_place = false;
        pos += p.dims[0];
      }
      break;
    }
    default: break;
  }
  *out = r;
  return Status::kOk;
}

uint64_t Model::total_macs() const {
  uint64_t total = 0;
  for (uint32_t i = 0; i < num_ops_; ++i) {
    OpInfo info;
    if (op_info(i, &info) == Status::kOk) total += info.macs;
  }
  return total;
}

const char* kernel_level_name(KernelLevel k) {
  switch (k) {
    case KernelLevel::kAuto: return "auto";
    case KernelLevel::kReference: return "reference";
    case KernelLevel::kAvx2: return "avx2";
    case KernelLevel::kAvx512: return "avx512";
  }
  return "?";
}

void zero_border(const Act& a) {
  if (a.pad == 0) return;
  const size_t n = sizeof(float) * size_t(a.c);
  for (int x = -1; x <= a.w; ++x) {
    std::memset(a.at(-1, x), 0, n);
    std::memset(a.at(a.h, x), 0, n);
  }
  for (int y = 0; y < a.h; ++y) {
    std::memset(a.at(y, -1), 0, n);
    std::memset(a.at(y, a.w), 0, n);
  }
}

Interpreter::~Interpreter() { shutdown(); }

void Interpreter::shutdown() {
  if (pool_) {
    static_cast<ThreadPool*>(pool_)->~ThreadPool();
    pool_ = nullptr;
  }
  ops_ = nullptr;
  model_ = nullptr;
}

Status Interpreter::init(const Model& model, void* arena, size_t arena_size,
                         const InterpreterOptions& opts, Error* err) {
  shutdown();
  if (err) *err = Error();
  if (!model.loaded()) return fail(err, Status::kNotReady, Error::kNoOffset, "model is not loaded");
  if (arena == nullptr)
    return fail(err, Status::kBadArgument, Error::kNoOffset, "arena pointer is null");
  if (reinterpret_cast<uintptr_t>(arena) % fmt::kAlign != 0)
    return fail(err, Status::kBadAlignment, Error::kNoOffset,
                "arena at address %p is not 64-byte aligned", arena);
  const size_t need = model.arena_bytes();
  if (arena_size < need)
    return fail(err, Status::kArenaTooSmall, Error::kNoOffset,
                "arena is %llu bytes but the model needs %llu (%llu short)", U(arena_size), U(need),
                U(need - arena_size));
  if (opts.threads < 1 || opts.threads > kMaxThreads)
    return fail(err, Status::kBadArgument, Error::kNoOffset, "threads = %d (must be 1..%d)",
                opts.threads, kMaxThreads);
  const KernelTable* table = kernel_table(opts.kernels);
  if (table == nullptr)
    return fail(err, Status::kUnsupported, Error::kNoOffset,
                "kernel level %s (%u) is not available on this CPU or build",
                kernel_level_name(opts.kernels), unsigned(opts.kernels));
  const bool streaming = model.weight_mode() == WeightMode::kStreaming;
  if (streaming && opts.fetch == nullptr)
    return fail(err, Status::kBadArgument, Error::kNoOffset,
                "streaming mode needs a weight fetch callback");

  const uint8_t* data = model.bytes();
  const uint32_t num_ops = model.num_ops();
  uint8_t* base = static_cast<uint8_t*>(arena);
  uint8_t* index_region = base + ops_region(num_ops);
  uint8_t* act = index_region + model.index_bytes();
  uint8_t* staging = act + model.activation_bytes();
  const uint8_t* payload = data + model.metadata_bytes();

  auto tensor = [&](uint32_t t) {
    return fmt::read_tensor(data + fmt::kHeaderBytes + uint64_t(t) * fmt::kTensorBytes);
  };
  auto make_act = [&](uint32_t t) {
    const fmt::TensorRec r = tensor(t);
    const fmt::TensorRec root = tensor(r.root);
    Act a;
    a.c = int32_t(r.dims[0]);
    a.h = int32_t(r.dims[1]);
    a.w = int32_t(r.dims[2]);
    a.pad = int32_t(root.pad);
    a.cs = int32_t(root.dims[0]);
    a.rs = (a.w + 2 * a.pad) * a.cs;
    a.p = reinterpret_cast<float*>(act + root.offset) + int64_t(a.pad) * a.rs +
          int64_t(a.pad) * a.cs + r.c_offset;
    return a;
  };

  PrepOp* ops = reinterpret_cast<PrepOp*>(base);
  uint64_t index_used = 0;
  const uint64_t op_table = fmt::kHeaderBytes + uint64_t(model.num_tensors()) * fmt::kTensorBytes;
  for (uint32_t i = 0; i < num_ops; ++i) {
    const fmt::OpRec o = fmt::read_op(data + op_table + uint64_t(i) * fmt::kOpBytes);
    PrepOp* op = new (&ops[i]) PrepOp();
    op->type = o.type;
    op->index = i;
    op->range_off = o.range_off;
    op->range_bytes = o.range_bytes;
    op->out = make_act(o.out);
    const bool relu = (o.flags & fmt::kRelu) != 0;
    // Weight pointers: in place (resident) or relative to the staging buffer.
    const float* w[2] = {nullptr, nullptr};
    for (int s = 0; s < 2; ++s) {
      if (o.w[s] == kNone) continue;
      const fmt::TensorRec t = tensor(o.w[s]);
      op->has_w[s] = true;
      op->rel[s] = t.offset - o.range_off;
      w[s] = streaming ? nullptr : reinterpret_cast<const float*>(payload + t.offset);
    }
    switch (OpType(o.type)) {
      case OpType::kConv2d: {
        ConvArgs& a = *new (&op->a.conv) ConvArgs();
        a.x = make_act(o.in[0]);
        a.y = op->out;
        if (o.in[1] != kNone) a.res = make_act(o.in[1]);
        a.w = w[0];
        a.bias = w[1];
        a.k = int(o.p[0]);
        a.stride = int(o.p[1]);
        a.pad = int(o.p[2]);
        a.block = int(tensor(o.w[0]).aux);
        a.quad = tensor(o.w[0]).layout == fmt::kConvQuad;
        a.relu = relu;
        break;
      }
      case OpType::kAffine: {
        AffineArgs& a = *new (&op->a.affine) AffineArgs();
        a.x = make_act(o.in[0]);
        a.y = op->out;
        a.scale = w[0];
        a.shift = w[1];
        a.relu = relu;
        if (o.w[2] != kNone) {  // copy the verified indices into the arena
          const fmt::TensorRec t = tensor(o.w[2]);
          uint8_t* dst = index_region + index_used;
          std::memcpy(dst, data + t.offset, t.bytes);
          a.index = reinterpret_cast<const uint32_t*>(dst);
          index_used += fmt::round_up(t.bytes, fmt::kAlign);
        }
        break;
      }
      case OpType::kMaxPool:
      case OpType::kAvgPool: {
        PoolArgs& a = *new (&op->a.pool) PoolArgs();
        a.x = make_act(o.in[0]);
        a.y = op->out;
        a.k = int(o.p[0]);
        a.s = int(o.p[1]);
        break;
      }
      case OpType::kAdd: {
        AddArgs& a = *new (&op->a.add) AddArgs();
        a.a = make_act(o.in[0]);
        a.b = make_act(o.in[1]);
        a.y = op->out;
        a.relu = relu;
        break;
      }
      case OpType::kConcat: {
        ConcatArgs& a = *new (&op->a.concat) ConcatArgs();
        a.n = int(o.p[0]);
        for (int k = 0; k < a.n; ++k) a.parts[k] = make_act(o.in[k]);
        a.y = op->out;
        break;
      }
      case OpType::kLinear: {
        LinearArgs& a = *new (&op->a.linear) LinearArgs();
        const Act x = make_act(o.in[0]);
        a.x = x.p;
        a.y = op->out.p;
        a.in = x.c;
        a.out = op->out.c;
        a.w = w[0];
        a.bias = w[1];
        break;
      }
      case OpType::kSoftmax: {
        SoftmaxArgs& a = *new (&op->a.softmax) SoftmaxArgs();
        a.x = make_act(o.in[0]).p;
        a.y = op->out.p;
        a.n = op->out.c;
        break;
      }
    }
  }

  if (opts.threads > 1) {
    static_assert(sizeof(ThreadPool) <= sizeof(pool_storage_), "pool storage too small");
    ThreadPool* pool = new (pool_storage_) ThreadPool();
    if (!pool->start(opts.threads - 1)) {
      pool->~ThreadPool();
      return fail(err, Status::kThreadFailed, Error::kNoOffset, "could not start %d worker threads",
                  opts.threads - 1);
    }
    pool_ = pool;
  }
  model_ = &model;
  level_ = table->level;
  kernels_ = table;
  threads_ = opts.threads;
  opts_ = opts;
  arena_ = base;
  act_ = act;
  staging_ = staging;
  const Act in = make_act(model.input_tensor());
  in_ = in.p;
  in_geom_[0] = in.c, in_geom_[1] = in.h, in_geom_[2] = in.w;
  in_geom_[3] = in.cs, in_geom_[4] = in.rs, in_geom_[5] = in.pad;
  out_ = make_act(model.output_tensor()).p;
  ops_ = ops;
  return Status::kOk;
}

Act Interpreter::input_act() const {
  Act a;
  a.p = in_;
  a.c = in_geom_[0], a.h = in_geom_[1], a.w = in_geom_[2];
  a.cs = in_geom_[3], a.rs = in_geom_[4], a.pad = in_geom_[5];
  return a;
}

namespace {

struct ParallelCall {
  const KernelTable* k;
  const PrepOp* op;
};

void run_share(void* ctx, int part, int parts) {
  const ParallelCall& c = *static_cast<const ParallelCall*>(ctx);
  const PrepOp& op = *c.op;
  switch (OpType(op.type)) {
    case OpType::kConv2d: c.k->conv2d(op.a.conv, part, parts); break;
    case OpType::kAffine: c.k->affine(op.a.affine, part, parts); break;
    case OpType::kMaxPool: c.k->max_pool(op.a.pool, part, parts); break;
    case OpType::kAvgPool: c.k->avg_pool(op.a.pool, part, parts); break;
    case OpType::kAdd: c.k->add(op.a.add, part, parts); break;
    case OpType::kLinear: c.k->linear(op.a.linear, part, parts); break;
    case OpType::kConcat:
      if (part == 0) concat_ref(op.a.concat);
      break;
    case OpType::kSoftmax:
      if (part == 0) softmax_ref(op.a.softmax);
      break;
  }
}

}  // namespace

Status Interpreter::run(float* logits, Error* err) {
  zero_border(input_act());
  PrepOp* ops = static_cast<PrepOp*>(ops_);
  const KernelTable* k = static_cast<const KernelTable*>(kernels_);
  ThreadPool* pool = static_cast<ThreadPool*>(pool_);
  const uint32_t n = model_->num_ops();
  const bool streaming = model_->weight_mode() == WeightMode::kStreaming;
  for (uint32_t i = 0; i < n; ++i) {
    PrepOp& op = ops[i];
    if (opts_.hook) opts_.hook(opts_.hook_ctx, i, false);
    if (streaming && op.range_bytes != 0) {
      if (opts_.fetch(opts_.fetch_ctx, i, op.range_off, op.range_bytes, staging_) != 0)
        return fail(err, Status::kStreamFailed, Error::kNoOffset,
                    "weight fetch for op %u (payload [%llu, +%llu)) failed", i, U(op.range_off),
                    U(op.range_bytes));
      const float* w[2] = {nullptr, nullptr};
      for (int s = 0; s < 2; ++s)
        if (op.has_w[s]) w[s] = reinterpret_cast<const float*>(staging_ + op.rel[s]);
      switch (OpType(op.type)) {
        case OpType::kConv2d: op.a.conv.w = w[0], op.a.conv.bias = w[1]; break;
        case OpType::kAffine: op.a.affine.scale = w[0], op.a.affine.shift = w[1]; break;
        case OpType::kLinear: op.a.linear.w = w[0], op.a.linear.bias = w[1]; break;
        default: break;
      }
    }
    zero_border(op.out);
    ParallelCall call{k, &op};
    const bool parallel = pool != nullptr && op.type != uint16_t(OpType::kConcat) &&
                          op.type != uint16_t(OpType::kSoftmax);
    if (parallel)
      pool->run(run_share, &call);
    else
      run_share(&call, 0, 1);
    if (opts_.hook) opts_.hook(opts_.hook_ctx, i, true);
  }
  std::memcpy(logits, out_, sizeof(float) * model_->num_classes());
  return Status::kOk;
}

namespace {
// Writes the CHW image element by element through `value(c, index)` into the
// padded NHWC input buffer.
template <typename F>
void write_input(const Act& in, F value) {
  for (int c = 0; c < in.c; ++c)
    for (int y = 0; y < in.h; ++y)
      for (int x = 0; x < in.w; ++x)
        in.at(y, x)[c] = value(c, (int64_t(c) * in.h + y) * in.w + x);
}
}  // namespace

Status Interpreter::check_call(const void* input, const float* logits, Error* err) const {
  if (!ready()) return fail(err, Status::kNotReady, Error::kNoOffset, "interpreter not initialised");
  if (input == nullptr || logits == nullptr)
    return fail(err, Status::kBadArgument, Error::kNoOffset, "input or logits pointer is null");
  return Status::kOk;
}

Status Interpreter::invoke(const float* input, float* logits, Error* err) {
  if (Status s = check_call(input, logits, err); s != Status::kOk) return s;
  write_input(input_act(), [&](int, int64_t i) { return input[i]; });
  return run(logits, err);
}

Status Interpreter::invoke_u8(const uint8_t* image, float* logits, Error* err) {
  if (Status s = check_call(image, logits, err); s != Status::kOk) return s;
  const float* mean = model_->input_mean();
  const float* stdv = model_->input_std();
  write_input(input_act(), [&](int c, int64_t i) { return (float(image[i]) / 255.0f - mean[c]) / stdv[c]; });
  return run(logits, err);
}

}  // namespace msprune::rt
