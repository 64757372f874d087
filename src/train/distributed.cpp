#include "train/distributed.h"

#include <csignal>
#include <cstdlib>
#include <functional>
#include <stdexcept>

#include "util/error.h"

#ifdef MSPRUNE_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef MSPRUNE_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace msprune::train {

int64_t parse_int_in(const std::string& name, const std::string& text, int64_t lo, int64_t hi) {
  const std::string range = " is not a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (text.empty()) throw Error(name + ": '' " + range);
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used, 10);
  } catch (const std::exception&) {
    throw Error(name + ": '" + text + "'" + range);
  }
  if (used != text.size() || v < lo || v > hi) throw Error(name + ": '" + text + "'" + range);
  return v;
}

void DistConfig::validate() const {
  if (world_size < 1 || world_size > 4096)
    throw Error("--world-size must be in 1..4096, got " + std::to_string(world_size));
  if (rank < 0 || rank >= world_size)
    throw Error("--rank must be in 0.." + std::to_string(world_size - 1) + " for a world of " +
                std::to_string(world_size) + " processes, got " + std::to_string(rank));
  if (local_rank < 0 || local_rank >= 4096) throw Error("LOCAL_RANK must be in 0..4095, got " + std::to_string(local_rank));
  if (master_port < 1 || master_port > 65535)
    throw Error("--master-port must be in 1..65535, got " + std::to_string(master_port));
  if (master_addr.empty()) throw Error("--master-addr must not be empty");
  if (master_addr.find_first_of(" \t\n/") != std::string::npos)
    throw Error("--master-addr '" + master_addr + "' is not a host name or address");
  if (backend != "auto" && backend != "gloo" && backend != "nccl")
    throw Error("--backend must be auto, gloo or nccl, got '" + backend + "'");
  if (timeout < std::chrono::seconds(1) || timeout > std::chrono::hours(24))
    throw Error("--dist-timeout must be in 1..86400 seconds");
  if (bucket_bytes < 1024) throw Error("gradient bucket must be at least 1 KiB");
}

std::string DistConfig::describe() const {
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size) + ", " + backend + " via " +
         master_addr + ":" + std::to_string(master_port);
}

bool dist_config_from_env(DistConfig& c) {
  auto env = [](const char* k) -> const char* {
    const char* v = std::getenv(k);
    return v && *v ? v : nullptr;
  };
  if (!env("RANK") && !env("WORLD_SIZE")) return false;
  if (!env("RANK") || !env("WORLD_SIZE"))
    throw Error(std::string("the environment sets ") + (env("RANK") ? "RANK" : "WORLD_SIZE") + " but not " +
                (env("RANK") ? "WORLD_SIZE" : "RANK") + ": a distributed run needs both (as torchrun sets them)");
  c.world_size = int(parse_int_in("WORLD_SIZE", env("WORLD_SIZE"), 1, 4096));
  c.rank = int(parse_int_in("RANK", env("RANK"), 0, 4095));
  if (env("LOCAL_RANK")) c.local_rank = int(parse_int_in("LOCAL_RANK", env("LOCAL_RANK"), 0, 4095));
  if (env("MASTER_ADDR")) c.master_addr = env("MASTER_ADDR");
  if (env("MASTER_PORT")) c.master_port = int(parse_int_in("MASTER_PORT", env("MASTER_PORT"), 1, 65535));
  return true;
}

bool distributed_supported() {
#ifdef MSPRUNE_HAVE_GLOO
  return true;
#else
  return false;
#endif
}

std::string resolve_backend(const std::string& choice, const torch::Device& device) {
  std::string b = choice;
  if (b == "auto") b = device.is_cuda() ? "nccl" : "gloo";
  if (b == "nccl") {
    if (!device.is_cuda())
      throw Error("--backend nccl needs a CUDA device (--device cuda); on a CPU use --backend gloo");
#ifndef MSPRUNE_HAVE_NCCL
    throw Error(
        "--backend nccl: this msprune was built against a LibTorch without NCCL (Debian's libtorch is CPU-only); "
        "build against a CUDA LibTorch (docs/gpu.md), or use --backend gloo");
#endif
  } else if (b != "gloo") {
    throw Error("--backend must be auto, gloo or nccl, got '" + choice + "'");
  }
  return b;
}

