#include "tee/enclave/keys.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace msprune::tee {
namespace {

constexpr char kInfoKeyId[] = "msprune/key-id/v1";
constexpr char kInfoReport[] = "msprune/report/v1";
constexpr char kInfoEnc[] = "msprune/seal/enc/v1";
constexpr char kInfoMac[] = "msprune/seal/mac/v1";
constexpr char kMeasureDomain[] = "msprune/measurement/v1";  // + its NUL

bool derive_with_measurement(const PlatformKey& secret, const char* label, std::size_t label_len,
                             const Digest& measurement, Bytes salt, Key256* out) {
  std::uint8_t info[64 + 32];
  std::memcpy(info, label, label_len);
  std::memcpy(info + label_len, measurement.data(), measurement.size());
  return hkdf_sha256(secret, salt, Bytes(info, label_len + measurement.size()), *out);
}

}  // namespace

bool platform_key_id(const PlatformKey& secret, KeyId* out) {
  return hkdf_sha256(secret, {}, as_bytes(kInfoKeyId, sizeof kInfoKeyId - 1), *out);
}

bool derive_report_key(const PlatformKey& secret, Key256* out) {
  return hkdf_sha256(secret, {}, as_bytes(kInfoReport, sizeof kInfoReport - 1), *out);
}

bool derive_seal_keys(const PlatformKey& secret, const Digest& measurement, Bytes file_salt,
                      SealKeys* out) {
  return derive_with_measurement(secret, kInfoEnc, sizeof kInfoEnc - 1, measurement, file_salt, &out->enc) &&
         derive_with_measurement(secret, kInfoMac, sizeof kInfoMac - 1, measurement, file_salt, &out->mac);
}

bool measure_enclave_file(const char* path, Digest* out, TeeError* err) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(err, TeeStatus::kInternal, "cannot open enclave binary %s: %s", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(err, TeeStatus::kInternal, "enclave binary %s is not a regular file", path);
  }
  Sha256 h;
  h.update(as_bytes(kMeasureDomain, sizeof kMeasureDomain));
  std::uint8_t size_le[8];
  put_u64(size_le, std::uint64_t(st.st_size));
  h.update(size_le);
  static std::uint8_t buf[1 << 16];  // static: no large stack frame, no heap
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return fail(err, TeeStatus::kInternal, "reading enclave binary %s: %s", path, std::strerror(errno));
    }
    if (n == 0) break;
    h.update(Bytes(buf, std::size_t(n)));
    total += std::uint64_t(n);
  }
  ::close(fd);
  if (total != std::uint64_t(st.st_size))
    return fail(err, TeeStatus::kInternal, "enclave binary %s changed while it was measured", path);
  h.update(as_bytes(kEnclaveSecurityConfig, sizeof kEnclaveSecurityConfig - 1));
  if (!h.finish(out)) return fail(err, TeeStatus::kInternal, "SHA-256 failed");
  return true;
}

bool read_platform_key_file(const char* path, PlatformKey* out, TeeError* err) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(err, TeeStatus::kNoPlatformKey, "cannot open platform key %s: %s", path, std::strerror(errno));
  std::uint8_t buf[kPlatformKeyBytes + 1];
  std::size_t got = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf + got, sizeof buf - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += std::size_t(n);
    if (got == sizeof buf) break;
  }
  ::close(fd);
  if (got != kPlatformKeyBytes) {
    secure_zero(buf, sizeof buf);
    return fail(err, TeeStatus::kNoPlatformKey, "platform key %s must be exactly %zu bytes (%s%zu)", path,
                kPlatformKeyBytes, got > kPlatformKeyBytes ? "more than " : "", got);
  }
  std::memcpy(out->data(), buf, kPlatformKeyBytes);
  secure_zero(buf, sizeof buf);
  return true;
}

}  // namespace msprune::tee
