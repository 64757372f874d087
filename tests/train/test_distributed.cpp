// Data-parallel training (issue 13) on LibTorch's c10d with Gloo, 2 processes
// on this machine, through the real `msprune` binary on a tiny synthetic
// CIFAR folder: the sampler shards without overlap; 2 processes x batch b
// give the weights of 1 process x batch 2b; a 2-process checkpoint resumes
// (with 2 processes, and with 1 at the same global batch); a killed worker
// makes its peer exit with a clear error instead of hanging; bad rendezvous
// options are refused with the value named.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "run_msprune.h"
#include "tiny_cifar.h"
#include "data/augment.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/launch.h"
#include "train/sync_bn.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace msprune;
using Clock = std::chrono::steady_clock;

extern char** environ;

namespace {

using Result = msprune::testing::RunResult;
Result sh(const std::string& args) { return msprune::testing::run_msprune(args); }

data::CifarSplit synthetic(int64_t n) {
  torch::manual_seed(4);
  data::CifarSplit s;
  s.labels = torch::randint(0, 10, {n}, torch::kInt64);
  s.images = torch::randint(0, 256, {n, 3, 32, 32}, torch::kInt64).to(torch::kUInt8);
  s.num_classes = 10;
  return s;
}

// Largest |a - b| over every parameter and buffer, and the largest |a|.
std::pair<double, double> max_diff(const fs::path& a, const fs::path& b) {
  auto ca = train::load_checkpoint(a), cb = train::load_checkpoint(b);
  auto pb = cb.model->named_parameters();
  double d = 0, m = 0;
  for (auto& p : ca.model->named_parameters()) {
    d = std::max(d, (p.value() - pb[p.key()]).abs().max().item<double>());
    m = std::max(m, p.value().abs().max().item<double>());
  }
  auto bb = cb.model->named_buffers();
  for (auto& p : ca.model->named_buffers())
    d = std::max(d, (p.value().to(torch::kFloat64) - bb[p.key()].to(torch::kFloat64)).abs().max().item<double>());
  return {d, m};
}

class Distributed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    torch::set_num_threads(1);
    // One folder per process: CTest runs this suite's tests in parallel.
    dir_ = fs::temp_directory_path() / ("msprune_dist_test." + std::to_string(::getpid()));
    fs::remove_all(dir_);
    // CIFAR-10 in the official layout: 5 x 16 = 80 training and 16 test
    // records, with something to learn.
    msprune::testing::write_tiny_cifar(dir_ / "cifar", 16, true);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path p(const std::string& name) { return dir_ / name; }
  // A tiny VGG-11 x0.125, 80 records, one thread per process, no bar.
  static std::string common() {
    return " --arch vgg --depth 11 --width 0.125 --data " + (dir_ / "cifar").string() +
           " --threads 1 --quiet --json --seed 3 --lr 0.05 --test-subset 16 ";
  }
  static inline fs::path dir_;
};

}  // namespace

// --- the sampler ------------------------------------------------------------

TEST_F(Distributed, ShardsOfAGlobalBatchAreTheOneProcessBatchImageForImage) {
  auto split = synthetic(64);
  data::BatchPipeline pipe(split, torch::kCPU);
  const int W = 2;
  const int64_t G = 16;
  EXPECT_EQ(pipe.sharded_batches_per_epoch(G, W), 4);
  for (int64_t b = 0; b < 4; ++b) {
    auto [xg, yg] = pipe.train_batch(7, 1, b, G);
    for (int r = 0; r < W; ++r) {
      auto [x, y] = pipe.train_batch_shard(7, 1, b, G, r, W);
      ASSERT_EQ(x.size(0), G / W);
      for (int64_t i = 0; i < G / W; ++i) {
        EXPECT_TRUE(torch::equal(x[i], xg[i * W + r])) << "batch " << b << " rank " << r << " image " << i;
        EXPECT_EQ(y[i].item<int64_t>(), yg[i * W + r].item<int64_t>());
      }
    }
  }
  // World 1 is the plain batch.
  auto [x1, y1] = pipe.train_batch_shard(7, 1, 2, G, 0, 1);
  EXPECT_TRUE(torch::equal(x1, pipe.train_batch(7, 1, 2, G).first));
}

