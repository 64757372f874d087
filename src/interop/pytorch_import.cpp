#include "interop/pytorch_import.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "data/cifar.h"
#include "util/error.h"

namespace msprune::interop {
namespace fs = std::filesystem;
using models::Arch;

models::InputNorm ns_cifar10_norm() { return named_input_norm("cifar10"); }

models::InputNorm named_input_norm(const std::string& name) {
  models::InputNorm n;
  if (name == "none") return n;
  if (name != "cifar10" && name != "cifar100")
    throw Error("unknown normalisation '" + name + "' (expected cifar10, cifar100 or none)");
  const data::Normalization d =
      data::normalization_for(name == "cifar100" ? data::CifarKind::kCifar100 : data::CifarKind::kCifar10);
  for (size_t c = 0; c < 3; ++c) {
    n.mean[c] = d.mean[c];
    n.std[c] = d.std[c];
  }
  return n;
}

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string shape_str(torch::IntArrayRef s) { return c10::str(s); }

// --- reading the file --------------------------------------------------------
//
// LibTorch 1.13's unpickler (torch::jit::Unpickler) reads the tensors and
// plain containers of a torch.save file but not three things Python's pickler
// writes into every state_dict: the collections.OrderedDict the state_dict is
// (1.13 turns it into None, then fails: pytorch/pytorch#100741, fixed
// upstream in 2.6 by #139750), the BUILD that gives it its `_metadata`, and
// the SETITEM and APPEND opcodes (a dict or list of one entry, e.g.
// `_metadata`'s {'version': 1}); 1.13 only has SETITEMS and APPENDS. So before LibTorch unpickles
// data.pkl, one pass over its opcodes rewrites those into opcodes it has. The
// pass knows each opcode's length and how many stack entries it takes and
// gives (so it knows where an entry's bytes begin); it builds no objects:
//   [GLOBAL collections OrderedDict] [PUT n]? [EMPTY_TUPLE] [REDUCE]
//       -> [EMPTY_DICT] [PUT n]?        (memo n: only read by the next rule)
//   [GET n] [EMPTY_TUPLE] [REDUCE], n from the first rule -> [EMPTY_DICT]
//   key value [SETITEM] -> [MARK] key value [SETITEMS]
//   item [APPEND] -> [MARK] item [APPENDS]
//   object state [BUILD] -> object state [TUPLE2]: a pair, of which
//       take_built() keeps the object (the state an OrderedDict carries is
//       its `_metadata`; 1.13's BUILD only serves TorchScript objects, which
//       a torch.save file of Python objects cannot hold)
// Everything else goes unchanged to LibTorch's unpickler, which checks it.

class PickleRewriter {
 public:
  PickleRewriter(const uint8_t* p, size_t n, std::string what) : p_(p), n_(n), what_(std::move(what)) {}

  std::vector<char> run() {
    while (pos_ < n_) {
      const size_t start = op_at_ = pos_;
      const uint8_t op = p_[pos_];
      skip_op();
      if (op == 'c' && std::string(reinterpret_cast<const char*>(p_ + start + 1), pos_ - start - 1) ==
                           "collections\nOrderedDict\n") {
        // An OrderedDict() call becomes an empty dict; the class's memo slot
        // is kept so that later memo numbers stay valid.
        std::optional<size_t> put;
        size_t after = pos_;
        if (after < n_ && is_put(p_[after])) {
          put = after;
          skip_op();
          after = pos_;
        }
        push(out_.size());
        if (after + 1 < n_ && p_[after] == ')' && p_[after + 1] == 'R') {
          out_.push_back('}');
          if (put) {
            out_.insert(out_.end(), p_ + *put, p_ + after);
            placeholders_.insert(memo_id(*put));
          }
          pos_ = after + 2;
        } else {
          out_.insert(out_.end(), p_ + start, p_ + after);  // not a call: as it was
        }
        continue;
      }
      if (is_get(op) && placeholders_.count(memo_id(start)) && pos_ + 1 < n_ && p_[pos_] == ')' &&
          p_[pos_ + 1] == 'R') {
        pos_ += 2;
        push(out_.size());
        out_.push_back('}');
        continue;
      }
      const size_t at = out_.size();
      if (op == 's' || op == 'a') {  // SETITEM / APPEND: a MARK before the key / item, then SETITEMS / APPENDS
        pop(op == 's' ? 2 : 1);
        out_.insert(out_.begin() + std::ptrdiff_t(popped_), '(');
        out_.push_back(op == 's' ? 'u' : 'e');
        continue;
      }
      if (op == 'b') {  // BUILD: (object, state)
        pop(2);
        push(popped_);
        out_.push_back(char(0x86));
        continue;
      }
      out_.insert(out_.end(), p_ + start, p_ + pos_);
      stack_effect(op, at);
      if (op == '.') break;  // STOP
    }
    return std::move(out_);
  }

