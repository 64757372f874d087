// Trainer: learning, the sparsity term, exact resume, determinism, the LR
// schedule, and checkpoints that refuse bad files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "train/checkpoint.h"
#include "train/trainer.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace msprune;
using namespace msprune::train;

namespace {

data::CifarSplit synthetic(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  data::CifarSplit s;
  s.labels = torch::randint(0, 10, {n}, torch::kInt64);
  // Class-dependent brightness so that there is something to learn.
  auto base = (s.labels.to(torch::kFloat32) * 20 + 30).view({n, 1, 1, 1});
  s.images = (base + torch::randn({n, 3, 32, 32}) * 30).clamp(0, 255).to(torch::kUInt8);
  s.num_classes = 10;
  return s;
}

models::Net tiny(uint64_t seed, models::Arch a = models::Arch::kVgg, int depth = 11) {
  torch::manual_seed(seed);
  return models::build_model(models::default_spec(a, depth, 0.125));
}

TrainOptions opts(int epochs, int64_t max_steps = -1) {
  TrainOptions o;
  o.epochs = epochs;
  o.batch_size = 16;
  o.lr = 0.05;
  o.sparsity = 1e-4;
  o.seed = 3;
  o.max_steps = max_steps;
  o.progress = false;
  return o;
}

bool same_weights(const models::Net& a, const models::Net& b) {
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (auto& p : pa)
    if (!torch::equal(p.value(), pb[p.key()])) return false;
  auto ba = a->named_buffers(), bb = b->named_buffers();
  for (auto& p : ba)
    if (!torch::equal(p.value(), bb[p.key()])) return false;
  return true;
}

fs::path tmp(const std::string& name) {
  fs::path d = fs::temp_directory_path() / "msprune_train_test";
  fs::create_directories(d);
  return d / name;
}

class TrainTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
};

}  // namespace

TEST_F(TrainTest, StepsLowerTheLossOnAFixedBatch) {
  auto split = synthetic(32, 1);
  data::BatchPipeline pipe(split, torch::kCPU);
  auto net = tiny(1);
  Trainer t(net, pipe, nullptr, opts(1), torch::kCPU);
  auto [x, y] = pipe.eval_batch(0, 32);
  double first = t.step(x, y), last = first;
  for (int i = 0; i < 30; ++i) last = t.step(x, y);
  EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
}

TEST_F(TrainTest, SparsityTermShrinksGammaAgainstNoPenalty) {
  auto split = synthetic(64, 2);
  data::BatchPipeline pipe(split, torch::kCPU);
  auto run = [&](double s) {
    auto net = tiny(5);
    auto o = opts(1);
    o.sparsity = s;
    o.weight_decay = 0;
    Trainer t(net, pipe, nullptr, o, torch::kCPU);
    t.run("");
    return mean_abs_gamma(net);
  };
  double without = run(0.0), with = run(1e-2);
  // 4 steps at lr 0.05 with s = 1e-2 move every gamma by up to 2e-3 towards zero.
  EXPECT_LT(with, without - 1e-3) << "with " << with << " without " << without;
}

TEST_F(TrainTest, AddSparsityGradientIsSTimesSignGamma) {
  auto net = tiny(1);
  auto bn = net->batchnorms()[0].bn;
  {
    torch::NoGradGuard g;
    bn->weight.copy_(torch::linspace(-1, 1, bn->weight.size(0)));
  }
  bn->weight.mutable_grad() = torch::zeros_like(bn->weight);
  add_sparsity_gradient(net, 0.25);
  EXPECT_TRUE(torch::equal(bn->weight.grad(), torch::sign(bn->weight) * 0.25));
}

