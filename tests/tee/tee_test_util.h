#pragma once
// Shared helpers for the enclave tests: where the enclave binaries are, a
// throw-away platform key, and small .msm models built with the writer.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "export/msm_writer.h"
#include "tee/host/enclave_client.h"
#include "tee/enclave/keys.h"
#include "tee/enclave/protocol.h"

namespace msprune::tee::testing {

inline std::filesystem::path build_dir() {
  if (const char* d = std::getenv("MSPRUNE_BUILD_DIR"); d && *d) return d;
  return MSPRUNE_TEE_TEST_BUILD_DIR;  // tests/tee/CMakeLists.txt
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

// One packet: a frame header with these fields (true or not) and `body`.
inline std::vector<std::uint8_t> frame(std::uint16_t type, std::uint32_t seq, std::uint64_t total, std::uint64_t off,
                                       std::vector<std::uint8_t> body) {
  std::vector<std::uint8_t> p(kFrameHeaderBytes);
  FrameHeader h;
  h.type = type;
  h.seq = seq;
  h.fragment_bytes = std::uint32_t(body.size());
  h.total_bytes = total;
  h.offset = off;
  encode_frame_header(h, p.data());
  p.insert(p.end(), body.begin(), body.end());
  return p;
}

// A small CIFAR-shaped CNN with random weights: conv3x3(3->16)+ReLU, max-pool,
// conv3x3(16->32)+ReLU, max-pool, conv1x1(32->32)+ReLU, global average pool,
// linear(32->10). Its heap (weights + arena) is about 200 KiB, so a 16-page EPC
// makes it page. `weights` receives every float written into the model.
inline std::vector<std::uint8_t> tiny_model(std::uint32_t seed, std::vector<float>* weights = nullptr) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  auto rnd = [&](std::size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    if (weights) weights->insert(weights->end(), v.begin(), v.end());
    return v;
  };
  msm::Builder b(3, 32, 32, {0.49f, 0.48f, 0.45f}, {0.25f, 0.24f, 0.26f});
  auto x = b.input();
  x = b.conv2d(x, 16, 3, 1, 1, rnd(16 * 3 * 9), rnd(16), true);
  x = b.max_pool(x, 2, 2);
  x = b.conv2d(x, 32, 3, 1, 1, rnd(32 * 16 * 9), rnd(32), true);
  x = b.max_pool(x, 2, 2);
  x = b.conv2d(x, 32, 1, 1, 0, rnd(32 * 32), rnd(32), true);
  x = b.global_avg_pool(x);
  x = b.linear(x, 10, rnd(10 * 32), rnd(10));
  return b.finish(x);
}

// `n` random CIFAR-shaped images (uint8 CHW).
inline std::vector<std::uint8_t> random_images(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> v(n * 3 * 32 * 32);
  for (auto& p : v) p = std::uint8_t(rng());
  return v;
}

}  // namespace msprune::tee::testing