 private:
  static bool is_put(uint8_t op) { return op == 'q' || op == 'r' || op == 'p'; }
  static bool is_get(uint8_t op) { return op == 'h' || op == 'j' || op == 'g'; }

  [[noreturn]] void fail(const std::string& m) const {
    throw Error(what_ + ": data.pkl " + m + " at byte " + std::to_string(op_at_));
  }
  // The stack of where (in out_) each entry's bytes begin; marks as entries
  // flagged in marks_.
  void push(size_t at) {
    if (stack_.size() > (size_t(1) << 24)) fail("nests too deep");
    stack_.push_back(at);
  }
  void pop(size_t k) {  // popped_: where the lowest popped entry began
    if (stack_.size() < k) fail("pops an empty stack");
    if (!marks_.empty() && stack_.size() - k < marks_.back().first) fail("pops across a MARK");
    popped_ = stack_[stack_.size() - k];
    stack_.resize(stack_.size() - k);
  }
  void pop_mark() {  // popped_: where the MARK was
    if (marks_.empty()) fail("has no MARK to pop to");
    stack_.resize(marks_.back().first);
    popped_ = marks_.back().second;
    marks_.pop_back();
  }
  void stack_effect(uint8_t op, size_t at) {
    switch (op) {
      case '(': marks_.emplace_back(stack_.size(), at); return;
      case '.': case 'p': case 'q': case 'r': case 0x80: case 0x94: case 0x95: case 0x98: return;
      case '0': pop(1); return;
      case '1': pop_mark(); return;
      case '2': pop(1); push(popped_); push(at); return;
      case 't': case 'l': case 'd': case 0x91: case 'o': case 'i': pop_mark(); push(popped_); return;
      case 0x85: pop(1); push(popped_); return;
      case 0x86: pop(2); push(popped_); return;
      case 0x87: pop(3); push(popped_); return;
      case 'e': case 'u': case 0x90: pop_mark(); return;
      case 'R': case 0x81: case 0x93: pop(2); push(popped_); return;
      case 0x92: pop(3); push(popped_); return;
      case 'Q': pop(1); push(popped_); return;
      default: push(at); return;  // every other opcode pushes one value
    }
  }
  uint64_t le(size_t at, size_t bytes) const {
    if (at + bytes > n_) fail("is truncated");
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v |= uint64_t(p_[at + i]) << (8 * i);
    return v;
  }
  // The memo index a PUT / GET at `at` names.
  uint64_t memo_id(size_t at) const {
    const uint8_t op = p_[at];
    if (op == 'q' || op == 'h') return le(at + 1, 1);
    if (op == 'r' || op == 'j') return le(at + 1, 4);
    return std::strtoull(reinterpret_cast<const char*>(p_ + at + 1), nullptr, 10);  // text: digits, '\n'
  }
  void skip_line() {
    while (pos_ < n_ && p_[pos_] != '\n') ++pos_;
    if (pos_ >= n_) fail("is truncated");
    ++pos_;
  }
  void skip_fixed(size_t bytes) {
    if (pos_ + bytes > n_) fail("is truncated");
    pos_ += bytes;
  }
  void skip_counted(size_t len_bytes) {
    const uint64_t len = le(pos_, len_bytes);
    pos_ += len_bytes;
    if (len > n_ - pos_) fail("is truncated");
    pos_ += size_t(len);
  }
  // Moves pos_ past the opcode at pos_ and its argument (pickle protocols 0-5).
  void skip_op() {
    const uint8_t op = p_[pos_++];
    switch (op) {
      case '(': case '.': case '0': case '1': case '2': case 'N': case 'Q': case 'R': case 'a': case 'b':
      case 'd': case '}': case 'e': case 'l': case ']': case 'o': case 's': case 't': case ')': case 'u':
      case 0x81: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8f: case 0x90: case 0x91:
      case 0x92: case 0x93: case 0x94: case 0x97: case 0x98:
        return;
      case 'F': case 'I': case 'L': case 'S': case 'V': case 'P': case 'g': case 'p':
        return skip_line();
      case 'c': case 'i':
        skip_line();
        return skip_line();
      case 'K': case 'h': case 'q': case 0x80: case 0x82: return skip_fixed(1);
      case 'M': case 0x83: return skip_fixed(2);
      case 'J': case 'j': case 'r': case 0x84: return skip_fixed(4);
      case 'G': case 0x95: return skip_fixed(8);
      case 'U': case 'C': case 0x8c: case 0x8a: return skip_counted(1);
      case 'T': case 'X': case 'B': case 0x8b: return skip_counted(4);
      case 0x8d: case 0x8e: case 0x96: return skip_counted(8);
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", unsigned(op));
        fail(std::string("has an unknown pickle opcode ") + hex);
      }
    }
  }