TEST_F(TrainTest, ResumeGivesTheWeightsOfAnUninterruptedRun) {
  auto split = synthetic(72, 3);  // 5 batches of 16 per epoch, the last one of 8
  data::BatchPipeline pipe(split, torch::kCPU), test(synthetic(20, 4), torch::kCPU);
  const int64_t k = 7;  // stops in the middle of epoch 2
  auto ck = tmp("resume.ckpt");
  fs::remove(ck);

  auto a = tiny(11);
  Trainer ta(a, pipe, &test, opts(4, k), torch::kCPU);
  auto s1 = ta.run(ck);
  EXPECT_TRUE(s1["stopped_at_max_steps"].get<bool>());
  EXPECT_EQ(ta.state().step, k);

  auto b = tiny(99);  // different init: everything must come from the checkpoint
  Trainer tb(b, pipe, &test, opts(4, 2 * k), torch::kCPU);
  tb.resume(ck);
  EXPECT_EQ(tb.state().epoch, 1);
  EXPECT_EQ(tb.state().batch, 2);
  tb.run(ck);
  EXPECT_EQ(tb.state().step, 2 * k);

  auto c = tiny(11);
  Trainer tc(c, pipe, &test, opts(4, 2 * k), torch::kCPU);
  tc.run("");
  EXPECT_TRUE(same_weights(b, c));
  EXPECT_FALSE(same_weights(a, c));

  // Resuming with a different seed is refused with the reason.
  auto d = tiny(11);
  auto o = opts(4, 2 * k);
  o.seed = 4;
  Trainer td(d, pipe, &test, o, torch::kCPU);
  try {
    td.resume(ck);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--seed was 3, now 4"), std::string::npos) << e.what();
  }
}

TEST_F(TrainTest, SameSeedSameWeights) {
  auto split = synthetic(48, 5);
  data::BatchPipeline pipe(split, torch::kCPU);
  auto a = tiny(2, models::Arch::kDenseNet, 10), b = tiny(2, models::Arch::kDenseNet, 10);
  Trainer(a, pipe, nullptr, opts(1), torch::kCPU).run("");
  Trainer(b, pipe, nullptr, opts(1), torch::kCPU).run("");
  EXPECT_TRUE(same_weights(a, b));
}

TEST_F(TrainTest, EpochRecordsAndCheckpointRoundTrip) {
  auto split = synthetic(40, 6);
  data::BatchPipeline pipe(split, torch::kCPU), test(synthetic(30, 7), torch::kCPU);
  auto net = tiny(3, models::Arch::kPreResNet, 11);
  auto ck = tmp("roundtrip.ckpt");
  std::vector<nlohmann::json> recs;
  Trainer t(net, pipe, &test, opts(2), torch::kCPU);
  auto sum = t.run(ck, [&](const nlohmann::json& r) { recs.push_back(r); }, {{"note", "hello"}});
  ASSERT_EQ(recs.size(), 2u);
  for (const char* k : {"epoch", "train_loss", "test_acc", "lr", "seconds", "mean_abs_gamma", "images_per_s",
                        "model_fraction"})
    EXPECT_TRUE(recs[1].contains(k)) << k;
  EXPECT_EQ(recs[1]["lr"].get<double>(), 0.05 * 0.1);  // epoch 2 of 2 is past 50%
  auto loaded = load_checkpoint(ck);
  EXPECT_TRUE(same_weights(loaded.model, net));
  EXPECT_EQ(loaded.meta["note"], "hello");
  EXPECT_EQ(loaded.meta["state"]["epoch"], 2);
  EXPECT_DOUBLE_EQ(loaded.meta["metrics"]["best_acc"].get<double>(), sum["best_acc"].get<double>());
  EXPECT_EQ(loaded.model->spec().to_json(), net->spec().to_json());
  double acc = evaluate(loaded.model, test);
  EXPECT_DOUBLE_EQ(acc, recs[1]["test_acc"].get<double>());
}

TEST_F(TrainTest, LearningRateSchedules) {
  TrainOptions o;
  o.epochs = 160;
  o.lr = 0.1;
  EXPECT_DOUBLE_EQ(lr_at(o, 0), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(o, 79), 0.1);
  EXPECT_NEAR(lr_at(o, 80), 0.01, 1e-12);
  EXPECT_NEAR(lr_at(o, 119), 0.01, 1e-12);
  EXPECT_NEAR(lr_at(o, 120), 0.001, 1e-12);
  o.epochs = 1;
  EXPECT_DOUBLE_EQ(lr_at(o, 0), 0.1);
  o.schedule = "cosine";
  o.epochs = 10;
  EXPECT_DOUBLE_EQ(lr_at(o, 0), 0.1);
  EXPECT_NEAR(lr_at(o, 5), 0.05, 1e-12);
  o.schedule = "linear";
  EXPECT_THROW(o.validate(), Error);
}

