// bench_runtime_rss MODEL.msm: loads a model the way an enclave would (one
// aligned buffer, one arena), runs 5 inferences and prints
// "<baseline VmHWM KiB> <peak VmHWM KiB> <weights bytes> <arena bytes>".
// Links only the runtime, so the baseline is the C/C++ runtime's own pages.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace rt = msprune::rt;

namespace {
long vm_kib(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  return -1;
}

int run(const char* path) {
  const long base = vm_kib("VmHWM:");
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return 1;
  const size_t n = size_t(f.tellg());
  f.seekg(0);
  uint8_t* bytes = static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64 + 64));
  if (!bytes || !f.read(reinterpret_cast<char*>(bytes), std::streamsize(n))) return 1;
  rt::Model m;
  rt::Error err;
  if (m.load(bytes, n, {}, &err) != rt::Status::kOk) return 1;
  void* arena = std::aligned_alloc(64, (m.arena_bytes() + 63) / 64 * 64 + 64);
  if (!arena) return 1;
  rt::Interpreter in;
  if (in.init(m, arena, m.arena_bytes(), {}, &err) != rt::Status::kOk) return 1;
  std::vector<float> x(size_t(m.input_channels()) * m.input_height() * m.input_width(), 0.25f),
      y(m.num_classes());
  for (int i = 0; i < 5; ++i)
    if (in.invoke(x.data(), y.data()) != rt::Status::kOk) return 1;
  std::printf("%ld %ld %llu %llu\n", base, vm_kib("VmHWM:"), (unsigned long long)m.weights_bytes(),
              (unsigned long long)m.arena_bytes());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bench_runtime_rss MODEL.msm\n");
    return 2;
  }
  return run(argv[1]);
}
