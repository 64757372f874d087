#pragma once
// Status codes crossing the enclave boundary (ECALL error replies) and the
// enclave-side error carrier. Enclave-safe: no exceptions, fixed-size message.
#include <cstdarg>
#include <cstdint>
#include <cstdio>

namespace msprune::tee {

enum class TeeStatus : std::uint32_t {
  kOk = 0,
  kBadMessage = 1,      // framing: magic, lengths, fragments, truncation
  kBadVersion = 2,      // protocol version mismatch
  kUnknownType = 3,     // message type not understood
  kTooLarge = 4,        // over a declared limit
  kBadRequest = 5,      // payload malformed for its type
  kNoModel = 6,         // infer/report before a successful load
  kSealFormat = 7,      // not a sealed model / unsupported format / bad sizes
  kSealWrongEnclave = 8,  // sealed for another measurement
  kSealWrongKey = 9,    // sealed under another platform key
  kSealTampered = 10,   // header MAC, chunk tag or model hash failed
  kModelInvalid = 11,   // the runtime refused the (authentic) model
  kNoPlatformKey = 12,  // enclave started without a platform key
  kOutOfMemory = 13,    // enclave heap too small for model + arena
  kInternal = 14,
};

const char* status_name(TeeStatus s);

struct TeeError {
  TeeStatus status = TeeStatus::kOk;
  char message[320] = {0};
};

// Sets err (if not null) and returns false, so callers can `return fail(...)`.
inline bool fail(TeeError* err, TeeStatus s, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
inline bool fail(TeeError* err, TeeStatus s, const char* fmt, ...) {
  if (err != nullptr) {
    err->status = s;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return false;
}

}  // namespace msprune::tee
