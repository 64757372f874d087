#pragma once
// Shared helpers for the enclave tests: where the enclave binaries are, a
// throw-away platform key, and small .msm models built with the writer.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tee/enclave_client.h"
#include "tee/keys.h"

namespace msprune::tee::testing {

inline std::filesystem::path build_dir() {
  const char* d = std::getenv("MSPRUNE_BUILD_DIR");
  return d ? std::filesystem::path(d) : std::filesystem::current_path();
}
// The production enclave and the test-hook build.
inline std::filesystem::path enclave_bin() { return build_dir() / "msprune-enclave"; }
inline std::filesystem::path test_enclave_bin() { return build_dir() / "msprune-enclave-test"; }

// A temporary directory removed at destruction.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) {
    path = std::filesystem::temp_directory_path() /
           (name + "." + std::to_string(::getpid()) + "." + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Writes a platform key derived from `seed` and returns its path.
inline std::filesystem::path write_key(const TempDir& dir, std::uint8_t seed, PlatformKey* out = nullptr) {
  PlatformKey k;
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = std::uint8_t(seed * 131 + i * 7);
  auto p = dir.path / ("key" + std::to_string(seed));
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(k.data()), std::streamsize(k.size()));
  if (out) *out = k;
  return p;
}

inline EnclaveOptions test_options(const std::filesystem::path& key, double epc_mib = 0) {
  EnclaveOptions o;
  o.binary = test_enclave_bin();
  o.platform_key = key;
  o.epc_mib = epc_mib;
  o.heap_mib = 64;
  o.timeout_s = 30;
  return o;
}

}  // namespace msprune::tee::testing
