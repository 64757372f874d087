#include "cluster/legacy_rng.h"

#include <numeric>
#include <utility>

namespace msprune::cluster::detail {

namespace {
constexpr int kN = 624;
constexpr int kM = 397;
constexpr std::uint32_t kMatrixA = 0x9908b0dfu;
constexpr std::uint32_t kUpper = 0x80000000u;
constexpr std::uint32_t kLower = 0x7fffffffu;
}  // namespace

LegacyMt19937::LegacyMt19937(std::uint32_t seed) {
  mt_[0] = seed;
  for (int i = 1; i < kN; ++i) {
    mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + std::uint32_t(i);
  }
  pos_ = kN;
}

std::uint32_t LegacyMt19937::next_u32() {
  if (pos_ >= kN) {
    int i = 0;
    for (; i < kN - kM; ++i) {
      std::uint32_t y = (mt_[i] & kUpper) | (mt_[i + 1] & kLower);
      mt_[i] = mt_[i + kM] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
    }
    for (; i < kN - 1; ++i) {
      std::uint32_t y = (mt_[i] & kUpper) | (mt_[i + 1] & kLower);
      mt_[i] = mt_[i + (kM - kN)] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
    }
    std::uint32_t y = (mt_[kN - 1] & kUpper) | (mt_[0] & kLower);
    mt_[kN - 1] = mt_[kM - 1] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
    pos_ = 0;
  }
  std::uint32_t y = mt_[pos_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= (y >> 18);
  return y;
}

std::uint64_t LegacyMt19937::next_u64() {
  const std::uint64_t hi = next_u32();
  const std::uint64_t lo = next_u32();
  return (hi << 32) | lo;
}

std::uint64_t LegacyMt19937::interval(std::uint64_t max) {
  if (max == 0) return 0;
  std::uint64_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  mask |= mask >> 32;
  std::uint64_t value;
  if (max <= 0xffffffffull) {
    while ((value = (next_u32() & mask)) > max) {
    }
  } else {
    while ((value = (next_u64() & mask)) > max) {
    }
  }
  return value;
}

std::vector<std::int64_t> legacy_permutation(std::int64_t n, std::uint32_t seed) {
  std::vector<std::int64_t> perm(n > 0 ? std::size_t(n) : 0);
  std::iota(perm.begin(), perm.end(), std::int64_t(0));
  LegacyMt19937 rng(seed);
  for (std::int64_t i = n - 1; i >= 1; --i) {
    const auto j = std::int64_t(rng.interval(std::uint64_t(i)));
    std::swap(perm[std::size_t(i)], perm[std::size_t(j)]);
  }
  return perm;
}

}  // namespace msprune::cluster::detail
