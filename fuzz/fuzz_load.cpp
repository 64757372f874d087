// libFuzzer target over the .msm loader/verifier: every input must load or be
// rejected with a status, never crash, never read out of bounds (ASan/UBSan).
// Hash checks are off so the fuzzer reaches the structural checks; each input
// is tried resident and streaming, and with full hashing (the early exits).
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "runtime/runtime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace rt = msprune::rt;
  // The loader requires 4-byte aligned bytes in resident mode; give it 64.
  uint8_t* buf = static_cast<uint8_t*>(std::aligned_alloc(64, (size + 64) / 64 * 64));
  if (size) std::memcpy(buf, data, size);
  rt::Model m;
  rt::Error err;
  rt::LoadOptions lo;
  lo.hash = rt::HashCheck::kNone;
  if (m.load(buf, size, lo, &err) == rt::Status::kOk) {
    (void)m.arena_bytes();
    (void)m.total_macs();
  }
  lo.weights = rt::WeightMode::kStreaming;
  (void)m.load(buf, size, lo, &err);
  (void)m.load(buf, size, rt::LoadOptions{}, &err);
  std::free(buf);
  return 0;
}
