// Torch-free .msm writer: graph recording, offline memory planning, layout,
// hashing, and a final load through the runtime's own verifier.
#include "export/msm_writer.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>

#include "runtime/format.h"
#include "runtime/runtime.h"
#include "runtime/sha256.h"
#include "util/error.h"

namespace msprune::msm {

namespace fmt = rt::fmt;
using rt::OpType;

namespace {

[[noreturn]] void fail(const char* f, ...) __attribute__((format(printf, 1, 2)));
void fail(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  throw Error(std::string("msm writer: ") + buf);
}

constexpr int T(OpType t) { return int(t); }

}  // namespace

Builder::Builder(int channels, int height, int width, std::vector<float> mean, std::vector<float> std)
    : in_c_(channels), in_h_(height), in_w_(width), mean_(std::move(mean)), std_(std::move(std)) {
  if (channels < 1 || channels > int(fmt::kMaxInputC) || height < 1 ||
      height > int(fmt::kMaxSpatial) || width < 1 || width > int(fmt::kMaxSpatial))
    fail("input %dx%dx%d out of range (channels 1..%u, H/W 1..%u)", channels, height, width,
         fmt::kMaxInputC, fmt::kMaxSpatial);
  if (int(mean_.size()) != channels || int(std_.size()) != channels)
    fail("input normalisation has %zu means and %zu stds for %d channels", mean_.size(),
         std_.size(), channels);
  for (int c = 0; c < channels; ++c)
    if (!std::isfinite(mean_[c]) || !std::isfinite(std_[c]) || !(std_[c] > 0))
      fail("input normalisation channel %d: mean %g std %g (finite, std > 0)", c, double(mean_[c]),
           double(std_[c]));
  acts_.push_back(Act{Shape{channels, height, width}, -1});
}

const Builder::Act& Builder::act(Tensor t, const char* what) const {
  if (t.id >= acts_.size()) fail("%s: tensor %u does not exist", what, t.id);
  return acts_[t.id];
}

Shape Builder::shape(Tensor t) const { return act(t, "shape").s; }

Tensor Builder::push(int type, std::vector<uint32_t> in, Shape out, bool relu) {
  if (ops_.size() >= fmt::kMaxOps) fail("more than %u ops", fmt::kMaxOps);
  if (acts_.size() >= fmt::kMaxTensors / 2) fail("more than %u activations", fmt::kMaxTensors / 2);
  detail::OpNode op;
  op.type = type;
  op.relu = relu;
  op.in = std::move(in);
  op.out = uint32_t(acts_.size());
  ops_.push_back(std::move(op));
  acts_.push_back(Act{out, int(ops_.size()) - 1});
  return Tensor{ops_.back().out};
}

Tensor Builder::conv2d(Tensor x, int out_channels, int kernel, int stride, int pad,
                       std::span<const float> weight, std::span<const float> bias, bool relu) {
  const Shape s = act(x, "conv2d").s;
  const int op = num_ops();
  if (kernel != 1 && kernel != 3) fail("conv2d (op %d): kernel %d (1 or 3)", op, kernel);
  if (stride != 1 && stride != 2) fail("conv2d (op %d): stride %d (1 or 2)", op, stride);
  if (pad < 0 || pad > kernel / 2) fail("conv2d (op %d): pad %d (0..%d)", op, pad, kernel / 2);
  if (out_channels < 1 || out_channels > int(fmt::kMaxChannels))
    fail("conv2d (op %d): %d output channels", op, out_channels);
  if (s.h + 2 * pad < kernel || s.w + 2 * pad < kernel)
    fail("conv2d (op %d): input %dx%d too small for kernel %d", op, s.h, s.w, kernel);
  const size_t expect = size_t(out_channels) * s.c * kernel * kernel;
  if (weight.size() != expect)
    fail("conv2d (op %d): weight has %zu floats, expected %d*%d*%d*%d = %zu", op, weight.size(),
         out_channels, s.c, kernel, kernel, expect);
  if (!bias.empty() && bias.size() != size_t(out_channels))
    fail("conv2d (op %d): bias has %zu floats, expected %d", op, bias.size(), out_channels);
  const Shape o{out_channels, (s.h + 2 * pad - kernel) / stride + 1,
                (s.w + 2 * pad - kernel) / stride + 1};
  Tensor t = push(T(OpType::kConv2d), {x.id}, o, relu);
  auto& n = ops_.back();
  n.p[0] = kernel, n.p[1] = stride, n.p[2] = pad;
  n.w0.assign(weight.begin(), weight.end());
  n.w1.assign(bias.begin(), bias.end());
  return t;
}

Tensor Builder::affine(Tensor x, std::span<const float> scale, std::span<const float> shift,
                       std::span<const uint32_t> gather, bool relu) {
  const Shape s = act(x, "affine").s;
  const int op = num_ops();
  const size_t c = gather.empty() ? size_t(s.c) : gather.size();
  if (c < 1 || scale.size() != c || shift.size() != c)
    fail("affine (op %d): %zu channels, scale %zu, shift %zu floats", op, c, scale.size(),
         shift.size());
  for (size_t i = 0; i < gather.size(); ++i)
    if (gather[i] >= uint32_t(s.c))
      fail("affine (op %d): gather index[%zu] = %u >= input channels %d", op, i, gather[i], s.c);
  Tensor t = push(T(OpType::kAffine), {x.id}, Shape{int(c), s.h, s.w}, relu);
  auto& n = ops_.back();
  n.w0.assign(scale.begin(), scale.end());
  n.w1.assign(shift.begin(), shift.end());
  n.index.assign(gather.begin(), gather.end());
  return t;
}

namespace {
Shape pool_shape(const char* name, int op, Shape s, int k, int st) {
  if (k < 1 || k > int(fmt::kMaxPoolWindow) || st < 1 || st > int(fmt::kMaxPoolWindow) || k > s.h ||
      k > s.w)
    fail("%s (op %d): window %d stride %d for input %dx%d", name, op, k, st, s.h, s.w);
  return Shape{s.c, (s.h - k) / st + 1, (s.w - k) / st + 1};
}
}  // namespace

Tensor Builder::max_pool(Tensor x, int kernel, int stride) {
  Tensor t = push(T(OpType::kMaxPool), {x.id},
                  pool_shape("max_pool", num_ops(), act(x, "max_pool").s, kernel, stride), false);
  ops_.back().p[0] = kernel, ops_.back().p[1] = stride;
  return t;
}

Tensor Builder::avg_pool(Tensor x, int kernel, int stride) {
  Tensor t = push(T(OpType::kAvgPool), {x.id},
                  pool_shape("avg_pool", num_ops(), act(x, "avg_pool").s, kernel, stride), false);
  ops_.back().p[0] = kernel, ops_.back().p[1] = stride;
  return t;
}

Tensor Builder::global_avg_pool(Tensor x) {
  const Shape s = act(x, "global_avg_pool").s;
  if (s.h != s.w) fail("global_avg_pool (op %d): input %dx%d is not square", num_ops(), s.h, s.w);
  return avg_pool(x, s.h, 1);
}

Tensor Builder::add(Tensor a, Tensor b, bool relu) {
  const Shape sa = act(a, "add").s, sb = act(b, "add").s;
  if (sa.c != sb.c || sa.h != sb.h || sa.w != sb.w)
    fail("add (op %d): shapes [%d,%d,%d] and [%d,%d,%d] differ", num_ops(), sa.c, sa.h, sa.w, sb.c,
         sb.h, sb.w);
  return push(T(OpType::kAdd), {a.id, b.id}, sa, relu);
}

Tensor Builder::concat(std::span<const Tensor> parts) {
  if (parts.size() < 2 || parts.size() > fmt::kMaxConcat)
    fail("concat (op %d): %zu parts (2..%u)", num_ops(), parts.size(), fmt::kMaxConcat);
  const Shape s0 = act(parts[0], "concat").s;
  int c = 0;
  std::vector<uint32_t> in;
  for (const Tensor& p : parts) {
    const Shape s = act(p, "concat").s;
    if (s.h != s0.h || s.w != s0.w)
      fail("concat (op %d): part %zu is %dx%d, part 0 is %dx%d", num_ops(), in.size(), s.h, s.w,
           s0.h, s0.w);
    c += s.c;
    in.push_back(p.id);
  }
  if (c > int(fmt::kMaxChannels)) fail("concat (op %d): %d channels", num_ops(), c);
  return push(T(OpType::kConcat), std::move(in), Shape{c, s0.h, s0.w}, false);
}

Tensor Builder::linear(Tensor x, int out_features, std::span<const float> weight,
                       std::span<const float> bias) {
  const Shape s = act(x, "linear").s;
  const int op = num_ops();
  if (s.h != 1 || s.w != 1) fail("linear (op %d): input is %dx%d, must be 1x1", op, s.h, s.w);
  if (out_features < 1 || out_features > int(fmt::kMaxChannels))
    fail("linear (op %d): %d outputs", op, out_features);
  if (weight.size() != size_t(out_features) * s.c)
    fail("linear (op %d): weight has %zu floats, expected %d*%d", op, weight.size(), out_features,
         s.c);
  if (!bias.empty() && bias.size() != size_t(out_features))
    fail("linear (op %d): bias has %zu floats, expected %d", op, bias.size(), out_features);
  Tensor t = push(T(OpType::kLinear), {x.id}, Shape{out_features, 1, 1}, false);
  ops_.back().w0.assign(weight.begin(), weight.end());
  ops_.back().w1.assign(bias.begin(), bias.end());
  return t;
}

Tensor Builder::softmax(Tensor x) {
  const Shape s = act(x, "softmax").s;
  if (s.h != 1 || s.w != 1) fail("softmax (op %d): input is %dx%d, must be 1x1", num_ops(), s.h, s.w);
  return push(T(OpType::kSoftmax), {x.id}, s, false);
}

// ---------------------------------------------------------------------------
// finish(): plan + layout

namespace {

// OIHW -> CONV_PACKED or CONV_QUAD (padding entries 0).
std::vector<float> pack_conv(const std::vector<float>& w, int o, int i, int k, int block, bool quad) {
  std::vector<float> out(quad ? fmt::conv_quad_floats(o, i, k) : fmt::conv_packed_floats(o, i, k), 0.0f);
  for (int co = 0; co < o; ++co)
    for (int ci = 0; ci < i; ++ci)
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx)
          out[quad ? fmt::conv_quad_index(co, ci, ky, kx, i, k, o, block)
                   : fmt::conv_packed_index(co, ci, ky, kx, i, k, o, block)] =
              w[((size_t(co) * i + ci) * k + ky) * k + kx];
  return out;
}

struct Alias {
  int parent = -1;  // concat output this tensor is a view of
  int offset = 0;   // channel offset inside it
  int op = -1, slot = -1;  // the concat (op, slot) that made the alias
};

}  // namespace