TEST_F(Distributed, ShardsCoverTheEpochWithoutOverlapPaddingAsDistributedSampler) {
  // 10 records, 4 ranks: padded to 12 by repeating the order's first two
  // (PyTorch's DistributedSampler, drop_last=False); every rank gets 3.
  auto split = synthetic(10);
  // Label each record by its index so that the shards can be traced.
  split.labels = torch::arange(10, torch::kInt64);
  data::BatchPipeline pipe(split, torch::kCPU);
  const int W = 4;
  const int64_t G = 8;  // per-process batch 2
  ASSERT_EQ(pipe.sharded_batches_per_epoch(G, W), 2);
  std::multiset<int64_t> seen;
  std::vector<int64_t> counts(W, 0);
  for (int r = 0; r < W; ++r)
    for (int64_t b = 0; b < 2; ++b) {
      auto y = pipe.train_batch_shard(3, 0, b, G, r, W).second;
      counts[size_t(r)] += y.size(0);
      for (int64_t i = 0; i < y.size(0); ++i) seen.insert(y[i].item<int64_t>());
    }
  for (int r = 0; r < W; ++r) EXPECT_EQ(counts[size_t(r)], 3) << "rank " << r;
  EXPECT_EQ(seen.size(), 12u);
  for (int64_t i = 0; i < 10; ++i) EXPECT_GE(seen.count(i), 1u) << "record " << i << " never seen";
  // Exactly two records twice: the padding.
  int twice = 0;
  for (int64_t i = 0; i < 10; ++i) twice += seen.count(i) == 2;
  EXPECT_EQ(twice, 2);
  // The first two of the epoch's one-process order are the repeated ones.
  auto order = pipe.train_batch(3, 0, 0, 10).second;
  EXPECT_EQ(seen.count(order[0].item<int64_t>()), 2u);
  EXPECT_EQ(seen.count(order[1].item<int64_t>()), 2u);
  EXPECT_THROW(pipe.train_batch_shard(3, 0, 0, 6, 0, 4), Error);  // not a multiple of the world
  EXPECT_THROW(pipe.train_batch_shard(3, 0, 0, 8, 4, 4), Error);  // rank out of range
}

// --- options ------------------------------------------------------------------

TEST_F(Distributed, BadRendezvousOptionsAreNamed) {
  const std::string base = "train" + common() + " --out " + p("bad.ckpt").string();
  struct Case {
    std::string args, want;
  } cases[] = {
      {" --rank 2 --world-size 2", "--rank must be in 0..1"},
      {" --rank=-1 --world-size 2", "--rank: '-1' is not a whole number in [0, 4095]"},
      {" --rank 0 --world-size 0", "--world-size: '0' is not a whole number in [1, 4096]"},
      {" --rank 0 --world-size two", "--world-size: 'two' is not a whole number"},
      {" --rank 0", "--rank needs --world-size too"},
      {" --rank 0 --world-size 2 --master-port 70000", "--master-port: '70000' is not a whole number in [1, 65535]"},
      {" --rank 0 --world-size 2 --master-port 0", "--master-port: '0'"},
      {" --rank 0 --world-size 2 --master-addr 'a b'", "--master-addr 'a b' is not a host name or address"},
      {" --rank 0 --world-size 2 --backend mpi", "--backend must be auto, gloo or nccl, got 'mpi'"},
      {" --rank 0 --world-size 2 --backend nccl --device cpu", "--backend nccl needs a CUDA device"},
      {" --nproc 0", "--nproc: '0' is not a whole number in [1, 256]"},
      {" --nproc 2 --rank 0 --world-size 2", "do not combine it with --rank/--world-size"},
      {" --rank 0 --world-size 2 --dist-timeout 0", "--dist-timeout: '0'"},
      {" --sync-bn --freeze-bn", "--sync-bn and --freeze-bn exclude each other"},
      {" --nproc 2 --sync-bn --freeze-bn", "--sync-bn and --freeze-bn exclude each other"},
  };
  for (const auto& c : cases) {
    auto r = sh(base + c.args);
    EXPECT_EQ(r.rc, 1) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.want), std::string::npos) << c.args << "\n" << r.out;
  }
  auto r = sh("pipeline --nproc 3 --out " + p("pipe3").string() + " --data " + (dir_ / "cifar").string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("--nproc must divide the recipe's batch of 64"), std::string::npos) << r.out;
  r = sh("train" + common() + " --out " + p("env.ckpt").string() + " --epochs 1 --max-steps 0");
  EXPECT_EQ(r.rc, 0) << r.out;  // no distributed option: the plain path
  setenv("RANK", "x", 1);
  setenv("WORLD_SIZE", "2", 1);
  r = sh("train" + common() + " --out " + p("env.ckpt").string());
  unsetenv("RANK");
  unsetenv("WORLD_SIZE");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("RANK: 'x' is not a whole number"), std::string::npos) << r.out;
}

