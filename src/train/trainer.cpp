#include "train/trainer.h"

#include <chrono>
#include <cmath>

#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/sync_bn.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/table.h"

namespace msprune::train {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

json TrainOptions::to_json() const {
  json j = {{"epochs", epochs},     {"batch_size", batch_size},   {"lr", lr},
          {"momentum", momentum}, {"nesterov", nesterov},       {"weight_decay", weight_decay},
          {"sparsity", sparsity}, {"schedule", schedule},       {"seed", seed},
          {"max_steps", max_steps}, {"eval_batch", eval_batch}, {"sparsity_warmup", sparsity_warmup}};
  // Written only when on, so checkpoints of runs without it stay as they were.
  if (freeze_bn) j["freeze_bn"] = true;
  if (sync_bn) j["sync_bn"] = true;
  return j;
}

TrainOptions TrainOptions::from_json(const json& j) {
  TrainOptions o;
  try {
    o.epochs = j.at("epochs");
    o.batch_size = j.at("batch_size");
    o.lr = j.at("lr");
    o.momentum = j.at("momentum");
    o.nesterov = j.at("nesterov");
    o.weight_decay = j.at("weight_decay");
    o.sparsity = j.at("sparsity");
    o.schedule = j.at("schedule");
    o.seed = j.at("seed");
    o.max_steps = j.value("max_steps", int64_t(-1));
    o.eval_batch = j.value("eval_batch", int64_t(256));
    o.sparsity_warmup = j.value("sparsity_warmup", 0);  // absent in checkpoints before the option
    o.freeze_bn = j.value("freeze_bn", false);
    o.sync_bn = j.value("sync_bn", false);
  } catch (const json::exception& e) {
    throw Error(std::string("malformed training options: ") + e.what());
  }
  o.validate();
  return o;
}

void TrainOptions::validate() const {
  if (epochs < 1 || epochs > 100000) throw Error("--epochs must be in 1..100000, got " + std::to_string(epochs));
  if (batch_size < 1 || batch_size > 65536) throw Error("--batch-size must be in 1..65536");
  if (!(lr > 0 && lr < 100)) throw Error("--lr must be in (0, 100)");
  if (!(momentum >= 0 && momentum < 1)) throw Error("--momentum must be in [0, 1)");
  if (nesterov && momentum == 0) throw Error("--nesterov needs a momentum > 0");
  if (!(weight_decay >= 0 && weight_decay < 1)) throw Error("--weight-decay must be in [0, 1)");
  if (!(sparsity >= 0 && sparsity < 1)) throw Error("--sparsity must be in [0, 1)");
  if (sparsity_warmup < 0 || sparsity_warmup > 100000)
    throw Error("--sparsity-warmup must be in 0..100000 epochs, got " + std::to_string(sparsity_warmup));
  if (schedule != "step" && schedule != "cosine") throw Error("--schedule must be step or cosine");
  if (eval_batch < 1) throw Error("eval batch must be positive");
  if (sync_bn && freeze_bn)
    throw Error("--sync-bn and --freeze-bn exclude each other: --freeze-bn keeps BN in eval mode on its running "
                "statistics, so there are no batch statistics to synchronise");
}

json TrainState::to_json() const {
  return {{"epoch", epoch}, {"batch", batch}, {"step", step}, {"best_acc", best_acc}, {"history", history}};
}

TrainState TrainState::from_json(const json& j) {
  TrainState s;
  try {
    s.epoch = j.at("epoch");
    s.batch = j.at("batch");
    s.step = j.at("step");
    s.best_acc = j.at("best_acc");
    s.history = j.value("history", json::array());
  } catch (const json::exception& e) {
    throw Error(std::string("malformed training state: ") + e.what());
  }
  if (s.epoch < 0 || s.batch < 0 || s.step < 0) throw Error("malformed training state: negative counters");
  return s;
}

double evaluate(const models::Net& model, data::BatchPipeline& test, int64_t batch) {
  torch::NoGradGuard ng;
  bool was_training = model->is_training();
  model->eval();
  int64_t correct = 0, n = test.size();
  for (int64_t s = 0; s < n; s += batch) {
    auto [x, y] = test.eval_batch(s, std::min(batch, n - s));
    correct += model->forward(x).argmax(1).eq(y).sum().item<int64_t>();
  }
  model->train(was_training);
  return n ? double(correct) / double(n) : 0.0;
}

double mean_abs_gamma(const models::Net& model) {
  torch::NoGradGuard ng;
  double sum = 0;
  int64_t n = 0;
  for (auto& b : model->batchnorms()) {
    sum += b.bn->weight.abs().sum().item<double>();
    n += b.bn->weight.numel();
  }
  return n ? sum / double(n) : 0.0;
}

double lr_at(const TrainOptions& o, int64_t epoch) {
  if (o.schedule == "cosine") return o.lr * 0.5 * (1.0 + std::cos(M_PI * double(epoch) / double(o.epochs)));
  double lr = o.lr;
  // Network Slimming: x0.1 when epoch reaches 50% and 75% of the epochs.
  if (double(epoch) >= 0.5 * o.epochs) lr *= 0.1;
  if (double(epoch) >= 0.75 * o.epochs) lr *= 0.1;
  return lr;
}

double sparsity_at(const TrainOptions& o, int64_t epoch) {
  if (o.sparsity_warmup <= 0 || epoch >= o.sparsity_warmup) return o.sparsity;
  return o.sparsity * double(epoch + 1) / double(o.sparsity_warmup + 1);
}

void add_sparsity_gradient(const models::Net& model, double s) {
  if (s == 0) return;
  torch::NoGradGuard ng;
  for (auto& b : model->batchnorms()) {
    auto& w = b.bn->weight;
    if (w.grad().defined()) w.mutable_grad().add_(torch::sign(w), s);
  }
}

Trainer::Trainer(models::Net model, data::BatchPipeline& train, data::BatchPipeline* test, TrainOptions opt,
                 torch::Device device)
    : model_(std::move(model)), train_(train), test_(test), opt_(std::move(opt)), device_(device) {
  opt_.validate();
  model_->to(device_);
  opt_sgd_ = std::make_unique<torch::optim::SGD>(model_->parameters(), torch::optim::SGDOptions(lr_at(opt_, 0))
                                                                           .momentum(opt_.momentum)
                                                                           .nesterov(opt_.nesterov)
                                                                           .weight_decay(opt_.weight_decay));
}

void Trainer::resume(const std::filesystem::path& ckpt) {
  Checkpoint c = load_checkpoint(ckpt);
  if (c.model->spec().to_json() != model_->spec().to_json())
    throw Error(ckpt.string() + ": checkpoint holds " + c.model->spec().name() + ", but this run trains " +
                model_->spec().name());
  if (!c.meta.contains("state") || !c.meta.contains("train"))
    throw Error(ckpt.string() + ": checkpoint has no training state to resume from");
  TrainOptions saved = TrainOptions::from_json(c.meta["train"]);
  // The global batch decides which records make step k (train_batch_shard),
  // so a data-parallel run may resume with another process count as long as
  // batch_size x processes is unchanged.
  int64_t saved_world = 1;
  if (c.meta.contains("distributed") && c.meta["distributed"].is_object())
    saved_world = c.meta["distributed"].value("world_size", int64_t(1));
  const int64_t world = dist_ ? dist_->world_size() : 1;
  if (saved.batch_size * saved_world != opt_.batch_size * world)
    throw Error(ckpt.string() + ": cannot resume: the global batch was " + std::to_string(saved.batch_size * saved_world) +
                " (--batch-size " + std::to_string(saved.batch_size) + " x " + std::to_string(saved_world) +
                " process(es)), now " + std::to_string(opt_.batch_size * world) + " (--batch-size " +
                std::to_string(opt_.batch_size) + " x " + std::to_string(world) + ")");
  for (const char* k : {"lr", "momentum", "nesterov", "weight_decay", "sparsity", "sparsity_warmup", "schedule",
                        "seed", "freeze_bn", "sync_bn"}) {
    if (saved.to_json()[k] != opt_.to_json()[k])
      throw Error(ckpt.string() + ": cannot resume: --" + std::string(k) + " was " + saved.to_json()[k].dump() +
                  ", now " + opt_.to_json()[k].dump() + " (use the original options)");
  }
  {
    torch::NoGradGuard ng;
    auto src = c.model->named_parameters();
    auto dst = model_->named_parameters();
    for (auto& p : dst) p.value().copy_(src[p.key()]);
    auto sb = c.model->named_buffers();
    for (auto& b : model_->named_buffers()) b.value().copy_(sb[b.key()]);
  }
  if (!load_optimizer_state(ckpt, *opt_sgd_)) throw Error(ckpt.string() + ": checkpoint has no optimizer state");
  state_ = TrainState::from_json(c.meta["state"]);
}

double Trainer::step(const torch::Tensor& x, const torch::Tensor& y) {
  opt_sgd_->zero_grad();
  auto loss = torch::nn::functional::cross_entropy(model_->forward(x), y);
  loss.backward();
  add_sparsity_gradient(model_, sparsity_at(opt_, state_.epoch));
  opt_sgd_->step();
  return loss.item<double>();
}

void Trainer::set_distributed(Distributed* dist) { dist_ = dist && dist->world_size() > 1 ? dist : nullptr; }

bool Trainer::lead() const { return !dist_ || dist_->rank() == 0; }

void Trainer::train_mode() {
  model_->train();
  if (opt_.freeze_bn)
    for (auto& b : model_->batchnorms()) b.bn->eval();
}

void Trainer::sync_from_rank0() {
  if (!dist_) return;
  torch::NoGradGuard ng;
  // The run state first: ranks that disagree (one resumed, one did not)
  // must stop before any weight moves.
  auto st = torch::tensor({state_.epoch, state_.batch, state_.step}, torch::kInt64);
  auto mine = st.clone();
  dist_->broadcast({st});
  if (!torch::equal(st, mine))
    throw Error("rank " + std::to_string(dist_->rank()) + " is at epoch " + std::to_string(state_.epoch) + ", batch " +
                std::to_string(state_.batch) + ", but rank 0 at epoch " + std::to_string(st[0].item<int64_t>()) +
                ", batch " + std::to_string(st[1].item<int64_t>()) +
                ": every rank must start from the same checkpoint (a shared folder, or copy it to each machine)");
  std::vector<torch::Tensor> ts;
  for (auto& p : model_->parameters()) ts.push_back(p);
  for (auto& b : model_->buffers()) ts.push_back(b);
  // Momentum buffers exist once a step was taken (or were resumed); every
  // rank is at the same step, so every rank has the same set.
  for (auto& p : model_->parameters()) {
    auto it = opt_sgd_->state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
    if (it != opt_sgd_->state().end()) {
      auto& ps = static_cast<torch::optim::SGDParamState&>(*it->second);
      if (ps.momentum_buffer().defined()) ts.push_back(ps.momentum_buffer());
    }
  }
  dist_->broadcast(ts);
}

double Trainer::evaluate_test() {
  if (!test_) return -1.0;
  if (!dist_) return evaluate(model_, *test_, opt_.eval_batch);
  // Each rank scores a contiguous slice of the test set with rank 0's BN
  // statistics; the counts are summed: the accuracy rank 0's checkpoint has.
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> bufs;
  for (auto& b : model_->buffers()) bufs.push_back(b);
  dist_->broadcast(bufs);
  const int64_t n = test_->size(), W = dist_->world_size(), r = dist_->rank();
  const int64_t lo = n * r / W, hi = n * (r + 1) / W;
  bool was_training = model_->is_training();
  model_->eval();
  int64_t correct = 0;
  for (int64_t s = lo; s < hi; s += opt_.eval_batch) {
    auto [x, y] = test_->eval_batch(s, std::min(opt_.eval_batch, hi - s));
    correct += model_->forward(x).argmax(1).eq(y).sum().item<int64_t>();
  }
  model_->train(was_training);
  auto c = torch::tensor({double(correct)}, torch::kFloat64);
  dist_->allreduce_sum({c});
  return n ? c.item<double>() / double(n) : 0.0;
}

void Trainer::save(const std::filesystem::path& out, const json& extra_meta, double last_acc) {
  if (out.empty() || !lead()) return;
  json meta = extra_meta.is_object() ? extra_meta : json::object();
  meta["train"] = opt_.to_json();
  meta["state"] = state_.to_json();
  meta["metrics"] = {{"test_acc", last_acc},
                     {"best_acc", state_.best_acc},
                     {"params", model_->num_params()},
                     {"macs", model_->macs()}};
  save_checkpoint(out, model_, opt_sgd_.get(), meta);
}

json Trainer::run(const std::filesystem::path& out, const std::function<void(const json&)>& on_epoch,
                  const json& extra_meta) {
  const int W = dist_ ? dist_->world_size() : 1;
  const int64_t global_batch = opt_.batch_size * W;
  const int64_t nb =
      dist_ ? train_.sharded_batches_per_epoch(global_batch, W) : train_.batches_per_epoch(opt_.batch_size);
  double last_acc = state_.history.empty() ? -1.0 : state_.history.back().value("test_acc", -1.0);
  bool stopped = false;
  std::vector<torch::Tensor> params = model_->parameters(), buffers = model_->buffers();
  train_mode();
  while (state_.epoch < opt_.epochs && !stopped) {
    const int64_t e = state_.epoch;
    const double lr = lr_at(opt_, e);
    const double s = sparsity_at(opt_, e);
    for (auto& g : opt_sgd_->param_groups()) static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
    train_mode();
    Progress bar(strf("epoch %lld/%d", (long long)e + 1, opt_.epochs), uint64_t(nb - state_.batch), "batch",
                 opt_.progress && lead());
    double loss_sum = 0, data_s = 0, model_s = 0;
    int64_t seen = 0, correct = 0, batches = 0;
    auto t_epoch = Clock::now();
    for (int64_t b = state_.batch; b < nb; ++b) {
      if (opt_.max_steps >= 0 && state_.step >= opt_.max_steps) {
        stopped = true;
        break;
      }
      auto t0 = Clock::now();
      auto [x, y] = dist_ ? train_.train_batch_shard(opt_.seed, e, b, global_batch, dist_->rank(), W)
                          : train_.train_batch(opt_.seed, e, b, opt_.batch_size);
      auto t1 = Clock::now();
      // DDP's broadcast_buffers: every rank normalises with, and updates,
      // rank 0's running statistics (each from its own batch, as DDP).
      if (dist_ && !buffers.empty()) dist_->broadcast(buffers);
      opt_sgd_->zero_grad();
      torch::Tensor logits;
      {
        // SyncBatchNorm for this forward; its backward all-reduces inside
        // loss.backward() below, on every rank in the same order.
        std::optional<SyncBatchNormScope> sync;
        if (dist_ && opt_.sync_bn) sync.emplace(*dist_);
        logits = model_->forward(x);
      }
      auto loss = torch::nn::functional::cross_entropy(logits, y);
      loss.backward();
      // Averaged first, then the L1 term, as PyTorch's Network Slimming code
      // does after DDP's backward: the gradient is mean_ranks(dL_r/dgamma) +
      // s*sign(gamma), the penalty counted once. (Adding it on every rank
      // before averaging would also count it once, since gamma and so its sign
      // are the same on every rank; this order also rounds as one process.)
      if (dist_) dist_->average_gradients(params);
      add_sparsity_gradient(model_, s);
      opt_sgd_->step();
      double l = loss.item<double>();
      auto t2 = Clock::now();
      data_s += std::chrono::duration<double>(t1 - t0).count();
      model_s += std::chrono::duration<double>(t2 - t1).count();
      {
        torch::NoGradGuard ng;
        correct += logits.argmax(1).eq(y).sum().item<int64_t>();
      }
      loss_sum += l * double(x.size(0));
      seen += x.size(0);
      ++batches;
      ++state_.step;
      state_.batch = b + 1;
      // Rank 0's own loss; images/s of the whole job (every rank's shard is
      // the same size).
      bar.tick(1, strf("loss %.3f  %.0f img/s", loss_sum / double(seen), double(seen) * W / bar.elapsed_s()));
    }
    bar.finish();
    if (stopped && state_.batch < nb) {
      save(out, extra_meta, last_acc);
      break;
    }
    if (dist_) {  // the epoch's figures over the whole global batch
      auto t = torch::tensor({loss_sum, double(correct), double(seen), data_s, model_s}, torch::kFloat64);
      dist_->allreduce_sum({t});
      loss_sum = t[0].item<double>();
      correct = int64_t(t[1].item<double>());
      seen = int64_t(t[2].item<double>());
      data_s = t[3].item<double>();
      model_s = t[4].item<double>();
    }
    double secs = std::chrono::duration<double>(Clock::now() - t_epoch).count();
    double acc = evaluate_test();
    last_acc = acc;
    state_.best_acc = std::max(state_.best_acc, acc);
    json rec = {{"epoch", e + 1},
                {"train_loss", seen ? loss_sum / double(seen) : 0.0},
                {"train_acc", seen ? double(correct) / double(seen) : 0.0},
                {"test_acc", acc},
                {"lr", lr},
                {"sparsity", s},
                {"seconds", secs},
                {"images_per_s", secs > 0 ? double(seen) / secs : 0.0},
                {"model_fraction", (data_s + model_s) > 0 ? model_s / (data_s + model_s) : 1.0},
                {"mean_abs_gamma", mean_abs_gamma(model_)}};
    if (dist_) rec["processes"] = W;
    state_.history.push_back(rec);
    state_.epoch = e + 1;
    state_.batch = 0;
    save(out, extra_meta, acc);
    if (on_epoch && lead()) on_epoch(rec);
  }
  return {{"epochs_done", state_.epoch},
          {"steps", state_.step},
          {"best_acc", state_.best_acc},
          {"final_acc", last_acc},
          {"params", model_->num_params()},
          {"macs", model_->macs()},
          {"checkpoint", out.string()},
          {"stopped_at_max_steps", stopped}};
}

}  // namespace msprune::train
