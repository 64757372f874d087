// LibTorch -> ONNX with ONNX's own protobuf classes, checked by its checker.
#include "interop/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>

#include "export/export.h"
#include "export/msm_writer.h"
#include "export/torch_arrays.h"
#include "util/error.h"
#include "util/table.h"

#ifndef MSPRUNE_VERSION
#error "MSPRUNE_VERSION must be defined by the build (src/interop/CMakeLists.txt)"
#endif

namespace msprune::interop {

namespace {

using exporter::bn_arrays;
using exporter::BnArrays;
using exporter::to_vec;

// Runs `f`, prefixing any msprune::Error with the layer's name.
template <typename F>
auto named(const std::string& name, F&& f) -> decltype(f()) {
  return exporter::named("onnx export", name, std::forward<F>(f));
}

std::string join_floats(const float* v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += strf("%s%.9g", i ? "," : "", double(v[i]));
  return s;
}

// Builds the graph: one value per node output, named after the node.
class GraphWriter {
 public:
  GraphWriter(onnx::GraphProto* g, bool fold_bn) : g_(g), fold_bn_(fold_bn) {}

  const std::string& input() const { return input_; }
  void set_input(std::string name, int64_t c, int64_t h, int64_t w, int64_t classes) {
    input_ = std::move(name);
    value_info(g_->add_input(), input_, {-1, c, h, w});
    classes_ = classes;
  }
  void set_output(const std::string& from_value) {
    // The last node's output is renamed to "logits".
    onnx::NodeProto* last = g_->mutable_node(g_->node_size() - 1);
    if (last->output(0) != from_value) throw Error("onnx export: the output is not the last node's");
    last->set_output(0, "logits");
    value_info(g_->add_output(), "logits", {-1, classes_});
  }

  // Conv (+ BatchNormalization unless folded) (+ Relu).
  std::string conv(const std::string& name, const std::string& x, torch::nn::Conv2dImpl& c,
                   torch::nn::BatchNorm2dImpl* bn, bool relu, int64_t in_channels) {
    const auto& o = c.options;
    const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
    if (!pad) throw Error("convolution with 'same'/'valid' padding is not supported");
    const int64_t kh = (*o.kernel_size())[0], kw = (*o.kernel_size())[1];
    const int64_t sh = (*o.stride())[0], sw = (*o.stride())[1], ph = (**pad)[0], pw = (**pad)[1];
    if (o.groups() != 1 || (*o.dilation())[0] != 1 || (*o.dilation())[1] != 1)
      throw Error("grouped or dilated convolution is not supported");
    if (!c10::get_if<torch::enumtype::kZeros>(&o.padding_mode())) throw Error("only zero padding is supported");
    if (o.in_channels() != in_channels)
      throw Error(strf("convolution expects %lld input channels, the graph has %lld", (long long)o.in_channels(),
                       (long long)in_channels));
    const int64_t out = o.out_channels();
    std::vector<float> w = to_vec(c.weight), bias;
    if (c.bias.defined()) bias = to_vec(c.bias);
    BnArrays bna;
    if (bn) {
      bna = bn_arrays(*bn);
      if (int64_t(bna.gamma.size()) != out)
        throw Error(strf("BatchNorm has %zu channels after a convolution of %lld", bna.gamma.size(), (long long)out));
    }
    const bool fold = bn && fold_bn_;
    if (fold) msm::fold_bn_into_conv(w, bias, {bna.gamma, bna.beta, bna.mean, bna.var, bna.eps});

    std::vector<std::string> in = {x, init(name + ".weight", {out, o.in_channels(), kh, kw}, w)};
    if (!bias.empty()) in.push_back(init(name + ".bias", {out}, bias));
    onnx::NodeProto* n = node("Conv", name, in);
    ints(n, "kernel_shape", {kh, kw});
    ints(n, "strides", {sh, sw});
    ints(n, "pads", {ph, pw, ph, pw});
    ints(n, "dilations", {1, 1});
    integer(n, "group", 1);
    std::string y = name;
    if (bn && !fold) y = batchnorm(name + ".bn", y, bna);
    if (relu) y = this->relu(name + ".relu", y);
    return y;
  }

