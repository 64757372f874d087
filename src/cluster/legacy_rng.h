#pragma once
// numpy's legacy RandomState(seed).permutation(n), bit for bit: MT19937
// seeded with init_genrand(seed), then numpy's Fisher-Yates shuffle of
// arange(n) from the back, each swap partner drawn by `random_interval`
// (mask to the next power of two minus one, reject values above the bound).
// scikit-learn's estimate_bandwidth(n_samples=...) draws its subsample with
// check_random_state(0).permutation(n)[:n_samples].
#include <cstdint>
#include <vector>

namespace msprune::cluster::detail {

class LegacyMt19937 {
 public:
  explicit LegacyMt19937(std::uint32_t seed);
  std::uint32_t next_u32();
  std::uint64_t next_u64();  // numpy: (hi << 32) | lo, two draws
  // Uniform integer in [0, max] (numpy's random_interval).
  std::uint64_t interval(std::uint64_t max);

 private:
  std::uint32_t mt_[624];
  int pos_;
};

// RandomState(seed).permutation(n).
std::vector<std::int64_t> legacy_permutation(std::int64_t n, std::uint32_t seed);

}  // namespace msprune::cluster::detail
