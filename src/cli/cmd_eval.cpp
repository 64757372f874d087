// msprune eval: test accuracy, parameters and MACs of a checkpoint
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/augment.h"
#include "data/cifar.h"
#include "export/export.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/plot.h"
#include "util/table.h"

namespace msprune::cli {

namespace {

struct GammaHistogram {
  std::vector<double> edges;   // bins + 1
  std::vector<int64_t> counts;
  double mean = 0;
  int64_t n = 0;
};

GammaHistogram gamma_histogram(const models::Net& net, int bins) {
  std::vector<float> g;
  for (auto& b : net->batchnorms()) {
    auto w = b.bn->weight.detach().abs().to(torch::kCPU).contiguous();
    g.insert(g.end(), w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
  }
  GammaHistogram h;
  h.n = int64_t(g.size());
  if (g.empty()) return h;
  double hi = *std::max_element(g.begin(), g.end());
  if (hi <= 0) hi = 1;
  h.counts.assign(size_t(bins), 0);
  for (int i = 0; i <= bins; ++i) h.edges.push_back(hi * i / bins);
  for (float v : g) {
    h.mean += v;
    h.counts[std::min(size_t(bins - 1), size_t(double(v) / hi * bins))]++;
  }
  h.mean /= double(g.size());
  return h;
}

std::string format_gamma_histogram(const GammaHistogram& h) {
  std::string s = strf("  |gamma| of %lld BN channels (mean %.4f):\n", (long long)h.n, h.mean);
  int64_t peak = *std::max_element(h.counts.begin(), h.counts.end());
  for (size_t i = 0; i < h.counts.size(); ++i) {
    int bar = peak ? int(50.0 * double(h.counts[i]) / double(peak) + 0.5) : 0;
    s += strf("  %7.4f-%7.4f %6lld %s\n", h.edges[i], h.edges[i + 1], (long long)h.counts[i],
              std::string(size_t(bar), '#').c_str());
  }
  return s;
}

void plot_gamma_histogram(const GammaHistogram& h, const std::string& out, const std::string& name) {
  PlotSpec p;
  p.title = "|gamma| of all BatchNorm channels: " + name;
  p.xlabel = "|gamma|";
  p.ylabel = "channels";
  PlotSeries s{"channels", {}, {}, "boxes"};
  for (size_t i = 0; i < h.counts.size(); ++i) {
    s.x.push_back(0.5 * (h.edges[i] + h.edges[i + 1]));
    s.y.push_back(double(h.counts[i]));
  }
  p.series.push_back(s);
  p.markers.push_back({h.mean, strf("mean %.3f", h.mean), "blue", "dashed"});
  std::string why;
  if (!render_plot(p, out, &why)) throw Error("cannot draw " + out + ": " + why);
}

}  // namespace

void add_eval_command(CLI::App& app) {
  struct Opts {
    std::string model, data, device = "auto";
    int64_t test_subset = -1;
    int threads = 1;
    bool json = false;
    int gamma_bins = 0;
    std::string gamma_plot;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("eval", "Test accuracy, parameter count and MACs of a checkpoint");
  sub->add_option("--model", o->model, "Checkpoint")->required();
  add_data_option(sub, &o->data);
  sub->add_option("--test-subset", o->test_subset, "Use the first N test records");
  sub->add_option("--device", o->device, "auto, cpu or cuda[:N]")->capture_default_str();
  add_threads_option(sub, &o->threads);
  sub->add_flag("--json", o->json, "Print JSON");
  sub->add_option("--gamma-hist", o->gamma_bins, "Also print a histogram of all BN |gamma| with N bins")
      ->check(CLI::Range(2, 200));
  sub->add_option("--gamma-plot", o->gamma_plot, "Also draw that histogram to a .png/.svg file");
  sub->callback([o] {
    train::set_threads(o->threads);
    auto device = train::pick_device(o->device);
    auto ck = train::load_checkpoint(o->model);
    auto test = data::load_cifar(resolve_data_dir(o->data), false, o->test_subset);
    if (test.num_classes != ck.model->spec().num_classes)
      throw Error(o->model + ": model has " + std::to_string(ck.model->spec().num_classes) + " classes, the data " +
                  std::to_string(test.num_classes));
    ck.model->to(device);
    // An imported network is evaluated with the normalisation it was trained with.
    data::BatchPipeline pipe(test, device, exporter::input_normalization(ck.model->spec()));
    double acc = train::evaluate(ck.model, pipe);
    int64_t params = ck.model->num_params(), macs = ck.model->macs();
    GammaHistogram gh;
    if (o->gamma_bins > 0 || !o->gamma_plot.empty())
      gh = gamma_histogram(ck.model, o->gamma_bins > 0 ? o->gamma_bins : 40);
    if (!o->gamma_plot.empty()) plot_gamma_histogram(gh, o->gamma_plot, ck.model->spec().name());
    if (o->json) {
      nlohmann::json j = {{"model", o->model},
                          {"name", ck.model->spec().name()},
                          {"spec", ck.model->spec().to_json()},
                          {"test_records", test.size()},
                          {"accuracy", acc},
                          {"params", params},
                          {"macs", macs}};
      if (!gh.counts.empty())
        j["gamma_histogram"] = {{"edges", gh.edges}, {"counts", gh.counts}, {"mean", gh.mean}, {"n", gh.n}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%s (%s)\n  test accuracy  %.2f%% on %lld images\n  parameters     %s (%lld)\n  MACs           %s (%lld)\n",
                  o->model.c_str(), ck.model->spec().name().c_str(), 100 * acc, (long long)test.size(),
                  human_count(double(params)).c_str(), (long long)params, human_count(double(macs)).c_str(),
                  (long long)macs);
      if (!gh.counts.empty()) std::printf("%s", format_gamma_histogram(gh).c_str());
    }
  });
}

}  // namespace msprune::cli
