// ONNX -> .msm: parse (hostile input), sort, map the supported op subset onto
// msm::Builder with BN folding and ReLU fusion, finish (runtime-verified).
#include "interop/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <queue>
#include <set>
#include <unordered_map>

#include "interop/onnx_meta.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::interop {

namespace {

constexpr int64_t kMinOpset = 9, kMaxOpset = 21;
constexpr uint64_t kMaxConstElems = uint64_t(1) << 28;  // 1 GiB of floats
constexpr int kMaxNodes = 1 << 20;
constexpr int kMaxAttrInts = 16;

constexpr const char* kSupportedList =
    "Conv, BatchNormalization, Relu, MaxPool, AveragePool, GlobalAveragePool, ReduceMean, Gemm, MatMul, Add, "
    "Concat, Flatten, Gather, Softmax, Identity, Dropout, Constant";

bool supported_op(const std::string& op) {
  static const std::set<std::string> ops = {
      "Conv",    "BatchNormalization", "Relu",   "MaxPool", "AveragePool", "GlobalAveragePool",
      "ReduceMean", "Gemm",            "MatMul", "Add",     "Concat",      "Flatten",
      "Gather",  "Softmax",            "Identity", "Dropout", "Constant"};
  return ops.count(op) > 0;
}

// A name from the file, safe to print on one line.
std::string printable(const std::string& s) {
  std::string r;
  for (size_t i = 0; i < s.size() && i < 96; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    r += (c >= 0x20 && c < 0x7f) ? char(c) : '?';
  }
  if (s.size() > 96) r += "...";
  return r;
}

std::string ints_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += strf("%s%lld", i ? "," : "", (long long)v[i]);
  return s + "]";
}

[[noreturn]] void fail(const std::string& msg) { throw Error("onnx import: " + msg); }

// A constant (initializer or Constant node), decoded and checked.
struct Const {
  std::vector<int64_t> dims;
  uint64_t numel = 1;
  bool is_float = false;
  std::vector<float> f;    // FLOAT
  std::vector<int64_t> i;  // INT64, INT32
};

Const decode_tensor(const onnx::TensorProto& t, const std::string& what) {
  Const c;
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
    fail(what + " keeps its data in an external file: not supported (save the model with its weights inside)");
  if (t.has_segment()) fail(what + " is a segment of a tensor: not supported");
  if (t.dims_size() > 8) fail(strf("%s has %d dimensions", what.c_str(), t.dims_size()));
  for (int64_t d : t.dims()) {
    if (d < 0 || d > (int64_t(1) << 31)) fail(strf("%s has a dimension of %lld", what.c_str(), (long long)d));
    c.dims.push_back(d);
    if (d != 0 && c.numel > kMaxConstElems / uint64_t(d))
      fail(strf("%s has shape %s: more than 2^28 elements", what.c_str(), ints_str(c.dims).c_str()));
    c.numel *= uint64_t(d);
  }
  if (c.numel > kMaxConstElems)
    fail(strf("%s has shape %s: more than 2^28 elements", what.c_str(), ints_str(c.dims).c_str()));
  const std::string& raw = t.raw_data();
  auto sizes = [&](size_t elem, int typed) {
    if (!raw.empty() && typed > 0) fail(what + " has both raw_data and typed data");
    if (!raw.empty() ? raw.size() != c.numel * elem : uint64_t(typed) != c.numel)
      fail(strf("%s has shape %s (%llu elements) but %llu elements of data", what.c_str(), ints_str(c.dims).c_str(),
                (unsigned long long)c.numel,
                (unsigned long long)(!raw.empty() ? raw.size() / elem : uint64_t(typed))));
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      c.is_float = true;
      sizes(4, t.float_data_size());
      c.f.resize(c.numel);
      if (!raw.empty()) std::memcpy(c.f.data(), raw.data(), raw.size());  // little-endian host
      else std::copy(t.float_data().begin(), t.float_data().end(), c.f.begin());
      for (size_t k = 0; k < c.f.size(); ++k)
        if (!std::isfinite(c.f[k])) fail(strf("%s[%zu] is %g (finite values only)", what.c_str(), k, double(c.f[k])));
      break;
    case onnx::TensorProto::INT64:
      sizes(8, t.int64_data_size());
      c.i.resize(c.numel);
      if (!raw.empty()) std::memcpy(c.i.data(), raw.data(), raw.size());
      else std::copy(t.int64_data().begin(), t.int64_data().end(), c.i.begin());
      break;
    case onnx::TensorProto::INT32: {
      sizes(4, t.int32_data_size());
      c.i.resize(c.numel);
      if (!raw.empty()) {
        for (size_t k = 0; k < c.numel; ++k) {
          int32_t v;
          std::memcpy(&v, raw.data() + 4 * k, 4);
          c.i[k] = v;
        }
      } else {
        std::copy(t.int32_data().begin(), t.int32_data().end(), c.i.begin());
      }
      break;
    }
    default:
      fail(strf("%s has data type %s (FLOAT, INT64 or INT32 expected)", what.c_str(),
                onnx::TensorProto_DataType_IsValid(t.data_type())
                    ? onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(t.data_type())).c_str()
                    : std::to_string(t.data_type()).c_str()));
  }
  return c;
}

std::vector<float> parse_floats(const std::string& s, const char* key) {
  std::vector<float> v;
  size_t pos = 0;
  while (pos <= s.size() && v.size() < 8) {
    const size_t end = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, end - pos);
    char* stop = nullptr;
    const float f = std::strtof(item.c_str(), &stop);
    if (item.empty() || stop != item.c_str() + item.size() || !std::isfinite(f))
      fail(strf("metadata %s = '%s' is not a list of numbers", key, printable(s).c_str()));
    v.push_back(f);
    pos = end + 1;
  }
  if (pos <= s.size()) fail(strf("metadata %s = '%s' has too many values", key, printable(s).c_str()));
  return v;
}

