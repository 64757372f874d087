// libFuzzer target: load (no hash check) and, if the model verifies and its
// arena fits a small budget, run it: resident, and streaming with a fetch
// that serves the input's own payload. Inference on a verified model must
// never touch memory outside the model bytes, the arena and the staging buffer.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/runtime.h"

namespace {

constexpr size_t kArenaBudget = 4u << 20;  // 4 MiB: bounds work per input

struct Src {
  const uint8_t* payload;
  uint64_t size;
};

int fetch(void* ctx, uint32_t, uint64_t off, uint64_t bytes, void* dst) {
  const Src* s = static_cast<const Src*>(ctx);
  if (off > s->size || bytes > s->size - off) return 1;
  std::memcpy(dst, s->payload + off, bytes);
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace rt = msprune::rt;
  uint8_t* buf = static_cast<uint8_t*>(std::aligned_alloc(64, (size + 64) / 64 * 64));
  if (size) std::memcpy(buf, data, size);
  for (int mode = 0; mode < 2; ++mode) {
    rt::Model m;
    rt::Error err;
    rt::LoadOptions lo;
    lo.hash = rt::HashCheck::kNone;
    lo.weights = mode == 0 ? rt::WeightMode::kResident : rt::WeightMode::kStreaming;
    if (m.load(buf, size, lo, &err) != rt::Status::kOk) continue;
    const size_t need = m.arena_bytes();
    if (need > kArenaBudget) continue;
    const uint64_t per_image = uint64_t(m.input_channels()) * m.input_height() * m.input_width();
    if (per_image > (1u << 20) || m.total_macs() > (uint64_t(1) << 26)) continue;
    void* arena = std::aligned_alloc(64, need ? (need + 63) / 64 * 64 : 64);
    Src src{buf + m.metadata_bytes(), size > m.metadata_bytes() ? size - m.metadata_bytes() : 0};
    rt::InterpreterOptions io;
    io.fetch = fetch;
    io.fetch_ctx = &src;
    rt::Interpreter in;
    if (in.init(m, arena, need, io, &err) == rt::Status::kOk) {
      std::vector<float> x(per_image, 0.5f), y(m.num_classes());
      std::vector<uint8_t> img(per_image, 200);
      (void)in.invoke(x.data(), y.data(), &err);
      (void)in.invoke_u8(img.data(), y.data(), &err);
    }
    std::free(arena);
  }
  std::free(buf);
  return 0;
}