  const uint8_t* p_;
  size_t n_, pos_ = 0, op_at_ = 0, popped_ = 0;  // op_at_: the opcode being read
  std::string what_;
  std::vector<char> out_;
  std::vector<size_t> stack_;
  std::vector<std::pair<size_t, size_t>> marks_;  // (stack size, where in out_)
  std::set<uint64_t> placeholders_;
};

c10::IValue read_torch_save(const fs::path& file) {
  const std::string f = file.string();
  std::error_code ec;
  if (!fs::exists(file, ec)) throw Error(f + ": file not found");
  if (!fs::is_regular_file(file, ec)) throw Error(f + ": not a regular file");
  char magic[4] = {0, 0, 0, 0};
  std::ifstream in(file, std::ios::binary);
  in.read(magic, 4);
  const std::streamsize got = in.gcount();
  in.close();
  if (got == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) {
    // zip: torch.save's format since PyTorch 1.6
  } else if (got >= 2 && uint8_t(magic[0]) == 0x80 && uint8_t(magic[1]) <= 5) {
    throw Error(f + ": legacy (pre-1.6, non-zip) torch.save format, which LibTorch cannot read; re-save it in Python "
                    "with torch.save(torch.load(PATH), NEW_PATH, _use_new_zipfile_serialization=True)");
  } else {
    throw Error(f + ": not a PyTorch checkpoint (" + (got < 4 ? "too short" : "no zip archive") + ")");
  }
  try {
    caffe2::serialize::PyTorchStreamReader reader(f);
    if (reader.hasRecord("constants.pkl") || reader.hasRecord("code/__torch__.py") || !reader.hasRecord("data.pkl"))
      throw Error(f + ": a zip archive but not a torch.save checkpoint (a TorchScript model from torch.jit.save, or "
                      "another archive); save the state_dict with torch.save");
    // As torch::jit::readArchiveAndTensors, with data.pkl rewritten (above).
    auto [pkl, pkl_size] = reader.getRecord("data.pkl");
    const std::vector<char> bytes =
        PickleRewriter(static_cast<const uint8_t*>(pkl.get()), pkl_size, f).run();
    size_t read = 0;
    auto source = [&](char* buf, size_t len) -> size_t {
      len = std::min(len, bytes.size() - read);
      std::memcpy(buf, bytes.data() + read, len);
      read += len;
      return len;
    };
    auto record = [&](const std::string& name) { return std::get<0>(reader.getRecord("data/" + name)); };
    torch::jit::Unpickler unpickler(source, /*type_resolver=*/nullptr, /*obj_loader=*/nullptr, record,
                                    at::Device(at::kCPU));
    unpickler.set_version(reader.version());
    return unpickler.parse_ivalue();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(f + ": unreadable torch.save archive (truncated or damaged?): " + first_line(e.what()));
  }
}

