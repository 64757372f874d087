// Mean shift beyond the golden cases: hostile input, degenerate input, the
// 1-D fast paths against a quadratic reference, and the threshold policies
// pruning will call.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <type_traits>

#include "cluster/kd_tree.h"
#include "cluster/mean_shift.h"
#include "cluster/neighbors.h"
#include "cluster/numpy_sum.h"
#include "cluster/threshold.h"

using namespace msprune::cluster;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// --- hostile and degenerate input -------------------------------------------

TEST(MeanShiftErrors, EmptyInputIsAnError) {
  std::vector<double> none;
  EXPECT_TRUE(contains(estimate_bandwidth(std::span<const double>(none), 1).error, "empty input"));
  EXPECT_TRUE(contains(mean_shift(std::span<const double>(none), 1, 1.0).error, "empty input"));
  EXPECT_TRUE(contains(choose_threshold(std::span<const float>(), ThresholdOptions{}).error, "empty input"));
}

TEST(MeanShiftErrors, NonFiniteValuesAreNamedByIndex) {
  std::vector<float> x{0.1f, 0.2f, 0.3f, std::numeric_limits<float>::quiet_NaN(), 0.5f};
  auto b = estimate_bandwidth(std::span<const float>(x), 1);
  EXPECT_EQ(b.error, "non-finite value nan at x[3]");
  x[3] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(mean_shift(std::span<const float>(x), 1, 0.5).error, "non-finite value inf at x[3]");
  std::vector<double> xy{0, 0, 1, -std::numeric_limits<double>::infinity(), 2, 2};
  EXPECT_EQ(estimate_bandwidth(std::span<const double>(xy), 2).error,
            "non-finite value -inf at x[3] (row 1, column 1)");
  x[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(choose_threshold(x, ThresholdOptions{}).error, "non-finite value nan at abs_gamma[3]");
}

TEST(MeanShiftErrors, ShapeAndParametersAreChecked) {
  std::vector<double> x{0, 1, 2, 3, 4};
  EXPECT_TRUE(contains(estimate_bandwidth(std::span<const double>(x), 2).error, "not a multiple"));
  EXPECT_TRUE(contains(estimate_bandwidth(std::span<const double>(x), 0).error, "n_features"));
  BandwidthOptions bo;
  bo.quantile = 1.5;
  EXPECT_TRUE(contains(estimate_bandwidth(std::span<const double>(x), 1, bo).error, "quantile"));
  bo.quantile = std::nan("");
  EXPECT_TRUE(contains(estimate_bandwidth(std::span<const double>(x), 1, bo).error, "quantile"));
  bo.quantile = 0.3;
  bo.n_samples = 0;
  EXPECT_TRUE(contains(estimate_bandwidth(std::span<const double>(x), 1, bo).error, "n_samples"));

  const std::span<const double> xs(x);
  EXPECT_TRUE(contains(mean_shift(xs, 1, 0.0).error, "bandwidth is zero"));
  EXPECT_TRUE(contains(mean_shift(xs, 1, -1.0).error, "bandwidth must be finite and > 0"));
  EXPECT_TRUE(contains(mean_shift(xs, 1, std::nan("")).error, "bandwidth must be"));
  EXPECT_TRUE(contains(mean_shift(xs, 1, HUGE_VAL).error, "bandwidth must be"));
  MeanShiftOptions mo;
  mo.max_iter = -1;
  EXPECT_TRUE(contains(mean_shift(xs, 1, 1.0, mo).error, "max_iter"));
  mo = {};
  mo.min_bin_freq = 0;
  EXPECT_TRUE(contains(mean_shift(xs, 1, 1.0, mo).error, "min_bin_freq"));
  mo = {};
  std::vector<double> seeds{0.5, std::nan("")};
  mo.seeds = seeds;
  EXPECT_EQ(mean_shift(xs, 1, 1.0, mo).error, "non-finite value nan at seeds[1]");
  std::vector<double> seeds2{0.5, 1.0, 2.0};
  mo.seeds = seeds2;
  std::vector<double> x2{0, 0, 1, 1};
  EXPECT_TRUE(contains(mean_shift(std::span<const double>(x2), 2, 1.0, mo).error, "seeds has 3 values"));
}

TEST(MeanShiftErrors, SeedsFarFromEveryPointReportSklearnsError) {
  std::vector<double> x{0, 0.1, 0.2, 5, 5.1};
  std::vector<double> seeds{100};
  MeanShiftOptions mo;
  mo.seeds = seeds;
  auto r = mean_shift(std::span<const double>(x), 1, 0.5, mo);
  EXPECT_EQ(r.error, "no point was within bandwidth=0.500000 of any seed");
  mo = {};
  mo.bin_seeding = true;
  mo.min_bin_freq = 100;
  EXPECT_TRUE(contains(mean_shift(std::span<const double>(x), 1, 0.5, mo).error, "no seeds"));
}

TEST(MeanShiftDegenerate, OneValueAndConstantInput) {
  std::vector<float> one{0.7f};
  auto b = estimate_bandwidth(std::span<const float>(one), 1);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.bandwidth, 0.0);
  auto r = mean_shift(std::span<const float>(one), 1, 1.0);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.n_clusters(), 1u);
  EXPECT_EQ(r.centers[0], double(0.7f));
  EXPECT_EQ(r.labels, std::vector<std::int64_t>{0});
  std::vector<double> same(100, 3.25);
  EXPECT_EQ(estimate_bandwidth(std::span<const double>(same), 1).bandwidth, 0.0);
  MeanShiftOptions bins;
  bins.bin_seeding = true;
  auto r2 = mean_shift(std::span<const double>(same), 1, 0.1, bins);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2.centers, std::vector<double>{3.25});
  EXPECT_EQ(r2.counts, std::vector<std::int64_t>{100});
}

