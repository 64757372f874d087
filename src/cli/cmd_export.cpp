// msprune export: checkpoint -> .msm for the enclave runtime (docs/export.md);
// checkpoint -> ONNX (--format onnx) and ONNX -> .msm (--from-onnx), docs/interop.md.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

#include "cli/commands.h"
#include "data/cifar.h"
#include "export/export.h"
#ifdef MSPRUNE_HAVE_ONNX
#include "interop/onnx_export.h"
#include "interop/onnx_import.h"
#endif
#include "train/checkpoint.h"
#include "train/device.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::cli {

namespace {

std::string parity_line(const exporter::Parity& p) {
  return strf("max |diff| %.3g (%.3g of max |logit| %.3g), top-1 agree %lld/%lld", p.max_abs_diff, p.rel(),
              p.max_abs_logit, (long long)p.top1_agree, (long long)p.inputs);
}

nlohmann::json parity_json(const exporter::Parity& p) {
  nlohmann::json j = {{"inputs", p.inputs},
                      {"max_abs_diff", p.max_abs_diff},
                      {"max_abs_logit", p.max_abs_logit},
                      {"rel", p.rel()},
                      {"top1_agree", p.top1_agree}};
  if (p.labelled) {
    j["torch_accuracy"] = double(p.torch_correct) / double(p.inputs);
    j["runtime_accuracy"] = double(p.runtime_correct) / double(p.inputs);
  }
  return j;
}

#ifndef MSPRUNE_HAVE_ONNX
[[noreturn]] void no_onnx(const char* what) {
  throw Error(std::string(what) +
              " is unavailable: this msprune was built without ONNX (Debian: libonnx-dev libprotobuf-dev; install "
              "them and reconfigure)");
}
#endif

struct ExportOpts {
  std::string model, out, check_data, format = "msm", from_onnx;
  std::vector<float> input_mean, input_std;
  int64_t check = 8, check_limit = -1;
  int threads = 1;
  bool json = false, fold_bn = false, no_fuse_add = false;
};

void print_summary(const exporter::MsmSummary& s) {
  std::string counts;
  for (const auto& [t, n] : s.op_counts) counts += strf("%s%s %u", counts.empty() ? "" : ", ", t.c_str(), n);
  std::printf("  ops           %u (%s)\n", s.ops, counts.c_str());
  std::printf("  parameters    %s (%llu)\n", human_count(double(s.params)).c_str(), (unsigned long long)s.params);
  std::printf("  MACs          %s (%llu)\n", human_count(double(s.macs)).c_str(), (unsigned long long)s.macs);
  std::printf("  file          %s (weights %s, metadata %s)\n", human_bytes(double(s.file_bytes)).c_str(),
              human_bytes(double(s.weights_bytes)).c_str(), human_bytes(double(s.metadata_bytes)).c_str());
  std::printf("  arena         %s (activations %s)\n", human_bytes(double(s.arena_bytes)).c_str(),
              human_bytes(double(s.activation_bytes)).c_str());
  std::printf("  content hash  %s\n", s.content_hash.c_str());
}

#ifdef MSPRUNE_HAVE_ONNX
// --format onnx: the checkpoint as ONNX. Before writing, the file is read
// back by our own ONNX importer and run by the runtime against LibTorch.
void export_onnx_file(const ExportOpts& o) {
  auto ck = train::load_checkpoint(o.model);
  interop::OnnxExportInfo info;
  const std::string onnx = interop::export_onnx(*ck.model, {o.fold_bn}, &info);
  const interop::OnnxImportResult back =
      interop::import_onnx(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(onnx.data()), onnx.size()));
  rt::InterpreterOptions io;
  io.threads = o.threads;
  exporter::HostedModel hosted(back.msm, io);
  const exporter::Parity rnd = exporter::compare_random(*ck.model, hosted, o.check, 1);
  if (!(rnd.rel() <= exporter::kParityTolerance))
    throw Error(strf("%s: the ONNX graph, read back and run, differs from LibTorch by %.3g of the logits' scale "
                     "(tolerance %.0e); nothing written",
                     o.model.c_str(), rnd.rel(), exporter::kParityTolerance));
  exporter::Parity img;
  int64_t images = 0;
  if (!o.check_data.empty()) {
    auto test = data::load_cifar(o.check_data, false, o.check_limit);
    if (test.num_classes != ck.model->spec().num_classes)
      throw Error(strf("--check-data %s has %d classes, the model %d", o.check_data.c_str(), test.num_classes,
                       ck.model->spec().num_classes));
    images = test.size();
    img = exporter::compare_images(*ck.model, hosted, test.images, test.labels, 100, !o.json);
  }
  atomic_write_bytes(o.out, onnx);
  const auto norm = exporter::input_normalization(ck.model->spec());
  if (o.json) {
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& [t, n] : info.op_counts) counts[t] = n;
    nlohmann::json j = {{"model", o.model},
                        {"out", o.out},
                        {"format", "onnx"},
                        {"name", ck.model->spec().name()},
                        {"spec", ck.model->spec().to_json()},
                        {"onnx",
                         {{"opset", interop::kOnnxOpset},
                          {"ir_version", interop::kOnnxIrVersion},
                          {"bytes", onnx.size()},
                          {"nodes", info.nodes},
                          {"op_counts", counts},
                          {"initializers", info.initializers},
                          {"weight_bytes", info.weight_bytes},
                          {"batchnorm", o.fold_bn ? "folded" : "kept"},
                          {"input", "normalized"},
                          {"mean", std::vector<float>(norm.mean, norm.mean + 3)},
                          {"std", std::vector<float>(norm.std, norm.std + 3)}}},
                        {"parity_random", parity_json(rnd)}};
    if (images) j["parity_data"] = parity_json(img);
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::string counts;
  for (const auto& [t, n] : info.op_counts) counts += strf("%s%s %d", counts.empty() ? "" : ", ", t.c_str(), n);
  std::printf("wrote %s (%s from %s; ONNX opset %d, checked by onnx::checker)\n", o.out.c_str(),
              ck.model->spec().name().c_str(), o.model.c_str(), interop::kOnnxOpset);
  std::printf("  nodes         %d (%s)\n", info.nodes, counts.c_str());
  std::printf("  batchnorm     %s\n", o.fold_bn ? "folded into the convolutions it follows" : "kept");
  std::printf("  file          %s (weights %s)\n", human_bytes(double(onnx.size())).c_str(),
              human_bytes(double(info.weight_bytes)).c_str());
  std::printf("  input         'input' [N,3,32,32] float32, normalised: (pixel/255 - mean) / std, mean %.4f,%.4f,%.4f "
              "std %.4f,%.4f,%.4f\n",
              double(norm.mean[0]), double(norm.mean[1]), double(norm.mean[2]), double(norm.std[0]),
              double(norm.std[1]), double(norm.std[2]));
  std::printf("  read back     %lld random inputs through the runtime: %s\n", (long long)rnd.inputs,
              parity_line(rnd).c_str());
  if (images)
    std::printf("  test set      %lld images from %s: LibTorch %.2f%%, runtime %.2f%%; %s\n", (long long)images,
                o.check_data.c_str(), 100.0 * double(img.torch_correct) / double(images),
                100.0 * double(img.runtime_correct) / double(images), parity_line(img).c_str());
}

