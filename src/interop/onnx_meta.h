#pragma once
// What msprune's ONNX files promise (Torch-free: the importer uses it too).
#include <cstdint>

namespace msprune::interop {

inline constexpr int kOnnxOpset = 13;
inline constexpr int64_t kOnnxIrVersion = 8;  // ONNX 1.12's IR_VERSION

// metadata_props keys written by export_onnx and read by import_onnx.
inline constexpr const char* kMetaFormat = "msprune.format";  // "msprune-onnx 1"
inline constexpr const char* kMetaInput = "msprune.input";    // the input convention, in words
inline constexpr const char* kMetaMean = "msprune.normalization.mean";  // "0.491400003,0.482199997,0.446500003"
inline constexpr const char* kMetaStd = "msprune.normalization.std";
inline constexpr const char* kMetaClasses = "msprune.num_classes";
inline constexpr const char* kMetaVersion = "msprune.version";
inline constexpr const char* kMetaSpec = "msprune.spec";  // ModelSpec JSON
inline constexpr const char* kMetaBatchNorm = "msprune.batchnorm";  // "kept" or "folded"

}  // namespace msprune::interop