// ---------------------------------------------------------------------------

#ifdef MSPRUNE_HAVE_GLOO
// The group's collectives as plain functions: in LibTorch 1.13 the Gloo and
// NCCL groups are c10d::ProcessGroups, from PyTorch 2.0 on they are
// c10d::Backends behind one; both have these three calls with these
// signatures, so binding the concrete class builds against either.
class ProcessGroupHandle {
 public:
  using WorkPtr = c10::intrusive_ptr<c10d::Work>;
  c10::intrusive_ptr<c10d::TCPStore> store;
  std::function<WorkPtr(std::vector<at::Tensor>&)> allreduce;
  std::function<WorkPtr(std::vector<at::Tensor>&, const c10d::BroadcastOptions&)> broadcast;
  std::function<WorkPtr()> barrier;

  template <class G>
  void bind(c10::intrusive_ptr<G> g) {
    allreduce = [g](std::vector<at::Tensor>& t) { return g->allreduce(t, c10d::AllreduceOptions()); };
    broadcast = [g](std::vector<at::Tensor>& t, const c10d::BroadcastOptions& o) { return g->broadcast(t, o); };
    barrier = [g]() { return g->barrier(c10d::BarrierOptions()); };
  }
};
#else
class ProcessGroupHandle {};
#endif

namespace {

bool is_loopback(const std::string& a) { return a == "localhost" || a.rfind("127.", 0) == 0 || a == "::1"; }

// Groups tensors into buckets of one dtype and device, at most `cap` bytes
// each (a tensor larger than the cap gets a bucket of its own).
std::vector<std::vector<torch::Tensor>> buckets(const std::vector<torch::Tensor>& ts, int64_t cap) {
  std::vector<std::vector<torch::Tensor>> out;
  std::vector<int64_t> bytes;
  for (const auto& t : ts) {
    const int64_t nb = t.numel() * int64_t(t.element_size());
    bool placed = false;
    for (size_t i = 0; i < out.size() && !placed; ++i) {
      const auto& f = out[i].front();
      if (f.scalar_type() == t.scalar_type() && f.device() == t.device() && bytes[i] + nb <= cap) {
        out[i].push_back(t);
        bytes[i] += nb;
        placed = true;
      }
    }
    if (!placed) {
      out.push_back({t});
      bytes.push_back(nb);
    }
  }
  return out;
}

}  // namespace

Distributed::Distributed(const DistConfig& cfg, const torch::Device& device) : cfg_(cfg) {
  cfg_.validate();
  backend_ = resolve_backend(cfg_.backend, device);
  cfg_.backend = backend_;
#ifndef MSPRUNE_HAVE_GLOO
  (void)device;
  throw Error("distributed training: this msprune was built without Gloo's headers (Debian: libgloo-dev; "
              "scripts/setup.sh installs it), so it cannot make a process group");
#else
  // A write to a dead peer's socket must come back as an error that names
  // the failure, not kill this process with SIGPIPE (Python, and so PyTorch,
  // ignores SIGPIPE for the same reason).
  ::signal(SIGPIPE, SIG_IGN);
  pg_ = std::make_unique<ProcessGroupHandle>();
  try {
    c10d::TCPStoreOptions so;
    so.port = uint16_t(cfg_.master_port);
    so.isServer = cfg_.rank == 0;
    so.numWorkers = size_t(cfg_.world_size);
    so.waitWorkers = true;
    so.timeout = cfg_.timeout;
    pg_->store = c10::make_intrusive<c10d::TCPStore>(cfg_.master_addr, so);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(cfg_.rank) + ": rendezvous at " + cfg_.master_addr + ":" +
                std::to_string(cfg_.master_port) + " failed (" + e.what() +
                "); check that every process got the same --master-addr/--master-port and --world-size, that rank 0 "
                "is running, and that the port is free");
  }
  try {
    if (backend_ == "gloo") {
      auto o = c10d::ProcessGroupGloo::Options::create(cfg_.timeout);
      // One machine: stay on the loopback. Several: the interface named by
      // GLOO_SOCKET_IFNAME (as PyTorch reads it), else the host name's address.
      if (const char* ifn = std::getenv("GLOO_SOCKET_IFNAME"); ifn && *ifn)
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifn));
      else if (is_loopback(cfg_.master_addr))
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      o->threads = 2;
      pg_->bind(c10::make_intrusive<c10d::ProcessGroupGloo>(pg_->store, cfg_.rank, cfg_.world_size, o));
    } else {
#ifdef MSPRUNE_HAVE_NCCL
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = cfg_.timeout;
      pg_->bind(c10::make_intrusive<c10d::ProcessGroupNCCL>(pg_->store, cfg_.rank, cfg_.world_size, o));
#endif
    }
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(cfg_.rank) + ": cannot build the " + backend_ + " process group: " + e.what());
  }
