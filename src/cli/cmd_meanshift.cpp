// msprune meanshift: scikit-learn 1.2.1's estimate_bandwidth + MeanShift on
// a text file of samples, with the same answers bit for bit (src/cluster/).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "cli/commands.h"
#include "cluster/mean_shift.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/table.h"

namespace msprune::cli {

namespace {

struct Samples {
  std::vector<double> values;  // row-major
  std::size_t n = 0, d = 0;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// One sample per line, whitespace-separated coordinates. Blank lines and
// lines starting with '#' are skipped. Every problem names its line.
Samples parse_samples(std::string_view text, const std::string& name, bool float32) {
  Samples s;
  std::size_t line_no = 0, first_line = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    std::size_t i = 0, cols = 0;
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size() || line[i] == '#') continue;
    while (i < line.size()) {
      std::size_t j = i;
      while (j < line.size() && !is_space(line[j])) ++j;
      std::string_view tok = line.substr(i, j - i);
      const char* b = tok.data();
      if (!tok.empty() && tok[0] == '+') ++b;
      double v = 0;
      const auto [end, ec] = std::from_chars(b, tok.data() + tok.size(), v);
      const std::string shown(tok.substr(0, 40));
      if (ec == std::errc::result_out_of_range) {
        throw Error(strf("%s line %zu: '%s' is out of range", name.c_str(), line_no, shown.c_str()));
      }
      if (ec != std::errc() || end != tok.data() + tok.size() || b == tok.data() + tok.size()) {
        throw Error(strf("%s line %zu: '%s' is not a number", name.c_str(), line_no, shown.c_str()));
      }
      if (!std::isfinite(v)) {
        throw Error(strf("%s line %zu: '%s' is not finite", name.c_str(), line_no, shown.c_str()));
      }
      if (float32 && !std::isfinite(float(v))) {
        throw Error(strf("%s line %zu: '%s' overflows float32", name.c_str(), line_no, shown.c_str()));
      }
      s.values.push_back(v);
      ++cols;
      i = j;
      while (i < line.size() && is_space(line[i])) ++i;
    }
    if (s.n == 0) {
      s.d = cols;
      first_line = line_no;
    } else if (cols != s.d) {
      throw Error(strf("%s line %zu: %zu values, but line %zu has %zu (one sample per line, the same "
                       "number of coordinates on each)",
                       name.c_str(), line_no, cols, first_line, s.d));
    }
    ++s.n;
  }
  if (s.n == 0) throw Error(name + ": no samples (expected one sample per line)");
  return s;
}

std::string read_input(const std::string& path) {
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (std::cin.bad()) throw Error("cannot read standard input");
    return text;
  }
  const auto bytes = read_file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

std::string fmt_value(double v, bool float32) {
  char buf[64];
  auto r = float32 ? std::to_chars(buf, buf + sizeof buf, float(v)) : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

struct Opts {
  std::string input;
  double quantile = 0.3;
  std::optional<double> bandwidth;
  std::optional<std::size_t> n_samples;
  bool bin_seeding = false, no_cluster_all = false, json = false;
  std::int64_t min_bin_freq = 1, max_iter = 300;
  std::string dtype = "float64";
};

template <class T>
void run(const Opts& o, const Samples& s) {
  std::vector<T> x(s.values.begin(), s.values.end());
  const std::span<const T> xs(x);
  double bw;
  std::string how;
  if (o.bandwidth) {
    bw = *o.bandwidth;
    how = "given";
  } else {
    cluster::BandwidthOptions bo;
    bo.quantile = o.quantile;
    bo.n_samples = o.n_samples;
    const auto b = cluster::estimate_bandwidth(xs, s.d, bo);
    if (!b.ok()) throw Error("estimate_bandwidth: " + b.error);
    bw = b.bandwidth;
    how = strf("estimated: quantile %g, k = %lld, %s", o.quantile, (long long)b.k,
               o.n_samples ? strf("%zu of the samples (RandomState(0) permutation)", b.n_used).c_str()
                           : "all samples");
    if (bw == 0.0) {
      throw Error("the estimated bandwidth is zero (all samples equal, or too few for quantile " +
                  strf("%g", o.quantile) + "); pass --bandwidth");
    }
  }
  cluster::MeanShiftOptions mo;
  mo.bin_seeding = o.bin_seeding;
  mo.min_bin_freq = o.min_bin_freq;
  mo.cluster_all = !o.no_cluster_all;
  mo.max_iter = o.max_iter;
  std::unique_ptr<Progress> bar;  // only for long runs: many seeds over many samples
  std::size_t reported = 0;
  mo.progress = [&](std::size_t done, std::size_t total) {
    if (!bar && done == 0 && double(total) * double(s.n) >= 1e9) {
      bar = std::make_unique<Progress>("mean shift", total, "seeds");
    }
    if (bar && done > reported) {
      bar->tick(done - reported);
      reported = done;
    }
  };
  const auto r = cluster::mean_shift(xs, s.d, bw, mo);
  if (bar) bar->finish();
  if (!r.ok()) throw Error("mean shift: " + r.error);

  const bool f32 = std::is_same_v<T, float>;
  if (o.json) {
    nlohmann::json centers = nlohmann::json::array();
    for (std::size_t c = 0; c < r.n_clusters(); ++c) {
      centers.push_back(std::vector<double>(r.centers.begin() + std::ptrdiff_t(c * s.d),
                                            r.centers.begin() + std::ptrdiff_t((c + 1) * s.d)));
    }
    nlohmann::json j = {{"bandwidth", bw}, {"centers", centers}, {"labels", r.labels}, {"n_iter", r.n_iter}};
    const std::string out = j.dump() + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return;
  }
  std::printf("mean shift: %zu samples x %zu feature%s (%s)\n", s.n, s.d, s.d == 1 ? "" : "s",
              o.dtype.c_str());
  std::printf("bandwidth:  %s (%s)\n", fmt_value(bw, false).c_str(), how.c_str());
  std::printf("seeds:      %lld (%s); n_iter %lld (the most iterations any seed took)\n",
              (long long)r.n_seeds, o.bin_seeding ? "bin seeding" : "every sample", (long long)r.n_iter);
  Table t({"cluster", s.d == 1 ? "centre" : "centre (coordinates)", "samples", "within bandwidth"});
  for (std::size_t c = 0; c < r.n_clusters(); ++c) {
    std::string centre;
    for (std::size_t j = 0; j < s.d; ++j) {
      if (j) centre += " ";
      centre += fmt_value(r.centers[c * s.d + j], f32);
    }
    t.add({std::to_string(c), centre, std::to_string(r.counts[c]), std::to_string(r.intensity[c])});
  }
  std::int64_t orphans = 0;
  for (auto l : r.labels) orphans += l < 0;
  if (orphans) t.add({"-1", "(orphans: farther than bandwidth from every centre)", std::to_string(orphans), ""});
  std::printf("%s", t.str().c_str());
}

}  // namespace

void add_meanshift_command(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand(
      "meanshift", "Mean shift clustering exactly as scikit-learn 1.2.1 (estimate_bandwidth + MeanShift)");
  sub->add_option("--input", o->input, "Samples: one per line, whitespace-separated coordinates ('-' = stdin)")
      ->required();
  auto* q = sub->add_option("--quantile", o->quantile, "estimate_bandwidth quantile (default 0.3)")
                ->check(CLI::Range(0.0, 1.0));
  auto* b = sub->add_option("--bandwidth", o->bandwidth, "Use this bandwidth instead of estimating one")
                ->check(CLI::PositiveNumber);
  q->excludes(b);
  sub->add_option("--n-samples", o->n_samples,
                  "estimate_bandwidth n_samples: a RandomState(0) subsample (default: all, in order)")
      ->check(CLI::Range(std::size_t(1), std::numeric_limits<std::size_t>::max()))
      ->excludes(b);
  sub->add_flag("--bin-seeding", o->bin_seeding, "Seed from a grid of bandwidth-sized bins");
  sub->add_option("--min-bin-freq", o->min_bin_freq, "Bins need this many samples to seed (default 1)")
      ->check(CLI::Range(std::int64_t(1), std::numeric_limits<std::int64_t>::max()));
  sub->add_flag("--no-cluster-all", o->no_cluster_all, "Label samples farther than bandwidth from every centre -1");
  sub->add_option("--max-iter", o->max_iter, "Iterations per seed at most (default 300)")
      ->check(CLI::Range(std::int64_t(0), std::numeric_limits<std::int64_t>::max()));
  sub->add_option("--dtype", o->dtype, "Compute in float32 or float64 (default float64)")
      ->check(CLI::IsMember({"float32", "float64"}));
  sub->add_flag("--json", o->json, "Print {\"bandwidth\", \"centers\", \"labels\", \"n_iter\"} as one JSON object");
  sub->callback([o] {
    const bool f32 = o->dtype == "float32";
    const std::string name = o->input == "-" ? "stdin" : o->input;
    const Samples s = parse_samples(read_input(o->input), name, f32);
    if (f32) {
      run<float>(*o, s);
    } else {
      run<double>(*o, s);
    }
  });
}

}  // namespace msprune::cli
