#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/stats.h"
#include "util/table.h"

namespace fs = std::filesystem;
using namespace msprune;

TEST(Stats, PercentilesInterpolateLikeNumpy) {
  std::vector<double> v{5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(percentile(v, 50), 3.0);
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1.0);
  EXPECT_DOUBLE_EQ(percentile(v, 100), 5.0);
  EXPECT_DOUBLE_EQ(percentile(v, 90), 4.6);  // numpy.percentile([1..5], 90) == 4.6
  Summary s = summarize(v);
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_DOUBLE_EQ(s.p99, 4.96);
  EXPECT_THROW(percentile({}, 50), Error);
}

TEST(AtomicFile, FailedWriteKeepsOldContent) {
  fs::path dir = fs::temp_directory_path() / "msprune_test_atomic";
  fs::remove_all(dir);
  fs::path p = dir / "ckpt.bin";
  atomic_write_bytes(p, "first");
  EXPECT_THROW(atomic_write(p,
                            [](const fs::path& tmp) {
                              std::ofstream(tmp) << "partial";
                              throw Error("disk full (simulated)");
                            }),
               Error);
  auto bytes = read_file_bytes(p);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "first");
  // No temporary file is left behind.
  int files = 0;
  for (auto& e : fs::directory_iterator(dir)) (void)e, ++files;
  EXPECT_EQ(files, 1);
  atomic_write_bytes(p, "second");
  bytes = read_file_bytes(p);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "second");
  fs::remove_all(dir);
}

TEST(AtomicFile, ReadMissingFileNamesIt) {
  try {
    read_file_bytes("/nonexistent/msprune/x.bin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/msprune/x.bin"), std::string::npos);
  }
}

TEST(Table, AlignsColumns) {
  Table t({"layer", "kept", "total"});
  t.add({"conv1", "12", "64"});
  t.add({"conv10", "512", "512"});
  std::string s = t.str();
  EXPECT_NE(s.find("conv1     12     64\n"), std::string::npos) << s;
  EXPECT_EQ(human_count(14.7e6), "14.70M");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
}

TEST(TestEnvironment, CTestPassesSourceAndBuildDirs) {
  // tests/CMakeLists.txt gives every test the source dir (a compile
  // definition) and the build dir (environment); several suites need them.
  ASSERT_NE(std::getenv("MSPRUNE_BUILD_DIR"), nullptr);
  EXPECT_TRUE(fs::exists(fs::path(MSPRUNE_SOURCE_DIR) / "CMakeLists.txt"));
  EXPECT_TRUE(fs::exists(fs::path(std::getenv("MSPRUNE_BUILD_DIR")) / "CMakeCache.txt"));
}