// --from-onnx: an ONNX file as .msm (the writer verifies it with the runtime).
void export_from_onnx(const ExportOpts& o) {
  interop::OnnxImportOptions io;
  io.mean = o.input_mean;
  io.std = o.input_std;
  io.finish.fuse_residual_add = !o.no_fuse_add;
  const interop::OnnxImportResult r = interop::import_onnx_file(o.from_onnx, io);
  rt::InterpreterOptions ro;
  ro.threads = o.threads;
  exporter::HostedModel hosted(r.msm, ro);  // the interpreter prepares it too
  int64_t images = 0, correct = 0;
  if (!o.check_data.empty()) {
    auto test = data::load_cifar(o.check_data, false, o.check_limit);
    const rt::Model& m = hosted.model();
    if (test.num_classes != int(m.num_classes()) || m.input_channels() != 3 || m.input_height() != 32 ||
        m.input_width() != 32)
      throw Error(strf("--check-data %s: %d-class 3x32x32 images, the model takes %ux%ux%u and has %u classes",
                       o.check_data.c_str(), test.num_classes, m.input_channels(), m.input_height(), m.input_width(),
                       m.num_classes()));
    images = test.size();
    std::vector<float> logits(m.num_classes());
    auto u8 = test.images.contiguous();
    auto lab = test.labels.to(torch::kInt64).contiguous();
    for (int64_t i = 0; i < images; ++i) {
      hosted.invoke_u8(u8[i].data_ptr<uint8_t>(), logits.data());
      correct += int64_t(rt::argmax(logits.data(), m.num_classes())) == lab.data_ptr<int64_t>()[i];
    }
  }
  atomic_write_bytes(o.out, std::string_view(reinterpret_cast<const char*>(r.msm.data()), r.msm.size()));
  const exporter::MsmSummary s = exporter::summarize_msm(r.msm);
  if (o.json) {
    nlohmann::json j = {{"from_onnx", o.from_onnx},
                        {"out", o.out},
                        {"onnx",
                         {{"opset", r.opset},
                          {"nodes", r.onnx_nodes},
                          {"fused", r.fused},
                          {"producer", r.producer},
                          {"normalization_from_metadata", r.normalization_from_metadata}}},
                        {"mean", r.mean},
                        {"std", r.std},
                        {"msm", exporter::summary_json(s)}};
    if (images) j["runtime_accuracy"] = double(correct) / double(images);
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("wrote %s (from %s: opset %lld, %d nodes, %d folded or fused; verified by the runtime)\n",
              o.out.c_str(), o.from_onnx.c_str(), (long long)r.opset, r.onnx_nodes, r.fused);
  std::string mean, sd;
  for (size_t i = 0; i < r.mean.size(); ++i) {
    mean += strf("%s%.4f", i ? "," : "", double(r.mean[i]));
    sd += strf("%s%.4f", i ? "," : "", double(r.std[i]));
  }
  std::printf("  input norm    mean %s std %s (%s)\n", mean.c_str(), sd.c_str(),
              r.normalization_from_metadata ? "from the model's metadata" : "from --input-mean/--input-std");
  print_summary(s);
  if (images)
    std::printf("  test set      %lld images from %s: runtime %.2f%%\n", (long long)images, o.check_data.c_str(),
                100.0 * double(correct) / double(images));
}
#endif

}  // namespace