TEST(MeanShiftDegenerate, ExtremeValuesGiveAnswersOrErrorsNotCrashes) {
  const double big = 1e308, tiny = 4.9e-324;
  const std::vector<std::vector<double>> inputs = {
      {big, -big, 0.0, 1.0},                // distances overflow to infinity
      {tiny, -tiny, 0.0, -0.0, tiny},       // subnormals and signed zeros
      {1e300, 1e300, 1e300, 2e300, 2e300},  // huge bins
      {0.0, 1e-300, 1.0, 1.0 + 1e-15, 5.0, 5.0, 5.0},
  };
  for (const auto& x : inputs) {
    for (double q : {0.3, 0.6, 1.0}) {
      const auto b = estimate_bandwidth(std::span<const double>(x), 1, BandwidthOptions{q, {}, 0});
      ASSERT_TRUE(b.ok()) << b.error;
      for (bool bins : {false, true}) {
        MeanShiftOptions mo;
        mo.bin_seeding = bins;
        for (double bw : {b.bandwidth, 1.0, 1e-300, 1e300}) {
          const auto r = mean_shift(std::span<const double>(x), 1, bw, mo);
          if (r.ok()) {
            EXPECT_EQ(r.labels.size(), x.size());
            EXPECT_GE(r.n_clusters(), 1u);
          } else {
            EXPECT_FALSE(r.error.empty());
          }
        }
      }
    }
    std::vector<float> f;
    for (double v : x) f.push_back(float(v));
    if (first_non_finite(std::span<const float>(f)) < 0) {
      const auto t = choose_threshold(f, ThresholdOptions{});
      if (t.ok()) {
        EXPECT_GE(t.kept, 1u);
      }
    }
  }
}

TEST(MeanShiftDegenerate, BinSeedsRoundHalfToEven) {
  // x / 0.5 = 0.5, 1.5, 2.5, 3.5 -> bins 0, 2, 2, 4 (numpy's round-half-even).
  std::vector<double> x{0.25, 0.75, 1.25, 1.75, 1.75};
  auto s = get_bin_seeds(std::span<const double>(x), 1, 0.5, 1);
  ASSERT_TRUE(s.error.empty());
  EXPECT_FALSE(s.points_are_seeds);
  EXPECT_EQ(s.seeds, (std::vector<double>{0.0, 1.0, 2.0}));  // order of first appearance
  auto s2 = get_bin_seeds(std::span<const double>(x), 1, 0.5, 2);
  EXPECT_EQ(s2.seeds, (std::vector<double>{1.0, 2.0}));
  // One bin per point: sklearn falls back to the points themselves.
  std::vector<double> spread{0, 10, 20};
  EXPECT_TRUE(get_bin_seeds(std::span<const double>(spread), 1, 1.0, 1).points_are_seeds);
}