// --- equivalence ---------------------------------------------------------------

// 2 processes x batch 8 against 1 process x batch 16, 5 steps (one epoch of
// 80 records), the same seed, BN frozen (eval-mode BN: a step then does not
// depend on how the global batch is split; with per-process BN statistics,
// DDP's default, the two runs legitimately differ). The sparsity term is
// large (1e-2) so that applying it twice (once per rank) would move every
// gamma by lr*s = 5e-4 per step, 200x the tolerance.
//
// Tolerance 1e-6 absolute on every weight (|w| <= ~1; measured here:
// 7.5e-9): the two runs compute the same real numbers and differ only in
// float32 rounding, because the one-process gradient sums 16 per-image terms
// in one reduction where the two-process one sums two partial sums of 8 and
// halves (relative error ~1e-7 per reduction, a few such roundings per step,
// carried through 5 steps of momentum SGD). A wrong shard, a missing average
// or a doubled penalty (5e-4 per step) is orders of magnitude larger.
TEST_F(Distributed, TwoProcessesGiveTheWeightsOfOneProcessWithTheDoubleBatch) {
  auto one = sh("train" + common() + " --epochs 1 --sparsity 1e-2 --freeze-bn --batch-size 16 --out " +
                p("one.ckpt").string());
  ASSERT_EQ(one.rc, 0) << one.out;
  auto t0 = Clock::now();
  auto two = sh("train" + common() + " --epochs 1 --sparsity 1e-2 --freeze-bn --batch-size 8 --nproc 2 --out " +
                p("two.ckpt").string());
  ASSERT_EQ(two.rc, 0) << two.out;
  std::fprintf(stderr, "2-process run: %.1f s\n", std::chrono::duration<double>(Clock::now() - t0).count());
  auto [d, m] = max_diff(p("one.ckpt"), p("two.ckpt"));
  std::fprintf(stderr, "max |w_1proc - w_2proc| = %.3g (max |w| %.3g)\n", d, m);
  EXPECT_LE(d, 1e-6);
  // Rank 0 alone printed: one epoch line and one summary.
  int lines = 0;
  std::istringstream in(two.out);
  for (std::string l; std::getline(in, l);) lines += !l.empty() && l[0] == '{';
  EXPECT_EQ(lines, 2) << two.out;
  auto ck = train::load_checkpoint(p("two.ckpt"));
  EXPECT_EQ(ck.meta["distributed"]["world_size"], 2);
  EXPECT_EQ(ck.meta["distributed"]["global_batch"], 16);
  EXPECT_EQ(ck.meta["state"]["step"], 5);
  // The steps really ran: the weights moved from the initial ones.
  auto init = sh("train" + common() + " --epochs 1 --max-steps 0 --freeze-bn --batch-size 16 --out " +
                 p("init.ckpt").string());
  ASSERT_EQ(init.rc, 0) << init.out;
  EXPECT_GT(max_diff(p("init.ckpt"), p("two.ckpt")).first, 1e-3);
}

TEST_F(Distributed, DefaultPerProcessBatchNormTrainsAndRank0sStatisticsAreSaved) {
  // DDP's default: BN in train mode on each process's own batch. The run
  // differs from the one-process run only through the BN statistics, so it
  // is close but not equal.
  auto two = sh("train" + common() + " --epochs 1 --batch-size 8 --nproc 2 --out " + p("bn2.ckpt").string());
  ASSERT_EQ(two.rc, 0) << two.out;
  auto one = sh("train" + common() + " --epochs 1 --batch-size 16 --out " + p("bn1.ckpt").string());
  ASSERT_EQ(one.rc, 0) << one.out;
  auto [d, m] = max_diff(p("bn1.ckpt"), p("bn2.ckpt"));
  std::fprintf(stderr, "BN in train mode: max |w_1proc - w_2proc| = %.3g\n", d);
  EXPECT_GT(d, 0.0);
  EXPECT_LT(d, 0.5);
}

// --- SyncBatchNorm ---------------------------------------------------------------

namespace {
// Runs fn(rank, group) on two threads of this process, each one rank of a
// Gloo group on the loopback; rethrows the first failure after both ended.
template <class F>
void on_two_ranks(F fn) {
  train::DistConfig cfg;
  cfg.world_size = 2;
  cfg.master_port = train::pick_free_port();
  cfg.timeout = std::chrono::seconds(30);  // a rank that failed early makes the other wait this long
  std::exception_ptr err[2];
  std::thread t[2];
  for (int r = 0; r < 2; ++r)
    t[r] = std::thread([&, r] {
      try {
        train::DistConfig c = cfg;
        c.rank = r;
        train::Distributed d(c, torch::kCPU);
        fn(r, d);
      } catch (...) {
        err[r] = std::current_exception();
      }
    });
  for (auto& th : t) th.join();
  for (auto& e : err)
    if (e) std::rethrow_exception(e);
}

double maxabs(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}
}  // namespace

