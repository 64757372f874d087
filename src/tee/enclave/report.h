#pragma once
// Attestation report (emulated EREPORT): binds the enclave measurement, the
// hash of the loaded model and a caller nonce under an HMAC keyed with the
// report key (derived from the platform secret, see keys.h). 192 bytes:
//
//   offset size field (little-endian)
//   0      8    magic "MSREPORT"
//   8      4    version (1)
//   12     4    flags: bit 0 = a model is loaded, bit 1 = weight streaming
//   16     32   enclave measurement
//   48     32   model hash (SHA-256 of the plaintext .msm; zero if none)
//   80     4    nonce length N (1..64)
//   84     64   nonce (N bytes, then zeros)
//   148    8    EPC limit in bytes (0 = unlimited; informational)
//   156    4    reserved (0)
//   160    32   HMAC-SHA256(report key, bytes [0, 160))
//
// Enclave-safe.
#include <cstdint>

#include "tee/enclave/crypto.h"
#include "tee/enclave/keys.h"
#include "tee/enclave/status.h"

namespace msprune::tee {

inline constexpr std::size_t kReportBytes = 192;
inline constexpr std::size_t kReportMacOffset = 160;
inline constexpr std::size_t kMaxNonceBytes = 64;
inline constexpr std::uint32_t kReportFlagModel = 1, kReportFlagStreaming = 2;

struct Report {
  std::uint32_t version = 1, flags = 0;
  Digest measurement{}, model_hash{};
  std::uint32_t nonce_bytes = 0;
  std::uint8_t nonce[kMaxNonceBytes] = {};
  std::uint64_t epc_limit_bytes = 0;
  Digest mac{};
};

// Serialises `r` (mac ignored) and appends the MAC under `report_key`.
[[nodiscard]] bool build_report(const Report& r, const Key256& report_key, std::uint8_t out[kReportBytes],
                                TeeError* err);

// Parses the fields (no MAC check): size, magic, version, nonce length, reserved.
[[nodiscard]] bool parse_report(Bytes in, Report* out, TeeError* err);

// Parses and checks the MAC under the key derived from `secret`.
[[nodiscard]] bool verify_report(Bytes in, const PlatformKey& secret, Report* out, TeeError* err);

}  // namespace msprune::tee