std::vector<uint8_t> Builder::finish(Tensor output, const FinishOptions& opts) const {
  if (ops_.empty()) fail("finish: the graph has no ops");
  const Shape os = act(output, "finish").s;
  if (output.id == 0) fail("finish: the output is the input");
  std::vector<Act> acts = acts_;  // the graph as it will be written (adds fused)
  std::vector<detail::OpNode> ops = ops_;
  if (opts.fuse_residual_add) fuse_residual_adds(acts, ops, output);
  const int n_act = int(acts.size()), n_ops = int(ops.size());
  if (os.h != 1 || os.w != 1) fail("finish: output is [%d,%d,%d], must be [classes,1,1]", os.c, os.h, os.w);
  if (opts.conv_block < 16 || opts.conv_block > 64 || opts.conv_block % 16 != 0)
    fail("finish: conv_block %d (16, 32, 48 or 64)", opts.conv_block);

  // Border each tensor needs (3x3 convs with padding read it without checks).
  std::vector<int> pad_need(n_act, 0);
  for (const auto& op : ops)
    if (op.type == T(OpType::kConv2d)) pad_need[op.in[0]] = std::max(pad_need[op.in[0]], op.p[2]);

  // Concatenations in place: each part becomes a view of the concat output,
  // unless that would put an op's input and output in one buffer; such
  // aliases are banned and the planning redone (each round bans one more).
  std::vector<Alias> alias;
  std::vector<int> root(n_act), choff(n_act);
  std::set<std::pair<int, int>> banned;
  for (;;) {
    alias.assign(n_act, Alias{});
    if (opts.concat_in_place)
      for (int i = 0; i < n_ops; ++i) {
        const auto& op = ops[i];
        if (op.type != T(OpType::kConcat)) continue;
        int pos = 0;
        for (int k = 0; k < int(op.in.size()); ++k) {
          const int p = int(op.in[k]);
          bool ok = p != 0 && p != int(output.id) && alias[p].parent < 0 &&
                    !banned.count({i, k});
          for (int j = 0; j < k; ++j) ok = ok && int(op.in[j]) != p;
          if (ok) alias[p] = Alias{int(op.out), pos, i, k};
          pos += acts[p].s.c;
        }
      }
    for (int t = 0; t < n_act; ++t) {
      int r = t, off = 0;
      while (alias[r].parent >= 0) off += alias[r].offset, r = alias[r].parent;
      root[t] = r, choff[t] = off;
    }
    int ban_tensor = -1;
    for (int i = 0; i < n_ops && ban_tensor < 0; ++i) {
      const auto& op = ops[i];
      int pos = 0;
      for (uint32_t in : op.in) {
        const bool in_place = op.type == T(OpType::kConcat) && root[in] == root[op.out] &&
                              choff[in] == choff[op.out] + pos;
        if (root[in] == root[op.out] && !in_place)
          ban_tensor = op.type == T(OpType::kConcat) ? int(in) : int(op.out);
        pos += acts[in].s.c;
      }
    }
    if (ban_tensor < 0) break;
    // The offending tensor is necessarily an in-place part (an op's output
    // can share its input's buffer only through aliasing); it loses its alias.
    if (alias[ban_tensor].parent < 0)
      fail("finish: internal error planning concatenations (tensor %d)", ban_tensor);
    banned.insert({alias[ban_tensor].op, alias[ban_tensor].slot});
  }

  // Roots: border, lifetimes.
  std::vector<int> root_pad(n_act, 0), first(n_act, INT_MAX), last(n_act, -1);
  for (int t = 0; t < n_act; ++t) root_pad[root[t]] = std::max(root_pad[root[t]], pad_need[t]);
  // A conv's residual and its output need the same border (the kernels find
  // one from the other at a fixed distance); residual chains share one.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& op : ops)
      if (op.type == T(OpType::kConv2d) && op.in.size() == 2) {
        int& a = root_pad[root[op.in[1]]];
        int& b = root_pad[root[op.out]];
        if (a != b) a = b = std::max(a, b), changed = true;
      }
  }
  for (int t = 0; t < n_act; ++t) {
    const int r = root[t], p = acts[t].producer;
    const int at = p < 0 ? 0 : p;
    first[r] = std::min(first[r], at);
    last[r] = std::max(last[r], at);
  }
  for (int i = 0; i < n_ops; ++i)
    for (uint32_t in : ops[i].in) last[root[in]] = std::max(last[root[in]], i);
  last[root[output.id]] = n_ops - 1;

  // Placement: greedy by size (largest first), lowest offset that does not
  // overlap any placed buffer whose lifetime intersects.
  std::vector<int> roots;
  std::vector<uint64_t> rbytes(n_act, 0), roff(n_act, 0);
  for (int t = 0; t < n_act; ++t)
    if (root[t] == t) {
      roots.push_back(t);
      rbytes[t] = fmt::act_bytes(acts[t].s.c, acts[t].s.h, acts[t].s.w, root_pad[t]);
    }
  std::vector<int> order = roots;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (rbytes[a] != rbytes[b]) return rbytes[a] > rbytes[b];
    return first[a] < first[b];
  });
  std::vector<int> placed;
  uint64_t arena_end = 0;
  for (int r : order) {
    uint64_t off = 0;
    if (!opts.reuse_buffers) {
      off = fmt::round_up(arena_end, fmt::kAlign);
    } else {
      std::vector<std::pair<uint64_t, uint64_t>> busy;
      for (int q : placed)
        if (first[q] <= last[r] && first[r] <= last[q]) busy.push_back({roff[q], roff[q] + rbytes[q]});
      std::sort(busy.begin(), busy.end());
      for (const auto& [b0, b1] : busy) {
        if (off + rbytes[r] <= b0) break;
        off = std::max(off, fmt::round_up(b1, fmt::kAlign));
      }
    }
    roff[r] = off;
    arena_end = std::max(arena_end, off + rbytes[r]);
    placed.push_back(r);
  }
  const uint64_t activation_bytes = fmt::round_up(arena_end, fmt::kAlign);

  // Tensor table: activations keep their ids; weights and indices follow.
  std::vector<fmt::TensorRec> tensors(n_act);
  for (int t = 0; t < n_act; ++t) {
    fmt::TensorRec& r = tensors[t];
    const Shape s = acts[t].s;
    r.kind = fmt::kAct;
    r.dtype = fmt::kF32;
    r.layout = fmt::kNHWC;
    r.root = uint32_t(root[t]);
    r.dims[0] = uint32_t(s.c), r.dims[1] = uint32_t(s.h), r.dims[2] = uint32_t(s.w);
    r.c_offset = uint32_t(choff[t]);
    r.pad = uint32_t(root_pad[root[t]]);
    r.producer = acts[t].producer < 0 ? fmt::kNone : uint32_t(acts[t].producer);
    if (root[t] == t) {
      r.offset = roff[t];
      r.bytes = rbytes[t];
      r.live_first = uint32_t(first[t]);
      r.live_last = uint32_t(last[t]);
    }
  }

  std::vector<fmt::OpRec> recs(n_ops);
  std::vector<uint8_t> payload;
  std::vector<std::pair<uint32_t, const std::vector<uint32_t>*>> index_tensors;
  auto add_weight = [&](const std::vector<float>& data, std::initializer_list<uint32_t> dims,
                        uint16_t layout, uint32_t aux) {
    fmt::TensorRec r;
    r.kind = fmt::kWeight;
    r.dtype = fmt::kF32;
    r.layout = layout;
    int d = 0;
    for (uint32_t v : dims) r.dims[d++] = v;
    r.aux = aux;
    r.offset = fmt::round_up(payload.size(), fmt::kAlign);
    r.bytes = data.size() * sizeof(float);
    payload.resize(r.offset + r.bytes, 0);
    std::memcpy(payload.data() + r.offset, data.data(), r.bytes);
    tensors.push_back(r);
    return uint32_t(tensors.size() - 1);
  };
  for (int i = 0; i < n_ops; ++i) {
    const auto& op = ops[i];
    fmt::OpRec& o = recs[i];
    o.type = uint16_t(op.type);
    o.flags = op.relu ? fmt::kRelu : 0;
    o.out = op.out;
    for (size_t k = 0; k < op.in.size(); ++k) o.in[k] = op.in[k];
    for (int k = 0; k < 3; ++k) o.p[k] = uint32_t(op.p[k]);
    if (op.type == T(OpType::kConcat)) o.p[0] = uint32_t(op.in.size());
    const size_t start = fmt::round_up(payload.size(), fmt::kAlign);
    const Shape x = acts[op.in[0]].s, y = acts[op.out].s;
    if (op.type == T(OpType::kConv2d)) {
      const bool quad = opts.conv_layout == ConvLayout::kQuad ||
                        (opts.conv_layout == ConvLayout::kAuto && prefer_quad_layout(y.c, x.c, op.p[0]));
      const int block = quad ? std::min(kQuadBlock, (y.c + 3) / 4 * 4)
                             : std::min(opts.conv_block, (y.c + 15) / 16 * 16);
      o.w[0] = add_weight(pack_conv(op.w0, y.c, x.c, op.p[0], block, quad),
                          {uint32_t(y.c), uint32_t(x.c), uint32_t(op.p[0]), uint32_t(op.p[0])},
                          quad ? fmt::kConvQuad : fmt::kConvPacked, uint32_t(block));
      if (!op.w1.empty()) o.w[1] = add_weight(op.w1, {uint32_t(y.c)}, fmt::kDense, 0);
    } else if (op.type == T(OpType::kAffine)) {
      o.w[0] = add_weight(op.w0, {uint32_t(y.c)}, fmt::kDense, 0);
      o.w[1] = add_weight(op.w1, {uint32_t(y.c)}, fmt::kDense, 0);
      if (!op.index.empty()) {
        fmt::TensorRec r;
        r.kind = fmt::kIndex;
        r.dtype = fmt::kU32;
        r.layout = fmt::kDense;
        r.dims[0] = uint32_t(op.index.size());
        r.bytes = op.index.size() * sizeof(uint32_t);
        tensors.push_back(r);  // offset set once the tables' size is known
        o.w[2] = uint32_t(tensors.size() - 1);
        index_tensors.push_back({o.w[2], &op.index});
      }
    } else if (op.type == T(OpType::kLinear)) {
      o.w[0] = add_weight(op.w0, {uint32_t(y.c), uint32_t(x.c)}, fmt::kDense, 0);
      if (!op.w1.empty()) o.w[1] = add_weight(op.w1, {uint32_t(y.c)}, fmt::kDense, 0);
    }
    if (payload.size() > start) {
      o.range_off = start;
      o.range_bytes = payload.size() - start;
    }
  }
  payload.resize(fmt::round_up(payload.size(), fmt::kAlign), 0);
  if (tensors.size() > fmt::kMaxTensors) fail("finish: %zu tensors (max %u)", tensors.size(), fmt::kMaxTensors);

  // Metadata: header, tables, index data.
  const uint64_t op_table = fmt::kHeaderBytes + uint64_t(tensors.size()) * fmt::kTensorBytes;
  uint64_t cursor = op_table + uint64_t(n_ops) * fmt::kOpBytes;
  for (auto& [id, data] : index_tensors) {
    cursor = fmt::round_up(cursor, fmt::kAlign);
    tensors[id].offset = cursor;
    cursor += tensors[id].bytes;
  }
  const uint64_t weights_offset = fmt::round_up(cursor, fmt::kAlign);
  std::vector<uint8_t> out(weights_offset + payload.size(), 0);
  uint8_t* h = out.data();
  using namespace fmt::hdr;
  std::memcpy(h, fmt::kMagic, 8);
  // The oldest version that holds this graph: 3 only for a conv residual,
  // so that files without one still load in runtimes built before it.
  bool residual = false;
  for (const auto& op : ops) residual = residual || (op.type == T(OpType::kConv2d) && op.in.size() == 2);
  fmt::wr<uint32_t>(h + kVersionOff, residual ? fmt::kVersion : 2u);
  fmt::wr<uint32_t>(h + kHeaderBytesOff, fmt::kHeaderBytes);
  fmt::wr<uint64_t>(h + kFileBytes, out.size());
  fmt::wr<uint32_t>(h + kNumTensors, uint32_t(tensors.size()));
  fmt::wr<uint32_t>(h + kNumOps, uint32_t(n_ops));
  fmt::wr<uint64_t>(h + kTensorTable, fmt::kHeaderBytes);
  fmt::wr<uint64_t>(h + kOpTable, op_table);
  fmt::wr<uint64_t>(h + kWeightsOffset, weights_offset);
  fmt::wr<uint64_t>(h + kWeightsBytes, payload.size());
  fmt::wr<uint64_t>(h + kActivationBytes, activation_bytes);
  uint64_t staging = 0;
  for (const auto& o : recs) staging = std::max(staging, o.range_bytes);
  fmt::wr<uint64_t>(h + kStagingBytes, staging);
  fmt::wr<uint32_t>(h + kInputTensor, 0);
  fmt::wr<uint32_t>(h + kOutputTensor, output.id);
  fmt::wr<uint32_t>(h + kInputC, uint32_t(in_c_));
  fmt::wr<uint32_t>(h + kInputH, uint32_t(in_h_));
  fmt::wr<uint32_t>(h + kInputW, uint32_t(in_w_));
  fmt::wr<uint32_t>(h + kNumClasses, uint32_t(os.c));
  for (int c = 0; c < in_c_; ++c) {
    fmt::wr<float>(h + kMean + 4 * c, mean_[c]);
    fmt::wr<float>(h + kStd + 4 * c, std_[c]);
  }
  for (size_t t = 0; t < tensors.size(); ++t)
    fmt::write_tensor(h + fmt::kHeaderBytes + t * fmt::kTensorBytes, tensors[t]);
  for (int i = 0; i < n_ops; ++i) fmt::write_op(h + op_table + size_t(i) * fmt::kOpBytes, recs[i]);
  for (auto& [id, data] : index_tensors)
    std::memcpy(h + tensors[id].offset, data->data(), tensors[id].bytes);
  if (!payload.empty()) std::memcpy(h + weights_offset, payload.data(), payload.size());

  rt::Sha256::hash(h + weights_offset, payload.size(), h + kWeightsHash);
  rt::Sha256::hash(h, weights_offset, h + kMetaHash);  // the field is still zero here

  // The runtime's verifier is the judge of what we wrote.
  rt::Model check;
  rt::Error err;
  if (check.load(out.data(), out.size(), rt::LoadOptions{}, &err) != rt::Status::kOk)
    fail("finish: the runtime rejects the file it wrote (%s at offset %llu): %s",
         rt::status_name(err.status), (unsigned long long)err.offset, err.message);
  return out;
}

