#pragma once
// LibTorch -> ONNX (host side; docs/interop.md, "ONNX out").
//
// Writes a network of the zoo (src/models), pruned or not, as an ONNX model
// with the ONNX library's own protobuf classes (onnx::ModelProto), opset 13,
// IR version 8, and checks it with onnx::checker::check_model before
// returning the bytes. The graph:
//  * input  "input"  float32 [N, 3, 32, 32], N symbolic: the *normalised*
//    image, (pixel / 255 - mean) / std per channel, exactly what the
//    network's forward() takes in LibTorch; mean and std are in the model's
//    metadata_props (kMeta* below), with the class count, the msprune
//    version and the ModelSpec;
//  * output "logits" float32 [N, classes] (no softmax);
//  * ops: Conv, BatchNormalization, Relu, MaxPool, AveragePool,
//    GlobalAveragePool, Add, Concat, Gather (axis 1, constant indices: a
//    channel selection that keeps fewer channels than its BN has), Flatten,
//    Gemm.
// BatchNorm: kept as BatchNormalization nodes (inference form: running
// statistics), or with fold_bn every BN that directly follows a convolution
// (VGG's, PreResNet's bn2/bn3) is folded into it exactly as the .msm export
// folds it (msm::fold_bn_into_conv); a BN after a sum or a concatenation
// (PreResNet's bn1 and final bn, every DenseNet BN) cannot be folded into a
// convolution and stays a BatchNormalization node either way.
#include <cstdint>
#include <string>
#include <vector>

#include "interop/onnx_meta.h"
#include "models/models.h"

namespace msprune::interop {

struct OnnxExportOptions {
  bool fold_bn = false;
};

struct OnnxExportInfo {
  int nodes = 0;
  int initializers = 0;
  uint64_t weight_bytes = 0;  // bytes of all initializers' data
  std::vector<std::pair<std::string, int>> op_counts;  // by op type, in first-seen order
};

// The serialized ModelProto of `net` (BN running statistics, whatever the
// module's mode), already accepted by onnx::checker::check_model. Throws
// msprune::Error naming the layer if something cannot be expressed, or with
// the checker's message.
std::string export_onnx(models::NetImpl& net, const OnnxExportOptions& opts = {}, OnnxExportInfo* info = nullptr);

}  // namespace msprune::interop