// The SyncBatchNorm function on two ranks against plain training-mode
// batch_norm on the concatenated batch: output, running statistics, and the
// gradients of input, gamma and beta (the loss is the sum over both ranks, so
// gamma's and beta's gradients are the sum of the ranks' local ones). The
// batch is split unevenly (5 + 3 images) so that the exchanged counts matter,
// and the input's mean is far from 0 (3) so that E[x^2] - E[x]^2 would show a
// cancellation.
//
// Tolerance 1e-5 absolute, every value here being O(1) to O(10): the two
// sides compute the same real numbers in float32 in different orders (sums
// over 5 and 3 images per rank, then float64 exchange, against one sum over
// 8), a few ulps (1.2e-7 relative each) per reduction; measured: output and
// running statistics equal, gradients within 1e-6. A BN that normalised with
// its rank's own statistics, or a backward without the all-reduce (the local
// means of dy, computed below), is off by 1e-1 or more.
TEST_F(Distributed, SyncBatchNormMatchesBatchNormOnTheConcatenatedBatch) {
  torch::manual_seed(11);
  const int64_t C = 3;
  auto X = torch::randn({8, C, 4, 4}) * 2.0 + 3.0;
  auto R = torch::randn({8, C, 4, 4});  // dL/dy: the loss is sum(y * R)
  auto W = torch::rand({C}) + 0.5, B = torch::randn({C});
  const double momentum = 0.1, eps = 1e-5;
  const int64_t lo[2] = {0, 5}, n[2] = {5, 3};

  // The reference: one process, the whole batch.
  auto x = X.clone().requires_grad_(true);
  auto w = W.clone().requires_grad_(true), b = B.clone().requires_grad_(true);
  auto rm = torch::zeros({C}), rv = torch::ones({C});
  auto y = torch::batch_norm(x, w, b, rm, rv, /*training=*/true, momentum, eps, false);
  (y * R).sum().backward();

  torch::Tensor ys[2], dxs[2], dws[2], dbs[2], rms[2], rvs[2];
  on_two_ranks([&](int r, train::Distributed& d) {
    auto xr = X.narrow(0, lo[r], n[r]).clone().requires_grad_(true);
    auto wr = W.clone().requires_grad_(true), br = B.clone().requires_grad_(true);
    auto rmr = torch::zeros({C}), rvr = torch::ones({C});
    auto yr = train::sync_batch_norm(xr, wr, br, rmr, rvr, momentum, eps, d);
    (yr * R.narrow(0, lo[r], n[r])).sum().backward();
    ys[r] = yr.detach(), dxs[r] = xr.grad(), dws[r] = wr.grad(), dbs[r] = br.grad(), rms[r] = rmr, rvs[r] = rvr;
  });

  const double tol = 1e-5;
  auto y2 = torch::cat({ys[0], ys[1]}), dx2 = torch::cat({dxs[0], dxs[1]});
  const double d_y = maxabs(y2, y), d_dx = maxabs(dx2, x.grad()), d_dw = maxabs(dws[0] + dws[1], w.grad()),
               d_db = maxabs(dbs[0] + dbs[1], b.grad());
  const double d_stats = std::max({maxabs(rms[0], rm), maxabs(rms[1], rm), maxabs(rvs[0], rv), maxabs(rvs[1], rv)});
  std::fprintf(stderr,
               "SyncBN vs batch_norm on the whole batch: max |dy| %.3g, |d dx| %.3g, |d dgamma| %.3g, |d dbeta| "
               "%.3g, |d running| %.3g (max |dx| %.3g)\n",
               d_y, d_dx, d_dw, d_db, d_stats, x.grad().abs().max().item<double>());
  EXPECT_LE(d_y, tol);
  EXPECT_LE(d_dx, tol);
  EXPECT_LE(d_dw, tol);
  EXPECT_LE(d_db, tol);
  EXPECT_LE(d_stats, tol);

  // What the ranks' own statistics would give (DDP without SyncBN): the test
  // tells it apart by far.
  double d_local = 0;
  for (int r = 0; r < 2; ++r) {
    auto xl = X.narrow(0, lo[r], n[r]);
    auto yl = torch::batch_norm(xl, W, B, {}, {}, true, momentum, eps, false);
    d_local = std::max(d_local, maxabs(yl, y.detach().narrow(0, lo[r], n[r])));
  }
  std::fprintf(stderr, "per-rank statistics would be off by %.3g\n", d_local);
  EXPECT_GT(d_local, 100 * tol);
}

