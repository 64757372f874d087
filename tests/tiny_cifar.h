#pragma once
// A CIFAR-10 folder in the official binary layout for tests of the real
// binary: data_batch_1..5.bin and test_batch.bin, `per_file` records each.
// Plain: label r % 10, uniform random pixels (nothing to learn). Learnable:
// a random label and pixels brightening with it (something to learn).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace msprune::testing {

inline void write_tiny_cifar(const std::filesystem::path& dir, int per_file, bool learnable) {
  std::filesystem::create_directories(dir);
  std::mt19937 rng(5);
  for (std::string f : {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"}) {
    std::ofstream o(dir / (f + ".bin"), std::ios::binary);
    for (int r = 0; r < per_file; ++r) {
      const int label = learnable ? int(rng() % 10) : r % 10;
      o.put(char(label));
      for (int k = 0; k < 3072; ++k)
        o.put(learnable ? char(std::min<int>(255, label * 20 + int(rng() % 60))) : char(rng() & 0xff));
    }
  }
}

}  // namespace msprune::testing