  std::string batchnorm(const std::string& name, const std::string& x, const BnArrays& a) {
    const int64_t c = int64_t(a.gamma.size());
    onnx::NodeProto* n = node("BatchNormalization", name,
                              {x, init(name + ".weight", {c}, a.gamma), init(name + ".bias", {c}, a.beta),
                               init(name + ".running_mean", {c}, a.mean), init(name + ".running_var", {c}, a.var)});
    real(n, "epsilon", a.eps);
    return name;
  }

  // BN (+ channel selection) + ReLU after a sum or a concatenation.
  std::string bn_select_relu(const std::string& name, const std::string& x, torch::nn::BatchNorm2dImpl& bn,
                             models::ChannelSelectionImpl* sel, int64_t* channels) {
    if (bn.options.num_features() != *channels)
      throw Error(strf("BatchNorm has %lld channels, the graph has %lld", (long long)bn.options.num_features(),
                       (long long)*channels));
    std::string y = batchnorm(name, x, bn_arrays(bn));
    if (sel) {
      sel->validate("channel selection");
      if (sel->num_channels() != bn.options.num_features())
        throw Error(strf("channel selection over %lld channels follows a BatchNorm of %lld",
                         (long long)sel->num_channels(), (long long)bn.options.num_features()));
      if (sel->kept() != sel->num_channels()) {  // sorted + unique + full = identity: no node
        auto idx = sel->indices.to(torch::kCPU, torch::kInt64).contiguous();
        std::vector<int64_t> v(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel());
        onnx::NodeProto* n = node("Gather", name + ".select", {y, init_i64(name + ".select.indices", v)});
        integer(n, "axis", 1);
        y = name + ".select";
        *channels = sel->kept();
      }
    }
    return relu(name + ".relu", y);
  }

  std::string relu(const std::string& name, const std::string& x) {
    node("Relu", name, {x});
    return name;
  }
  std::string pool(const char* op, const std::string& name, const std::string& x, int64_t k, int64_t s) {
    onnx::NodeProto* n = node(op, name, {x});
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {s, s});
    ints(n, "pads", {0, 0, 0, 0});
    return name;
  }
  std::string add(const std::string& name, const std::string& a, const std::string& b) {
    node("Add", name, {a, b});
    return name;
  }
  std::string concat(const std::string& name, const std::string& a, const std::string& b) {
    integer(node("Concat", name, {a, b}), "axis", 1);
    return name;
  }
  // GlobalAveragePool - Flatten - Gemm.
  std::string classifier(const std::string& x, torch::nn::LinearImpl& fc, int64_t channels) {
    node("GlobalAveragePool", "gap", {x});
    integer(node("Flatten", "flatten", {"gap"}), "axis", 1);
    const int64_t in = fc.options.in_features(), out = fc.options.out_features();
    if (in != channels)
      throw Error(strf("Linear expects %lld inputs, the graph has %lld", (long long)in, (long long)channels));
    std::vector<std::string> ins = {"flatten", init("fc.weight", {out, in}, to_vec(fc.weight))};
    ins.push_back(init("fc.bias", {out}, fc.bias.defined() ? to_vec(fc.bias) : std::vector<float>(size_t(out), 0.f)));
    onnx::NodeProto* n = node("Gemm", "fc", ins);
    integer(n, "transB", 1);
    real(n, "alpha", 1.0f);
    real(n, "beta", 1.0f);
    return "fc";
  }