// --- the 1-D fast paths against a quadratic reference ------------------------

// sklearn's estimate_bandwidth written the slow way: every distance to every
// point, sorted, the k-th taken; batches of 500 summed with numpy's sum.
template <class T>
double reference_bandwidth(const std::vector<T>& x, double quantile) {
  const std::size_t n = x.size();
  std::int64_t k = std::max<std::int64_t>(1, std::int64_t(double(n) * quantile));
  const bool brute = detail::sklearn_uses_brute(n, 1, k);
  std::vector<double> dist(n), row(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double a = x[i];
    for (std::size_t j = 0; j < n; ++j) {
      const double b = x[j];
      row[j] = brute ? detail::gemm_rdist(a * a, -2.0 * (a * b), b * b) : (a - b) * (a - b);
    }
    std::sort(row.begin(), row.end());
    const double v = row[std::size_t(k - 1)];
    dist[i] = brute ? detail::brute_reported_distance<T>(v) : std::sqrt(v);
  }
  double bw = 0;
  for (std::size_t s = 0; s < n; s += 500) bw += detail::numpy_sum(&dist[s], std::min<std::size_t>(500, n - s));
  return bw / double(n);
}

template <class T>
void check_fast_bandwidth(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0.0, 1.0);
  for (double quantile : {0.05, 0.3, 0.5, 0.7, 1.0}) {
    for (int kind = 0; kind < 3; ++kind) {
      const std::size_t n = 50 + rng() % 700;
      std::vector<T> x(n);
      for (auto& v : x) {
        if (kind == 0) v = T(nd(rng));                               // smooth
        if (kind == 1) v = T(std::round(nd(rng) * 4) / 4);           // heavy ties
        if (kind == 2) v = T(1000.0 + nd(rng) * 0.01);               // cancellation in the GEMM form
      }
      const auto got = estimate_bandwidth(std::span<const T>(x), 1, BandwidthOptions{quantile, {}, 0});
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(got.bandwidth, reference_bandwidth(x, quantile))
          << "n=" << n << " quantile=" << quantile << " kind=" << kind;
    }
  }
}

TEST(FastPaths, OneDimensionalBandwidthEqualsQuadraticReferenceFloat64) { check_fast_bandwidth<double>(1); }
TEST(FastPaths, OneDimensionalBandwidthEqualsQuadraticReferenceFloat32) { check_fast_bandwidth<float>(2); }

TEST(FastPaths, KdTreeRadiusQueryKeepsSklearnsRule) {
  // Every point within r is returned, no point with fl(d^2) > fl(r^2) is,
  // and positions come out ascending (tree order).
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> ud(0, 10);
  std::vector<double> x(5000);
  for (auto& v : x) v = std::round(ud(rng) * 64) / 64;  // exact distances: many on the radius
  detail::KdTree tree(x, x.size(), 1);
  std::vector<detail::KdTree::Range> ranges;
  for (int q = 0; q < 200; ++q) {
    const double c = std::round(ud(rng) * 64) / 64, r = 0.25;
    ranges.clear();
    const std::int64_t m = tree.query_radius(&c, r, &ranges);
    std::vector<char> in(x.size(), 0);
    std::int64_t counted = 0, last = -1;
    for (const auto& rg : ranges) {
      ASSERT_GT(rg.begin, last);
      last = rg.end - 1;
      for (std::int64_t p = rg.begin; p < rg.end; ++p) {
        in[std::size_t(tree.idx_array()[std::size_t(p)])] = 1;
        ++counted;
      }
    }
    EXPECT_EQ(counted, m);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double dd = (c - x[i]) * (c - x[i]);
      if (std::fabs(c - x[i]) <= r) {
        EXPECT_TRUE(in[i]) << i;
      }
      if (dd > r * r) {
        EXPECT_FALSE(in[i]) << i;
      }
    }
  }
}