// The input gradient specifically: the global-batch gradient needs the
// global means of dy and dy * (x - mean), i.e. the backward all-reduce.
// Without it (each rank using its own means, computed here from the same
// global statistics) the gradient is off by far more than the tolerance; the
// SyncBN gradient is not.
TEST_F(Distributed, SyncBatchNormInputGradientNeedsTheBackwardAllReduce) {
  torch::manual_seed(12);
  const int64_t C = 4;
  auto X = torch::randn({8, C, 3, 3});
  auto R = torch::randn({8, C, 3, 3}) + torch::arange(8.0).view({8, 1, 1, 1}) * 0.5;  // ranks see different dy
  auto W = torch::rand({C}) + 0.5;
  const double eps = 1e-5;
  auto x = X.clone().requires_grad_(true);
  auto y = torch::batch_norm(x, W, {}, {}, {}, true, 0.1, eps, false);
  (y * R).sum().backward();
  auto dx_ref = x.grad();

  torch::Tensor dxs[2];
  on_two_ranks([&](int r, train::Distributed& d) {
    auto xr = X.narrow(0, 4 * r, 4).clone().requires_grad_(true);
    auto yr = train::sync_batch_norm(xr, W, {}, {}, {}, 0.1, eps, d);
    (yr * R.narrow(0, 4 * r, 4)).sum().backward();
    dxs[r] = xr.grad();
  });
  const double d_sync = maxabs(torch::cat({dxs[0], dxs[1]}), dx_ref);

  // The gradient a backward without the all-reduce would give: global
  // statistics (from the forward), local means of dy and dy * (x - mean).
  auto mean = X.mean({0, 2, 3}, true);
  auto invstd = (X.var({0, 2, 3}, false, true) + eps).rsqrt();
  double d_local = 0;
  for (int r = 0; r < 2; ++r) {
    auto xmu = X.narrow(0, 4 * r, 4) - mean;
    auto g = R.narrow(0, 4 * r, 4);
    auto dx = (g - g.mean({0, 2, 3}, true) - xmu * invstd * invstd * (g * xmu).mean({0, 2, 3}, true)) * invstd *
              W.view({1, C, 1, 1});
    d_local = std::max(d_local, maxabs(dx, dx_ref.narrow(0, 4 * r, 4)));
  }
  std::fprintf(stderr, "input gradient: SyncBN off by %.3g; without the backward all-reduce off by %.3g\n", d_sync,
               d_local);
  EXPECT_LE(d_sync, 1e-5);
  EXPECT_GT(d_local, 1e-2);
}

TEST_F(Distributed, SyncBatchNormRefusesBadShapes) {
  on_two_ranks([&](int, train::Distributed& d) {
    try {
      train::sync_batch_norm(torch::randn({4}), {}, {}, {}, {}, 0.1, 1e-5, d);
      ADD_FAILURE() << "a 1-D input was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected an input with a channel dimension"), std::string::npos)
          << e.what();
    }
    try {
      train::sync_batch_norm(torch::randn({2, 3, 2, 2}), torch::ones({4}), {}, {}, {}, 0.1, 1e-5, d);
      ADD_FAILURE() << "4 scales for 3 channels were accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("the input has 3 channels"), std::string::npos) << e.what();
    }
    // One value per channel over both ranks: refused on both (the count is
    // the exchanged one, so neither rank waits for the other).
    try {
      train::sync_batch_norm(torch::randn({d.rank() == 0 ? 1 : 0, 3, 1, 1}), {}, {}, {}, {}, 0.1, 1e-5, d);
      ADD_FAILURE() << "one value per channel was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected more than 1 value per channel over all 2 processes"),
                std::string::npos)
          << e.what();
    }
  });
}

