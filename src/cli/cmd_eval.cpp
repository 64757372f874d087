// msprune eval: test accuracy, parameters and MACs of a checkpoint
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/augment.h"
#include "data/cifar.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::cli {

void add_eval_command(CLI::App& app) {
  struct Opts {
    std::string model, data, device = "auto";
    int64_t test_subset = -1;
    int threads = 1;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("eval", "Test accuracy, parameter count and MACs of a checkpoint");
  sub->add_option("--model", o->model, "Checkpoint")->required();
  add_data_option(sub, &o->data);
  sub->add_option("--test-subset", o->test_subset, "Use the first N test records");
  sub->add_option("--device", o->device, "auto, cpu or cuda[:N]")->capture_default_str();
  add_threads_option(sub, &o->threads);
  sub->add_flag("--json", o->json, "Print JSON");
  sub->callback([o] {
    train::set_threads(o->threads);
    auto device = train::pick_device(o->device);
    auto ck = train::load_checkpoint(o->model);
    auto test = data::load_cifar(resolve_data_dir(o->data), false, o->test_subset);
    if (test.num_classes != ck.model->spec().num_classes)
      throw Error(o->model + ": model has " + std::to_string(ck.model->spec().num_classes) + " classes, the data " +
                  std::to_string(test.num_classes));
    ck.model->to(device);
    data::BatchPipeline pipe(test, device);
    double acc = train::evaluate(ck.model, pipe);
    int64_t params = ck.model->num_params(), macs = ck.model->macs();
    if (o->json) {
      nlohmann::json j = {{"model", o->model},
                          {"name", ck.model->spec().name()},
                          {"spec", ck.model->spec().to_json()},
                          {"test_records", test.size()},
                          {"accuracy", acc},
                          {"params", params},
                          {"macs", macs}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%s (%s)\n  test accuracy  %.2f%% on %lld images\n  parameters     %s (%lld)\n  MACs           %s (%lld)\n",
                  o->model.c_str(), ck.model->spec().name().c_str(), 100 * acc, (long long)test.size(),
                  human_count(double(params)).c_str(), (long long)params, human_count(double(macs)).c_str(),
                  (long long)macs);
    }
  });
}

}  // namespace msprune::cli
