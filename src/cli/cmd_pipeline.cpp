// msprune pipeline: data to enclave in one command (see src/pipeline/pipeline.h).
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "models/spec.h"
#include "pipeline/pipeline.h"
#include "train/distributed.h"
#include "prune/fit_epc.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::cli {

void add_pipeline_command(CLI::App& app) {
  struct Opts {
    std::string arch = "vgg", preset = "quick", data, out, device = "auto", key, enclave, curve, fit_epc, nproc;
    int depth = 0, epochs = 0, finetune_epochs = 0;
    int64_t train_subset = -2, test_subset = -2;
    double width = 0, sparsity = 0;
    int threads = 1;
    bool resume = false, json = false, sync_bn = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand(
      "pipeline", "Sparsity training, mean-shift pruning, fine-tuning, slimming baseline, export, sealing, benchmarks, report");
  sub->add_option("--arch", o->arch, "vgg, preresnet or densenet")->capture_default_str();
  sub->add_option("--depth", o->depth, "Depth (default: the preset's)");
  sub->add_option("--width", o->width, "Width multiplier (default: the preset's)");
  sub->add_option("--preset", o->preset, "quick (minutes), cpu (60-90 minutes per network here), paper (the paper's recipe, GPU)")
      ->capture_default_str();
  sub->add_option("--epochs", o->epochs, "Override the preset's sparsity-training epochs");
  sub->add_option("--finetune-epochs", o->finetune_epochs, "Override the preset's fine-tuning epochs");
  auto* sparsity_opt =
      sub->add_option("--sparsity", o->sparsity, "Override the preset's L1 penalty s on the BN scales (e.g. 1e-4)");
  sub->add_option("--train-subset", o->train_subset, "Override the preset: the first N training records (-1: all)");
  sub->add_option("--test-subset", o->test_subset, "Override the preset: the first N test records (-1: all)");
  add_data_option(sub, &o->data);
  sub->add_option("--out", o->out, "Run folder (e.g. runs/NAME)")->required();
  sub->add_flag("--resume", o->resume, "Continue a run: skip every step whose outputs are valid and up to date");
  sub->add_option("--device", o->device, "auto, cpu or cuda[:N] (training and evaluation)")->capture_default_str();
  add_threads_option(sub, &o->threads);
  sub->add_option("--platform-key", o->key, "Emulated platform key for sealing (default: OUT/platform.key, created)");
  sub->add_option("--enclave", o->enclave, "Enclave program (default: msprune-enclave next to msprune)");
  auto* curve_opt = sub->add_option("--curve", o->curve,
                  "Also the accuracy-vs-size curve: Network Slimming at these channel ratios (e.g. 0.2,0.3,0.4,0.5,0.6), "
                  "a random-channel control and, for VGG-16, the authors' groups; each fine-tuned like mean shift");
  auto* fit_opt = sub->add_option("--fit-epc", o->fit_epc,
                                  "Mean shift prunes as little as it must so that the exported model fits this "
                                  "enclave heap (e.g. 2MiB; see prune --fit-epc); the EPC sweep includes this size");
  sub->add_option("--nproc", o->nproc,
                  "Train and fine-tune data-parallel in N local processes (Gloo on CPU), batch 64/N each: the "
                  "recipe's global batch of 64 is kept; N divides 64");
  sub->add_flag("--sync-bn", o->sync_bn,
                "With --nproc N: SyncBatchNorm in training and fine-tuning (BN statistics over the global batch of 64, "
                "as one process); no effect without --nproc");
  sub->add_flag("--json", o->json, "Print report.json on stdout at the end");
  sub->callback([o, curve_opt, fit_opt, sparsity_opt] {
    // The pipeline is one machine's job: its steps after training need the
    // checkpoints in one folder. Several machines: run `msprune train` with
    // the rendezvous options on each, then the pipeline's later steps.
    for (const char* v : {"RANK", "WORLD_SIZE"})
      if (const char* e = std::getenv(v); e && *e)
        throw Error(std::string("pipeline runs on one machine, but ") + v + " is set (a torchrun-style launch): use " +
                    "pipeline --nproc N, or run `msprune train --rank ... --world-size ...` on each machine");
    pipeline::Options p;
    if (!o->nproc.empty()) p.nproc = int(train::parse_int_in("--nproc", o->nproc, 1, 64));
    p.sync_bn = o->sync_bn;
    p.arch = models::parse_arch(o->arch);
    p.preset = o->preset;
    if (o->depth) p.depth = o->depth;
    if (o->width > 0) p.width = o->width;
    if (o->epochs) p.epochs = o->epochs;
    if (o->finetune_epochs) p.finetune_epochs = o->finetune_epochs;
    if (sparsity_opt->count()) p.sparsity = o->sparsity;
    if (o->train_subset >= -1) p.train_subset = o->train_subset;
    if (o->test_subset >= -1) p.test_subset = o->test_subset;
    p.data = resolve_data_dir(o->data);
    p.out = o->out;
    p.resume = o->resume;
    p.threads = o->threads;
    p.device = o->device;
    p.platform_key = o->key;
    p.enclave = o->enclave;
    if (curve_opt->count()) p.curve = pipeline::parse_ratio_list(o->curve);
    if (fit_opt->count()) {
      prune::parse_size(o->fit_epc);  // a bad size is named before anything runs
      p.fit_epc = o->fit_epc;
    }
    auto rep = pipeline::run_pipeline(p);
    if (o->json) {
      std::printf("%s\n", rep.dump().c_str());
      return;
    }
    std::printf("%s", pipeline::render_report_md(rep).c_str());
    std::printf("\nreport: %s/report.md (and report.json)\n", o->out.c_str());
  });
}

}  // namespace msprune::cli
