#pragma once
// SHA-256 (FIPS 180-4), small and self-contained: the runtime uses it for the
// .msm content hashes; the writer uses it to produce them.
#include <cstddef>
#include <cstdint>

namespace msprune::rt {

class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(const void* data, size_t n);
  // Writes the 32-byte digest; the object must be reset() before reuse.
  void final(uint8_t out[32]);

  static void hash(const void* data, size_t n, uint8_t out[32]);

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  uint64_t total_ = 0;
  size_t used_ = 0;
};

}  // namespace msprune::rt
