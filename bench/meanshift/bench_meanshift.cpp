// bench_meanshift: our mean shift against scikit-learn 1.2.1 on the same
// 1-D inputs, side by side in one run (docs/meanshift.md has the output).
//
// Work timed, for both: estimate_bandwidth(X, quantile=0.3) followed by
// MeanShift(bandwidth=bw, bin_seeding=True).fit(X), X float32 |gamma|-like
// values (a spike near zero plus a bulk), as the paper's pruning scripts run.
// scikit-learn runs in a /usr/bin/python3 subprocess with one thread
// (OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=1), warmed up on a small input first;
// we run in this process, one thread, after warm-up runs. Each side reports
// p50/p99 over its repeats; the speed-up is the ratio of the p50s. Every
// sklearn run's answer (bandwidth, centres, every label, n_iter) is compared
// with ours: "identical" means bit for bit.
//
// estimate_bandwidth in scikit-learn is quadratic (k = 0.3 n neighbours of
// each of n points): it takes ~17 s at 20,000 points and would take hours at
// 1,000,000, so above --sklearn-est-max (default 20,000) only sklearn's fit is
// timed, fed our bandwidth (equal to sklearn's bit for bit wherever both run),
// and the table says so.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster/mean_shift.h"
#include "util/stats.h"
#include "util/table.h"

namespace fs = std::filesystem;
using namespace msprune;

namespace {

const char* kSklearnScript = R"PY(
import json, sys, time, warnings
import numpy as np
from sklearn.cluster import MeanShift, estimate_bandwidth
path, n, repeats, est, bw_given, labels_out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", float.fromhex(sys.argv[5]), sys.argv[6]
X = np.fromfile(path, dtype=np.float32).reshape(n, 1)
def run(X):
    bw = estimate_bandwidth(X, quantile=0.3) if est else bw_given
    ms = MeanShift(bandwidth=bw, bin_seeding=True).fit(X)
    return bw, ms
warnings.simplefilter("ignore")
run(X[:1000] if n > 1000 else X)          # warm-up: imports, thread pools, code paths
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    bw, ms = run(X)
    times.append(time.perf_counter() - t0)
ms.labels_.astype(np.int32).tofile(labels_out)
print(json.dumps(dict(times=times, bandwidth=float(bw).hex(), n_iter=int(ms.n_iter_),
                      centers=[float(c) for c in ms.cluster_centers_[:, 0]])))
)PY";

std::vector<float> gamma_like(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> spike(0.0, 0.004), bulk(0.45, 0.15);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = float(std::fabs(i % 5 < 3 ? spike(rng) : bulk(rng)));
  std::shuffle(x.begin(), x.end(), rng);
  return x;
}

struct Ours {
  std::vector<double> times, fit_times;  // estimate + fit, and the fit alone, per run
  double bandwidth = 0;
  cluster::MeanShiftResult result;
};

Ours run_ours(const std::vector<float>& x, int warmup, int repeats) {
  Ours o;
  for (int r = 0; r < warmup + repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto bw = cluster::estimate_bandwidth(std::span<const float>(x), 1);
    const auto t1 = std::chrono::steady_clock::now();
    cluster::MeanShiftOptions mo;
    mo.bin_seeding = true;
    auto res = cluster::mean_shift(std::span<const float>(x), 1, bw.bandwidth, mo);
    const auto t2 = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(t2 - t0).count();
    if (!bw.ok() || !res.ok()) {
      std::fprintf(stderr, "bench_meanshift: our run failed: %s%s\n", bw.error.c_str(), res.error.c_str());
      std::exit(1);
    }
    if (r >= warmup) {
      o.times.push_back(s);
      o.fit_times.push_back(std::chrono::duration<double>(t2 - t1).count());
    }
    o.bandwidth = bw.bandwidth;
    o.result = std::move(res);
  }
  return o;
}

struct Sk {
  bool ran = false;
  std::vector<double> times;
  double bandwidth = 0;
  std::int64_t n_iter = 0;
  std::vector<double> centers;
  std::vector<std::int32_t> labels;
  std::string error;
};

Sk run_sklearn(const std::string& python, const fs::path& dir, const std::vector<float>& x, int repeats,
               bool estimate, double bw) {
  Sk sk;
  const fs::path data = dir / "x.f32", labels = dir / "labels.i32", script = dir / "bench.py",
                 out = dir / "out.json";
  std::ofstream(data, std::ios::binary).write(reinterpret_cast<const char*>(x.data()),
                                              std::streamsize(x.size() * sizeof(float)));
  std::ofstream(script) << kSklearnScript;
  char hex[64];
  std::snprintf(hex, sizeof hex, "%a", bw);
  const std::string cmd = "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 '" + python + "' '" +
                          script.string() + "' '" + data.string() + "' " + std::to_string(x.size()) + " " +
                          std::to_string(repeats) + " " + (estimate ? "1" : "0") + " " + hex + " '" +
                          labels.string() + "' > '" + out.string() + "'";
  const int st = std::system(cmd.c_str());
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    sk.error = "sklearn subprocess failed (is python3-sklearn installed for " + python + "?)";
    return sk;
  }
  std::ifstream f(out);
  const auto j = nlohmann::json::parse(f);
  sk.times = j.at("times").get<std::vector<double>>();
  sk.bandwidth = std::strtod(j.at("bandwidth").get<std::string>().c_str(), nullptr);
  sk.n_iter = j.at("n_iter").get<std::int64_t>();
  sk.centers = j.at("centers").get<std::vector<double>>();
  sk.labels.resize(x.size());
  std::ifstream(labels, std::ios::binary)
      .read(reinterpret_cast<char*>(sk.labels.data()), std::streamsize(x.size() * sizeof(std::int32_t)));
  sk.ran = true;
  return sk;
}