TEST(FastPaths, NearestBreaksTiesByFirstFound) {
  // Equidistant centres: sklearn's heap keeps the first one it meets.
  std::vector<double> centres{1.0, 3.0};
  detail::KdTree tree(centres, 2, 1);
  double rd;
  const double q = 2.0;
  EXPECT_EQ(tree.nearest(&q, &rd), 0);
  EXPECT_EQ(rd, 1.0);
}

TEST(FastPaths, MillionPointsRunAndAgreeWithTheirOwnLabels) {
  // Not a timing test (bench/meanshift has those): the fast path must handle
  // a large input and its labels must be nearest-centre labels.
  std::mt19937 rng(4);
  std::normal_distribution<float> a(0.003f, 0.002f), b(0.5f, 0.1f);
  std::vector<float> x(200000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::fabs(i % 3 ? b(rng) : a(rng));
  auto bw = estimate_bandwidth(std::span<const float>(x), 1);
  ASSERT_TRUE(bw.ok());
  MeanShiftOptions bins;
  bins.bin_seeding = true;
  std::size_t calls = 0, last_done = 0, total_seen = 0;
  bins.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    total_seen = total;
    ++calls;
  };
  auto r = mean_shift(std::span<const float>(x), 1, bw.bandwidth, bins);
  EXPECT_GE(calls, 2u);
  EXPECT_EQ(last_done, total_seen);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_GE(r.n_clusters(), 2u);
  for (std::size_t i = 0; i < x.size(); i += 997) {
    const double d0 = std::fabs(double(x[i]) - r.centers[std::size_t(r.labels[i])]);
    for (double c : r.centers) EXPECT_LE(d0, std::fabs(double(x[i]) - c));
  }
}

// --- threshold policies -------------------------------------------------------

std::vector<float> spike_and_bulk(std::size_t n_spike, std::size_t n_bulk, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> spike(0.0f, 0.01f), bulk(0.3f, 0.7f);
  std::vector<float> g;
  for (std::size_t i = 0; i < n_spike; ++i) g.push_back(spike(rng));
  for (std::size_t i = 0; i < n_bulk; ++i) g.push_back(bulk(rng));
  std::shuffle(g.begin(), g.end(), rng);
  return g;
}

void expect_consistent(std::span<const float> g, const ThresholdResult& r) {
  ASSERT_EQ(r.keep.size(), g.size());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    EXPECT_EQ(r.keep[i] != 0, double(g[i]) > r.threshold) << i;
    kept += r.keep[i];
  }
  EXPECT_EQ(kept, r.kept);
  EXPECT_GE(r.kept, 1u);
}

TEST(Threshold, MinCentreIsThePapersSmallestCentre) {
  const auto g = spike_and_bulk(60, 40, 5);
  ThresholdOptions opt;
  const auto r = choose_threshold(g, opt);
  ASSERT_TRUE(r.ok()) << r.error;
  expect_consistent(g, r);
  ASSERT_GE(r.centres.size(), 2u);
  EXPECT_EQ(r.threshold, *std::min_element(r.centres.begin(), r.centres.end()));
  EXPECT_FALSE(r.floor_applied);
  // The bulk survives; part of the spike (above its centre) survives too.
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g[i] >= 0.3f) {
      EXPECT_TRUE(r.keep[i]);
    }
  }
}

TEST(Threshold, ValleyCutsInTheEmptiestGap) {
  const auto g = spike_and_bulk(60, 40, 6);
  ThresholdOptions opt;
  opt.policy = ThresholdPolicy::kValley;
  const auto r = choose_threshold(g, opt);
  ASSERT_TRUE(r.ok()) << r.error;
  expect_consistent(g, r);
  // The widest gap is between the spike's largest value and the bulk.
  float spike_max = 0;
  for (float v : g) {
    if (v < 0.1f) spike_max = std::max(spike_max, v);
  }
  EXPECT_EQ(r.threshold, double(spike_max));
  EXPECT_EQ(r.kept, 40u);
}

