#include "tee/enclave/report.h"

#include <cstring>

namespace msprune::tee {

static constexpr char kReportMagic[8] = {'M', 'S', 'R', 'E', 'P', 'O', 'R', 'T'};

bool build_report(const Report& r, const Key256& report_key, std::uint8_t out[kReportBytes], TeeError* err) {
  if (r.nonce_bytes == 0 || r.nonce_bytes > kMaxNonceBytes)
    return fail(err, TeeStatus::kBadRequest, "nonce must be 1..%zu bytes, got %u", kMaxNonceBytes, r.nonce_bytes);
  std::memset(out, 0, kReportBytes);
  std::memcpy(out, kReportMagic, 8);
  put_u32(out + 8, 1);
  put_u32(out + 12, r.flags);
  std::memcpy(out + 16, r.measurement.data(), 32);
  std::memcpy(out + 48, r.model_hash.data(), 32);
  put_u32(out + 80, r.nonce_bytes);
  std::memcpy(out + 84, r.nonce, r.nonce_bytes);
  put_u64(out + 148, r.epc_limit_bytes);
  Digest mac;
  if (!hmac_sha256(report_key, {Bytes(out, kReportMacOffset)}, &mac))
    return fail(err, TeeStatus::kInternal, "HMAC failed");
  std::memcpy(out + kReportMacOffset, mac.data(), 32);
  return true;
}

bool parse_report(Bytes in, Report* out, TeeError* err) {
  if (in.size() != kReportBytes)
    return fail(err, TeeStatus::kBadRequest, "report must be %zu bytes, got %zu", kReportBytes, in.size());
  const std::uint8_t* p = in.data();
  if (std::memcmp(p, kReportMagic, 8) != 0) return fail(err, TeeStatus::kBadRequest, "not a report (bad magic)");
  Report r;
  r.version = get_u32(p + 8);
  if (r.version != 1) return fail(err, TeeStatus::kBadRequest, "report version %u not supported", r.version);
  r.flags = get_u32(p + 12);
  if ((r.flags & ~(kReportFlagModel | kReportFlagStreaming)) != 0)
    return fail(err, TeeStatus::kBadRequest, "report has unknown flags 0x%x", r.flags);
  std::memcpy(r.measurement.data(), p + 16, 32);
  std::memcpy(r.model_hash.data(), p + 48, 32);
  r.nonce_bytes = get_u32(p + 80);
  if (r.nonce_bytes == 0 || r.nonce_bytes > kMaxNonceBytes)
    return fail(err, TeeStatus::kBadRequest, "report nonce length %u outside 1..%zu", r.nonce_bytes, kMaxNonceBytes);
  std::memcpy(r.nonce, p + 84, r.nonce_bytes);
  for (std::size_t i = 84 + r.nonce_bytes; i < 148; ++i)
    if (p[i] != 0) return fail(err, TeeStatus::kBadRequest, "report nonce padding is not zero");
  r.epc_limit_bytes = get_u64(p + 148);
  if (get_u32(p + 156) != 0) return fail(err, TeeStatus::kBadRequest, "report reserved field is not zero");
  std::memcpy(r.mac.data(), p + kReportMacOffset, 32);
  *out = r;
  return true;
}

bool verify_report(Bytes in, const PlatformKey& secret, Report* out, TeeError* err) {
  Report r;
  if (!parse_report(in, &r, err)) return false;
  Key256 key;
  Digest mac;
  bool ok = derive_report_key(secret, &key) && hmac_sha256(key, {in.first(kReportMacOffset)}, &mac);
  secure_zero(key.data(), key.size());
  if (!ok) return fail(err, TeeStatus::kInternal, "HMAC failed");
  if (!ct_equal(mac, r.mac))
    return fail(err, TeeStatus::kSealTampered,
                "report MAC does not verify (report altered, or made under another platform key)");
  *out = r;
  return true;
}

}  // namespace msprune::tee