// An object the rewritten BUILD left as (object, state): the object.
c10::IValue take_built(const c10::IValue& v) {
  if (v.isTuple()) {
    const auto& e = v.toTupleRef().elements();
    if (e.size() == 2 && e[0].isGenericDict()) return e[0];
  }
  return v;
}

// The state_dict, its layout and the cfg (if any) of what torch.save wrote.
struct Source {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // file order
  std::string layout;                                          // "state_dict", "dict", "training"
  std::optional<std::vector<int>> cfg;
  std::vector<std::string> ignored;  // other top-level entries
};

bool is_state_dict(const c10::Dict<c10::IValue, c10::IValue>& d) {
  if (d.size() == 0) return false;
  for (const auto& e : d)
    if (!e.key().isString() || !e.value().isTensor()) return false;
  return true;
}

Source unpack(const c10::IValue& top_in, const std::string& f) {
  const c10::IValue top = take_built(top_in);
  if (!top.isGenericDict())
    throw Error(f + ": holds a " + top.tagKind() + ", not a state_dict or a dict with one (a whole pickled model? "
                    "save model.state_dict() instead)");
  const auto d = top.toGenericDict();
  Source s;
  c10::IValue sdv = top;  // the state_dict
  if (is_state_dict(d)) {
    s.layout = "state_dict";
  } else {
    std::vector<std::string> keys;
    for (const auto& e : d) keys.push_back(e.key().isString() ? e.key().toStringRef() : e.key().tagKind());
    auto it = d.find(c10::IValue("state_dict"));
    if (it == d.end()) {
      std::string k;
      for (size_t i = 0; i < keys.size() && i < 6; ++i) k += (i ? ", " : "") + keys[i];
      throw Error(f + ": no 'state_dict' entry and not a state_dict itself (top-level keys: " + k + ")");
    }
    sdv = take_built(it->value());
    if (!sdv.isGenericDict() || !is_state_dict(sdv.toGenericDict()))
      throw Error(f + ": 'state_dict' is not a dict of named tensors");
    for (const auto& k : keys)
      if (k != "state_dict" && k != "cfg") s.ignored.push_back(k);
    s.layout = d.contains(c10::IValue("optimizer")) || d.contains(c10::IValue("epoch")) ? "training" : "dict";
    auto c = d.find(c10::IValue("cfg"));
    if (c != d.end() && !c->value().isNone()) {
      if (!c->value().isList()) throw Error(f + ": 'cfg' is a " + c->value().tagKind() + ", not a list");
      std::vector<int> cfg;
      for (const auto& v : c->value().toListRef()) {
        if (v.isInt() && v.toInt() >= 1 && v.toInt() <= models::kMaxChannels) cfg.push_back(int(v.toInt()));
        else if (v.isString() && v.toStringRef() == "M") cfg.push_back(models::kPool);
        else
          throw Error(f + ": 'cfg' entry " + std::to_string(cfg.size()) + " is " +
                      (v.isInt() ? std::to_string(v.toInt()) : v.tagKind()) + " (expected a channel count in 1.." +
                      std::to_string(models::kMaxChannels) + " or 'M')");
      }
      s.cfg = cfg;
    }
  }
  const auto sd = sdv.toGenericDict();
  bool all_module = true;  // nn.DataParallel prefixes every name with "module."
  for (const auto& e : sd) {
    s.tensors.emplace_back(e.key().toStringRef(), e.value().toTensor());
    all_module = all_module && e.key().toStringRef().rfind("module.", 0) == 0;
  }
  if (all_module)
    for (auto& [k, t] : s.tensors) k = k.substr(7);
  return s;
}

// --- what family the names say ---------------------------------------------

std::optional<Arch> family_of(const Source& s, std::string* example) {
  for (const auto& [k, t] : s.tensors) {
    auto starts = [&](const char* p) { return k.rfind(p, 0) == 0; };
    std::optional<Arch> a;
    if (starts("feature.") || starts("classifier.")) a = Arch::kVgg;
    else if (starts("layer1.") || starts("layer2.") || starts("layer3.")) a = Arch::kPreResNet;
    else if (starts("dense1.") || starts("trans1.") || starts("dense2.")) a = Arch::kDenseNet;
    if (a) {
      *example = k;
      return a;
    }
  }
  return std::nullopt;
}

// --- tensors by their names ------------------------------------------------