void add_export_command(CLI::App& app) {
  auto o = std::make_shared<ExportOpts>();
  auto* sub = app.add_subcommand("export",
                                 "Export a checkpoint to a .msm model for the enclave runtime or to ONNX; or an "
                                 "ONNX model to .msm");
  sub->add_option("--model", o->model, "Checkpoint");
  sub->add_option("--out", o->out, "The file to write (atomically)")->required();
  sub->add_option("--format", o->format, "What to write from --model: msm (the enclave runtime's format) or onnx")
      ->check(CLI::IsMember({"msm", "onnx"}))
      ->capture_default_str();
  sub->add_flag("--fold-bn", o->fold_bn,
                "With --format onnx: fold each BatchNorm that follows a convolution into it (the .msm export always "
                "does)");
  sub->add_option("--from-onnx", o->from_onnx,
                  "Write this ONNX model as .msm instead (the runtime's op subset: docs/interop.md)");
  sub->add_option("--input-mean", o->input_mean,
                  "With --from-onnx: the input normalisation's per-channel mean (default: the model's metadata)")
      ->delimiter(',');
  sub->add_option("--input-std", o->input_std, "With --from-onnx: the per-channel std (default: the model's metadata)")
      ->delimiter(',');
  sub->add_option("--check", o->check, "Random inputs compared between LibTorch and the runtime before writing")
      ->check(CLI::Range(int64_t(1), int64_t(100000)))
      ->capture_default_str();
  sub->add_option("--check-data", o->check_data,
                  "Also compare both on this CIFAR folder's test set (accuracy and top-1 agreement)");
  sub->add_option("--check-limit", o->check_limit, "With --check-data: the first N test records only")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 40));
  sub->add_option("--threads", o->threads, "Threads for the checks (LibTorch and runtime)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  sub->add_flag("--no-fuse-add", o->no_fuse_add,
                "Keep each residual add as an op of its own (by default it is fused into the conv that "
                "produces one of its operands: same results, one pass fewer; for comparisons)");
  sub->add_flag("--json", o->json, "Print JSON");
  sub->callback([o] {
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::string& in = o->from_onnx.empty() ? o->model : o->from_onnx;
    if (o->model.empty() == o->from_onnx.empty())
      throw Error("give either --model CHECKPOINT or --from-onnx FILE.onnx");
    if (!o->from_onnx.empty() && o->format != "msm")
      throw Error("--from-onnx writes a .msm model; --format " + o->format + " does not apply");
    if (o->fold_bn && o->format != "onnx")
      throw Error("--fold-bn applies to --format onnx (the .msm export always folds BatchNorm)");
    if (o->from_onnx.empty() && !(o->input_mean.empty() && o->input_std.empty()))
      throw Error("--input-mean and --input-std apply to --from-onnx");
    if (o->no_fuse_add && o->format != "msm")
      throw Error("--no-fuse-add applies to the .msm export");
    if (fs::exists(o->out, ec) && fs::exists(in, ec) && fs::equivalent(o->out, in, ec))
      throw Error("--out " + o->out + " is the input file itself; refusing to overwrite it");
    if (fs::is_directory(o->out, ec)) throw Error("--out " + o->out + " is a directory");
    if (!o->from_onnx.empty() || o->format == "onnx") {
      train::set_threads(o->threads);
#ifdef MSPRUNE_HAVE_ONNX
      if (!o->from_onnx.empty()) export_from_onnx(*o);
      else export_onnx_file(*o);
      return;
#else
      no_onnx(o->from_onnx.empty() ? "export --format onnx" : "export --from-onnx");
#endif
    }
    train::set_threads(o->threads);
    auto ck = train::load_checkpoint(o->model);
    msm::FinishOptions fo;
    fo.fuse_residual_add = !o->no_fuse_add;
    const std::vector<uint8_t> bytes = exporter::export_msm(*ck.model, fo);
    rt::InterpreterOptions io;
    io.threads = o->threads;
    exporter::HostedModel hosted(bytes, io);
    const exporter::Parity rnd = exporter::compare_random(*ck.model, hosted, o->check, 1);
    if (!(rnd.rel() <= exporter::kParityTolerance))
      throw Error(strf("%s: the runtime's logits differ from LibTorch's by %.3g of their scale (tolerance %.0e); "
                       "nothing written",
                       o->model.c_str(), rnd.rel(), exporter::kParityTolerance));
    exporter::Parity img;
    int64_t images = 0;
    if (!o->check_data.empty()) {
      auto test = data::load_cifar(o->check_data, false, o->check_limit);
      if (test.num_classes != ck.model->spec().num_classes)
        throw Error(strf("--check-data %s has %d classes, the model %d", o->check_data.c_str(), test.num_classes,
                         ck.model->spec().num_classes));
      images = test.size();
      img = exporter::compare_images(*ck.model, hosted, test.images, test.labels, 100, !o->json);
    }
    atomic_write_bytes(o->out, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    const exporter::MsmSummary s = exporter::summarize_msm(bytes);

    if (o->json) {
      nlohmann::json j = {{"model", o->model},
                          {"out", o->out},
                          {"name", ck.model->spec().name()},
                          {"spec", ck.model->spec().to_json()},
                          {"msm", exporter::summary_json(s)},
                          {"parity_random", parity_json(rnd)}};
      if (images) j["parity_data"] = parity_json(img);
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("wrote %s (%s from %s)\n", o->out.c_str(), ck.model->spec().name().c_str(), o->model.c_str());
    print_summary(s);
    std::printf("  parity        %lld random inputs: %s\n", (long long)rnd.inputs, parity_line(rnd).c_str());
    if (images)
      std::printf("  test set      %lld images from %s: LibTorch %.2f%%, runtime %.2f%%; %s\n", (long long)images,
                  o->check_data.c_str(), 100.0 * double(img.torch_correct) / double(images),
                  100.0 * double(img.runtime_correct) / double(images), parity_line(img).c_str());
  });
}

}  // namespace msprune::cli
