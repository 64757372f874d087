#include "tee/enclave/status.h"

namespace msprune::tee {

const char* status_name(TeeStatus s) {
  switch (s) {
    case TeeStatus::kOk: return "ok";
    case TeeStatus::kBadMessage: return "bad message";
    case TeeStatus::kBadVersion: return "bad protocol version";
    case TeeStatus::kUnknownType: return "unknown message type";
    case TeeStatus::kTooLarge: return "too large";
    case TeeStatus::kBadRequest: return "bad request";
    case TeeStatus::kNoModel: return "no model loaded";
    case TeeStatus::kSealFormat: return "bad sealed model";
    case TeeStatus::kSealWrongEnclave: return "sealed for another enclave";
    case TeeStatus::kSealWrongKey: return "wrong platform key";
    case TeeStatus::kSealTampered: return "sealed model tampered";
    case TeeStatus::kModelInvalid: return "invalid model";
    case TeeStatus::kNoPlatformKey: return "no platform key";
    case TeeStatus::kOutOfMemory: return "out of enclave memory";
    case TeeStatus::kInternal: return "internal error";
  }
  return "unknown status";
}

}  // namespace msprune::tee
