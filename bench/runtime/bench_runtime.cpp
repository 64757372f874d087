// bench_runtime: the enclave runtime's kernels against oneDNN, side by side in
// one run, batch 1, one thread (docs/runtime.md has the command and output).
//
//   bench_runtime [--runs N] [--warmup N]
//
// 1. VGG-16 (width 1), layer by layer: our conv (measured inside a full
//    inference through the interpreter's op hook) against the same layer in a
//    oneDNN VGG-16 (convolution + ReLU post-op, max/avg pooling, inner
//    product; oneDNN picks its own blocked layouts, weights reordered once
//    before timing), also timed primitive by primitive inside full runs.
// 2. Whole networks: VGG-16 both ways; PreResNet-164 and DenseNet-40 ours
//    (also with every conv in CONV_PACKED, the only layout before v2).
// 3. Single layers typical of PreResNet (1x1, thin 3x3), DenseNet (12
//    outputs) and pruned networks, ours inside a small model in both conv
//    weight layouts (CONV_PACKED, CONV_QUAD; the writer's automatic choice
//    marked) vs one oneDNN convolution.
// 4. Memory: peak resident set of a fresh process (bench_runtime_rss) that
//    loads a .msm and runs it, against weights + arena.
// Percentiles are over `runs` timed runs after `warmup` untimed ones.
#include <omp.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/runtime.h"
#include "util/stats.h"
#include "util/table.h"
#include "zoo.h"

using namespace msprune;
using Clock = std::chrono::steady_clock;

extern char** environ;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct AlignedBytes {
  explicit AlignedBytes(size_t n) : size(n), p(static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64 + 64))) {}
  ~AlignedBytes() { std::free(p); }
  size_t size;
  uint8_t* p;
};

// --- ours ------------------------------------------------------------------

struct OpTimer {
  std::vector<Clock::time_point> start;
  std::vector<std::vector<double>> ms;  // per op
  bool on = false;
  static void hook(void* ctx, uint32_t op, bool after) {
    auto* t = static_cast<OpTimer*>(ctx);
    if (!after) {
      t->start[op] = Clock::now();
    } else if (t->on) {
      t->ms[op].push_back(ms_since(t->start[op]));
    }
  }
};

struct OursResult {
  std::vector<rt::OpInfo> ops;
  std::vector<Summary> per_op;
  Summary total;
  uint64_t weights = 0, arena = 0, macs = 0;
  rt::KernelLevel level = rt::KernelLevel::kReference;
};

OursResult run_ours(const std::vector<uint8_t>& file, int warmup, int runs,
                    rt::KernelLevel level = rt::KernelLevel::kAuto) {
  AlignedBytes bytes(file.size());
  std::memcpy(bytes.p, file.data(), file.size());
  rt::Model m;
  rt::Error err;
  if (m.load(bytes.p, file.size(), {}, &err) != rt::Status::kOk) {
    std::fprintf(stderr, "bench: load failed: %s\n", err.message);
    std::exit(1);
  }
  AlignedBytes arena(m.arena_bytes());
  OpTimer timer;
  timer.start.resize(m.num_ops());
  timer.ms.resize(m.num_ops());
  rt::InterpreterOptions io;
  io.kernels = level;
  io.hook = &OpTimer::hook;
  io.hook_ctx = &timer;
  rt::Interpreter in;
  if (in.init(m, arena.p, arena.size, io, &err) != rt::Status::kOk) {
    std::fprintf(stderr, "bench: init failed: %s\n", err.message);
    std::exit(1);
  }
  std::vector<float> x(3 * 32 * 32, 0.25f), y(m.num_classes());
  std::vector<double> total;
  for (int i = 0; i < warmup + runs; ++i) {
    timer.on = i >= warmup;
    const auto t0 = Clock::now();
    if (in.invoke(x.data(), y.data()) != rt::Status::kOk) std::exit(1);
    if (timer.on) total.push_back(ms_since(t0));
  }
  OursResult r;
  for (uint32_t i = 0; i < m.num_ops(); ++i) {
    rt::OpInfo info;
    (void)m.op_info(i, &info);
    r.ops.push_back(info);
    r.per_op.push_back(summarize(timer.ms[i]));
  }
  r.total = summarize(total);
  r.weights = m.weights_bytes();
  r.arena = m.arena_bytes();
  r.macs = m.total_macs();
  r.level = in.kernel_level();
  return r;
}