TEST(Threshold, SingleClusterAndZeroBandwidth) {
  std::vector<float> narrow;
  for (int i = 0; i < 50; ++i) narrow.push_back(0.5f + 0.001f * float(i % 7));
  ThresholdOptions opt;
  opt.bandwidth = 1.0;  // one cluster for sure
  auto r = choose_threshold(narrow, opt);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.centres.size(), 1u);
  EXPECT_EQ(r.threshold, r.centres[0]);  // the paper cuts at the only centre
  opt.policy = ThresholdPolicy::kValley;
  r = choose_threshold(narrow, opt);
  EXPECT_EQ(r.kept, narrow.size());  // valley: nothing to separate, keep all
  expect_consistent(narrow, r);

  std::vector<float> same(20, 0.25f);
  r = choose_threshold(same, ThresholdOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.bandwidth_zero);
  EXPECT_EQ(r.kept, same.size());
  expect_consistent(same, r);
  std::vector<float> three{0.1f, 0.2f, 0.9f};  // k = int(3 * 0.3) -> 1: bandwidth 0
  r = choose_threshold(three, ThresholdOptions{});
  EXPECT_TRUE(r.bandwidth_zero);
  EXPECT_EQ(r.kept, 3u);
}

TEST(Threshold, FloorKeepsTheLargestValues) {
  const auto g = spike_and_bulk(90, 10, 7);
  ThresholdOptions opt;
  opt.policy = ThresholdPolicy::kValley;
  opt.min_keep_count = 25;
  auto r = choose_threshold(g, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.floor_applied);
  EXPECT_GE(r.kept, 25u);
  expect_consistent(g, r);
  std::vector<float> sorted(g.begin(), g.end());
  std::sort(sorted.rbegin(), sorted.rend());
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g[i] >= sorted[24]) {
      EXPECT_TRUE(r.keep[i]);
    }
  }
  opt.min_keep_count = 1;
  opt.min_keep_fraction = 0.5;
  r = choose_threshold(g, opt);
  EXPECT_GE(r.kept, 50u);
  EXPECT_TRUE(r.floor_applied);
  opt.min_keep_fraction = 1.5;
  EXPECT_TRUE(contains(choose_threshold(g, opt).error, "min_keep_fraction"));
}

TEST(Threshold, NeverCutsALayerToZero) {
  std::mt19937 rng(8);
  for (int t = 0; t < 200; ++t) {
    const std::size_t n = 1 + rng() % 64;
    std::vector<float> g(n);
    const int kind = int(rng() % 3);
    for (auto& v : g) {
      v = kind == 0 ? float(rng() % 3) * 0.1f : std::fabs(float(int(rng() % 2000) - 1000) * 1e-3f);
      if (kind == 2) v = 0.0f;
    }
    ThresholdOptions opt;
    opt.policy = rng() % 2 ? ThresholdPolicy::kValley : ThresholdPolicy::kMinCentre;
    const auto r = choose_threshold(g, opt);
    ASSERT_TRUE(r.ok()) << r.error;
    expect_consistent(g, r);
  }
}

TEST(Threshold, RejectsNegativeMagnitudesAndBadOverrides) {
  std::vector<float> g{0.1f, -0.2f, 0.3f};
  EXPECT_EQ(choose_threshold(g, ThresholdOptions{}).error,
            "abs_gamma[1] = -0.20000000298023224 is negative (pass magnitudes)");
  g[1] = 0.2f;
  ThresholdOptions opt;
  opt.bandwidth = -1.0;
  EXPECT_TRUE(contains(choose_threshold(g, opt).error, "bandwidth must be"));
  opt.bandwidth = 0.15;
  auto r = choose_threshold(g, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.bandwidth, 0.15);
}

TEST(Threshold, PolicyNamesRoundTrip) {
  ThresholdPolicy p;
  ASSERT_TRUE(parse_policy("valley", &p));
  EXPECT_EQ(std::string(policy_name(p)), "valley");
  ASSERT_TRUE(parse_policy("min-center", &p));
  EXPECT_EQ(std::string(policy_name(p)), "min-centre");
  EXPECT_FALSE(parse_policy("median", &p));
}

}  // namespace