// Fuses each add whose one operand is the only use of a conv without ReLU,
// and whose other operand (the residual) exists before that conv, into the
// conv: y = relu?(conv(x) + bias + residual), one pass over y instead of two
// plus a third for the add. The add and the conv's own output disappear;
// ids are renumbered. Left alone: operands or results that take part in a
// concatenation (their buffer geometry is the concat's) and the graph output.
void Builder::fuse_residual_adds(std::vector<Act>& acts, std::vector<detail::OpNode>& ops,
                                 Tensor& output) {
  const int n_act = int(acts.size()), n_ops = int(ops.size());
  std::vector<int> uses(n_act, 0);
  std::vector<bool> in_concat(n_act, false);
  for (const auto& op : ops)
    for (uint32_t in : op.in) {
      ++uses[in];
      if (op.type == T(OpType::kConcat)) in_concat[in] = true;
    }
  std::vector<bool> drop_op(n_ops, false), drop_act(n_act, false);
  for (int i = 0; i < n_ops; ++i) {
    const auto& add = ops[i];
    if (add.type != T(OpType::kAdd) || add.out == output.id || in_concat[add.out]) continue;
    // Try the later-produced operand first: the other must already exist.
    uint32_t c = add.in[0], r = add.in[1];
    if (acts[r].producer > acts[c].producer) std::swap(c, r);
    const int j = acts[c].producer;
    if (j < 0 || c == r || c == output.id || uses[c] != 1 || in_concat[r] || acts[r].producer >= j)
      continue;
    auto& conv = ops[j];
    if (conv.type != T(OpType::kConv2d) || conv.relu || conv.in.size() != 1) continue;
    conv.in.push_back(r);
    conv.relu = add.relu;
    conv.out = add.out;
    drop_op[i] = true;
    drop_act[c] = true;
  }
  std::vector<uint32_t> id(n_act, UINT32_MAX);
  std::vector<Act> new_acts;
  for (int t = 0; t < n_act; ++t)
    if (!drop_act[t]) id[t] = uint32_t(new_acts.size()), new_acts.push_back(acts[t]);
  std::vector<detail::OpNode> new_ops;
  for (int i = 0; i < n_ops; ++i) {
    if (drop_op[i]) continue;
    detail::OpNode op = std::move(ops[i]);
    for (uint32_t& in : op.in) in = id[in];
    op.out = id[op.out];
    new_acts[op.out].producer = int(new_ops.size());
    new_ops.push_back(std::move(op));
  }
  acts = std::move(new_acts);
  ops = std::move(new_ops);
  output.id = id[output.id];
}