// --- oneDNN VGG ---------------------------------------------------------------

struct DnnlNet {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  struct Step {
    dnnl::primitive prim;
    std::unordered_map<int, dnnl::memory> args;
    bool conv = false;
    uint64_t macs = 0;
  };
  std::vector<Step> steps;
  dnnl::memory input;

  // cfg: 0 = max pool; then AvgPool2d(2) and Linear(last, 10).
  explicit DnnlNet(const std::vector<int>& cfg) {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    int c = 3, hw = 32;
    input = dnnl::memory({{1, 3, 32, 32}, dt::f32, tag::nchw}, eng);
    fill(input, 0.25f);
    dnnl::memory cur = input;
    for (int out : cfg) {
      if (out == 0) {
        cur = pool(cur, c, hw, dnnl::algorithm::pooling_max);
        hw /= 2;
        continue;
      }
      const dnnl::memory::desc src_any({1, c, hw, hw}, dt::f32, tag::any);
      const dnnl::memory::desc w_any({out, c, 3, 3}, dt::f32, tag::any);
      const dnnl::memory::desc b_md({out}, dt::f32, tag::x);
      const dnnl::memory::desc dst_any({1, out, hw, hw}, dt::f32, tag::any);
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                        dnnl::algorithm::convolution_direct, src_any, w_any, b_md,
                                        dst_any, {1, 1}, {1, 1}, {1, 1});
      dnnl::post_ops po;
      po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      dnnl::primitive_attr attr;
      attr.set_post_ops(po);
      dnnl::convolution_forward::primitive_desc pd(d, attr, eng);
      cur = to(cur, pd.src_desc());  // reorder (only before the first conv: formats chain)
      dnnl::memory w_plain({{out, c, 3, 3}, dt::f32, tag::oihw}, eng);
      fill(w_plain, 0.01f);
      dnnl::memory w(pd.weights_desc(), eng);
      dnnl::reorder(w_plain, w).execute(strm, w_plain, w);  // once, untimed
      dnnl::memory b(b_md, eng);
      fill(b, 0.01f);
      dnnl::memory dst(pd.dst_desc(), eng);
      steps.push_back({dnnl::convolution_forward(pd),
                       {{DNNL_ARG_SRC, cur}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, dst}},
                       true, uint64_t(out) * c * 9 * hw * hw});
      cur = dst;
      c = out;
    }
    cur = pool(cur, c, hw, dnnl::algorithm::pooling_avg_exclude_padding);
    const dnnl::memory::desc fc_src({1, c, 1, 1}, dt::f32, tag::any);
    const dnnl::memory::desc fc_w({10, c, 1, 1}, dt::f32, tag::any);
    const dnnl::memory::desc fc_b({10}, dt::f32, tag::x);
    const dnnl::memory::desc fc_dst({1, 10}, dt::f32, tag::nc);
    dnnl::inner_product_forward::primitive_desc ipd(
        dnnl::inner_product_forward::desc(dnnl::prop_kind::forward_inference, fc_src, fc_w, fc_b, fc_dst), eng);
    cur = to(cur, ipd.src_desc());
    dnnl::memory w_plain({{10, c, 1, 1}, dt::f32, tag::oihw}, eng);
    fill(w_plain, 0.01f);
    dnnl::memory w(ipd.weights_desc(), eng);
    dnnl::reorder(w_plain, w).execute(strm, w_plain, w);
    dnnl::memory b(fc_b, eng), dst(fc_dst, eng);
    fill(b, 0.0f);
    steps.push_back({dnnl::inner_product_forward(ipd),
                     {{DNNL_ARG_SRC, cur}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, dst}},
                     false, uint64_t(10) * c});
    strm.wait();
  }

  static void fill(dnnl::memory& m, float v) {
    float* p = static_cast<float*>(m.get_data_handle());
    for (size_t i = 0; i < m.get_desc().get_size() / sizeof(float); ++i) p[i] = v;
  }
  dnnl::memory to(const dnnl::memory& m, const dnnl::memory::desc& want) {
    if (m.get_desc() == want) return m;
    dnnl::memory out(want, eng);
    steps.push_back({dnnl::reorder(m, out), {{DNNL_ARG_FROM, m}, {DNNL_ARG_TO, out}}, false, 0});
    return out;
  }
  dnnl::memory pool(const dnnl::memory& src, int c, int hw, dnnl::algorithm alg) {
    const dnnl::memory::desc dst_any({1, c, hw / 2, hw / 2}, dnnl::memory::data_type::f32,
                                     dnnl::memory::format_tag::any);
    dnnl::pooling_forward::primitive_desc pd(
        dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, alg, src.get_desc(), dst_any,
                                    {2, 2}, {2, 2}, {0, 0}, {0, 0}),
        eng);
    dnnl::memory dst(pd.dst_desc(), eng);
    steps.push_back({dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, false, 0});
    return dst;
  }
};