// 2 processes x batch 8 with --sync-bn against 1 process x batch 16, BN in
// training mode, 5 steps (one epoch), the same seed: the same weights and the
// same BN running statistics.
//
// Tolerance 1e-6 absolute on every weight and running statistic (|w| <= ~1,
// running variances O(1); measured: 7.5e-8 and 6e-8): the runs compute the
// same real numbers in float32 but in different orders: SyncBN's per-rank
// var_mean over 8 images and float64 exchange against batch_norm's one
// reduction over 16, and gradients summed as two halves, each a few ulps
// (1.2e-7 relative) per reduction, through 8 BN layers and 5 momentum-SGD
// steps. Without SyncBN (per-process statistics, DDP's default) the same
// comparison is off by 7.5e-3 (weights) and 7e-2 (statistics), which the
// test checks as well (at least 100x the tolerance).
TEST_F(Distributed, SyncBnTwoProcessesGiveTheWeightsAndStatisticsOfOneProcessWithTheDoubleBatch) {
  auto one = sh("train" + common() + " --epochs 1 --sparsity 1e-2 --batch-size 16 --out " + p("sb1.ckpt").string());
  ASSERT_EQ(one.rc, 0) << one.out;
  auto two = sh("train" + common() + " --epochs 1 --sparsity 1e-2 --batch-size 8 --nproc 2 --sync-bn --out " +
                p("sb2.ckpt").string());
  ASSERT_EQ(two.rc, 0) << two.out;
  auto plain = sh("train" + common() + " --epochs 1 --sparsity 1e-2 --batch-size 8 --nproc 2 --out " +
                  p("sb2plain.ckpt").string());
  ASSERT_EQ(plain.rc, 0) << plain.out;

  auto ca = train::load_checkpoint(p("sb1.ckpt")), cb = train::load_checkpoint(p("sb2.ckpt")),
       cc = train::load_checkpoint(p("sb2plain.ckpt"));
  auto pb = cb.model->named_parameters(), pc = cc.model->named_parameters();
  double dw = 0, dw_plain = 0, dstat = 0, dstat_plain = 0;
  for (auto& q : ca.model->named_parameters()) {
    dw = std::max(dw, maxabs(q.value(), pb[q.key()]));
    dw_plain = std::max(dw_plain, maxabs(q.value(), pc[q.key()]));
  }
  auto bb = cb.model->named_buffers(), bc = cc.model->named_buffers();
  int stats = 0;
  for (auto& q : ca.model->named_buffers()) {
    const auto& k = q.key();
    if (k.find("running_") == std::string::npos) {
      EXPECT_TRUE(torch::equal(q.value(), bb[k])) << k;  // num_batches_tracked, channel selections
      continue;
    }
    ++stats;
    dstat = std::max(dstat, maxabs(q.value(), bb[k]));
    dstat_plain = std::max(dstat_plain, maxabs(q.value(), bc[k]));
  }
  EXPECT_EQ(stats, 2 * 8);  // VGG-11: 8 BN layers, mean and variance
  std::fprintf(stderr,
               "--sync-bn, 2 processes vs 1: max |d weight| %.3g, max |d running stat| %.3g; without --sync-bn: %.3g "
               "and %.3g\n",
               dw, dstat, dw_plain, dstat_plain);
  EXPECT_LE(dw, 1e-6);
  EXPECT_LE(dstat, 1e-6);
  EXPECT_GT(dw_plain, 100 * 1e-6);
  EXPECT_GT(dstat_plain, 100 * 1e-6);
  EXPECT_EQ(cb.meta["train"].value("sync_bn", false), true);
  EXPECT_EQ(cb.meta["state"]["step"], 5);
  EXPECT_EQ(ca.meta["train"].count("sync_bn"), 0u);  // off: the checkpoint's options are as before
  // The steps really moved the weights and the statistics from the start.
  auto init = sh("train" + common() + " --epochs 1 --max-steps 0 --batch-size 16 --out " + p("sb0.ckpt").string());
  ASSERT_EQ(init.rc, 0) << init.out;
  EXPECT_GT(max_diff(p("sb0.ckpt"), p("sb2.ckpt")).first, 1e-3);
  // A --sync-bn run resumes only with --sync-bn.
  auto bad = sh("train" + common() + " --epochs 2 --sparsity 1e-2 --batch-size 8 --nproc 2 --resume --out " +
                p("sb2.ckpt").string());
  EXPECT_EQ(bad.rc, 1) << bad.out;
  EXPECT_NE(bad.out.find("cannot resume: --sync_bn was true"), std::string::npos) << bad.out;
}

// --- resume --------------------------------------------------------------------