class Tensors {
 public:
  Tensors(const Source& s, std::string file) : file_(std::move(file)) {
    for (const auto& [k, t] : s.tensors) by_name_[k] = t;
  }
  bool has(const std::string& k) const { return by_name_.count(k) != 0; }
  // The tensor or an error naming it; marks it used.
  const torch::Tensor& need(const std::string& k, const std::string& ours = "") {
    auto it = by_name_.find(k);
    if (it == by_name_.end())
      throw Error(file_ + ": tensor '" + k + "' missing" + (ours.empty() ? "" : " (our " + ours + ")"));
    used_.insert(k);
    return it->second;
  }
  // Size of dimension `d` of a tensor that must have `dims` dimensions.
  int64_t dim(const std::string& k, int64_t dims, int64_t d) {
    const auto& t = need(k);
    if (t.dim() != dims)
      throw Error(file_ + ": tensor '" + k + "' has shape " + shape_str(t.sizes()) + ", expected " +
                  std::to_string(dims) + " dimensions");
    return t.size(d);
  }
  // Positions of the nonzero entries of a channel_selection's `indexes`.
  torch::Tensor kept(const std::string& k) {
    const auto& t = need(k);
    if (t.dim() != 1 || !t.is_floating_point())
      throw Error(file_ + ": tensor '" + k + "' (channel_selection indexes) has shape " + shape_str(t.sizes()) +
                  " and type " + std::string(c10::toString(t.scalar_type())) + ", expected a 1-D float mask");
    if (!torch::isfinite(t).all().item<bool>()) throw Error(file_ + ": tensor '" + k + "' holds NaN or infinity");
    auto idx = torch::nonzero(t).flatten().to(torch::kInt64);
    if (idx.numel() == 0) throw Error(file_ + ": channel_selection '" + k + "' keeps no channel");
    return idx;
  }
  int kept_count(const std::string& k) { return int(kept(k).numel()); }
  std::vector<std::string> unused() const {
    std::vector<std::string> v;
    for (const auto& [k, t] : by_name_)
      if (!used_.count(k)) v.push_back(k);
    return v;
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::map<std::string, torch::Tensor> by_name_;
  std::set<std::string> used_;
};

// Their name for one of our parameters / buffers ("" when it has none).
using NameMap = std::map<std::string, std::string>;  // ours -> theirs

void map_bn(NameMap& m, const std::string& ours, const std::string& theirs) {
  for (const char* p : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"})
    m[ours + "." + p] = theirs + "." + p;
}

// The spec and the name map of each family.
struct Plan {
  models::ModelSpec spec;
  NameMap names;
  std::map<std::string, std::string> selections;  // our ChannelSelection module -> their indexes tensor
};

void check_given(const std::string& f, const char* what, const std::optional<int>& given, int found,
                 const std::string& how) {
  if (given && *given != found)
    throw Error(f + ": --" + what + " " + std::to_string(*given) + " given, but the file holds " + what + " " +
                std::to_string(found) + " (" + how + ")");
}

int num_classes_of(Tensors& t, const std::string& fc) { return int(t.dim(fc + ".weight", 2, 0)); }

Plan plan_vgg(Tensors& t, const Source& s, const PytorchImportOptions& opt) {
  const std::string& f = t.file();
  // Their feature Sequential: conv, BN, ReLU per cfg width, MaxPool per 'M'.
  std::vector<std::pair<int, int64_t>> convs;  // (index in feature, out channels)
  for (const auto& [k, v] : s.tensors) {
    if (k.rfind("feature.", 0) != 0 || k.size() < 15 || k.compare(k.size() - 7, 7, ".weight") != 0) continue;
    const std::string idx = k.substr(8, k.size() - 15);
    if (idx.empty() || idx.size() > 6 || !std::all_of(idx.begin(), idx.end(), ::isdigit)) continue;
    if (v.dim() == 4) convs.emplace_back(std::stoi(idx), v.size(0));
  }
  std::sort(convs.begin(), convs.end());
  if (convs.empty()) throw Error(f + ": no convolution weights 'feature.N.weight' in the file");
  std::vector<int> cfg;
  for (size_t i = 0; i < convs.size(); ++i) {
    if (i > 0) {
      const int gap = convs[i].first - convs[i - 1].first;
      if (gap == 4) cfg.push_back(models::kPool);
      else if (gap != 3)
        throw Error(f + ": feature." + std::to_string(convs[i - 1].first) + " and feature." +
                    std::to_string(convs[i].first) + " are not conv-BN-ReLU[-MaxPool] apart (vgg.py's layout)");
    }
    cfg.push_back(int(convs[i].second));
  }
  int depth = 0;
  for (int d : {11, 13, 16, 19}) {
    size_t n = 0;
    for (int c : models::default_spec(Arch::kVgg, d).cfg) n += c != models::kPool;
    if (n == convs.size()) depth = d;
  }
  if (!depth)
    throw Error(f + ": " + std::to_string(convs.size()) + " convolutions in 'feature', which is no VGG depth (" +
                models::valid_depths(Arch::kVgg) + ")");
  check_given(f, "depth", opt.depth, depth, std::to_string(convs.size()) + " convolutions");
  Plan p;
  p.spec.arch = Arch::kVgg;
  p.spec.depth = depth;
  p.spec.num_classes = num_classes_of(t, "classifier");
  const std::vector<int>& use = s.cfg ? *s.cfg : cfg;
  if (s.cfg && *s.cfg != cfg) {
    auto show = [](const std::vector<int>& v) {
      std::string o;
      for (int c : v) o += (o.empty() ? "" : ", ") + (c == models::kPool ? std::string("M") : std::to_string(c));
      return "[" + o + "]";
    };
    throw Error(f + ": the file's cfg " + show(*s.cfg) + " does not match its tensors, which say " + show(cfg));
  }
  p.spec.cfg = use;
  // Width: as given, else the multiplier whose default cfg this is, else 1.
  p.spec.width = opt.width.value_or(1.0);
  if (!opt.width) {
    const double w = double(cfg.front()) / 64.0;
    try {
      if (models::default_spec(Arch::kVgg, depth, w).cfg == cfg) p.spec.width = w;
    } catch (const Error&) {
    }
  }
  int pos = 0, i = 0;
  for (int c : use) {
    if (c == models::kPool) {
      ++pos;
      continue;
    }
    p.names["conv" + std::to_string(i) + ".weight"] = "feature." + std::to_string(pos) + ".weight";
    map_bn(p.names, "bn" + std::to_string(i), "feature." + std::to_string(pos + 1));
    pos += 3;
    ++i;
  }
  p.names["fc.weight"] = "classifier.weight";
  p.names["fc.bias"] = "classifier.bias";
  return p;
}

// Count of k in "PREFIX.k.bn1.weight" for k = 0, 1, ...
int count_blocks(const Tensors& t, const std::string& prefix) {
  int n = 0;
  while (n < 10000 && t.has(prefix + "." + std::to_string(n) + ".bn1.weight")) ++n;
  return n;
}

Plan plan_preresnet(Tensors& t, const Source& s, const PytorchImportOptions& opt) {
  const std::string& f = t.file();
  const int n = count_blocks(t, "layer1");
  if (n == 0) throw Error(f + ": tensor 'layer1.0.bn1.weight' missing");
  for (const char* l : {"layer2", "layer3"})
    if (count_blocks(t, l) != n)
      throw Error(f + ": " + std::to_string(count_blocks(t, l)) + " blocks in " + l + ", " + std::to_string(n) +
                  " in layer1 (preresnet.py has the same number in each)");
  const int depth = 9 * n + 2;
  check_given(f, "depth", opt.depth, depth, std::to_string(n) + " bottlenecks per stage");
  const int64_t stem = t.dim("conv1.weight", 4, 0);
  const double width = opt.width.value_or(double(stem) / 16.0);
  Plan p;
  p.spec = models::default_spec(Arch::kPreResNet, depth, width, num_classes_of(t, "fc"));
  if (p.spec.stage_planes()[0] != stem)
    throw Error(f + ": the stem 'conv1.weight' has " + std::to_string(stem) + " output channels, width " +
                std::to_string(width) + " means " + std::to_string(p.spec.stage_planes()[0]));
  std::vector<int> cfg;
  p.names["conv1.weight"] = "conv1.weight";
  for (int st = 0; st < 3; ++st) {
    for (int b = 0; b < n; ++b) {
      const std::string ours = "block" + std::to_string(st * n + b), theirs = "layer" + std::to_string(st + 1) + "." +
                                                                             std::to_string(b);
      cfg.push_back(t.kept_count(theirs + ".select.indexes"));
      cfg.push_back(int(t.dim(theirs + ".conv1.weight", 4, 0)));
      cfg.push_back(int(t.dim(theirs + ".conv2.weight", 4, 0)));
      map_bn(p.names, ours + ".bn1", theirs + ".bn1");
      map_bn(p.names, ours + ".bn2", theirs + ".bn2");
      map_bn(p.names, ours + ".bn3", theirs + ".bn3");
      for (const char* c : {"conv1", "conv2", "conv3"}) p.names[ours + "." + c + ".weight"] = theirs + "." + c + ".weight";
      p.names[ours + ".downsample.weight"] = theirs + ".downsample.0.weight";
      p.selections[ours + ".select"] = theirs + ".select.indexes";
    }
  }
  cfg.push_back(t.kept_count("select.indexes"));
  map_bn(p.names, "bn", "bn");
  p.names["fc.weight"] = "fc.weight";
  p.names["fc.bias"] = "fc.bias";
  p.selections["select"] = "select.indexes";
  if (s.cfg && *s.cfg != cfg) throw Error(f + ": the file's cfg does not match its tensors (channel counts of the "
                                              "selections and convolutions)");
  p.spec.cfg = cfg;
  return p;
}

Plan plan_densenet(Tensors& t, const Source& s, const PytorchImportOptions& opt) {
  const std::string& f = t.file();
  const int n = count_blocks(t, "dense1");
  if (n == 0) throw Error(f + ": tensor 'dense1.0.bn1.weight' missing");
  for (const char* l : {"dense2", "dense3"})
    if (count_blocks(t, l) != n)
      throw Error(f + ": " + std::to_string(count_blocks(t, l)) + " layers in " + l + ", " + std::to_string(n) +
                  " in dense1 (densenet.py has the same number in each)");
  const int depth = 3 * n + 4;
  check_given(f, "depth", opt.depth, depth, std::to_string(n) + " layers per dense block");
  const int64_t growth = t.dim("dense1.0.conv1.weight", 4, 0);
  const double width = opt.width.value_or(double(growth) / 12.0);
  Plan p;
  p.spec = models::default_spec(Arch::kDenseNet, depth, width, num_classes_of(t, "fc"));
  if (p.spec.growth() != growth)
    throw Error(f + ": 'dense1.0.conv1.weight' has " + std::to_string(growth) + " output channels (the growth rate), "
                "width " + std::to_string(width) + " means " + std::to_string(p.spec.growth()));
  std::vector<int> cfg;
  p.names["conv1.weight"] = "conv1.weight";
  auto unit = [&](const std::string& ours, const std::string& theirs) {
    cfg.push_back(t.kept_count(theirs + ".select.indexes"));
    map_bn(p.names, ours + ".bn", theirs + ".bn1");
    p.names[ours + ".conv.weight"] = theirs + ".conv1.weight";
    p.selections[ours + ".select"] = theirs + ".select.indexes";
  };
  for (int st = 0; st < 3; ++st) {
    for (int l = 0; l < n; ++l)
      unit("dense" + std::to_string(st) + "_" + std::to_string(l), "dense" + std::to_string(st + 1) + "." +
                                                                       std::to_string(l));
    if (st < 2) unit("trans" + std::to_string(st), "trans" + std::to_string(st + 1));
  }
  cfg.push_back(t.kept_count("select.indexes"));
  map_bn(p.names, "bn", "bn");
  p.names["fc.weight"] = "fc.weight";
  p.names["fc.bias"] = "fc.bias";
  p.selections["select"] = "select.indexes";
  if (s.cfg && *s.cfg != cfg) throw Error(f + ": the file's cfg does not match its tensors (channels kept by the "
                                              "selections)");
  p.spec.cfg = cfg;
  return p;
}

// Copies their tensors into the network built from the plan.
void fill(models::Net& net, Tensors& t, const Plan& p) {
  const std::string& f = t.file();
  torch::NoGradGuard ng;
  auto copy = [&](const std::string& ours, torch::Tensor& dst) {
    auto it = p.names.find(ours);
    if (it == p.names.end()) throw Error("import: no PyTorch name for our tensor " + ours);
    const bool counter = ours.size() > 20 && ours.compare(ours.size() - 20, 20, ".num_batches_tracked") == 0;
    if (counter && !t.has(it->second)) return;  // PyTorch < 0.4.1 had none
    const torch::Tensor& src = t.need(it->second, ours);
    if (src.sizes() != dst.sizes())
      throw Error(f + ": tensor '" + it->second + "' has shape " + shape_str(src.sizes()) + ", expected " +
                  shape_str(dst.sizes()) + " for " + net->spec().name());
    if (counter ? src.is_floating_point() || src.is_complex() : !src.is_floating_point())
      throw Error(f + ": tensor '" + it->second + "' has type " + std::string(c10::toString(src.scalar_type())));
    if (!counter && !torch::isfinite(src).all().item<bool>())
      throw Error(f + ": tensor '" + it->second + "' holds NaN or infinity");
    dst.copy_(src.to(dst.scalar_type()));
  };
  for (auto& kv : net->named_parameters()) copy(kv.key(), kv.value());
  for (auto& kv : net->named_buffers()) {
    const std::string& k = kv.key();
    if (k.size() > 8 && k.compare(k.size() - 8, 8, ".indices") == 0) continue;  // selections below
    copy(k, kv.value());
  }
  for (auto& kv : net->named_modules()) {
    auto* sel = kv.value()->as<models::ChannelSelectionImpl>();
    if (!sel) continue;
    auto it = p.selections.find(kv.key());
    if (it == p.selections.end()) throw Error("import: no PyTorch name for our selection " + kv.key());
    const torch::Tensor& mask = t.need(it->second, kv.key());
    if (mask.size(0) != sel->num_channels())
      throw Error(f + ": tensor '" + it->second + "' has shape " + shape_str(mask.sizes()) + ", expected [" +
                  std::to_string(sel->num_channels()) + "] for " + net->spec().name());
    sel->set_indices(t.kept(it->second));
  }
  auto extra = t.unused();
  if (!extra.empty()) {
    std::string list;
    for (size_t i = 0; i < extra.size() && i < 5; ++i) list += (i ? ", " : "") + extra[i];
    if (extra.size() > 5) list += ", ... (" + std::to_string(extra.size()) + " in all)";
    throw Error(f + ": unexpected tensors for " + models::arch_name(net->spec().arch) + ": " + list);
  }
  net->validate_state();
}

}  // namespace

PytorchImport import_pytorch(const fs::path& file, const PytorchImportOptions& opt) {
  const std::string f = file.string();
  const Source src = unpack(read_torch_save(file), f);
  std::string example;
  const auto found = family_of(src, &example);
  if (!found)
    throw Error(f + ": not a Network Slimming vgg, preresnet or densenet state_dict (first tensor: '" +
                src.tensors.front().first + "')");
  if (*found != opt.arch)
    throw Error(f + ": expected a " + models::arch_name(opt.arch) + " state_dict, found a " +
                models::arch_name(*found) + " one (tensor '" + example + "'); use --arch " +
                models::arch_name(*found));
  Tensors t(src, f);
  Plan plan = opt.arch == Arch::kVgg         ? plan_vgg(t, src, opt)
              : opt.arch == Arch::kPreResNet ? plan_preresnet(t, src, opt)
                                             : plan_densenet(t, src, opt);
  plan.spec.input_norm = opt.input_norm;
  try {
    models::validate_spec(plan.spec);
  } catch (const Error& e) {
    throw Error(f + ": " + e.what());
  }
  PytorchImport out;
  out.model = models::build_model(plan.spec);
  fill(out.model, t, plan);
  out.model->eval();
  out.about = {{"from", "pytorch"},
               {"file", f},
               {"layout", src.layout},
               {"cfg_in_file", src.cfg.has_value()},
               {"tensors", src.tensors.size()},
               {"ignored_entries", src.ignored}};
  return out;
}

}  // namespace msprune::interop
