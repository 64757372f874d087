#pragma once
// What the emulated enclave needs on its heap to hold a model. Enclave-safe
// (the runtime's header only), so the enclave's model load
// (enclave_main.cpp) and the host's figures use this one formula: the
// enclave decrypts the .msm into its heap (all of it with resident weights,
// the default; the metadata only when streaming), then puts the runtime's
// arena at the next 64-byte boundary:
//
//   heap_bytes = round_up_64(.msm bytes) + arena_bytes (resident weights)
//
// This is the figure `msprune inspect` prints as "enclave heap" and what
// `msprune prune --fit-epc SIZE` compares against SIZE. (With
// --stream-weights the enclave keeps only the metadata plus a staging buffer;
// that mode is not what this measures.)
#include <cstdint>
#include <limits>

#include "runtime/runtime.h"

namespace msprune::tee {

// round_up_64(model_bytes) + arena_bytes, saturating at UINT64_MAX.
inline uint64_t enclave_heap_bytes(uint64_t model_bytes, uint64_t arena_bytes) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (model_bytes > kMax - 63) return kMax;
  const uint64_t model_span = (model_bytes + 63) / 64 * 64;
  return arena_bytes > kMax - model_span ? kMax : model_span + arena_bytes;
}

// The same for a model loaded with resident weights (rt::LoadOptions'
// default): its file bytes and its arena. 0 if `m` is not loaded.
inline uint64_t enclave_heap_bytes(const rt::Model& m) {
  if (!m.loaded()) return 0;
  return enclave_heap_bytes(m.file_bytes(), uint64_t(m.arena_bytes()));
}

}  // namespace msprune::tee