 private:
  onnx::NodeProto* node(const char* op, const std::string& name, const std::vector<std::string>& in) {
    onnx::NodeProto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : in) n->add_input(i);
    n->add_output(name);
    return n;
  }
  static void ints(onnx::NodeProto* n, const char* name, std::initializer_list<int64_t> v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void integer(onnx::NodeProto* n, const char* name, int64_t v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void real(onnx::NodeProto* n, const char* name, float v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  std::string init(const std::string& name, std::initializer_list<int64_t> dims, const std::vector<float>& v) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    if (n != int64_t(v.size()))
      throw Error(strf("onnx export: %s has %zu values for %lld", name.c_str(), v.size(), (long long)n));
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(v.data(), v.size() * sizeof(float));  // little-endian host (runtime/format.h asserts it)
    return name;
  }
  std::string init_i64(const std::string& name, const std::vector<int64_t>& v) {
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(int64_t(v.size()));
    t->set_raw_data(v.data(), v.size() * sizeof(int64_t));
    return name;
  }
  static void value_info(onnx::ValueInfoProto* vi, const std::string& name, std::initializer_list<int64_t> dims) {
    vi->set_name(name);
    onnx::TypeProto_Tensor* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) {
      auto* dim = tt->mutable_shape()->add_dim();
      if (d < 0) dim->set_dim_param("N");
      else dim->set_dim_value(d);
    }
  }

  onnx::GraphProto* g_;
  bool fold_bn_;
  std::string input_;
  int64_t classes_ = 0;
};

std::string build_vgg(GraphWriter& g, models::VggImpl& m) {
  std::string x = g.input();
  int64_t c = 3;
  for (size_t i = 0; i < m.convs.size(); ++i) {
    const std::string n = std::to_string(i);
    x = named("conv" + n + "+bn" + n, [&] { return g.conv("conv" + n, x, *m.convs[i], m.bns[i].get(), true, c); });
    c = m.convs[i]->options.out_channels();
    if (m.pool_after[i]) x = g.pool("MaxPool", "pool" + n, x, 2, 2);
  }
  return named("fc", [&] { return g.classifier(x, *m.fc, c); });
}

std::string build_preresnet(GraphWriter& g, models::PreResNetImpl& m) {
  std::string x = named("conv1", [&] { return g.conv("conv1", g.input(), *m.conv1, nullptr, false, 3); });
  int64_t c = m.conv1->options.out_channels();
  for (size_t i = 0; i < m.blocks.size(); ++i) {
    auto& k = *m.blocks[i];
    const std::string p = "block" + std::to_string(i) + ".";
    int64_t tc = c;
    std::string t = named(p + "bn1+select", [&] { return g.bn_select_relu(p + "bn1", x, *k.bn1, k.select.get(), &tc); });
    t = named(p + "conv1+bn2", [&] { return g.conv(p + "conv1", t, *k.conv1, k.bn2.get(), true, tc); });
    t = named(p + "conv2+bn3",
              [&] { return g.conv(p + "conv2", t, *k.conv2, k.bn3.get(), true, k.conv1->options.out_channels()); });
    t = named(p + "conv3",
              [&] { return g.conv(p + "conv3", t, *k.conv3, nullptr, false, k.conv2->options.out_channels()); });
    std::string res = x;
    if (k.downsample)
      res = named(p + "downsample", [&] { return g.conv(p + "downsample", x, *k.downsample, nullptr, false, c); });
    const int64_t out = k.conv3->options.out_channels();
    if (k.downsample ? k.downsample->options.out_channels() != out : out != c)
      throw Error(strf("onnx export: layer %sadd: the residual has another width than conv3 (%lld)", p.c_str(),
                       (long long)out));
    x = g.add(p + "add", t, res);
    c = out;
  }
  x = named("bn+select", [&] { return g.bn_select_relu("bn", x, *m.bn, m.select.get(), &c); });
  return named("fc", [&] { return g.classifier(x, *m.fc, c); });
}

std::string build_densenet(GraphWriter& g, models::DenseNetImpl& m) {
  std::string x = named("conv1", [&] { return g.conv("conv1", g.input(), *m.conv1, nullptr, false, 3); });
  int64_t c = m.conv1->options.out_channels();
  auto unit = [&](const std::string& p, models::DenseUnitImpl& u, const std::string& in) {
    int64_t kept = c;
    std::string t = g.bn_select_relu(p + ".bn", in, *u.bn, u.select.get(), &kept);
    return g.conv(p + ".conv", t, *u.conv, nullptr, false, kept);
  };
  for (size_t st = 0; st < m.dense.size(); ++st) {
    for (size_t l = 0; l < m.dense[st].size(); ++l) {
      const std::string n = "dense" + std::to_string(st) + "_" + std::to_string(l);
      x = named(n, [&] { return g.concat(n + ".cat", x, unit(n, *m.dense[st][l], x)); });
      c += m.dense[st][l]->conv->options.out_channels();
    }
    if (st < m.trans.size()) {
      const std::string n = "trans" + std::to_string(st);
      x = named(n, [&] { return g.pool("AveragePool", n + ".pool", unit(n, *m.trans[st], x), 2, 2); });
      c = m.trans[st]->conv->options.out_channels();
    }
  }
  x = named("bn+select", [&] { return g.bn_select_relu("bn", x, *m.bn, m.select.get(), &c); });
  return named("fc", [&] { return g.classifier(x, *m.fc, c); });
}

void meta(onnx::ModelProto& m, const char* key, const std::string& value) {
  onnx::StringStringEntryProto* e = m.add_metadata_props();
  e->set_key(key);
  e->set_value(value);
}

}  // namespace