struct DnnlResult {
  std::vector<Summary> conv;  // per conv layer
  std::vector<uint64_t> conv_macs;
  Summary total;
};

DnnlResult run_dnnl(const std::vector<int>& cfg, int warmup, int runs) {
  DnnlNet net(cfg);
  std::vector<std::vector<double>> per(net.steps.size());
  std::vector<double> total;
  for (int i = 0; i < warmup + runs; ++i) {
    const auto t0 = Clock::now();
    for (size_t s = 0; s < net.steps.size(); ++s) {
      const auto t1 = Clock::now();
      net.steps[s].prim.execute(net.strm, net.steps[s].args);
      net.strm.wait();
      if (i >= warmup) per[s].push_back(ms_since(t1));
    }
    if (i >= warmup) total.push_back(ms_since(t0));
  }
  DnnlResult r;
  for (size_t s = 0; s < net.steps.size(); ++s)
    if (net.steps[s].conv) {
      r.conv.push_back(summarize(per[s]));
      r.conv_macs.push_back(net.steps[s].macs);
    }
  r.total = summarize(total);
  return r;
}

// --- single layers of the other families ------------------------------------

struct LayerShape {
  const char* where;
  int ci, co, hw, k, stride;
};

// Ours: a model input(3) -> conv1x1 (3 -> ci) -> THE LAYER -> gap -> linear,
// timed through the op hook (op 1).
Summary ours_layer(const LayerShape& l, int warmup, int runs, msm::ConvLayout layout) {
  bench::ZooBuilder z(3);
  msm::Tensor x = z.conv(z.b.input(), l.ci, 1, 1, 0, true);
  if (l.hw != 32) x = z.b.avg_pool(x, 32 / l.hw, 32 / l.hw);
  x = z.conv(x, l.co, l.k, l.stride, l.k / 2, true);
  msm::FinishOptions fo;
  fo.conv_layout = layout;
  const std::vector<uint8_t> file = z.b.finish(z.classifier(z.b.global_avg_pool(x)), fo);
  OursResult r = run_ours(file, warmup, runs);
  for (size_t i = 0; i < r.ops.size(); ++i)
    if (r.ops[i].type == rt::OpType::kConv2d && r.ops[i].in_c == uint32_t(l.ci)) return r.per_op[i];
  return {};
}

Summary dnnl_layer(const LayerShape& l, int warmup, int runs) {
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const int ho = (l.hw + 2 * (l.k / 2) - l.k) / l.stride + 1;
  dnnl::convolution_forward::desc d(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
      {{1, l.ci, l.hw, l.hw}, dt::f32, tag::any}, {{l.co, l.ci, l.k, l.k}, dt::f32, tag::any},
      {{l.co}, dt::f32, tag::x}, {{1, l.co, ho, ho}, dt::f32, tag::any}, {l.stride, l.stride},
      {l.k / 2, l.k / 2}, {l.k / 2, l.k / 2});
  dnnl::post_ops po;
  po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  dnnl::convolution_forward::primitive_desc pd(d, attr, eng);
  dnnl::memory src(pd.src_desc(), eng), w(pd.weights_desc(), eng), b({{l.co}, dt::f32, tag::x}, eng),
      dst(pd.dst_desc(), eng);
  for (dnnl::memory* m : {&src, &w, &b}) DnnlNet::fill(*m, 0.01f);
  dnnl::convolution_forward conv(pd);
  std::vector<double> t;
  for (int i = 0; i < warmup + runs; ++i) {
    const auto t0 = Clock::now();
    conv.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, dst}});
    strm.wait();
    if (i >= warmup) t.push_back(ms_since(t0));
  }
  return summarize(t);
}

