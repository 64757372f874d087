// msprune export: checkpoint -> .msm for the enclave runtime (docs/export.md)
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

#include "cli/commands.h"
#include "data/cifar.h"
#include "export/export.h"
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

}  // namespace

void add_export_command(CLI::App& app) {
  struct Opts {
    std::string model, out, check_data;
    int64_t check = 8, check_limit = -1;
    int threads = 1;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("export", "Export a checkpoint to a .msm model for the enclave runtime");
  sub->add_option("--model", o->model, "Checkpoint")->required();
  sub->add_option("--out", o->out, "The .msm file to write (atomically)")->required();
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
  sub->add_flag("--json", o->json, "Print JSON");
  sub->callback([o] {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(o->out, ec) && fs::exists(o->model, ec) && fs::equivalent(o->out, o->model, ec))
      throw Error("--out " + o->out + " is the checkpoint itself; refusing to overwrite it");
    if (fs::is_directory(o->out, ec)) throw Error("--out " + o->out + " is a directory");
    train::set_threads(o->threads);
    auto ck = train::load_checkpoint(o->model);
    const std::vector<uint8_t> bytes = exporter::export_msm(*ck.model);
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
    std::string counts;
    for (const auto& [t, n] : s.op_counts) counts += strf("%s%s %u", counts.empty() ? "" : ", ", t.c_str(), n);
    std::printf("wrote %s (%s from %s)\n", o->out.c_str(), ck.model->spec().name().c_str(), o->model.c_str());
    std::printf("  ops           %u (%s)\n", s.ops, counts.c_str());
    std::printf("  parameters    %s (%llu)\n", human_count(double(s.params)).c_str(), (unsigned long long)s.params);
    std::printf("  MACs          %s (%llu)\n", human_count(double(s.macs)).c_str(), (unsigned long long)s.macs);
    std::printf("  file          %s (weights %s, metadata %s)\n", human_bytes(double(s.file_bytes)).c_str(),
                human_bytes(double(s.weights_bytes)).c_str(), human_bytes(double(s.metadata_bytes)).c_str());
    std::printf("  arena         %s (activations %s)\n", human_bytes(double(s.arena_bytes)).c_str(),
                human_bytes(double(s.activation_bytes)).c_str());
    std::printf("  content hash  %s\n", s.content_hash.c_str());
    std::printf("  parity        %lld random inputs: %s\n", (long long)rnd.inputs, parity_line(rnd).c_str());
    if (images)
      std::printf("  test set      %lld images from %s: LibTorch %.2f%%, runtime %.2f%%; %s\n", (long long)images,
                  o->check_data.c_str(), 100.0 * double(img.torch_correct) / double(images),
                  100.0 * double(img.runtime_correct) / double(images), parity_line(img).c_str());
  });
}

}  // namespace msprune::cli
