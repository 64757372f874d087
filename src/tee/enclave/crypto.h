#pragma once
// Thin, allocation-aware wrappers over OpenSSL 3's libcrypto (EVP), used on
// both sides of the enclave boundary. Enclave-safe: no exceptions, no RTTI, no
// iostream; every function returns false on failure instead of throwing.
//
// Allocation rules (they matter inside the enclave, see docs/tee.md):
//  * AesGcm::init() allocates (EVP_CIPHER_CTX_new + cipher fetch). After it,
//    begin/update/finish on the same object do not allocate: they re-use the
//    provider context and only set a new IV. The EPC fault handler relies on
//    this; the enclave counts allocations made inside the handler (must be 0).
//  * sha256(), hmac_sha256() and hkdf_sha256() allocate (EVP_MD/EVP_MAC/EVP_KDF
//    contexts); the enclave only calls them from ECALL handlers, never from
//    the fault handler.
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

#include <openssl/types.h>

namespace msprune::tee {

using Bytes = std::span<const std::uint8_t>;
using MutBytes = std::span<std::uint8_t>;
using Digest = std::array<std::uint8_t, 32>;
using Key256 = std::array<std::uint8_t, 32>;

inline constexpr std::size_t kGcmIvBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;

inline Bytes as_bytes(const char* s, std::size_t n) {
  return {reinterpret_cast<const std::uint8_t*>(s), n};
}

// SHA-256 over the concatenation of `parts`.
[[nodiscard]] bool sha256(std::initializer_list<Bytes> parts, Digest* out);

// Incremental SHA-256 (for files read in pieces).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }
  void update(Bytes data);
  // Returns false if anything failed since construction.
  [[nodiscard]] bool finish(Digest* out);

 private:
  EVP_MD_CTX* ctx_ = nullptr;
  bool ok_ = false;
};

// HMAC-SHA256(key, concatenation of `parts`).
[[nodiscard]] bool hmac_sha256(Bytes key, std::initializer_list<Bytes> parts, Digest* out);

// HKDF-SHA256 (RFC 5869, extract-and-expand) into `out` (1..8160 bytes).
[[nodiscard]] bool hkdf_sha256(Bytes ikm, Bytes salt, Bytes info, MutBytes out);

// Constant-time comparison (sizes must match, else false).
[[nodiscard]] bool ct_equal(Bytes a, Bytes b);

// Zeroes memory in a way the compiler cannot drop.
void secure_zero(void* p, std::size_t n);

// Cryptographically secure random bytes (the enclave calls it before lockdown).
[[nodiscard]] bool random_bytes(MutBytes out);

// AES-256-GCM with one reusable context and a fixed key. Use as
//   begin(iv, encrypt) -> aad(...)* -> update(...)* -> finish_encrypt/finish_decrypt.
// A 12-byte IV must never repeat under one key; callers derive IVs from
// unique counters (chunk index under a per-file key; page index + eviction
// counter under a per-instance paging key).
class AesGcm {
 public:
  AesGcm() = default;
  ~AesGcm();
  AesGcm(const AesGcm&) = delete;
  AesGcm& operator=(const AesGcm&) = delete;

  // Sets the key; the first call allocates the context (later calls re-key
  // the same context without allocating).
  [[nodiscard]] bool init(Bytes key32);
  [[nodiscard]] bool ready() const { return ctx_ != nullptr; }

  [[nodiscard]] bool begin(Bytes iv12, bool encrypt);
  [[nodiscard]] bool aad(Bytes data);
  // `out` must have room for in.size() bytes; may alias `in` exactly.
  [[nodiscard]] bool update(Bytes in, std::uint8_t* out);
  [[nodiscard]] bool finish_encrypt(std::uint8_t tag[kGcmTagBytes]);
  // False when the tag does not verify (or on any error).
  [[nodiscard]] bool finish_decrypt(const std::uint8_t tag[kGcmTagBytes]);

 private:
  EVP_CIPHER_CTX* ctx_ = nullptr;
  EVP_CIPHER* cipher_ = nullptr;
  bool encrypting_ = false;
};

// Little-endian helpers for the wire and file formats.
inline void put_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = std::uint8_t(v);
  p[1] = std::uint8_t(v >> 8);
}
inline void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::uint8_t(v >> (8 * i));
}
inline void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = std::uint8_t(v >> (8 * i));
}
inline std::uint16_t get_u16(const std::uint8_t* p) { return std::uint16_t(p[0] | (p[1] << 8)); }
inline std::uint32_t get_u32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Lower-case hex of `b` into `out` (2*b.size() chars, no terminator).
void to_hex(Bytes b, char* out);

}  // namespace msprune::tee