std::string export_onnx(models::NetImpl& net, const OnnxExportOptions& opts, OnnxExportInfo* info) {
  torch::NoGradGuard ng;
  const models::ModelSpec& spec = net.spec();
  const data::Normalization norm = exporter::input_normalization(spec);

  onnx::ModelProto model;
  model.set_ir_version(kOnnxIrVersion);
  model.set_producer_name("msprune");
  model.set_producer_version(MSPRUNE_VERSION);
  model.set_model_version(1);
  model.set_doc_string(spec.name() +
                       ": input 'input' is the normalised image (pixel/255 - mean) / std, NCHW float32; output "
                       "'logits' (no softmax). See metadata_props.");
  onnx::OperatorSetIdProto* op = model.add_opset_import();
  op->set_domain("");
  op->set_version(kOnnxOpset);

  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name(spec.name());
  GraphWriter g(graph, opts.fold_bn);
  g.set_input("input", 3, 32, 32, spec.num_classes);
  std::string out;
  if (auto* v = dynamic_cast<models::VggImpl*>(&net)) out = build_vgg(g, *v);
  else if (auto* r = dynamic_cast<models::PreResNetImpl*>(&net)) out = build_preresnet(g, *r);
  else if (auto* d = dynamic_cast<models::DenseNetImpl*>(&net)) out = build_densenet(g, *d);
  else throw Error("onnx export: unknown network family");
  const int64_t fc_out = graph->initializer(graph->initializer_size() - 1).dims(0);
  if (fc_out != spec.num_classes)
    throw Error(strf("onnx export: the graph ends in %lld outputs, the spec has %d classes", (long long)fc_out,
                     spec.num_classes));
  g.set_output(out);

  meta(model, kMetaFormat, "msprune-onnx 1");
  meta(model, kMetaInput, "normalized: input = (pixel / 255 - mean) / std per channel, float32 NCHW, RGB");
  meta(model, kMetaMean, join_floats(norm.mean, 3));
  meta(model, kMetaStd, join_floats(norm.std, 3));
  meta(model, kMetaClasses, std::to_string(spec.num_classes));
  meta(model, kMetaVersion, MSPRUNE_VERSION);
  meta(model, kMetaSpec, spec.to_json().dump());
  meta(model, kMetaBatchNorm, opts.fold_bn ? "folded" : "kept");

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw Error(std::string("onnx export: the ONNX checker rejects the model: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error("onnx export: protobuf serialization failed");

  if (info) {
    *info = OnnxExportInfo{};
    info->nodes = graph->node_size();
    info->initializers = graph->initializer_size();
    for (const auto& t : graph->initializer()) info->weight_bytes += t.raw_data().size();
    for (const auto& n : graph->node()) {
      auto it = std::find_if(info->op_counts.begin(), info->op_counts.end(),
                             [&](const auto& p) { return p.first == n.op_type(); });
      if (it == info->op_counts.end()) info->op_counts.emplace_back(n.op_type(), 1);
      else ++it->second;
    }
  }
  return bytes;
}

}  // namespace msprune::interop