// --- memory: a fresh process loads and runs a .msm ---------------------------

std::string measure_memory(const std::string& tool, const char* name, const std::vector<uint8_t>& file) {
  char path[] = "/tmp/bench_runtime_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0 || write(fd, file.data(), file.size()) != ssize_t(file.size())) return "?";
  close(fd);
  int pipefd[2];
  if (pipe(pipefd) != 0) return "?";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  char a0[] = "bench_runtime_rss";
  char* argv[] = {a0, path, nullptr};
  pid_t pid;
  const int rc = posix_spawn(&pid, tool.c_str(), &fa, nullptr, argv, environ);
  close(pipefd[1]);
  char buf[256] = {};
  const ssize_t got = rc == 0 ? read(pipefd[0], buf, sizeof buf - 1) : -1;
  close(pipefd[0]);
  int status = 0;
  if (rc == 0) waitpid(pid, &status, 0);
  std::remove(path);
  long base = 0, hwm = 0;
  unsigned long long weights = 0, arena = 0;
  if (got <= 0 || std::sscanf(buf, "%ld %ld %llu %llu", &base, &hwm, &weights, &arena) != 4) return "?";
  const double need = double(weights + arena);
  return strf("%-14s peak RSS %s (process baseline %s); weights + arena %s; growth / (weights + arena) = %.3f; peak / (weights + arena) = %.3f",
              name, human_bytes(hwm * 1024.0).c_str(), human_bytes(base * 1024.0).c_str(),
              human_bytes(need).c_str(), double(hwm - base) * 1024.0 / need, double(hwm) * 1024.0 / need);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 50, warmup = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--warmup" && i + 1 < argc) warmup = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_runtime [--runs N] [--warmup N]\n");
      return 2;
    }
  }
  if (runs < 1 || warmup < 0) {
    std::fprintf(stderr, "bench_runtime: --runs must be >= 1 and --warmup >= 0\n");
    return 2;
  }
  omp_set_num_threads(1);
  char exe[4096] = {};
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string rss_tool = n > 0 ? std::string(exe, size_t(n)) : std::string("bench_runtime");
  rss_tool = rss_tool.substr(0, rss_tool.rfind('/') + 1) + "bench_runtime_rss";

  std::fprintf(stderr, "bench_runtime: building models...\n");
  const std::vector<uint8_t> vgg16 = bench::vgg(16);
  const std::vector<uint8_t> pre164 = bench::preresnet(164);
  const std::vector<uint8_t> dense40 = bench::densenet(40);

  // Interleave the two sides so machine noise hits both alike.
  std::fprintf(stderr, "bench_runtime: timing VGG-16 (%d warm-up + %d runs each side)...\n", warmup, runs);
  OursResult ours = run_ours(vgg16, warmup, runs);
  DnnlResult dnnl_r = run_dnnl(bench::vgg_cfg(16), warmup, runs);

  {
    std::ifstream la("/proc/loadavg");
    std::string load;
    std::getline(la, load);
    std::printf("machine: %ld cores online, /proc/loadavg at start: %s\n", sysconf(_SC_NPROCESSORS_ONLN),
                load.c_str());
  }
  std::printf("VGG-16 (width 1, CIFAR 3x32x32), batch 1, 1 thread; ours: %s kernels; oneDNN %d.%d (%s)\n",
              rt::kernel_level_name(ours.level), DNNL_VERSION_MAJOR, DNNL_VERSION_MINOR,
              dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core ? "avx512_core" : "avx2 or lower");
  std::printf("%d timed runs after %d warm-up runs; times in microseconds; speed-up = oneDNN p50 / ours p50\n\n",
              runs, warmup);
  Table t({"layer", "shape", "MMAC", "ours p50", "ours p99", "GFLOP/s", "oneDNN p50", "oneDNN p99",
           "GFLOP/s", "speed-up"});
  double ours_conv = 0, dnnl_conv = 0;
  uint64_t conv_macs = 0;
  size_t li = 0;
  for (size_t i = 0; i < ours.ops.size(); ++i) {
    const rt::OpInfo& o = ours.ops[i];
    if (o.type != rt::OpType::kConv2d) continue;
    const Summary& a = ours.per_op[i];
    const Summary& b = dnnl_r.conv[li];
    ours_conv += a.p50, dnnl_conv += b.p50, conv_macs += o.macs;
    t.add({strf("conv%zu", li + 1), strf("%u->%u @%ux%u", o.in_c, o.out_c, o.out_h, o.out_w),
           strf("%.1f", o.macs / 1e6), strf("%.0f", a.p50 * 1e3), strf("%.0f", a.p99 * 1e3),
           strf("%.1f", 2.0 * o.macs / (a.p50 * 1e6)), strf("%.0f", b.p50 * 1e3), strf("%.0f", b.p99 * 1e3),
           strf("%.1f", 2.0 * dnnl_r.conv_macs[li] / (b.p50 * 1e6)), strf("%.2fx", b.p50 / a.p50)});
    ++li;
  }
  t.add_rule();
  t.add({"convs", "sum of p50", strf("%.1f", conv_macs / 1e6), strf("%.0f", ours_conv * 1e3), "",
         strf("%.1f", 2.0 * conv_macs / (ours_conv * 1e6)), strf("%.0f", dnnl_conv * 1e3), "",
         strf("%.1f", 2.0 * conv_macs / (dnnl_conv * 1e6)), strf("%.2fx", dnnl_conv / ours_conv)});
  t.add({"whole net", "invoke", strf("%.1f", ours.macs / 1e6), strf("%.0f", ours.total.p50 * 1e3),
         strf("%.0f", ours.total.p99 * 1e3), strf("%.1f", 2.0 * ours.macs / (ours.total.p50 * 1e6)),
         strf("%.0f", dnnl_r.total.p50 * 1e3), strf("%.0f", dnnl_r.total.p99 * 1e3),
         strf("%.1f", 2.0 * ours.macs / (dnnl_r.total.p50 * 1e6)),
         strf("%.2fx", dnnl_r.total.p50 / ours.total.p50)});
  std::printf("%s\n", t.str().c_str());

  std::fprintf(stderr, "bench_runtime: timing PreResNet-164 and DenseNet-40...\n");
  Table w({"network", "GMAC", "p50 ms", "p99 ms", "min ms", "GFLOP/s", "weights", "arena"});
  auto row = [&](const char* name, const OursResult& r) {
    w.add({name, strf("%.3f", r.macs / 1e9), strf("%.3f", r.total.p50), strf("%.3f", r.total.p99),
           strf("%.3f", r.total.min),
           strf("%.1f", 2.0 * r.macs / (r.total.p50 * 1e6)), human_bytes(double(r.weights)),
           human_bytes(double(r.arena))});
  };
  row("vgg16", ours);
  row("preresnet164", run_ours(pre164, warmup, runs));
  row("densenet40", run_ours(dense40, warmup, runs));
  msm::FinishOptions packed;  // every conv CONV_PACKED (format v1's only layout)
  packed.conv_layout = msm::ConvLayout::kPacked;
  const std::vector<uint8_t> dense40_packed = bench::densenet(40, 12, 1, packed);
  row("preresnet164 (all packed)", run_ours(bench::preresnet(164, 1, packed), warmup, runs));
  row("densenet40 (all packed)", run_ours(dense40_packed, warmup, runs));
  if (rt::best_kernel_level() > rt::KernelLevel::kAvx2) {  // the fallback, same files
    w.add_rule();
    row("vgg16 (avx2)", run_ours(vgg16, warmup, runs, rt::KernelLevel::kAvx2));
    row("densenet40 (avx2)", run_ours(dense40, warmup, runs, rt::KernelLevel::kAvx2));
    row("densenet40 (avx2, all packed)", run_ours(dense40_packed, warmup, runs, rt::KernelLevel::kAvx2));
  }
  std::printf("Whole networks, ours (%s unless marked, 1 thread), random weights:\n%s\n",
              rt::kernel_level_name(ours.level), w.str().c_str());

  std::fprintf(stderr, "bench_runtime: timing single layers...\n");
  // The layer alone, in both conv weight layouts (ours) and in oneDNN.
  const LayerShape layers[] = {
      {"preresnet s1 conv1", 64, 16, 32, 1, 1},   {"preresnet s1 conv2", 16, 16, 32, 3, 1},
      {"preresnet s1 conv3", 16, 64, 32, 1, 1},   {"preresnet s2 down", 64, 128, 32, 1, 2},
      {"preresnet s2 conv1", 128, 32, 16, 1, 1},  {"preresnet s2 conv2", 32, 32, 16, 3, 1},
      {"preresnet s3 conv1", 256, 64, 8, 1, 1},   {"preresnet s3 conv2", 64, 64, 8, 3, 1},
      {"preresnet s3 conv3", 64, 256, 8, 1, 1},   {"densenet s1 first", 24, 12, 32, 3, 1},
      {"densenet s1 layer", 96, 12, 32, 3, 1},    {"densenet s1 last", 156, 12, 32, 3, 1},
      {"densenet s2 layer", 240, 12, 16, 3, 1},   {"densenet s3 layer", 420, 12, 8, 3, 1},
      {"densenet transition", 168, 168, 32, 1, 1}, {"densenet transition", 312, 312, 16, 1, 1},
      {"pruned-like", 37, 21, 16, 3, 1},          {"pruned-like", 150, 44, 8, 3, 1},
      {"pruned-like", 64, 12, 32, 1, 1},          {"pruned-like", 12, 12, 32, 1, 1},
      {"pruned-like", 100, 100, 16, 3, 1},        {"pruned-like", 200, 40, 8, 1, 1},
      {"pruned-like", 60, 48, 16, 3, 1},          {"pruned-like", 24, 24, 32, 1, 1},
      {"pruned-like", 90, 57, 8, 3, 1},           {"pruned-like", 128, 80, 8, 3, 1},
  };
  Table lt({"layer", "shape", "MMAC", "packed p50", "GFLOP/s", "quad p50", "GFLOP/s", "quad gain",
            "auto", "oneDNN p50", "GFLOP/s", "auto vs oneDNN"});
  for (const LayerShape& l : layers) {
    const int ho = (l.hw + 2 * (l.k / 2) - l.k) / l.stride + 1;
    const double macs = double(l.ci) * l.co * l.k * l.k * ho * ho;
    const Summary p = ours_layer(l, warmup, runs, msm::ConvLayout::kPacked);
    const Summary q = ours_layer(l, warmup, runs, msm::ConvLayout::kQuad);
    const Summary b = dnnl_layer(l, warmup, runs);
    const bool quad = msm::prefer_quad_layout(l.co, l.ci, l.k);
    const double a = quad ? q.p50 : p.p50;
    auto gf = [&](double ms) { return strf("%.1f", 2 * macs / (ms * 1e6)); };
    lt.add({l.where, strf("%dx%d %d->%d @%dx%d%s", l.k, l.k, l.ci, l.co, l.hw, l.hw, l.stride > 1 ? " s2" : ""),
            strf("%.1f", macs / 1e6), strf("%.1f", p.p50 * 1e3), gf(p.p50), strf("%.1f", q.p50 * 1e3),
            gf(q.p50), strf("%.2fx", p.p50 / q.p50), quad ? "quad" : "packed",
            strf("%.1f", b.p50 * 1e3), gf(b.p50), strf("%.2fx", b.p50 / a)});
  }
  std::printf("Single layers (+ReLU), ours in both conv weight layouts (auto = the writer's choice),\n"
              "times in microseconds; quad gain = packed p50 / quad p50:\n%s\n",
              lt.str().c_str());

  std::printf("Resident memory of a fresh process (bench_runtime_rss: the runtime and libc++ only) that\n"
              "loads the .msm and runs 5 inferences; growth = peak - the process's own baseline:\n");
  std::printf("  %s\n", measure_memory(rss_tool, "vgg16", vgg16).c_str());
  std::printf("  %s\n", measure_memory(rss_tool, "preresnet164", pre164).c_str());
  std::printf("  %s\n", measure_memory(rss_tool, "densenet40", dense40).c_str());
  return 0;
}
