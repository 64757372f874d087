#pragma once
// ONNX -> .msm (host side; docs/interop.md, "ONNX in, enclave out").
//
// Reads an ONNX model (any producer) and writes it with the Torch-free .msm
// writer (export/msm_writer.h), whose finish() loads the result through the
// runtime's own verifier: every file this returns has passed it.
//
// The op subset is what the enclave runtime computes (docs/interop.md has the
// table): Conv (K = 1 or 3 square, stride 1 or 2, symmetric pads <= K/2,
// group 1, dilation 1), BatchNormalization (folded into a Conv that it
// directly follows, else a per-channel affine), Relu (fused into the
// Conv/affine/Add before it when it is that value's only use), MaxPool and
// AveragePool (square window and stride, no padding), GlobalAveragePool and
// ReduceMean over H and W, Add (of two activations of one shape; a constant
// only as the bias right after MatMul), Concat on channels, Flatten of a
// 1x1 map, Gemm and MatMul with constant weights, Gather on channels with
// constant indices (a channel selection), Softmax on the class axis,
// Identity, Dropout (inference), Constant. Anything else is refused, naming
// the first node (index in the file, name, op type) and the attribute.
//
// The file is hostile input: protobuf parse failures, external or
// mis-sized tensor data, missing values, values produced twice, cycles,
// shape mismatches and absurd sizes are msprune::Error messages, never a
// crash.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "export/msm_writer.h"

namespace msprune::interop {

struct OnnxImportOptions {
  // The input normalisation the .msm records (what invoke_u8 applies), one
  // value per input channel. Empty: read from the model's metadata_props
  // (msprune.normalization.mean/std, written by export --format onnx); a
  // model without them is refused unless both are given.
  std::vector<float> mean, std;
  msm::FinishOptions finish;
};

struct OnnxImportResult {
  std::vector<uint8_t> msm;  // verified .msm bytes
  std::vector<float> mean, std;
  bool normalization_from_metadata = false;
  int64_t opset = 0;
  int onnx_nodes = 0;  // nodes in the ONNX graph
  int msm_ops = 0;     // ops written
  int fused = 0;       // ONNX nodes folded into another op (BN into Conv, Relu, Gather, bias Add)
  std::string producer;  // producer_name producer_version
};

// Largest ONNX file accepted (protobuf's own message limit is 2 GiB).
inline constexpr uint64_t kMaxOnnxBytes = uint64_t(1) << 30;

OnnxImportResult import_onnx(std::span<const uint8_t> bytes, const OnnxImportOptions& opts = {});
// Reads `path` (at most kMaxOnnxBytes) and imports it; errors name the file.
OnnxImportResult import_onnx_file(const std::filesystem::path& path, const OnnxImportOptions& opts = {});

}  // namespace msprune::interop