TEST_F(Distributed, ATwoProcessCheckpointResumes) {
  // Uninterrupted: 2 epochs of 5 steps. Interrupted: stopped after 3 steps
  // (mid-epoch), resumed to the end.
  auto full = sh("train" + common() + " --epochs 2 --sparsity 1e-3 --batch-size 8 --nproc 2 --out " +
                 p("full.ckpt").string());
  ASSERT_EQ(full.rc, 0) << full.out;
  auto part = sh("train" + common() + " --epochs 2 --sparsity 1e-3 --batch-size 8 --nproc 2 --max-steps 3 --out " +
                 p("part.ckpt").string());
  ASSERT_EQ(part.rc, 0) << part.out;
  EXPECT_EQ(train::load_checkpoint(p("part.ckpt")).meta["state"]["step"], 3);
  fs::copy_file(p("part.ckpt"), p("part1.ckpt"));
  auto rest = sh("train" + common() + " --epochs 2 --sparsity 1e-3 --batch-size 8 --nproc 2 --resume --out " +
                 p("part.ckpt").string());
  ASSERT_EQ(rest.rc, 0) << rest.out;
  EXPECT_NE(rest.out.find("resuming"), std::string::npos) << rest.out;
  EXPECT_EQ(train::load_checkpoint(p("part.ckpt")).meta["state"]["step"], 10);
  // Same processes, same order of every floating-point operation: identical.
  EXPECT_EQ(max_diff(p("full.ckpt"), p("part.ckpt")).first, 0.0);

  // The same global batch in one process: the same run up to rounding and
  // BN statistics (per-process there, whole-batch here), so only close.
  auto one = sh("train" + common() + " --epochs 2 --sparsity 1e-3 --batch-size 16 --resume --out " +
                p("part1.ckpt").string());
  ASSERT_EQ(one.rc, 0) << one.out;
  EXPECT_EQ(train::load_checkpoint(p("part1.ckpt")).meta["state"]["step"], 10);
  // Another global batch is refused, naming both.
  fs::copy_file(p("full.ckpt"), p("full2.ckpt"));
  auto bad = sh("train" + common() + " --epochs 3 --sparsity 1e-3 --batch-size 16 --nproc 2 --resume --out " +
                p("full2.ckpt").string());
  EXPECT_EQ(bad.rc, 1) << bad.out;
  EXPECT_NE(bad.out.find("the global batch was 16 (--batch-size 8 x 2 process(es)), now 32"), std::string::npos)
      << bad.out;
}

// --- failure ---------------------------------------------------------------------

