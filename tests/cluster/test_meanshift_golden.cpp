// Every golden case from scikit-learn 1.2.1 (tools/gen_meanshift_golden.py),
// compared bit for bit: bandwidth, centres in order, every label, n_iter.
// No tolerances: a difference in the last bit is a failure.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "cluster/golden.h"
#include "cluster/kd_tree.h"
#include "cluster/legacy_rng.h"
#include "cluster/mean_shift.h"
#include "cluster/numpy_sum.h"

using namespace msprune::cluster;
using namespace msprune::cluster::testing;
using nlohmann::json;

namespace {

std::uint32_t bits(float v) { return std::bit_cast<std::uint32_t>(v); }
std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

std::string hexf(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%a", v);
  return b;
}

template <class T>
void check_case(const json& c) {
  const std::size_t d = c.at("d").get<std::size_t>();
  const auto x = b64_array<T>(c.at("x_b64").get<std::string>());
  ASSERT_EQ(x.size(), c.at("n").get<std::size_t>() * d);
  const json& p = c.at("params");
  const json& e = c.at("expected");
  const double want_bw = hex_double(e.at("bandwidth_hex").get<std::string>());

  double bw;
  if (p.at("bandwidth").is_null()) {
    BandwidthOptions bo;
    bo.quantile = p.at("quantile").get<double>();
    if (!p.at("n_samples").is_null()) bo.n_samples = p.at("n_samples").get<std::size_t>();
    const BandwidthResult br = estimate_bandwidth(std::span<const T>(x), d, bo);
    ASSERT_TRUE(br.ok()) << br.error;
    bw = br.bandwidth;
    EXPECT_EQ(bits(bw), bits(want_bw))
        << "bandwidth " << hexf(bw) << " != sklearn " << hexf(want_bw);
  } else {
    bw = p.at("bandwidth").get<double>();
  }

  MeanShiftOptions mo;
  mo.bin_seeding = p.at("bin_seeding").get<bool>();
  mo.min_bin_freq = p.at("min_bin_freq").get<std::int64_t>();
  mo.cluster_all = p.at("cluster_all").get<bool>();
  mo.max_iter = p.at("max_iter").get<std::int64_t>();
  std::vector<double> seeds;
  if (!p.at("seeds_b64").is_null()) seeds = b64_array<double>(p.at("seeds_b64").get<std::string>());
  mo.seeds = seeds;
  const MeanShiftResult r = mean_shift(std::span<const T>(x), d, bw, mo);

  if (!e.at("error").is_null()) {
    const std::string kind = e.at("error").get<std::string>();
    ASSERT_FALSE(r.ok()) << "sklearn failed (" << kind << "), we did not";
    if (kind == "bandwidth_zero") {
      EXPECT_EQ(bw, 0.0);
      EXPECT_NE(r.error.find("bandwidth is zero"), std::string::npos) << r.error;
    } else if (kind == "no_point") {
      EXPECT_NE(r.error.find("no point was within bandwidth"), std::string::npos) << r.error;
    } else if (kind == "no_seeds") {
      EXPECT_NE(r.error.find("no seeds"), std::string::npos) << r.error;
    } else {
      FAIL() << "unknown error kind " << kind;
    }
    return;
  }
  ASSERT_TRUE(r.ok()) << r.error;
  const auto centers = b64_array<T>(e.at("centers_b64").get<std::string>());
  const std::size_t k = e.at("n_clusters").get<std::size_t>();
  ASSERT_EQ(r.n_clusters(), k) << "number of clusters";
  ASSERT_EQ(centers.size(), k * d);
  for (std::size_t i = 0; i < k * d; ++i) {
    const T got = T(r.centers[i]);
    ASSERT_EQ(double(got), r.centers[i]) << "centre value not representable in the input type";
    ASSERT_EQ(bits(got), bits(centers[i]))
        << "centre " << i / d << " coordinate " << i % d << ": " << hexf(double(got))
        << " != sklearn " << hexf(double(centers[i]));
  }
  const auto labels = b64_array<std::int32_t>(e.at("labels_b64").get<std::string>());
  ASSERT_EQ(labels.size(), r.labels.size());
  std::size_t mismatches = 0, first = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != r.labels[i] && mismatches++ == 0) first = i;
  }
  EXPECT_EQ(mismatches, 0u) << "labels differ, first at point " << first << ": " << r.labels[first]
                            << " != sklearn " << labels[first];
  EXPECT_EQ(r.n_iter, e.at("n_iter").get<std::int64_t>()) << "n_iter";
  const auto counts = e.at("counts").get<std::vector<std::int64_t>>();
  EXPECT_EQ(r.counts, counts);
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesSklearnBitForBit) {
  const json c = load_json(golden_dir() + "/" + GetParam() + ".json");
  if (c.at("dtype") == "float32") {
    check_case<float>(c);
  } else {
    check_case<double>(c);
  }
}