// ---------------------------------------------------------------------------
// Helpers

namespace {
std::vector<float> bn_factor(const BatchNorm& bn) {
  const size_t c = bn.gamma.size();
  if (bn.beta.size() != c || bn.mean.size() != c || bn.var.size() != c || c == 0)
    fail("batchnorm: gamma %zu, beta %zu, mean %zu, var %zu entries", c, bn.beta.size(),
         bn.mean.size(), bn.var.size());
  std::vector<float> g(c);
  for (size_t i = 0; i < c; ++i) g[i] = bn.gamma[i] / std::sqrt(bn.var[i] + bn.eps);
  return g;
}
}  // namespace

void fold_bn_into_conv(std::vector<float>& weight_oihw, std::vector<float>& bias,
                       const BatchNorm& bn) {
  const std::vector<float> g = bn_factor(bn);
  const size_t o = g.size();
  if (weight_oihw.size() % o != 0)
    fail("fold_bn_into_conv: %zu weights do not split into %zu output channels", weight_oihw.size(), o);
  if (!bias.empty() && bias.size() != o)
    fail("fold_bn_into_conv: bias has %zu entries for %zu channels", bias.size(), o);
  if (bias.empty()) bias.assign(o, 0.0f);
  const size_t per = weight_oihw.size() / o;
  for (size_t c = 0; c < o; ++c) {
    for (size_t j = 0; j < per; ++j) weight_oihw[c * per + j] *= g[c];
    bias[c] = bn.beta[c] + (bias[c] - bn.mean[c]) * g[c];
  }
}