// An activation: a tensor of the graph being built. `flat` marks a 1x1 map
// seen as the matrix [N, C] (after Flatten, Gemm, MatMul, ReduceMean without
// keepdims): the same bytes, a different ONNX rank.
struct Act {
  msm::Tensor t;
  bool flat = false;
};

class Importer {
 public:
  Importer(const onnx::ModelProto& m, const OnnxImportOptions& opts) : m_(m), g_(m.graph()), opts_(opts) {}

  OnnxImportResult run() {
    OnnxImportResult r;
    check_model_header(r);
    const int n = g_.node_size();
    if (n > kMaxNodes) fail(strf("the graph has %d nodes (at most %d)", n, kMaxNodes));
    r.onnx_nodes = n;
    // The first node the runtime cannot run, in file order.
    for (int i = 0; i < n; ++i) {
      const onnx::NodeProto& nd = g_.node(i);
      if (!nd.domain().empty() && nd.domain() != "ai.onnx")
        fail(strf("node %d \"%s\" (%s, domain %s): operator not supported by the enclave runtime (supported: "
                  "%s, in the default domain)",
                  i, printable(nd.name()).c_str(), printable(nd.op_type()).c_str(), printable(nd.domain()).c_str(),
                  kSupportedList));
      if (!supported_op(nd.op_type()))
        fail(strf("node %d \"%s\" (%s): operator %s is not supported by the enclave runtime (supported: %s)", i,
                  printable(nd.name()).c_str(), printable(nd.op_type()).c_str(), printable(nd.op_type()).c_str(),
                  kSupportedList));
    }
    index_values();
    sort_nodes();
    mark_live();
    const std::string in_name = graph_input();
    normalization(r);
    msm::Builder b(c_, h_, w_, r.mean, r.std);
    b_ = &b;
    acts_[in_name] = Act{b.input(), false};
    done_.assign(size_t(n), false);
    // Constants first (they have no inputs), so every lookahead sees them.
    for (int pass = 0; pass < 2; ++pass) {
      for (int i : order_) {
        if (done_[size_t(i)] || !live_[size_t(i)] || (node(i).op_type() == "Constant") != (pass == 0)) continue;
        try {
          emit(i);
        } catch (const Error& e) {
          std::string w = e.what();
          if (w.rfind("onnx import: node ", 0) == 0) throw;
          if (w.rfind("onnx import: ", 0) == 0) w = w.substr(13);
          node_fail(i, w);
        }
        done_[size_t(i)] = true;
      }
    }
    const std::string& out = g_.output(0).name();
    auto it = acts_.find(out);
    if (it == acts_.end()) fail("the graph output '" + printable(out) + "' is a constant, not computed from the input");
    if (it->second.t.id == 0) fail("the graph output is the graph input");
    const msm::Shape os = b.shape(it->second.t);
    if (os.h != 1 || os.w != 1)
      fail(strf("the graph output '%s' is a %dx%dx%d map; the runtime's output is a vector of class scores "
                "([classes,1,1])",
                printable(out).c_str(), os.c, os.h, os.w));
    r.msm_ops = b.num_ops();
    r.fused = fused_;
    r.msm = b.finish(it->second.t, opts_.finish);
    return r;
  }

 private:
  // --- structure ------------------------------------------------------------
  void check_model_header(OnnxImportResult& r) {
    if (m_.ir_version() < 3) fail(strf("IR version %lld (3 or later expected)", (long long)m_.ir_version()));
    bool found = false;
    for (const auto& o : m_.opset_import()) {
      if (o.domain().empty() || o.domain() == "ai.onnx") {
        found = true;
        r.opset = o.version();
      }
    }
    if (!found) fail("the model imports no default-domain opset");
    if (r.opset < kMinOpset || r.opset > kMaxOpset)
      fail(strf("opset %lld (supported: %lld to %lld)", (long long)r.opset, (long long)kMinOpset,
                (long long)kMaxOpset));
    opset_ = r.opset;
    r.producer = printable(m_.producer_name() + (m_.producer_version().empty() ? "" : " " + m_.producer_version()));
    if (!m_.has_graph()) fail("the model has no graph");
    if (g_.sparse_initializer_size() > 0) fail("sparse initializers are not supported");
    if (g_.output_size() != 1)
      fail(strf("the graph has %d outputs (the runtime computes one: the class scores)", g_.output_size()));
    if (g_.output(0).name().empty()) fail("the graph output has no name");
  }

  void index_values() {
    for (int k = 0; k < g_.initializer_size(); ++k) {
      const auto& t = g_.initializer(k);
      if (t.name().empty()) fail(strf("initializer %d has no name", k));
      if (!init_.emplace(t.name(), &t).second) fail("initializer '" + printable(t.name()) + "' is defined twice");
    }
    for (const auto& vi : g_.input())
      if (!init_.count(vi.name())) real_inputs_.push_back(&vi);
    if (real_inputs_.size() != 1)
      fail(strf("the graph has %zu inputs besides its initializers (one image input expected)", real_inputs_.size()));
    const std::string& in = real_inputs_[0]->name();
    for (int i = 0; i < g_.node_size(); ++i) {
      const auto& nd = g_.node(i);
      for (const auto& o : nd.output()) {
        if (o.empty()) continue;
        if (o == in || init_.count(o)) node_fail(i, "output '" + printable(o) + "' redefines a graph input or initializer");
        auto [it, fresh] = producer_.emplace(o, i);
        if (!fresh) node_fail(i, strf("output '%s' is also produced by node %d", printable(o).c_str(), it->second));
      }
    }
  }