#endif
}

Distributed::~Distributed() {
#ifdef MSPRUNE_HAVE_GLOO
  // After a failed collective the group's worker threads may still be blocked
  // on a dead peer; its destructor would wait for them. The process is about
  // to exit with an error, so the group is deliberately leaked.
  if (failed_ && pg_) (void)pg_.release();
#endif
}

void Distributed::fail(const std::string& what, const std::exception& e) {
  failed_ = true;
  std::string msg = e.what();
  if (auto nl = msg.find("\nException raised from"); nl != std::string::npos) msg.resize(nl);  // c10's backtrace
  throw Error("rank " + std::to_string(cfg_.rank) + " of " + std::to_string(cfg_.world_size) + ": " + what +
              " failed: " + msg +
              " (another worker has probably died or stalled past --dist-timeout; see its output above)");
}

#ifdef MSPRUNE_HAVE_GLOO
namespace {
// Flattens each bucket of `tensors` into one buffer, starts `issue` on every
// buffer (asynchronously), waits for them all, and, where `copy_back`,
// copies each result back into its tensors.
template <class Issue>
void bucketed(const std::vector<torch::Tensor>& tensors, int64_t cap, bool copy_back, Issue issue) {
  torch::NoGradGuard ng;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  std::vector<std::pair<torch::Tensor, std::vector<torch::Tensor>>> flats;
  for (auto& b : buckets(tensors, cap)) {
    std::vector<torch::Tensor> views;
    for (auto& t : b) views.push_back(t.reshape({-1}));
    std::vector<torch::Tensor> one{torch::cat(views)};
    works.push_back(issue(one));
    flats.emplace_back(one[0], b);
  }
  for (auto& w : works) w->wait();
  if (!copy_back) return;
  for (auto& [flat, b] : flats) {
    int64_t off = 0;
    for (auto& t : b) {
      t.copy_(flat.narrow(0, off, t.numel()).view(t.sizes()));
      off += t.numel();
    }
  }
}
}  // namespace

void Distributed::allreduce_sum(const std::vector<torch::Tensor>& tensors) {
  if (failed_) throw Error("the process group has failed before");
  try {
    bucketed(tensors, cfg_.bucket_bytes, true, [&](std::vector<torch::Tensor>& one) { return pg_->allreduce(one); });
  } catch (const std::exception& e) {
    fail("all-reduce", e);
  }
}

void Distributed::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  if (failed_) throw Error("the process group has failed before");
  c10d::BroadcastOptions o;
  o.rootRank = root;
  try {
    bucketed(tensors, cfg_.bucket_bytes, cfg_.rank != root,
             [&](std::vector<torch::Tensor>& one) { return pg_->broadcast(one, o); });
  } catch (const std::exception& e) {
    fail("broadcast", e);
  }
}

void Distributed::barrier() {
  if (failed_) throw Error("the process group has failed before");
  try {
    pg_->barrier()->wait();
  } catch (const std::exception& e) {
    fail("barrier", e);
  }
}
#else
void Distributed::allreduce_sum(const std::vector<torch::Tensor>&) {}
void Distributed::broadcast(const std::vector<torch::Tensor>&, int) {}
void Distributed::barrier() {}
#endif

void Distributed::average_gradients(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> grads;
  grads.reserve(params.size());
  for (const auto& p : params) {
    // Every rank runs the same model on the same code path, so the same
    // gradients are defined everywhere; one left undefined stays so (SGD then
    // skips its parameter, as in a single process).
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  allreduce_sum(grads);
  torch::NoGradGuard ng;
  const double inv = 1.0 / double(cfg_.world_size);
  for (auto& g : grads) g.mul_(inv);
}

}  // namespace msprune::train
