// The enclave-safety guard: nothing under src/runtime/ includes LibTorch,
// <iostream> or <fstream>, or throws; the built library references no
// exception machinery and no heap allocator at all.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include "source_guard.h"

namespace fs = std::filesystem;

namespace {

using msprune::testing::code_only;

TEST(RuntimeGuard, SourcesAreEnclaveSafe) {
  const fs::path dir = MSPRUNE_RUNTIME_SRC;
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  const std::regex bad_include(R"(#\s*include\s*[<"](torch/|ATen|c10|iostream|fstream)[^>"]*[>"])");
  const std::regex throw_kw(R"(\bthrow\b|\btry\b|\bcatch\b)");
  int files = 0;
  for (const auto& [path, text] : msprune::testing::read_sources(dir)) {
    EXPECT_FALSE(std::regex_search(text, bad_include)) << path << " includes a forbidden header";
    EXPECT_FALSE(std::regex_search(code_only(text), throw_kw)) << path << " uses exceptions";
    ++files;
  }
  EXPECT_GT(files, 10);
}

TEST(RuntimeGuard, LibraryHasNoThrowAndNoHeap) {
  const std::string lib = MSPRUNE_RUNTIME_LIB;
  ASSERT_TRUE(fs::exists(lib)) << lib;
  const std::string cmd = "nm -u " + lib + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string undefined;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) undefined += buf;
  ASSERT_EQ(pclose(p), 0) << undefined;
  ASSERT_NE(undefined.find("memcpy"), std::string::npos) << "nm output looks wrong:\n" << undefined;
  for (const char* sym : {"__cxa_throw", "__cxa_allocate_exception", "__cxa_begin_catch",
                          "_Unwind_Resume", "__gxx_personality_v0", "_Znwm", "_Znam", "malloc",
                          "calloc", "realloc", "free", "_ZdlPv"}) {
    const std::regex word("\\b" + std::string(sym) + "\\b");
    EXPECT_FALSE(std::regex_search(undefined, word)) << "libmsprune_runtime.a references " << sym;
  }
}

}  // namespace