void bn_to_affine(const BatchNorm& bn, std::span<const uint32_t> gather, std::vector<float>& scale,
                  std::vector<float>& shift) {
  const std::vector<float> g = bn_factor(bn);
  const size_t n = gather.empty() ? g.size() : gather.size();
  scale.resize(n);
  shift.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = gather.empty() ? i : gather[i];
    if (c >= g.size()) fail("bn_to_affine: gather index %zu >= %zu channels", c, g.size());
    scale[i] = g[c];
    shift[i] = bn.beta[c] - bn.mean[c] * g[c];
  }
}

bool prefer_quad_layout(int out_channels, int in_channels, int kernel) {
  // Measured (bench_runtime's single-layer table, docs/runtime.md). CONV_QUAD
  // adds each output's 4 partial sums at the end, so it needs enough terms
  // per output (K²·I). Given those, it wins where CONV_PACKED is held back:
  // with at most 16 outputs (one vector: a broadcast per FMA), or where
  // padding to 16 wastes clearly more lanes than padding to 4 (by 10%; at
  // equal lane use CONV_PACKED is a few percent faster). With at most 16
  // outputs four input channels are enough (pruned 1×1 layers at 32×32,
  // e.g. 7→7 2.2 against 2.6 µs, 10→3 2.2 against 3.1 µs; docs/results.md);
  // with fewer, a quad is mostly zeros (3→7 3×3: 7.5 against 6.8 µs).
  if (out_channels < 1 || in_channels < 1) return false;
  if (out_channels <= 16) return in_channels >= 4;
  if (in_channels * kernel * kernel < 32) return false;
  const double o = out_channels, i = in_channels;
  const double packed_use = o / ((out_channels + 15) / 16 * 16);
  const double quad_use = o * i / (double((out_channels + 3) / 4 * 4) * double((in_channels + 3) / 4 * 4));
  return packed_use < 0.9 * quad_use;
}

std::vector<uint32_t> mask_to_indices(std::span<const float> mask) {
  std::vector<uint32_t> idx;
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i] != 0.0f) idx.push_back(uint32_t(i));
  return idx;
}

}  // namespace msprune::msm
