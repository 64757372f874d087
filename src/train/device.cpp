#include "train/device.h"

#include <dlfcn.h>

#include <fstream>

#include "util/error.h"

namespace msprune::train {

torch::Device pick_device(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw Error("--device " + name + ": this LibTorch build or machine has no CUDA device");
    try {
      return torch::Device(name);
    } catch (const std::exception&) {
      throw Error("--device " + name + ": not a valid CUDA device name");
    }
  }
  throw Error("--device must be auto, cpu or cuda[:N], got '" + name + "'");
}

void set_threads(int n) {
  if (n < 1) throw Error("--threads must be at least 1");
  torch::set_num_threads(n);
  using SetFn = void (*)(int);
  if (auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
}

std::string blas_library() {
  std::ifstream maps("/proc/self/maps");
  std::string line, found;
  while (std::getline(maps, line)) {
    auto pos = line.find('/');
    if (pos == std::string::npos) continue;
    std::string path = line.substr(pos);
    std::string base = path.substr(path.rfind('/') + 1);
    if (base.find("openblas") != std::string::npos || base.rfind("libblas", 0) == 0 ||
        base.find("mkl_rt") != std::string::npos || base.find("blis") != std::string::npos) {
      found = path;
      if (base.find("openblas") != std::string::npos) break;
    }
  }
  if (found.empty()) return "unknown";
  std::string variant;
  if (found.find("pthread") != std::string::npos) variant = " (pthread)";
  if (found.find("openmp") != std::string::npos) variant = " (openmp)";
  if (found.find("serial") != std::string::npos) variant = " (serial)";
  // Debian's alternatives put the real library behind a symlink.
  char real[4096];
  if (realpath(found.c_str(), real)) found = real;
  return found + variant;
}

}  // namespace msprune::train
