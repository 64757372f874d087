#pragma once
// Compute set-up shared by every command: device choice, thread count, and
// which BLAS LibTorch really loaded (benchmarks must say).
#include <torch/torch.h>

#include <string>

namespace msprune::train {

// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".
torch::Device pick_device(const std::string& name);

// Sets LibTorch's intra-op threads and, if OpenBLAS is loaded, its threads.
void set_threads(int n);

// The BLAS shared library mapped into this process (e.g.
// "libopenblas.so.0 (pthread)"), or "unknown".
std::string blas_library();

}  // namespace msprune::train