namespace {
// `msprune train ARGS >LOG 2>&1` in the background; the pid is msprune's own
// (the shell execs it), so a signal reaches it.
pid_t spawn_train(const std::string& args, const fs::path& log) {
  std::string ex = "exec " + std::string(MSPRUNE_BIN) + " train" + args + " >" + log.string() + " 2>&1";
  std::string sh_path = "/bin/sh", dash_c = "-c";
  std::vector<char*> argv{sh_path.data(), dash_c.data(), ex.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

// Waits up to `limit` for `pid`; kills it if still running. Returns whether
// it ended by itself, its wait status, and the seconds it took.
struct Exit {
  bool ended;
  int status;
  double secs;
};
Exit wait_for(pid_t pid, std::chrono::seconds limit) {
  auto t0 = Clock::now();
  int st = 0;
  pid_t got = 0;
  while ((got = ::waitpid(pid, &st, WNOHANG)) == 0 && Clock::now() - t0 < limit)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (got == 0) ::kill(pid, SIGKILL), ::waitpid(pid, &st, 0);
  return {got != 0, st, secs};
}

// Waits until `file` exists (training is under way).
bool wait_file(const fs::path& file, std::chrono::seconds limit) {
  auto t0 = Clock::now();
  while (!fs::exists(file) && Clock::now() - t0 < limit) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return fs::exists(file);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
// The pid of `parent`'s child whose environment holds `var` ("RANK=1"),
// or 0 (found through /proc).
pid_t child_with(pid_t parent, const std::string& var) {
  for (auto& d : fs::directory_iterator("/proc")) {
    std::string name = d.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = slurp(d.path() / "stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream f(stat.substr(close + 2));
    char state;
    int ppid = 0;
    f >> state >> ppid;
    if (ppid != parent) continue;
    std::ifstream env(d.path() / "environ", std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    if (all.find(std::string(1, '\0') + var + std::string(1, '\0')) != std::string::npos) return pid_t(std::stol(name));
  }
  return 0;
}

// Whether `pid` still runs (a zombie nobody reaped counts as gone).
bool running(pid_t pid) {
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
}
}  // namespace

TEST_F(Distributed, AKilledWorkerMakesItsPeerExitWithAClearError) {
  const int port = train::pick_free_port();
  // Long enough never to finish by itself; the timeout bounds any hang.
  const std::string args = common() + " --epochs 10000 --batch-size 8 --dist-timeout 20 --world-size 2 --master-port " +
                           std::to_string(port) + " --out " + p("kill.ckpt").string() + " --rank ";
  pid_t r0 = spawn_train(args + "0", p("rank0.log"));
  pid_t r1 = spawn_train(args + "1", p("rank1.log"));
  ASSERT_GT(r0, 0);
  ASSERT_GT(r1, 0);
  // Rank 0 wrote its first epoch's checkpoint: training is under way.
  ASSERT_TRUE(wait_file(p("kill.ckpt"), std::chrono::seconds(120))) << slurp(p("rank0.log")) << slurp(p("rank1.log"));
  ASSERT_EQ(::kill(r1, SIGKILL), 0);
  Exit e = wait_for(r0, std::chrono::seconds(60));
  ::waitpid(r1, nullptr, 0);
  std::string log = slurp(p("rank0.log"));
  std::fprintf(stderr, "rank 0 exited %.2f s after rank 1 was killed; its last line:\n%s", e.secs,
               log.substr(log.rfind('\n', log.size() - 2) + 1).c_str());
  ASSERT_TRUE(e.ended) << "rank 0 still running 60 s after its peer died:\n" << log;
  EXPECT_TRUE(WIFEXITED(e.status) && WEXITSTATUS(e.status) == 1) << log;
  EXPECT_LT(e.secs, 30.0);  // the 20 s --dist-timeout at most, plus exit
  EXPECT_NE(log.find("msprune: error: rank 0 of 2: "), std::string::npos) << log;
  EXPECT_NE(log.find("another worker has probably died"), std::string::npos) << log;
  // The checkpoint rank 0 wrote is intact.
  EXPECT_NO_THROW(train::load_checkpoint(p("kill.ckpt")));
}

TEST_F(Distributed, TheLauncherReportsWhichWorkerFailed) {
  // Rank 1 of a --nproc 2 run is killed from outside (found through /proc
  // as the launcher's child with RANK=1): rank 0 fails on its collective, and
  // the launcher exits naming the worker that died first.
  pid_t launcher = spawn_train(common() + " --epochs 10000 --batch-size 8 --dist-timeout 20 --nproc 2 --out " +
                                   p("launch.ckpt").string(),
                               p("launch.log"));
  ASSERT_GT(launcher, 0);
  ASSERT_TRUE(wait_file(p("launch.ckpt"), std::chrono::seconds(120))) << slurp(p("launch.log"));
  pid_t victim = child_with(launcher, "RANK=1");
  ASSERT_GT(victim, 0) << "no rank-1 child of the launcher found";
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  Exit e = wait_for(launcher, std::chrono::seconds(60));
  std::string log = slurp(p("launch.log"));
  ASSERT_TRUE(e.ended) << log;
  EXPECT_TRUE(WIFEXITED(e.status) && WEXITSTATUS(e.status) == 1) << log;
  EXPECT_NE(log.find("worker rank 1 of 2 was killed by signal 9"), std::string::npos) << log;
  EXPECT_NE(log.find("rank 0 of 2: "), std::string::npos) << log;
}

TEST_F(Distributed, SigtermToTheLauncherStopsEveryWorker) {
  pid_t launcher = spawn_train(common() + " --epochs 10000 --batch-size 8 --nproc 2 --out " + p("term.ckpt").string(),
                               p("term.log"));
  ASSERT_GT(launcher, 0);
  ASSERT_TRUE(wait_file(p("term.ckpt"), std::chrono::seconds(120))) << slurp(p("term.log"));
  pid_t w0 = child_with(launcher, "RANK=0"), w1 = child_with(launcher, "RANK=1");
  ASSERT_GT(w0, 0);
  ASSERT_GT(w1, 0);
  ASSERT_EQ(::kill(launcher, SIGTERM), 0);
  Exit e = wait_for(launcher, std::chrono::seconds(60));
  std::string log = slurp(p("term.log"));
  ASSERT_TRUE(e.ended) << log;
  EXPECT_FALSE(WIFEXITED(e.status) && WEXITSTATUS(e.status) == 0) << log;
  EXPECT_NE(log.find("was killed by signal 15"), std::string::npos) << log;
  auto t0 = Clock::now();
  while ((running(w0) || running(w1)) && Clock::now() - t0 < std::chrono::seconds(10))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(running(w0)) << "rank 0 left running";
  EXPECT_FALSE(running(w1)) << "rank 1 left running";
}
