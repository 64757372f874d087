#pragma once
// Host-side helpers around the enclave: finding and measuring the enclave
// binary, platform keys, sealing models. Errors are thrown as msprune::Error
// with a message naming the file and the problem.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tee/enclave/keys.h"
#include "tee/enclave/sealed_format.h"

namespace msprune::tee {

// The enclave program: $MSPRUNE_ENCLAVE if set, else `msprune-enclave` next
// to the running executable, else next to $MSPRUNE_BUILD_DIR (tests).
std::filesystem::path find_enclave_binary();

// Measurement of an enclave binary (keys.h); throws if it cannot be read.
Digest measure_enclave(const std::filesystem::path& binary);

// --platform-key FILE, else $MSPRUNE_PLATFORM_KEY; throws with a hint to run
// `msprune keygen` when neither is given.
std::filesystem::path resolve_platform_key(const std::string& flag);
PlatformKey load_platform_key(const std::filesystem::path& path);
// Writes 32 random bytes with mode 0600. Refuses to replace an existing file
// unless `force` (losing a platform key makes every model sealed to it
// unreadable).
void write_new_platform_key(const std::filesystem::path& path, bool force);

bool looks_sealed(std::span<const std::uint8_t> bytes);

// Chunks for sealing a verified .msm of `file_bytes`: the metadata, then each
// op's weight range on its own (so weight streaming can decrypt one op at a
// time), gaps between them, all cut at kSealMaxChunkBytes.
struct SealPlan {
  std::vector<ChunkSpan> chunks;
  Digest content_hash{};
};
SealPlan plan_seal(std::span<const std::uint8_t> msm, const std::string& what);

// Verifies `msm` with the runtime (full hashes) and seals it to `measurement`.
std::vector<std::uint8_t> seal_model(std::span<const std::uint8_t> msm, const Digest& measurement,
                                     const PlatformKey& key, const std::string& what = "model");

std::string hex(std::span<const std::uint8_t> bytes);
// Parses an even-length hex string; throws naming `what` if it is not one.
std::vector<std::uint8_t> parse_hex(const std::string& text, const std::string& what);

}  // namespace msprune::tee