  // Kahn's algorithm, smallest index first: a valid (sorted) graph keeps its
  // order; a value nobody defines or a cycle is an error naming a node.
  void sort_nodes() {
    const int n = g_.node_size();
    const std::string& in = real_inputs_[0]->name();
    std::vector<int> indeg(static_cast<size_t>(n), 0);
    std::vector<std::vector<int>> next(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      std::set<int> deps;
      for (const auto& v : g_.node(i).input()) {
        if (v.empty()) continue;
        auto p = producer_.find(v);
        if (p != producer_.end()) deps.insert(p->second);
        else if (v != in && !init_.count(v))
          node_fail(i, "input '" + printable(v) + "' is not a graph input, an initializer or any node's output "
                       "(missing initializer?)");
      }
      for (int d : deps) next[size_t(d)].push_back(i);
      indeg[size_t(i)] = int(deps.size());
    }
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (int i = 0; i < n; ++i)
      if (indeg[size_t(i)] == 0) ready.push(i);
    while (!ready.empty()) {
      const int i = ready.top();
      ready.pop();
      order_.push_back(i);
      for (int j : next[size_t(i)])
        if (--indeg[size_t(j)] == 0) ready.push(j);
    }
    if (int(order_.size()) != n) {
      for (int i = 0; i < n; ++i)
        if (indeg[size_t(i)] > 0) node_fail(i, "is part of a cycle: its inputs depend on its own output");
    }
  }

