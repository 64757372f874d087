#pragma once
// LibTorch modules as plain arrays, for the exporters (the .msm export in
// export.cpp, the ONNX export in src/interop/onnx_export.cpp): one reading
// of a module's parameters, with one set of checks, for both formats.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "export/msm_writer.h"
#include "util/error.h"

namespace msprune::exporter {

// A tensor's values as float32, in row-major order.
std::vector<float> to_vec(const torch::Tensor& t);

// A BatchNorm's inference parameters.
struct BnArrays {
  std::vector<float> gamma, beta, mean, var;
  float eps = 1e-5f;
  msm::BatchNorm view() const { return {gamma, beta, mean, var, eps}; }
};

// Checked: a checkpoint's running statistics are not covered by
// load_checkpoint's finiteness check, and a negative variance would put NaN
// weights into the file. Throws msprune::Error naming the channel.
BnArrays bn_arrays(torch::nn::BatchNorm2dImpl& bn);

// Runs `f`, prefixing any msprune::Error with "<what>: layer <name>: ".
template <typename F>
auto named(const std::string& what, const std::string& name, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(what + ": layer " + name + ": " + e.what());
  }
}

}  // namespace msprune::exporter
