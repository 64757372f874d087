#pragma once
// Helpers for the tests that keep a folder of trusted code pure
// (tests/runtime/test_guard.cpp, tests/tee/test_enclave_purity.cpp): they
// read the sources as text, so they also cover headers no target compiles.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace msprune::testing {

// Source text without comments and string literals (a string becomes "").
inline std::string code_only(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "//") == 0) {
      while (i < s.size() && s[i] != '\n') ++i;
      out += '\n';
    } else if (s.compare(i, 2, "/*") == 0) {
      i = s.find("*/", i + 2);
      if (i == std::string::npos) break;
      ++i;
    } else if (s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i)
        if (s[i] == '\\') ++i;
      out += "\"\"";
    } else {
      out += s[i];
    }
  }
  return out;
}

struct SourceFile {
  std::filesystem::path path;
  std::string text;
};

// Every .h, .cpp and .inc under `dir`, with its text.
inline std::vector<SourceFile> read_sources(const std::filesystem::path& dir) {
  std::vector<SourceFile> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string ext = e.path().extension();
    if (ext != ".h" && ext != ".cpp" && ext != ".inc") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back({e.path(), ss.str()});
  }
  return out;
}

}  // namespace msprune::testing