  // Nodes the graph output depends on; consumers counted over those only.
  void mark_live() {
    const int n = g_.node_size();
    live_.assign(size_t(n), false);
    const std::string& out = g_.output(0).name();
    auto p = producer_.find(out);
    if (p == producer_.end()) {
      if (out == real_inputs_[0]->name()) fail("the graph output is the graph input");
      fail("the graph output '" + printable(out) + "' is not produced by any node");
    }
    std::vector<int> stack = {p->second};
    live_[size_t(p->second)] = true;
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      for (const auto& v : g_.node(i).input()) {
        auto q = producer_.find(v);
        if (q != producer_.end() && !live_[size_t(q->second)]) {
          live_[size_t(q->second)] = true;
          stack.push_back(q->second);
        }
      }
    }
    for (int i = 0; i < n; ++i)
      if (live_[size_t(i)])
        for (const auto& v : g_.node(i).input())
          if (!v.empty()) consumers_[v].push_back(i);
  }

  std::string graph_input() {
    const onnx::ValueInfoProto& vi = *real_inputs_[0];
    const std::string what = "the graph input '" + printable(vi.name()) + "'";
    if (!vi.type().has_tensor_type()) fail(what + " is not a tensor");
    const auto& tt = vi.type().tensor_type();
    if (tt.elem_type() != onnx::TensorProto::FLOAT) fail(what + " is not float32");
    if (!tt.has_shape() || tt.shape().dim_size() != 4)
      fail(what + " must have a known rank-4 shape [N, C, H, W]");
    int64_t d[3];
    for (int k = 1; k < 4; ++k) {
      const auto& dim = tt.shape().dim(k);
      if (!dim.has_dim_value())
        fail(strf("%s: dimension %d is symbolic ('%s'); the runtime needs a fixed C x H x W", what.c_str(), k,
                  printable(dim.dim_param()).c_str()));
      d[k - 1] = dim.dim_value();
    }
    if (d[0] < 1 || d[0] > 4 || d[1] < 1 || d[1] > 4096 || d[2] < 1 || d[2] > 4096)
      fail(strf("%s is %lld x %lld x %lld (channels 1..4, height and width 1..4096)", what.c_str(), (long long)d[0],
                (long long)d[1], (long long)d[2]));
    c_ = int(d[0]), h_ = int(d[1]), w_ = int(d[2]);
    return vi.name();
  }

  void normalization(OnnxImportResult& r) {
    if (opts_.mean.empty() != opts_.std.empty()) fail("give both the input mean and std, or neither");
    if (!opts_.mean.empty()) {
      r.mean = opts_.mean, r.std = opts_.std;
    } else {
      const std::string *mean = nullptr, *sd = nullptr;
      for (const auto& e : m_.metadata_props()) {
        if (e.key() == kMetaMean) mean = &e.value();
        if (e.key() == kMetaStd) sd = &e.value();
      }
      if (!mean || !sd)
        fail(strf("the model records no input normalisation (metadata %s / %s, written by msprune export --format "
                  "onnx); give it: --input-mean and --input-std",
                  kMetaMean, kMetaStd));
      r.mean = parse_floats(*mean, kMetaMean);
      r.std = parse_floats(*sd, kMetaStd);
      r.normalization_from_metadata = true;
    }
    if (int(r.mean.size()) != c_ || int(r.std.size()) != c_)
      fail(strf("the input normalisation has %zu means and %zu stds for %d input channels", r.mean.size(),
                r.std.size(), c_));
    for (int k = 0; k < c_; ++k)
      if (!std::isfinite(r.mean[size_t(k)]) || !std::isfinite(r.std[size_t(k)]) || !(r.std[size_t(k)] > 0))
        fail(strf("input normalisation channel %d: mean %g std %g (finite, std > 0)", k, double(r.mean[size_t(k)]),
                  double(r.std[size_t(k)])));
  }

  // --- errors and lookups ---------------------------------------------------
  [[noreturn]] void node_fail(int i, const std::string& msg) const {
    const auto& nd = g_.node(i);
    throw Error(strf("onnx import: node %d \"%s\" (%s): %s", i, printable(nd.name()).c_str(),
                     printable(nd.op_type()).c_str(), msg.c_str()));
  }
  const onnx::NodeProto& node(int i) const { return g_.node(i); }

  bool is_const(const std::string& v) const { return init_.count(v) || const_nodes_.count(v); }

  const Const& cst(int i, int slot, const char* role) {
    const auto& nd = node(i);
    if (slot >= nd.input_size() || nd.input(slot).empty()) node_fail(i, strf("has no %s input", role));
    const std::string& v = nd.input(slot);
    auto c = consts_.find(v);
    if (c != consts_.end()) return c->second;
    auto t = init_.find(v);
    if (t == init_.end()) {
      if (acts_.count(v) || producer_.count(v))
        node_fail(i, strf("%s '%s' must be a constant (an initializer), it is computed at run time", role,
                          printable(v).c_str()));
      node_fail(i, strf("%s '%s' is not defined", role, printable(v).c_str()));
    }
    return consts_.emplace(v, decode_tensor(*t->second, "initializer '" + printable(v) + "'")).first->second;
  }
  const Const& cst_float(int i, int slot, const char* role) {
    const Const& c = cst(i, slot, role);
    if (!c.is_float) node_fail(i, strf("%s '%s' is not float32", role, printable(node(i).input(slot)).c_str()));
    return c;
  }

  Act act(int i, int slot) {
    const auto& nd = node(i);
    if (slot >= nd.input_size() || nd.input(slot).empty()) node_fail(i, strf("has no input %d", slot));
    const std::string& v = nd.input(slot);
    auto a = acts_.find(v);
    if (a == acts_.end()) {
      if (is_const(v))
        node_fail(i, strf("input %d '%s' is a constant; the runtime computes this op on activations only", slot,
                          printable(v).c_str()));
      node_fail(i, strf("input %d '%s' is not computed", slot, printable(v).c_str()));
    }
    return a->second;
  }
  msm::Shape shape(const Act& a) const { return b_->shape(a.t); }

  // The one node that uses `v` (once), if `v` is not a graph output.
  int sole_consumer(const std::string& v) const {
    if (v == g_.output(0).name()) return -1;
    auto it = consumers_.find(v);
    if (it == consumers_.end() || it->second.size() != 1) return -1;
    const int c = it->second[0];
    return done_[size_t(c)] ? -1 : c;
  }

  // Inputs [lo, hi] (optional ones may be empty names), one used output.
  void io(int i, int lo, int hi) const {
    const auto& nd = node(i);
    if (nd.input_size() < lo || nd.input_size() > hi)
      node_fail(i, lo == hi ? strf("has %d inputs (%d expected)", nd.input_size(), lo)
                            : strf("has %d inputs (%d to %d expected)", nd.input_size(), lo, hi));
    if (nd.output_size() < 1 || nd.output(0).empty()) node_fail(i, "has no output");
    for (int k = 1; k < nd.output_size(); ++k)
      if (!nd.output(k).empty() && (consumers_.count(nd.output(k)) || nd.output(k) == g_.output(0).name()))
        node_fail(i, strf("output %d '%s' is used; only the first output of %s is supported", k,
                          printable(nd.output(k)).c_str(), printable(nd.op_type()).c_str()));
  }

  // --- attributes -----------------------------------------------------------
  class Attrs {
   public:
    Attrs(const Importer& im, int i, std::initializer_list<const char*> allowed) : im_(im), i_(i) {
      for (const auto& a : im.node(i).attribute()) {
        bool ok = false;
        for (const char* n : allowed) ok = ok || a.name() == n;
        if (!ok)
          im.node_fail(i, "attribute '" + printable(a.name()) + "' is not supported for " +
                              printable(im.node(i).op_type()));
        if (!by_name_.emplace(a.name(), &a).second) im.node_fail(i, "attribute '" + printable(a.name()) + "' twice");
      }
    }
    bool has(const char* n) const { return by_name_.count(n) > 0; }
    int64_t i(const char* n, int64_t dflt) const {
      const auto* a = get(n, onnx::AttributeProto::INT, "INT");
      return a ? a->i() : dflt;
    }
    float f(const char* n, float dflt) const {
      const auto* a = get(n, onnx::AttributeProto::FLOAT, "FLOAT");
      if (a && !std::isfinite(a->f())) im_.node_fail(i_, strf("attribute '%s' is %g", n, double(a->f())));
      return a ? a->f() : dflt;
    }
    std::string s(const char* n, const std::string& dflt) const {
      const auto* a = get(n, onnx::AttributeProto::STRING, "STRING");
      return a ? a->s() : dflt;
    }
    std::optional<std::vector<int64_t>> ints(const char* n) const {
      const auto* a = get(n, onnx::AttributeProto::INTS, "INTS");
      if (!a) return std::nullopt;
      if (a->ints_size() > kMaxAttrInts) im_.node_fail(i_, strf("attribute '%s' has %d values", n, a->ints_size()));
      return std::vector<int64_t>(a->ints().begin(), a->ints().end());
    }
    const onnx::AttributeProto* raw(const char* n) const {
      auto it = by_name_.find(n);
      return it == by_name_.end() ? nullptr : it->second;
    }

   private:
    const onnx::AttributeProto* get(const char* n, onnx::AttributeProto::AttributeType t, const char* tn) const {
      auto it = by_name_.find(n);
      if (it == by_name_.end()) return nullptr;
      if (it->second->type() != t) im_.node_fail(i_, strf("attribute '%s' is not of type %s", n, tn));
      return it->second;
    }
    const Importer& im_;
    int i_;
    std::unordered_map<std::string, const onnx::AttributeProto*> by_name_;
  };

  // Square 2-D window attributes (Conv, pools): kernel, stride, symmetric pad.
  struct Window {
    int k = 0, s = 1, p = 0;
  };
  Window window(int i, const Attrs& a, const std::vector<int64_t>* weight_dims, bool pads_allowed) const {
    Window w;
    auto ks = a.ints("kernel_shape");
    if (weight_dims) {
      const std::vector<int64_t> wk = {(*weight_dims)[2], (*weight_dims)[3]};
      if (ks && *ks != wk)
        node_fail(i, "kernel_shape " + ints_str(*ks) + " differs from the weight's " + ints_str(wk));
      ks = wk;
    }
    if (!ks) node_fail(i, "has no kernel_shape");
    if (ks->size() != 2) node_fail(i, "kernel_shape " + ints_str(*ks) + ": only 2-D windows are supported");
    if ((*ks)[0] != (*ks)[1]) node_fail(i, "kernel_shape " + ints_str(*ks) + ": only square windows are supported");
    if ((*ks)[0] < 1 || (*ks)[0] > 4096) node_fail(i, "kernel_shape " + ints_str(*ks));
    w.k = int((*ks)[0]);
    const auto st = a.ints("strides").value_or(std::vector<int64_t>{1, 1});
    if (st.size() != 2 || st[0] != st[1] || st[0] < 1 || st[0] > 4096)
      node_fail(i, "strides " + ints_str(st) + ": only equal strides >= 1 are supported");
    w.s = int(st[0]);
    const auto dil = a.ints("dilations").value_or(std::vector<int64_t>{1, 1});
    if (dil.size() != 2 || dil[0] != 1 || dil[1] != 1)
      node_fail(i, "dilations " + ints_str(dil) + " are not supported (1 only)");
    const std::string ap = a.s("auto_pad", "NOTSET");
    if (ap != "NOTSET" && ap != "VALID")
      node_fail(i, "auto_pad " + printable(ap) + " is not supported (NOTSET with explicit pads, or VALID)");
    auto pads = a.ints("pads");
    if (ap == "VALID" && pads) node_fail(i, "has both auto_pad VALID and pads");
    const auto pd = pads.value_or(std::vector<int64_t>{0, 0, 0, 0});
    if (pd.size() != 4 || pd[0] != pd[1] || pd[0] != pd[2] || pd[0] != pd[3])
      node_fail(i, "pads " + ints_str(pd) + ": only equal padding on all four sides is supported");
    if (pd[0] != 0 && !pads_allowed) node_fail(i, "pads " + ints_str(pd) + ": pooling with padding is not supported");
    if (pd[0] < 0 || pd[0] > w.k / 2)
      node_fail(i, strf("pads %s: at most kernel/2 = %d is supported", ints_str(pd).c_str(), w.k / 2));
    w.p = int(pd[0]);
    return w;
  }

  // --- lookahead fusion -----------------------------------------------------
  void absorb(int c, std::string* v) {
    done_[size_t(c)] = true;
    ++fused_;
    *v = node(c).output(0);
  }
  // A Relu that is `v`'s only use: absorbed, `v` becomes its output.
  bool take_relu(std::string* v) {
    const int c = sole_consumer(*v);
    if (c < 0 || node(c).op_type() != "Relu") return false;
    Attrs(*this, c, {});
    io(c, 1, 1);
    absorb(c, v);
    return true;
  }
  // Inference BatchNormalization parameters of node c (on `channels` channels).
  struct Bn {
    std::vector<float> gamma, beta, mean, var;
    float eps = 1e-5f;
    msm::BatchNorm view() const { return {gamma, beta, mean, var, eps}; }
  };
  Bn batchnorm(int c, int channels) {
    Attrs a(*this, c, {"epsilon", "momentum", "spatial", "training_mode"});
    io(c, 5, 5);
    if (a.i("spatial", 1) != 1) node_fail(c, "spatial = 0 (per-activation statistics) is not supported");
    if (a.i("training_mode", 0) != 0) node_fail(c, "training_mode = 1 is not supported (inference only)");
    Bn bn;
    bn.eps = a.f("epsilon", 1e-5f);
    const char* roles[4] = {"scale", "bias", "mean", "var"};
    std::vector<float>* dst[4] = {&bn.gamma, &bn.beta, &bn.mean, &bn.var};
    for (int k = 0; k < 4; ++k) {
      const Const& p = cst_float(c, k + 1, roles[k]);
      if (p.dims.size() != 1 || p.dims[0] != channels)
        node_fail(c, strf("%s has shape %s for %d channels", roles[k], ints_str(p.dims).c_str(), channels));
      *dst[k] = p.f;
    }
    for (int k = 0; k < channels; ++k)
      if (bn.var[size_t(k)] < 0 || !(bn.var[size_t(k)] + bn.eps > 0))
        node_fail(c, strf("channel %d has variance %g with epsilon %g", k, double(bn.var[size_t(k)]), double(bn.eps)));
    return bn;
  }
  // Constant channel indices of a Gather (node c) on an activation of `channels`.
  std::vector<uint32_t> gather_indices(int c, const Act& x, int channels) {
    Attrs a(*this, c, {"axis"});
    io(c, 2, 2);
    const int64_t axis = a.i("axis", 0), rank = x.flat ? 2 : 4;
    if (axis != 1 && axis != 1 - rank)
      node_fail(c, strf("axis %lld: only gathering channels (axis 1) is supported", (long long)axis));
    const Const& idx = cst(c, 1, "indices");
    if (idx.is_float) node_fail(c, "indices are not integers");
    if (idx.dims.size() != 1) node_fail(c, "indices of shape " + ints_str(idx.dims) + " (1-D expected)");
    if (idx.i.empty() || idx.i.size() > 65536) node_fail(c, strf("%zu indices", idx.i.size()));
    std::vector<uint32_t> g;
    for (size_t k = 0; k < idx.i.size(); ++k) {
      int64_t v = idx.i[k];
      if (v < -channels || v >= channels)
        node_fail(c, strf("index[%zu] = %lld is out of range for %d channels", k, (long long)v, channels));
      g.push_back(uint32_t(v < 0 ? v + channels : v));
    }
    return g;
  }

  void set(const std::string& v, Act a) { acts_[v] = a; }

  // --- the ops --------------------------------------------------------------
  void emit(int i) {
    const auto& nd = node(i);
    const std::string& op = nd.op_type();
    std::string out = nd.output_size() > 0 ? nd.output(0) : std::string();
    if (op == "Constant") {
      Attrs a(*this, i, {"value"});
      io(i, 0, 0);
      const auto* v = a.raw("value");
      if (!v || v->type() != onnx::AttributeProto::TENSOR)
        node_fail(i, "only Constant with a tensor 'value' attribute is supported");
      init_.emplace(out, &v->t());
      const_nodes_.insert(out);
      return;
    }
    if (op == "Conv") return conv(i);
    if (op == "BatchNormalization") {
      const Act x = act(i, 0);
      const int ch = shape(x).c;
      const Bn bn = batchnorm(i, ch);
      std::vector<uint32_t> gather;
      const int g = sole_consumer(out);
      if (g >= 0 && node(g).op_type() == "Gather" && node(g).input_size() > 0 && node(g).input(0) == out) {
        gather = gather_indices(g, x, ch);
        absorb(g, &out);
      }
      std::vector<float> scale, shift;
      msm::bn_to_affine(bn.view(), gather, scale, shift);
      const bool relu = take_relu(&out);
      return set(out, Act{b_->affine(x.t, scale, shift, gather, relu), x.flat});
    }
    if (op == "Gather") {
      const Act x = act(i, 0);
      const std::vector<uint32_t> gather = gather_indices(i, x, shape(x).c);
      const std::vector<float> one(gather.size(), 1.0f), zero(gather.size(), 0.0f);
      const bool relu = take_relu(&out);
      return set(out, Act{b_->affine(x.t, one, zero, gather, relu), x.flat});
    }
    if (op == "Relu") {
      Attrs(*this, i, {});
      io(i, 1, 1);
      const Act x = act(i, 0);
      const std::vector<float> one(size_t(shape(x).c), 1.0f), zero(size_t(shape(x).c), 0.0f);
      return set(out, Act{b_->affine(x.t, one, zero, {}, true), x.flat});
    }
    if (op == "MaxPool" || op == "AveragePool") {
      const bool max = op == "MaxPool";
      Attrs a = max ? Attrs(*this, i, {"kernel_shape", "strides", "pads", "auto_pad", "dilations", "ceil_mode",
                                       "storage_order"})
                    : Attrs(*this, i, {"kernel_shape", "strides", "pads", "auto_pad", "dilations", "ceil_mode",
                                       "count_include_pad"});
      io(i, 1, 1);
      const Act x = act(i, 0);
      if (x.flat) node_fail(i, "input is not a 4-D map");
      const Window w = window(i, a, nullptr, false);
      const msm::Shape s = shape(x);
      if (w.k > s.h || w.k > s.w) node_fail(i, strf("window %d is larger than the %dx%d input", w.k, s.h, s.w));
      if (a.i("ceil_mode", 0) != 0 && ((s.h - w.k) % w.s != 0 || (s.w - w.k) % w.s != 0))
        node_fail(i, "ceil_mode = 1 with a partial last window is not supported");
      return set(out, Act{max ? b_->max_pool(x.t, w.k, w.s) : b_->avg_pool(x.t, w.k, w.s), false});
    }
    if (op == "GlobalAveragePool") {
      Attrs(*this, i, {});
      io(i, 1, 1);
      const Act x = act(i, 0);
      if (x.flat) node_fail(i, "input is not a 4-D map");
      return set(out, Act{b_->global_avg_pool(x.t), false});
    }
    if (op == "ReduceMean") {
      Attrs a(*this, i, {"axes", "keepdims", "noop_with_empty_axes"});
      io(i, 1, 2);
      const Act x = act(i, 0);
      if (x.flat) node_fail(i, "input is not a 4-D map");
      std::vector<int64_t> axes;
      if (nd.input_size() == 2 && !nd.input(1).empty()) {
        if (a.has("axes")) node_fail(i, "has axes both as attribute and input");
        axes = cst(i, 1, "axes").i;
      } else {
        axes = a.ints("axes").value_or(std::vector<int64_t>{});
      }
      for (auto& v : axes) v = v < 0 ? v + 4 : v;
      std::sort(axes.begin(), axes.end());
      if (axes != std::vector<int64_t>{2, 3})
        node_fail(i, "axes " + ints_str(axes) + ": only the mean over height and width (axes [2,3]) is supported");
      const int64_t keep = a.i("keepdims", 1);
      return set(out, Act{b_->global_avg_pool(x.t), keep == 0});
    }
    if (op == "Add") {
      Attrs(*this, i, {});
      io(i, 2, 2);
      for (int k = 0; k < 2; ++k)
        if (is_const(nd.input(k)))
          node_fail(i, strf("input %d '%s' is a constant: Add of a constant is only supported as the bias right "
                            "after a MatMul",
                            k, printable(nd.input(k)).c_str()));
      const Act a = act(i, 0), c = act(i, 1);
      const msm::Shape sa = shape(a), sc = shape(c);
      if (a.flat != c.flat || sa.c != sc.c || sa.h != sc.h || sa.w != sc.w)
        node_fail(i, strf("adds a %dx%dx%d%s and a %dx%dx%d%s activation: broadcasting is not supported", sa.c, sa.h,
                          sa.w, a.flat ? " (flat)" : "", sc.c, sc.h, sc.w, c.flat ? " (flat)" : ""));
      const bool relu = take_relu(&out);
      return set(out, Act{b_->add(a.t, c.t, relu), a.flat});
    }
    if (op == "Concat") {
      Attrs a(*this, i, {"axis"});
      io(i, 1, 1 << 16);
      if (!a.has("axis")) node_fail(i, "has no axis");
      std::vector<Act> parts;
      for (int k = 0; k < nd.input_size(); ++k) parts.push_back(act(i, k));
      const int64_t axis = a.i("axis", 1), rank = parts[0].flat ? 2 : 4;
      if (axis != 1 && axis != 1 - rank)
        node_fail(i, strf("axis %lld: only concatenation of channels (axis 1) is supported", (long long)axis));
      for (size_t k = 1; k < parts.size(); ++k)
        if (parts[k].flat != parts[0].flat) node_fail(i, "concatenates inputs of different rank");
      // The runtime concatenates 2..4 parts; more are nested.
      msm::Tensor t = parts[0].t;
      if (parts.size() > 1) {
        size_t k = std::min<size_t>(4, parts.size());
        std::vector<msm::Tensor> first;
        for (size_t j = 0; j < k; ++j) first.push_back(parts[j].t);
        t = b_->concat(first);
        while (k < parts.size()) {
          std::vector<msm::Tensor> more = {t};
          for (; k < parts.size() && more.size() < 4; ++k) more.push_back(parts[k].t);
          t = b_->concat(more);
        }
      }
      return set(out, Act{t, parts[0].flat});
    }
    if (op == "Flatten") {
      Attrs a(*this, i, {"axis"});
      io(i, 1, 1);
      const Act x = act(i, 0);
      const int64_t axis = a.i("axis", 1);
      if (axis != 1 && axis != (x.flat ? -1 : -3))
        node_fail(i, strf("axis %lld: only Flatten(axis = 1) to [N, C*H*W] is supported", (long long)axis));
      const msm::Shape s = shape(x);
      if (!x.flat && (s.h != 1 || s.w != 1))
        node_fail(i, strf("flattens a %dx%dx%d map: the runtime's linear layer takes a 1x1 map (pool first)", s.c,
                          s.h, s.w));
      return set(out, Act{x.t, true});
    }
    if (op == "Gemm") return gemm(i);
    if (op == "MatMul") return matmul(i);
    if (op == "Softmax") {
      Attrs a(*this, i, {"axis"});
      io(i, 1, 1);
      const Act x = act(i, 0);
      const int64_t axis = a.i("axis", opset_ >= 13 ? -1 : 1);
      if (!x.flat) node_fail(i, "input is not a [N, classes] matrix");
      if (axis != 1 && axis != -1) node_fail(i, strf("axis %lld (the class axis, 1, expected)", (long long)axis));
      return set(out, Act{b_->softmax(x.t), true});
    }
    if (op == "Identity") {
      Attrs(*this, i, {});
      io(i, 1, 1);
      return set(out, act(i, 0));
    }
    if (op == "Dropout") {
      Attrs(*this, i, {"ratio", "seed", "is_test"});
      io(i, 1, 3);
      if (nd.input_size() == 3 && !nd.input(2).empty()) {
        const Const& tm = cst(i, 2, "training_mode");
        bool training = false;
        for (float v : tm.f) training = training || v != 0;
        for (int64_t v : tm.i) training = training || v != 0;
        if (training) node_fail(i, "training_mode is true (inference only)");
      }
      return set(out, act(i, 0));
    }
    node_fail(i, "operator is not supported");  // unreachable: supported_op() filtered the rest
  }

  void conv(int i) {
    const auto& nd = node(i);
    Attrs a(*this, i, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"});
    io(i, 2, 3);
    const Act x = act(i, 0);
    if (x.flat) node_fail(i, "input is not a 4-D map");
    const msm::Shape s = shape(x);
    const Const& wc = cst_float(i, 1, "weight");
    if (wc.dims.size() != 4) node_fail(i, "weight of shape " + ints_str(wc.dims) + " (4-D [O, I, kH, kW] expected)");
    const int64_t group = a.i("group", 1);
    if (group != 1)
      node_fail(i, strf("group = %lld: grouped and depthwise convolutions are not supported", (long long)group));
    const Window w = window(i, a, &wc.dims, true);
    if (w.k != 1 && w.k != 3) node_fail(i, strf("kernel %dx%d: the runtime has 1x1 and 3x3 convolutions", w.k, w.k));
    if (w.s != 1 && w.s != 2) node_fail(i, strf("stride %d: the runtime has strides 1 and 2", w.s));
    if (wc.dims[1] != s.c)
      node_fail(i, strf("weight of shape %s for an input of %d channels", ints_str(wc.dims).c_str(), s.c));
    const int64_t o = wc.dims[0];
    if (o < 1 || o > 65536) node_fail(i, strf("%lld output channels", (long long)o));
    std::vector<float> wt = wc.f, bias;
    if (nd.input_size() == 3 && !nd.input(2).empty()) {
      const Const& bc = cst_float(i, 2, "bias");
      if (bc.dims.size() != 1 || bc.dims[0] != o)
        node_fail(i, strf("bias of shape %s for %lld output channels", ints_str(bc.dims).c_str(), (long long)o));
      bias = bc.f;
    }
    std::string out = nd.output(0);
    const int c = sole_consumer(out);
    if (c >= 0 && node(c).op_type() == "BatchNormalization" && node(c).input(0) == out) {
      const Bn bn = batchnorm(c, int(o));
      msm::fold_bn_into_conv(wt, bias, bn.view());
      absorb(c, &out);
    }
    const bool relu = take_relu(&out);
    set(out, Act{b_->conv2d(x.t, int(o), w.k, w.s, w.p, wt, bias, relu), false});
  }

  // Linear: W [M][K] (out-major), bias [M] or empty.
  void linear(const Act& x, const std::vector<float>& w, const std::vector<float>& bias, int64_t m,
              const std::string& out) {
    set(out, Act{b_->linear(x.t, int(m), w, bias), true});
  }

  int64_t flat_features(int i, const Act& x, const char* op) const {
    const msm::Shape s = shape(x);
    if (!x.flat)
      node_fail(i, strf("input is a %dx%dx%d map; %s needs a [N, K] matrix (Flatten a 1x1 map first)", s.c, s.h,
                        s.w, op));
    return s.c;
  }

  void gemm(int i) {
    const auto& nd = node(i);
    Attrs a(*this, i, {"alpha", "beta", "transA", "transB"});
    io(i, 2, 3);
    const Act x = act(i, 0);
    const int64_t k = flat_features(i, x, "Gemm");
    if (a.i("transA", 0) != 0) node_fail(i, "transA = 1 is not supported");
    const bool tb = a.i("transB", 0) != 0;
    const float alpha = a.f("alpha", 1.0f), beta = a.f("beta", 1.0f);
    const Const& bm = cst_float(i, 1, "B");
    if (bm.dims.size() != 2) node_fail(i, "B of shape " + ints_str(bm.dims) + " (2-D expected)");
    const int64_t bk = tb ? bm.dims[1] : bm.dims[0], m = tb ? bm.dims[0] : bm.dims[1];
    if (bk != k) node_fail(i, strf("B of shape %s%s for %lld input features", ints_str(bm.dims).c_str(),
                                   tb ? " (transposed)" : "", (long long)k));
    if (m < 1 || m > 65536) node_fail(i, strf("%lld outputs", (long long)m));
    std::vector<float> w(size_t(m * k));
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < k; ++c)
        w[size_t(r * k + c)] = alpha * (tb ? bm.f[size_t(r * k + c)] : bm.f[size_t(c * m + r)]);
    std::vector<float> bias;
    if (nd.input_size() == 3 && !nd.input(2).empty()) {
      const Const& cc = cst_float(i, 2, "C");
      const bool row = cc.numel == uint64_t(m) &&
                       (cc.dims.size() == 1 || (cc.dims.size() == 2 && cc.dims[0] == 1));
      if (!row && cc.numel != 1)
        node_fail(i, strf("C of shape %s: only a bias of [%lld], [1, %lld] or a scalar is supported",
                          ints_str(cc.dims).c_str(), (long long)m, (long long)m));
      bias.resize(size_t(m));
      for (int64_t r = 0; r < m; ++r) bias[size_t(r)] = beta * cc.f[row ? size_t(r) : 0];
    }
    linear(x, w, bias, m, nd.output(0));
  }

  void matmul(int i) {
    const auto& nd = node(i);
    Attrs(*this, i, {});
    io(i, 2, 2);
    const Act x = act(i, 0);
    const int64_t k = flat_features(i, x, "MatMul");
    const Const& bm = cst_float(i, 1, "B");
    if (bm.dims.size() != 2 || bm.dims[0] != k)
      node_fail(i, strf("B of shape %s for %lld input features ([K, M] expected)", ints_str(bm.dims).c_str(),
                        (long long)k));
    const int64_t m = bm.dims[1];
    if (m < 1 || m > 65536) node_fail(i, strf("%lld outputs", (long long)m));
    std::vector<float> w(size_t(m * k));
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < k; ++c) w[size_t(r * k + c)] = bm.f[size_t(c * m + r)];
    std::string out = nd.output(0);
    std::vector<float> bias;
    const int c = sole_consumer(out);
    if (c >= 0 && node(c).op_type() == "Add" && node(c).input_size() == 2) {
      const int other = node(c).input(0) == out ? 1 : 0;
      const std::string& bv = node(c).input(other);
      if (node(c).input(1 - other) == out && is_const(bv)) {
        Attrs(*this, c, {});
        io(c, 2, 2);
        const Const& bc = cst_float(c, other, "bias");
        if (bc.numel != uint64_t(m) || bc.dims.size() > 2 || (bc.dims.size() == 2 && bc.dims[0] != 1))
          node_fail(c, strf("bias of shape %s for %lld outputs", ints_str(bc.dims).c_str(), (long long)m));
        bias = bc.f;
        absorb(c, &out);
      }
    }
    linear(x, w, bias, m, out);
  }

  const onnx::ModelProto& m_;
  const onnx::GraphProto& g_;
  const OnnxImportOptions& opts_;
  int64_t opset_ = 0;
  std::unordered_map<std::string, const onnx::TensorProto*> init_;  // initializers and Constant outputs
  std::set<std::string> const_nodes_;
  std::unordered_map<std::string, Const> consts_;  // decoded on first use
  std::vector<const onnx::ValueInfoProto*> real_inputs_;
  std::unordered_map<std::string, int> producer_;
  std::unordered_map<std::string, std::vector<int>> consumers_;
  std::vector<int> order_;
  std::vector<bool> live_, done_;
  std::unordered_map<std::string, Act> acts_;
  msm::Builder* b_ = nullptr;
  int c_ = 0, h_ = 0, w_ = 0;
  int fused_ = 0;
};

}  // namespace

OnnxImportResult import_onnx(std::span<const uint8_t> bytes, const OnnxImportOptions& opts) {
  if (bytes.size() > kMaxOnnxBytes)
    fail(strf("%zu bytes: larger than the %llu bytes accepted", bytes.size(), (unsigned long long)kMaxOnnxBytes));
  if (bytes.empty()) fail("the file is empty");
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), int(bytes.size())))
    fail(strf("not an ONNX model: protobuf parsing failed (%zu bytes; truncated or another format?)", bytes.size()));
  return Importer(model, opts).run();
}

OnnxImportResult import_onnx_file(const std::filesystem::path& path, const OnnxImportOptions& opts) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path.string() + ": not found");
  std::vector<unsigned char> bytes;
  try {
    bytes = read_file_bytes(path, size_t(kMaxOnnxBytes));
  } catch (const Error& e) {
    throw Error(path.string() + ": " + e.what());
  }
  try {
    return import_onnx(std::span<const uint8_t>(bytes.data(), bytes.size()), opts);
  } catch (const Error& e) {
    throw Error(path.string() + ": " + e.what());
  }
}

}  // namespace msprune::interop
