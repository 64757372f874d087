// msprune import: a PyTorch checkpoint of the paper's / Network Slimming's
// models -> our checkpoint (docs/interop.md)
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "interop/pytorch_import.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::cli {

void add_import_command(CLI::App& app) {
  struct Opts {
    std::string from, file, arch, out, normalize = "cifar10";
    int depth = 0;
    double width = 0;
    std::vector<float> mean, std;
    int threads = 1;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("import", "Import a PyTorch checkpoint (the paper's / Network Slimming's models)");
  sub->add_option("--from", o->from, "Source framework")->required()->check(CLI::IsMember({"pytorch"}));
  sub->add_option("file", o->file, "torch.save file (.pth / .pth.tar, zip format)")->required();
  sub->add_option("--arch", o->arch, "vgg, preresnet or densenet (the file must hold that family)")
      ->required()
      ->check(CLI::IsMember({"vgg", "preresnet", "densenet"}));
  sub->add_option("--depth", o->depth, "Expected depth (default: from the tensors)")->check(CLI::Range(1, 2000));
  sub->add_option("--width", o->width, "Width multiplier (default: from the tensors)")->check(CLI::Range(1e-3, 16.0));
  auto* norm = sub->add_option("--normalize", o->normalize,
                               "Input normalisation the network was trained with: cifar10 (Network Slimming's "
                               "mean/std), cifar100, or none (raw [0,1] pixels)")
                   ->check(CLI::IsMember({"cifar10", "cifar100", "none"}))
                   ->capture_default_str();
  auto* mean = sub->add_option("--mean", o->mean, "Custom normalisation: three means, e.g. 0.5,0.5,0.5")
                   ->delimiter(',')
                   ->expected(3);
  auto* sd = sub->add_option("--std", o->std, "Custom normalisation: three standard deviations")
                 ->delimiter(',')
                 ->expected(3);
  mean->needs(sd);
  sd->needs(mean);
  mean->excludes(norm);
  sd->excludes(norm);
  sub->add_option("--out", o->out, "Our checkpoint to write (atomically)")->required();
  add_threads_option(sub, &o->threads);
  sub->add_flag("--json", o->json, "Print JSON");
  sub->callback([o] {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(o->out, ec) && fs::exists(o->file, ec) && fs::equivalent(o->out, o->file, ec))
      throw Error("--out " + o->out + " is the input file itself; refusing to overwrite it");
    if (fs::is_directory(o->out, ec)) throw Error("--out " + o->out + " is a directory");
    train::set_threads(o->threads);
    interop::PytorchImportOptions opt;
    opt.arch = models::parse_arch(o->arch);
    if (o->depth) opt.depth = o->depth;
    if (o->width > 0) opt.width = o->width;
    if (!o->mean.empty()) {
      if (o->mean.size() != 3 || o->std.size() != 3) throw Error("--mean and --std take three values each");
      for (size_t c = 0; c < 3; ++c) {
        opt.input_norm.mean[c] = o->mean[c];
        opt.input_norm.std[c] = o->std[c];
      }
      models::InputNorm::from_json(opt.input_norm.to_json());  // finite, std > 0
    } else {
      opt.input_norm = interop::named_input_norm(o->normalize);
    }
    auto imp = interop::import_pytorch(o->file, opt);
    train::save_checkpoint(o->out, imp.model, nullptr, {{"command", "import"}, {"import", imp.about}});
    const auto& spec = imp.model->spec();
    if (o->json) {
      std::printf("%s\n", nlohmann::json({{"out", o->out},
                                          {"name", spec.name()},
                                          {"spec", spec.to_json()},
                                          {"import", imp.about},
                                          {"params", imp.model->num_params()},
                                          {"macs", imp.model->macs()}})
                              .dump()
                              .c_str());
      return;
    }
    const auto& n = *spec.input_norm;
    std::printf("wrote %s (%s from %s, %s layout)\n", o->out.c_str(), spec.name().c_str(), o->file.c_str(),
                imp.about["layout"].get<std::string>().c_str());
    std::printf("  cfg           %s\n", nlohmann::json(spec.cfg).dump().c_str());
    std::printf("  input         mean %.4g,%.4g,%.4g  std %.4g,%.4g,%.4g\n", n.mean[0], n.mean[1], n.mean[2],
                n.std[0], n.std[1], n.std[2]);
    std::printf("  parameters    %s, MACs %s\n", human_count(double(imp.model->num_params())).c_str(),
                human_count(double(imp.model->macs())).c_str());
  });
}

}  // namespace msprune::cli
