// `msprune meanshift` end to end: the built binary on text files written
// from golden cases, its --json output compared bit for bit with
// scikit-learn's answer; hostile files get an error naming the line.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <bit>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cluster/golden.h"

namespace fs = std::filesystem;
using namespace msprune::cluster::testing;
using nlohmann::json;

namespace {

struct CliRun {
  int rc = -1;
  std::string out, err;
};

fs::path work_dir() {
  fs::path d = fs::temp_directory_path() / ("msprune_meanshift_cli_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

CliRun msprune(const std::string& args, const std::string& stdin_file = "") {
  const fs::path dir = work_dir();
  std::string cmd = "'" + std::string(MSPRUNE_CLI_PATH) + "' meanshift " + args + " > '" +
                    (dir / "out.txt").string() + "' 2> '" + (dir / "err.txt").string() + "'";
  if (!stdin_file.empty()) cmd += " < '" + stdin_file + "'";
  CliRun r;
  const int st = std::system(cmd.c_str());
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = slurp(dir / "out.txt");
  r.err = slurp(dir / "err.txt");
  return r;
}

fs::path write_text(const std::string& name, const std::string& text) {
  const fs::path p = work_dir() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

// The golden case's X as text, one sample per line.
template <class T>
std::string samples_text(const json& c) {
  const auto x = b64_array<T>(c.at("x_b64").get<std::string>());
  const std::size_t d = c.at("d").get<std::size_t>();
  std::string s = "# written by test_meanshift_cli from " + c.at("name").get<std::string>() + "\n";
  char buf[64];
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::snprintf(buf, sizeof buf, sizeof(T) == 4 ? "%.9g" : "%.17g", double(x[i]));
    s += buf;
    s += (i + 1) % d ? " " : "\n";
  }
  return s;
}

std::string flags_for(const json& c) {
  const json& p = c.at("params");
  std::string f = " --dtype " + c.at("dtype").get<std::string>();
  if (!p.at("bandwidth").is_null()) {
    char b[64];
    std::snprintf(b, sizeof b, "%.17g", p.at("bandwidth").get<double>());
    f += std::string(" --bandwidth ") + b;
  } else {
    char q[64];
    std::snprintf(q, sizeof q, "%.17g", p.at("quantile").get<double>());
    f += std::string(" --quantile ") + q;
    if (!p.at("n_samples").is_null()) f += " --n-samples " + std::to_string(p.at("n_samples").get<long>());
  }
  if (p.at("bin_seeding").get<bool>()) f += " --bin-seeding";
  f += " --min-bin-freq " + std::to_string(p.at("min_bin_freq").get<long>());
  if (!p.at("cluster_all").get<bool>()) f += " --no-cluster-all";
  f += " --max-iter " + std::to_string(p.at("max_iter").get<long>());
  return f;
}

template <class T>
void compare_with_golden(const json& c, const json& got) {
  const json& e = c.at("expected");
  EXPECT_EQ(std::bit_cast<std::uint64_t>(got.at("bandwidth").get<double>()),
            std::bit_cast<std::uint64_t>(hex_double(e.at("bandwidth_hex").get<std::string>())));
  const auto centers = b64_array<T>(e.at("centers_b64").get<std::string>());
  const std::size_t d = c.at("d").get<std::size_t>();
  ASSERT_EQ(got.at("centers").size(), e.at("n_clusters").get<std::size_t>());
  for (std::size_t k = 0; k < got.at("centers").size(); ++k) {
    ASSERT_EQ(got.at("centers")[k].size(), d);
    for (std::size_t j = 0; j < d; ++j) {
      const double v = got.at("centers")[k][j].get<double>();
      EXPECT_EQ(v, double(centers[k * d + j])) << "centre " << k << " coordinate " << j;
    }
  }
  const auto labels = b64_array<std::int32_t>(e.at("labels_b64").get<std::string>());
  const auto got_labels = got.at("labels").get<std::vector<std::int64_t>>();
  ASSERT_EQ(got_labels.size(), labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) ASSERT_EQ(got_labels[i], labels[i]) << "label " << i;
  EXPECT_EQ(got.at("n_iter").get<std::int64_t>(), e.at("n_iter").get<std::int64_t>());
}

class CliGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(CliGolden, JsonMatchesSklearn) {
  const json c = load_json(golden_dir() + "/" + GetParam() + ".json");
  const bool f32 = c.at("dtype") == "float32";
  const fs::path in = write_text(GetParam() + ".txt", f32 ? samples_text<float>(c) : samples_text<double>(c));
  const CliRun r = msprune("--input '" + in.string() + "' --json" + flags_for(c));
  ASSERT_EQ(r.rc, 0) << r.err;
  const json got = json::parse(r.out);
  ASSERT_EQ(got.size(), 4u) << "bandwidth, centers, labels, n_iter";
  if (f32) {
    compare_with_golden<float>(c, got);
  } else {
    compare_with_golden<double>(c, got);
  }
}

INSTANTIATE_TEST_SUITE_P(MeanShift, CliGolden,
                         ::testing::Values("gauss1d_3c_f64_bins", "gauss2d_f32_bins", "orphans_1d_f32",
                                           "n_samples_300_of_3000_f64", "max_iter_2_f32", "radius_edges_f64",
                                           "paper_gamma_256_f32"),
                         [](const auto& info) { return info.param; });

TEST(CliMeanShift, ReadsStdinAndPrintsATable) {
  const json c = load_json(golden_dir() + "/gauss1d_3c_f64_bins.json");
  const fs::path in = write_text("stdin.txt", samples_text<double>(c));
  const CliRun r = msprune("--input - --bin-seeding", in.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("bandwidth:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cluster"), std::string::npos) << r.out;
  const json e = c.at("expected");
  EXPECT_NE(r.out.find(std::to_string(e.at("counts")[0].get<long>())), std::string::npos) << r.out;
}

TEST(CliMeanShift, HostileInputNamesTheLine) {
  struct Bad {
    std::string text, flags, message;
  };
  const std::vector<Bad> cases = {
      {"1 2\n3 4\n5\n", "", "line 3: 1 values, but line 1 has 2"},
      {"0.5\n\n# comment\nabc\n", "", "line 4: 'abc' is not a number"},
      {"0.5\nnan\n", "", "line 2: 'nan' is not finite"},
      {"0.5\n-inf\n", "", "line 2: '-inf' is not finite"},
      {"0.5\n1e400\n", "", "line 2: '1e400' is out of range"},
      {"0.5\n1e39\n", " --dtype float32", "line 2: '1e39' overflows float32"},
      {"0.5\n1.5x\n", "", "line 2: '1.5x' is not a number"},
      {"", "", "no samples"},
      {"\n  \n# only comments\n", "", "no samples"},
      {"0.25\n0.25\n0.25\n", "", "estimated bandwidth is zero"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const fs::path in = write_text("bad" + std::to_string(i) + ".txt", cases[i].text);
    const CliRun r = msprune("--input '" + in.string() + "'" + cases[i].flags);
    EXPECT_EQ(r.rc, 1) << cases[i].text;
    EXPECT_NE(r.err.find("msprune: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(cases[i].message), std::string::npos) << "got: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  const CliRun missing = msprune("--input /nonexistent/samples.txt");
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.err.find("/nonexistent/samples.txt"), std::string::npos) << missing.err;
  const fs::path ok = write_text("ok.txt", "0\n1\n2\n10\n11\n");
  EXPECT_NE(msprune("--input '" + ok.string() + "' --quantile 0.3 --bandwidth 1").rc, 0);
  EXPECT_NE(msprune("--input '" + ok.string() + "' --quantile 2").rc, 0);
  EXPECT_NE(msprune("--input '" + ok.string() + "' --dtype float16").rc, 0);
  EXPECT_NE(msprune("--input '" + ok.string() + "' --min-bin-freq 0").rc, 0);
  const CliRun good = msprune("--input '" + ok.string() + "' --bandwidth 1.5 --json");
  EXPECT_EQ(good.rc, 0) << good.err;
  EXPECT_EQ(json::parse(good.out).at("labels").size(), 5u);
}

}  // namespace
