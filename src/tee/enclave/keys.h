#pragma once
// Emulated key hierarchy and enclave measurement (DESIGN.md section 4).
//
//   platform secret (32 bytes, `msprune keygen`; stands in for the CPU's fused key)
//     ├─ key id      = HKDF(secret, salt="", info="msprune/key-id/v1")[0:8]      (public)
//     ├─ report key  = HKDF(secret, salt="", info="msprune/report/v1")
//     └─ per sealed file (random 32-byte salt in its header):
//          enc key   = HKDF(secret, salt, info="msprune/seal/enc/v1" || measurement)
//          mac key   = HKDF(secret, salt, info="msprune/seal/mac/v1" || measurement)
//
//   measurement = SHA-256("msprune/measurement/v1\0" || u64le(size) || binary
//                         || kEnclaveSecurityConfig)
// The binary is the enclave executable file, read whole (it is linked
// statically apart from glibc, so libcrypto, libseccomp and the runtime are
// covered). Enclave-safe.
#include <cstdint>

#include "tee/enclave/crypto.h"
#include "tee/enclave/status.h"

namespace msprune::tee {

inline constexpr std::size_t kPlatformKeyBytes = 32;
inline constexpr std::size_t kKeyIdBytes = 8;

// The enclave's security configuration (what SGX keeps in SECS attributes):
// part of the measurement, so changing it yields a different identity.
inline constexpr char kEnclaveSecurityConfig[] =
    "msprune-enclave/1;protocol=1;sandbox=seccomp-allowlist/1;page=4096;"
    "paging=aes-256-gcm/fifo;sealing=aes-256-gcm+hkdf-sha256/1;report=hmac-sha256/1";

using PlatformKey = std::array<std::uint8_t, kPlatformKeyBytes>;
using KeyId = std::array<std::uint8_t, kKeyIdBytes>;

struct SealKeys {
  Key256 enc{}, mac{};
};

[[nodiscard]] bool platform_key_id(const PlatformKey& secret, KeyId* out);
[[nodiscard]] bool derive_report_key(const PlatformKey& secret, Key256* out);
[[nodiscard]] bool derive_seal_keys(const PlatformKey& secret, const Digest& measurement,
                                    Bytes file_salt, SealKeys* out);

// Measures the executable at `path` (POSIX open/read; the enclave passes
// "/proc/self/exe" before it locks itself down).
[[nodiscard]] bool measure_enclave_file(const char* path, Digest* out, TeeError* err);

// Reads a platform key file: exactly 32 bytes. POSIX only (enclave-safe).
[[nodiscard]] bool read_platform_key_file(const char* path, PlatformKey* out, TeeError* err);

}  // namespace msprune::tee