bool identical(const Ours& o, const Sk& s, bool compare_bandwidth) {
  if (compare_bandwidth && std::memcmp(&o.bandwidth, &s.bandwidth, sizeof(double)) != 0) return false;
  if (o.result.centers != s.centers || o.result.n_iter != s.n_iter) return false;
  for (std::size_t i = 0; i < s.labels.size(); ++i) {
    if (o.result.labels[i] != s.labels[i]) return false;
  }
  return true;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return f ? a + " " + b + " " + c : "unknown";
}

std::string secs(double s) {
  if (s < 1e-3) return strf("%.1f us", s * 1e6);
  if (s < 1) return strf("%.2f ms", s * 1e3);
  return strf("%.2f s", s);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes{1000, 20000, 1000000};
  std::string python = "/usr/bin/python3";
  std::size_t est_max = 20000;
  int sk_repeats_small = 10, sk_repeats_large = 3;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_meanshift: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--python") {
      python = next();
    } else if (a == "--sklearn-est-max") {
      est_max = std::stoul(next());
    } else if (a == "--sizes") {
      sizes.clear();
      std::string s = next();
      for (std::size_t p = 0; p < s.size();) {
        std::size_t q = s.find(',', p);
        if (q == std::string::npos) q = s.size();
        sizes.push_back(std::stoul(s.substr(p, q - p)));
        p = q + 1;
      }
    } else if (a == "--quick") {
      quick = true;
      sk_repeats_small = 3;
      sk_repeats_large = 1;
    } else {
      std::fprintf(stderr,
                   "usage: bench_meanshift [--sizes 1000,20000,1000000] [--python /usr/bin/python3]\n"
                   "                       [--sklearn-est-max 20000] [--quick]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  const fs::path dir = fs::temp_directory_path() / ("msprune_bench_meanshift_" + std::to_string(::getpid()));
  fs::create_directories(dir);

  std::printf("bench_meanshift: estimate_bandwidth(quantile=0.3) + MeanShift(bin_seeding=True).fit,\n"
              "1-D float32 |gamma|-like values, one thread each; scikit-learn via %s\n"
              "load average at start: %s (this machine has %u cores)\n\n",
              python.c_str(), load_average().c_str(), std::thread::hardware_concurrency());
  Table t({"points", "sklearn p50", "sklearn p99", "runs", "ours p50", "ours p99", "runs", "speed-up (p50)",
           "identical"});
  std::vector<std::string> notes;
  for (std::size_t n : sizes) {
    const auto x = gamma_like(n, 42);
    const int our_repeats = n <= 20000 ? (quick ? 20 : 200) : (quick ? 5 : 20);
    std::fprintf(stderr, "n=%zu: ours (%d runs)...\n", n, our_repeats);
    const Ours o = run_ours(x, 3, our_repeats);
    const auto os = summarize(o.times);
    const bool est = n <= est_max;
    const int sk_rep = n <= 1000 ? sk_repeats_small : sk_repeats_large;
    std::fprintf(stderr, "n=%zu: scikit-learn (%d runs%s)...\n", n, sk_rep, est ? "" : ", fit only");
    const Sk s = run_sklearn(python, dir, x, sk_rep, est, o.bandwidth);
    if (!s.ran) {
      t.add({human_count(double(n)), "-", "-", "0", secs(os.p50), secs(os.p99), std::to_string(os.n), "-",
             s.error});
      continue;
    }
    const auto ss = summarize(s.times);
    std::string speed = strf("%.0fx", ss.p50 / os.p50);
    if (!est) {
      // sklearn timed the fit only; compare with our fit only (same runs as the totals).
      const auto fs_ = summarize(o.fit_times);
      speed = strf("fit: %.0fx", ss.p50 / fs_.p50);
      notes.push_back(strf("%s points: sklearn's estimate_bandwidth not run (quadratic); sklearn column = fit "
                           "only with our bandwidth; our fit alone p50 %s, p99 %s",
                           human_count(double(n)).c_str(), secs(fs_.p50).c_str(), secs(fs_.p99).c_str()));
    }
    t.add({human_count(double(n)), secs(ss.p50) + (est ? "" : " (fit)"), secs(ss.p99), std::to_string(ss.n),
           secs(os.p50), secs(os.p99), std::to_string(os.n), speed, identical(o, s, est) ? "yes" : "NO"});
  }
  std::printf("%s", t.str().c_str());
  for (const auto& n : notes) std::printf("note: %s\n", n.c_str());
  std::printf("load average at end: %s\n", load_average().c_str());
  std::printf("ours = estimate_bandwidth + fit, after 3 warm-up runs; identical = same bandwidth bits, centres,\n"
              "every label and n_iter as scikit-learn's last run.\n");
  fs::remove_all(dir);
  return 0;
}
