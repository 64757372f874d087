#pragma once
// The sealed model format (.sealed): a .msm encrypted in chunks with
// AES-256-GCM under keys bound to a platform secret and an enclave
// measurement. Byte-level spec: docs/tee.md, "Sealed model format".
//
//   offset size  field (little-endian)
//   0      8     magic "MSSEALED"
//   8      4     format version (1)
//   12     4     header bytes H = 144 + 16*chunk_count + 32
//   16     32    enclave measurement the model is sealed to
//   48     32    model hash: the .msm content hash (its meta_sha256)
//   80     32    random salt (per file; HKDF salt of the file keys)
//   112    8     platform key id
//   120    8     plaintext bytes P
//   128    4     chunk count C (1..65536)
//   132    4     flags (0)
//   136    8     reserved (0)
//   144    16*C  chunk table: {u64 offset, u64 length} tiling [0, P) in order
//   H-32   32    header MAC = HMAC-SHA256(mac key, bytes [0, H-32))
//   H      ...   per chunk i: ciphertext (length_i) || GCM tag (16)
// Total size = H + P + 16*C exactly. Chunk i: IV = u32le(i) || 8 zero bytes
// (unique: the key is per file), AAD = header MAC || u32le(i) || u64le(offset)
// || u64le(length). So chunks cannot be reordered, dropped, or moved between
// files, and no header byte can change without failing the MAC.
//
// Enclave-safe: no exceptions, no allocation.
#include <cstdint>
#include <span>

#include "tee/enclave/crypto.h"
#include "tee/enclave/keys.h"
#include "tee/enclave/status.h"

namespace msprune::tee {

inline constexpr char kSealMagic[8] = {'M', 'S', 'S', 'E', 'A', 'L', 'E', 'D'};
inline constexpr std::uint32_t kSealVersion = 1;
inline constexpr std::size_t kSealFixedBytes = 144;
inline constexpr std::size_t kSealMacBytes = 32;
inline constexpr std::uint32_t kSealMaxChunks = 1u << 16;
inline constexpr std::uint64_t kSealMaxChunkBytes = std::uint64_t(16) << 20;

struct ChunkSpan {
  std::uint64_t offset = 0, length = 0;
};

// Header bytes and total sealed size for a plaintext cut into `chunks` chunks.
std::size_t sealed_header_bytes(std::size_t chunks);
std::size_t sealed_total_bytes(std::size_t plaintext_bytes, std::size_t chunks);

// Seals `plaintext` cut as `chunks` (must tile it, each 1..kSealMaxChunkBytes)
// into `out` (exactly sealed_total_bytes() long). `salt` is 32 fresh random
// bytes; `model_hash` is the .msm content hash (its meta_sha256), which the
// enclave checks after decryption and names in its reports.
[[nodiscard]] bool seal_into(Bytes plaintext, std::span<const ChunkSpan> chunks, const Digest& model_hash,
                             const Digest& measurement, const PlatformKey& secret, Bytes salt, MutBytes out,
                             TeeError* err);

// A sealed blob whose header has been authenticated.
struct SealedModel {
  Bytes blob;
  std::size_t header_bytes = 0;
  std::uint32_t chunk_count = 0;
  std::uint64_t plaintext_bytes = 0;
  Digest measurement{}, model_hash{}, header_mac{};

  ChunkSpan chunk(std::uint32_t i) const;
  // Ciphertext of chunk i (length bytes) followed by its tag.
  const std::uint8_t* chunk_cipher(std::uint32_t i) const;
  // Index of the chunk that starts at plaintext offset `off`, or -1.
  std::int64_t chunk_starting_at(std::uint64_t off) const;
};

// Checks, in this order, and reports the first failure precisely: size and
// magic, version, header size, measurement (other enclave build), key id
// (other platform key), header MAC (tampering), chunk table, total size.
// Derives the file keys into `keys`. Touches no ciphertext.
[[nodiscard]] bool open_sealed(Bytes blob, const Digest& my_measurement, const PlatformKey& secret,
                               SealedModel* out, SealKeys* keys, TeeError* err);

// Reads the unauthenticated header fields for display (host side, `inspect`).
[[nodiscard]] bool peek_sealed_header(Bytes blob, SealedModel* out, TeeError* err);

// Decrypts and authenticates chunk i into dst (chunk(i).length bytes). With a
// bounce buffer, OpenSSL writes only into `bounce` and plaintext is copied to
// dst with memcpy (dst may then live in paged EPC memory: faults happen in
// memcpy, never inside OpenSSL). On a bad tag dst is zeroed and false returned.
// `gcm` must be keyed with the file's enc key. dst may be null (verify only;
// needs a bounce buffer). If `hash` is given, the plaintext is fed to it.
[[nodiscard]] bool decrypt_chunk(const SealedModel& m, AesGcm& gcm, std::uint32_t i, std::uint8_t* dst,
                                 std::uint8_t* bounce, std::size_t bounce_bytes, Sha256* hash, TeeError* err);

}  // namespace msprune::tee
