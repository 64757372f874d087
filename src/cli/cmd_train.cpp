// msprune train: sparsity training (Network Slimming's recipe)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/dist_options.h"
#include "data/augment.h"
#include "data/cifar.h"
#include "export/export.h"
#include "models/models.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/distributed.h"
#include "train/launch.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::cli {

namespace {

struct TrainCli {
  std::string arch = "vgg";
  int depth = 16;
  double width = 1.0;
  double gamma_init = 0.5;
  std::string data, out, init, device = "auto";
  int64_t train_subset = -1, test_subset = -1;
  bool resume = false, json = false, quiet = false;
  int threads = 1;
  CLI::Option* threads_opt = nullptr;
  DistCli dist;
  train::TrainOptions opt;
};

void print_epoch_human(const nlohmann::json& r, int epochs) {
  std::printf("epoch %3lld/%d  loss %.4f  train %5.2f%%  test %5.2f%%  lr %.4g  %6.1fs  %6.0f img/s  model %4.1f%%  mean|g| %.4f\n",
              (long long)r["epoch"].get<int64_t>(), epochs, r["train_loss"].get<double>(),
              100 * r["train_acc"].get<double>(), 100 * r["test_acc"].get<double>(), r["lr"].get<double>(),
              r["seconds"].get<double>(), r["images_per_s"].get<double>(), 100 * r["model_fraction"].get<double>(),
              r["mean_abs_gamma"].get<double>());
  std::fflush(stdout);
}

// --nproc N: this command again, N times, as ranks 0..N-1 (train/launch.h).
void launch_workers(const TrainCli& c, const DistPlan& plan) {
  auto args = train::own_args_without({"--nproc"});
  // N processes share the cores: unless --threads was given, each gets its
  // share (torchrun likewise sets OMP_NUM_THREADS=1).
  if (!c.threads_opt || c.threads_opt->count() == 0)
    args.insert(args.end(), {"--threads", std::to_string(std::max(1, hardware_threads() / plan.nproc))});
  int port = plan.cfg.master_port;
  if (c.dist.master_port.empty() && !std::getenv("MASTER_PORT")) port = train::pick_free_port();
  if (!c.quiet)
    std::fprintf(stderr, "launching %d worker processes (--backend %s, rendezvous %s:%d)\n", plan.nproc,
                 c.dist.backend.c_str(), plan.cfg.master_addr.c_str(), port);
  auto r = train::launch_local(plan.nproc, std::filesystem::read_symlink("/proc/self/exe").string(), args,
                               plan.cfg.master_addr, port);
  if (r.exit_code != 0) throw Error(r.message + "; the run stopped (its last checkpoint, if any, is intact: --resume continues it)");
}

void run_train(const TrainCli& c, bool finetune) {
  DistPlan plan = resolve_dist(c.dist);
  if (c.out.empty()) throw Error("--out is required");
  // Refused before any worker starts (TrainOptions::validate says it again).
  if (c.dist.sync_bn && c.dist.freeze_bn) {
    train::TrainOptions o = c.opt;
    o.freeze_bn = o.sync_bn = true;
    o.validate();
  }
  if (plan.nproc > 1) return launch_workers(c, plan);
  train::set_threads(c.threads);
  torch::Device device = train::pick_device(c.device);
  std::unique_ptr<train::Distributed> dist;
  if (plan.cfg.distributed()) {
    // One GPU per local rank unless the device names one.
    if (device.is_cuda() && !device.has_index()) device = torch::Device(torch::kCUDA, int8_t(plan.cfg.local_rank));
    dist = std::make_unique<train::Distributed>(plan.cfg, device);
  }
  const bool lead = !dist || dist->rank() == 0;
  if (c.dist.sync_bn && !dist && !c.quiet)
    std::fprintf(stderr, "note: --sync-bn has no effect in a single process (its batch is the global batch)\n");
  torch::manual_seed(c.opt.seed);

  std::string dir = resolve_data_dir(c.data);
  auto train_split = data::load_cifar(dir, true, c.train_subset);
  auto test_split = data::load_cifar(dir, false, c.test_subset);

  models::Net model;
  nlohmann::json extra = {{"data", {{"train_records", train_split.size()}, {"test_records", test_split.size()}}}};
  if (!c.init.empty()) {
    auto ck = train::load_checkpoint(c.init);
    model = ck.model;
    extra["init"] = c.init;
    if (ck.meta.contains("prune")) extra["prune"] = ck.meta["prune"];
    if (ck.meta.contains("metrics")) extra["init_metrics"] = ck.meta["metrics"];
  } else {
    auto spec = models::default_spec(models::parse_arch(c.arch), c.depth, c.width, train_split.num_classes);
    model = models::build_model(spec, c.gamma_init);
    extra["gamma_init"] = c.gamma_init;
  }
  if (model->spec().num_classes != train_split.num_classes)
    throw Error("model has " + std::to_string(model->spec().num_classes) + " classes, the data " +
                std::to_string(train_split.num_classes));
  extra["command"] = finetune ? "finetune" : "train";

  if (dist) {
    if (train_split.size() < dist->world_size())
      throw Error("the training set has " + std::to_string(train_split.size()) + " records, fewer than the " +
                  std::to_string(dist->world_size()) + " processes");
    extra["distributed"] = {{"world_size", dist->world_size()},
                            {"backend", dist->backend()},
                            {"batch_per_process", c.opt.batch_size},
                            {"global_batch", c.opt.batch_size * dist->world_size()}};
  }

  // Fine-tuning an imported network keeps the normalisation it was trained with.
  const data::Normalization norm = exporter::input_normalization(model->spec());
  data::BatchPipeline train_pipe(train_split, device, norm), test_pipe(test_split, device, norm);
  train::TrainOptions opt = c.opt;
  opt.progress = !c.quiet;
  opt.freeze_bn = c.dist.freeze_bn;
  opt.sync_bn = c.dist.sync_bn;
  train::Trainer trainer(model, train_pipe, &test_pipe, opt, device);
  trainer.set_distributed(dist.get());
  // Rank 0's file decides whether this is a resume; every rank then needs it.
  bool resume = c.resume && std::filesystem::exists(c.out);
  if (dist) {
    auto flag = torch::tensor({resume ? 1.0 : 0.0}, torch::kFloat64);
    dist->broadcast({flag});
    resume = flag.item<double>() != 0;
    if (resume && !std::filesystem::exists(c.out))
      throw Error("rank " + std::to_string(dist->rank()) + ": rank 0 resumes " + c.out +
                  ", which this machine does not have: put --out on a shared folder or copy it here first");
  }
  if (resume) {
    trainer.resume(c.out);
    if (lead)
      std::fprintf(stderr, "resuming %s at epoch %lld, batch %lld (step %lld)\n", c.out.c_str(),
                   (long long)trainer.state().epoch, (long long)trainer.state().batch, (long long)trainer.state().step);
  } else if (!c.resume && std::filesystem::exists(c.out) && lead) {
    std::fprintf(stderr, "note: %s exists and will be replaced after the first epoch (use --resume to continue it)\n",
                 c.out.c_str());
  }
  trainer.sync_from_rank0();
  if (!c.json && lead) {
    std::printf("%s %s: %s params, %s MACs, %lld train / %lld test images, %s, %d thread(s), BLAS %s\n",
                finetune ? "fine-tuning" : "training", model->spec().name().c_str(),
                human_count(double(model->num_params())).c_str(), human_count(double(model->macs())).c_str(),
                (long long)train_split.size(), (long long)test_split.size(), device.str().c_str(), c.threads,
                train::blas_library().c_str());
    if (dist)
      std::printf("data-parallel: %d processes (%s), %lld images per process per step, global batch %lld%s\n",
                  dist->world_size(), dist->backend().c_str(), (long long)c.opt.batch_size,
                  (long long)(c.opt.batch_size * dist->world_size()),
                  opt.sync_bn ? ", SyncBatchNorm" : opt.freeze_bn ? ", BN frozen" : ", BN statistics per process");
    std::fflush(stdout);
  }
  auto summary = trainer.run(c.out, [&](const nlohmann::json& r) {
    if (c.json)
      std::printf("%s\n", r.dump().c_str()), std::fflush(stdout);
    else
      print_epoch_human(r, opt.epochs);
  }, extra);
  summary["summary"] = true;
  if (dist) summary["processes"] = dist->world_size();
  if (!lead) return;
  if (c.json) {
    std::printf("%s\n", summary.dump().c_str());
  } else {
    std::printf("done: best test accuracy %.2f%%, final %.2f%%, checkpoint %s\n",
                100 * summary["best_acc"].get<double>(), 100 * summary["final_acc"].get<double>(), c.out.c_str());
  }
}

void add_common(CLI::App* sub, TrainCli& c) {
  add_data_option(sub, &c.data);
  sub->add_option("--out", c.out, "Checkpoint to write (atomically, after every epoch)")->required();
  sub->add_option("--epochs", c.opt.epochs, "Epochs")->capture_default_str();
  sub->add_option("--batch-size", c.opt.batch_size, "Batch size")->capture_default_str();
  sub->add_option("--lr", c.opt.lr, "Initial learning rate")->capture_default_str();
  sub->add_option("--momentum", c.opt.momentum, "SGD momentum")->capture_default_str();
  sub->add_flag("--nesterov", c.opt.nesterov, "Nesterov momentum");
  sub->add_option("--weight-decay", c.opt.weight_decay, "Weight decay")->capture_default_str();
  sub->add_option("--schedule", c.opt.schedule, "step (x0.1 at 50% and 75%) or cosine")->capture_default_str();
  sub->add_option("--seed", c.opt.seed, "Random seed")->capture_default_str();
  sub->add_option("--train-subset", c.train_subset, "Use the first N training records");
  sub->add_option("--test-subset", c.test_subset, "Use the first N test records");
  sub->add_option("--max-steps", c.opt.max_steps, "Stop after N optimizer steps in total (checkpoint kept)");
  sub->add_flag("--resume", c.resume, "Continue the run saved in --out");
  sub->add_option("--device", c.device, "auto, cpu or cuda[:N]")->capture_default_str();
  c.threads_opt = add_threads_option(sub, &c.threads);
  add_dist_options(sub, &c.dist);
  sub->add_flag("--json", c.json, "One JSON line per epoch and a summary line on stdout");
  sub->add_flag("--quiet", c.quiet, "No progress bar");
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto c = std::make_shared<TrainCli>();
  auto* sub = app.add_subcommand("train", "Train a CIFAR network with the L1 sparsity penalty on BN scales");
  sub->add_option("--arch", c->arch, "vgg, preresnet or densenet")->capture_default_str();
  sub->add_option("--depth", c->depth, "Depth (vgg: 11/13/16/19; preresnet: 9n+2; densenet: 3n+4)")
      ->capture_default_str();
  sub->add_option("--width", c->width, "Width multiplier")->capture_default_str();
  sub->add_option("--sparsity", c->opt.sparsity, "s: adds s*sign(gamma) to BN scale gradients (paper: 1e-4 vgg, 1e-5 others)")
      ->capture_default_str();
  sub->add_option("--sparsity-warmup", c->opt.sparsity_warmup,
                  "Ramp s linearly over the first W epochs: epoch e uses s*(e+1)/(W+1) (0: constant s)")
      ->capture_default_str();
  sub->add_option("--gamma-init", c->gamma_init, "Initial BN scale (Network Slimming: 0.5)")->capture_default_str();
  sub->add_option("--init", c->init, "Start from this checkpoint's weights (fresh optimizer)");
  add_common(sub, *c);
  sub->callback([c] { run_train(*c, false); });

  auto f = std::make_shared<TrainCli>();
  auto* ft = app.add_subcommand("finetune", "Fine-tune a (pruned) checkpoint: the trainer without the sparsity term");
  ft->add_option("--model", f->init, "Checkpoint to fine-tune")->required();
  add_common(ft, *f);
  ft->callback([f] { run_train(*f, true); });
}

}  // namespace msprune::cli