INSTANTIATE_TEST_SUITE_P(MeanShift, Golden, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

// --- building blocks ---------------------------------------------------------

class Primitives : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { prim_ = new json(load_json(golden_dir() + "/primitives.json")); }
  static void TearDownTestSuite() { delete prim_; }
  static json* prim_;
};
json* Primitives::prim_ = nullptr;

TEST_F(Primitives, LegacyPermutationMatchesNumpyRandomState) {
  for (const auto& p : prim_->at("permutations")) {
    const auto want = b64_array<std::int64_t>(p.at("perm_b64").get<std::string>());
    const auto got = detail::legacy_permutation(p.at("n").get<std::int64_t>(), p.at("seed").get<std::uint32_t>());
    EXPECT_EQ(got, want) << "seed " << p.at("seed") << " n " << p.at("n");
  }
}

TEST_F(Primitives, KdTreeIndexArrayMatchesSklearn) {
  for (const auto& t : prim_->at("kdtrees")) {
    const auto x = b64_array<double>(t.at("x_b64").get<std::string>());
    const auto want = b64_array<std::int64_t>(t.at("idx_b64").get<std::string>());
    detail::KdTree tree(x, t.at("n").get<std::size_t>(), t.at("d").get<std::size_t>());
    EXPECT_EQ(tree.idx_array(), want) << t.at("name");
  }
}

TEST_F(Primitives, NumpySumsAndMeansMatchBitForBit) {
  for (const auto& s : prim_->at("sums")) {
    const auto n = s.at("n").get<std::int64_t>();
    std::vector<double> a64(static_cast<std::size_t>(n));
    std::vector<float> a32(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      a64[std::size_t(i)] = det_value(i);
      a32[std::size_t(i)] = float(a64[std::size_t(i)]);
    }
    EXPECT_EQ(detail::numpy_sum(a64.data(), a64.size()), hex_double(s.at("sum64"))) << "n=" << n;
    EXPECT_EQ(double(detail::numpy_sum(a32.data(), a32.size())), hex_double(s.at("sum32"))) << "n=" << n;
    double m64;
    float m32;
    detail::numpy_mean_rows(a64.data(), a64.size(), 1, &m64);
    detail::numpy_mean_rows(a32.data(), a32.size(), 1, &m32);
    EXPECT_EQ(m64, hex_double(s.at("mean64"))) << "n=" << n;
    EXPECT_EQ(double(m32), hex_double(s.at("mean32"))) << "n=" << n;
    if (s.contains("mean32_2col")) {
      float m2[2];
      detail::numpy_mean_rows(a32.data(), a32.size() / 2, 2, m2);
      EXPECT_EQ(double(m2[0]), hex_double(s.at("mean32_2col")[0])) << "n=" << n;
      EXPECT_EQ(double(m2[1]), hex_double(s.at("mean32_2col")[1])) << "n=" << n;
    }
  }
}

}  // namespace