TEST_F(TrainTest, SparsityWarmupRampsThenHolds) {
  TrainOptions o;
  o.sparsity = 1e-3;
  EXPECT_DOUBLE_EQ(sparsity_at(o, 0), 1e-3);  // no warm-up: constant
  o.sparsity_warmup = 4;                      // epochs 0..3 ramp: s/5, 2s/5, 3s/5, 4s/5
  EXPECT_NEAR(sparsity_at(o, 0), 2e-4, 1e-15);
  EXPECT_NEAR(sparsity_at(o, 3), 8e-4, 1e-15);
  EXPECT_DOUBLE_EQ(sparsity_at(o, 4), 1e-3);
  EXPECT_DOUBLE_EQ(sparsity_at(o, 100), 1e-3);
  // Saved with the options, read back; checkpoints from before the option read as 0.
  EXPECT_EQ(TrainOptions::from_json(o.to_json()).sparsity_warmup, 4);
  auto j = o.to_json();
  j.erase("sparsity_warmup");
  EXPECT_EQ(TrainOptions::from_json(j).sparsity_warmup, 0);
  o.sparsity_warmup = -1;
  EXPECT_THROW(o.validate(), Error);
}

TEST_F(TrainTest, SparsityWarmupIsWhatTheTrainerApplies) {
  // One epoch of a 2-epoch warm-up (s/3) moves gamma exactly as a constant s/3.
  auto data = synthetic(64, 5);
  data::BatchPipeline pipe(data, torch::kCPU);
  auto a = tiny(9), b = tiny(9);
  auto oa = opts(1), ob = opts(1);
  oa.sparsity = 3e-3;
  oa.sparsity_warmup = 2;
  ob.sparsity = 1e-3;
  Trainer ta(a, pipe, nullptr, oa, torch::kCPU), tb(b, pipe, nullptr, ob, torch::kCPU);
  ta.run("");
  tb.run("");
  auto ga = a->batchnorms()[0].bn->weight, gb = b->batchnorms()[0].bn->weight;
  EXPECT_TRUE(torch::allclose(ga, gb, 1e-6, 1e-7)) << (ga - gb).abs().max().item<float>();
  // ... and differs from the full strength.
  auto c = tiny(9);
  auto oc = opts(1);
  oc.sparsity = 3e-3;
  Trainer tc(c, pipe, nullptr, oc, torch::kCPU);
  tc.run("");
  EXPECT_FALSE(torch::allclose(ga, c->batchnorms()[0].bn->weight, 1e-6, 1e-7));
}

TEST_F(TrainTest, BadCheckpointsAreRefusedWithReasons) {
  auto what = [](const fs::path& p) {
    try {
      load_checkpoint(p);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(what(tmp("nope.ckpt")).find("checkpoint not found"), std::string::npos);
  std::ofstream(tmp("garbage.ckpt")) << "this is not a zip archive";
  EXPECT_NE(what(tmp("garbage.ckpt")).find("not a readable msprune checkpoint"), std::string::npos);

  auto net = tiny(1);
  auto good = tmp("good.ckpt");
  save_checkpoint(good, net, nullptr, {});
  // Truncations at several points: always an error, never a crash.
  auto size = fs::file_size(good);
  for (double f : {0.1, 0.5, 0.9, 0.999}) {
    fs::copy_file(good, tmp("trunc.ckpt"), fs::copy_options::overwrite_existing);
    fs::resize_file(tmp("trunc.ckpt"), uintmax_t(double(size) * f));
    EXPECT_NE(what(tmp("trunc.ckpt")), "no error") << f;
  }
  // Metadata that does not describe the weights.
  {
    torch::serialize::OutputArchive root, m;
    auto spec = net->spec().to_json();
    spec["cfg"][0] = 3;
    nlohmann::json meta = {{"format", "msprune-checkpoint"}, {"version", 1}, {"spec", spec}};
    root.write("meta", c10::IValue(meta.dump()));
    net->save(m);
    root.write("model", m);
    root.save_to(tmp("mismatch.ckpt").string());
  }
  EXPECT_NE(what(tmp("mismatch.ckpt")).find("weights do not match"), std::string::npos) << what(tmp("mismatch.ckpt"));
  // NaN weights.
  {
    torch::NoGradGuard g;
    net->batchnorms()[0].bn->weight[0] = std::nan("");
  }
  save_checkpoint(tmp("nan.ckpt"), net, nullptr, {});
  EXPECT_NE(what(tmp("nan.ckpt")).find("NaN or infinity"), std::string::npos);
}
