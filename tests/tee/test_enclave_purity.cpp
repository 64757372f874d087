// The trust boundary in the tree: src/tee/enclave/ (with src/runtime/) is all
// the code msprune-enclave is built from, and it includes nothing from the
// host's half, LibTorch, iostream or fstream, and never throws. The runtime's
// own guard is tests/runtime/test_guard.cpp; scripts/tcb.sh counts the lines.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>

#include "source_guard.h"

namespace fs = std::filesystem;

namespace {

using msprune::testing::code_only;

const fs::path kTee = fs::path(MSPRUNE_SOURCE_DIR) / "src" / "tee";

TEST(EnclavePurity, EnclaveHalfIncludesNoHostCode) {
  const fs::path dir = kTee / "enclave";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  const std::regex bad_system(R"(#\s*include\s*<(torch/|ATen|c10|iostream|fstream|nlohmann/|CLI/)[^>]*>)");
  const std::regex quoted(R"re(#\s*include\s*"([^"]*)")re");
  const std::regex throw_kw(R"(\bthrow\b|\btry\b|\bcatch\b)");
  int files = 0;
  for (const auto& [path, text] : msprune::testing::read_sources(dir)) {
    EXPECT_FALSE(std::regex_search(text, bad_system)) << path << " includes a forbidden header";
    // Our own headers: the enclave half's and the runtime's, nothing else
    // (not tee/host/, util/, export/: those are host code).
    for (std::sregex_iterator it(text.begin(), text.end(), quoted), end; it != end; ++it) {
      const std::string inc = (*it)[1];
      EXPECT_TRUE(inc.rfind("tee/enclave/", 0) == 0 || inc.rfind("runtime/", 0) == 0)
          << path << " includes \"" << inc << "\" from outside the enclave half and the runtime";
    }
    EXPECT_FALSE(std::regex_search(code_only(text), throw_kw)) << path << " uses exceptions";
    ++files;
  }
  EXPECT_GT(files, 10);
}

// What the build links into the enclave (CMake's SOURCES of msprune-enclave and
// of msprune_tee_core, relative to src/tee/) lies in enclave/, so reading that
// folder and src/runtime/ is reading all of the trusted code we wrote.
TEST(EnclavePurity, EnclaveIsBuiltFromTheEnclaveFolder) {
  std::stringstream list(MSPRUNE_ENCLAVE_SOURCES);
  std::string src;
  int n = 0;
  while (std::getline(list, src, '|')) {
    if (src.empty()) continue;
    const fs::path p = fs::path(src).is_absolute() ? fs::path(src) : kTee / src;
    const fs::path rel = fs::relative(fs::weakly_canonical(p), fs::weakly_canonical(kTee / "enclave"));
    EXPECT_FALSE(rel.empty() || *rel.begin() == "..") << src << " is linked into the enclave but is not in src/tee/enclave/";
    EXPECT_TRUE(fs::exists(p)) << p;
    ++n;
  }
  EXPECT_GE(n, 9) << MSPRUNE_ENCLAVE_SOURCES;
}

}  // namespace
