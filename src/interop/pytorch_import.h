#pragma once
// PyTorch checkpoints in: reads a file written by Python's torch.save (zip
// format, PyTorch >= 1.6) holding a network of the paper's / Network
// Slimming's models/ (vgg.py, preresnet.py, densenet.py with
// channel_selection.py) and rebuilds it as a network of our zoo
// (src/models), weight for weight (docs/interop.md has the name mapping).
//
// Accepted layouts: a bare state_dict; {'state_dict', optional 'cfg'} (the
// prune scripts; a VGG cfg has 'M' for pools); the training script's
// {'epoch', 'state_dict', 'best_prec1', 'optimizer'}, of which only the
// state_dict is read. Depth, width, class count and the channel configuration
// come from the tensors (and the cfg, if the file has one, which must agree
// with them); a channel_selection's `indexes` (nonzero = kept) become our
// ChannelSelection's indices.
//
// The file is decoded by LibTorch's own zip reader and unpickler
// (caffe2::serialize::PyTorchStreamReader, torch::jit::Unpickler, as
// torch::pickle_load does), tensors mapped to the CPU, after a pass that
// rewrites the few opcodes of a Python state_dict LibTorch 1.13 cannot read
// (OrderedDict, BUILD, SETITEM, APPEND; see the .cpp). Every problem is an
// msprune::Error naming the file and the tensor: a legacy (non-zip) or
// truncated file, a network of another family, a missing, mis-shaped or
// unexpected tensor, a cfg that contradicts the tensors.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "models/models.h"

namespace msprune::interop {

struct PytorchImportOptions {
  models::Arch arch = models::Arch::kVgg;  // the family the file must hold
  std::optional<int> depth;                // checked against the tensors if given
  std::optional<double> width;             // likewise (VGG: used for naming only)
  models::InputNorm input_norm;            // recorded in the spec
};

struct PytorchImport {
  models::Net model;     // eval mode, on the CPU
  nlohmann::json about;  // {"from", "file", "layout", "cfg_in_file", "tensors", "ignored_entries"}
};

PytorchImport import_pytorch(const std::filesystem::path& file, const PytorchImportOptions& opt);

// Network Slimming's CIFAR-10 statistics (what the authors trained with; also
// data::normalization_for(kCifar10)).
models::InputNorm ns_cifar10_norm();
// "cifar10", "cifar100" or "none" (raw [0, 1] pixels); throws msprune::Error.
models::InputNorm named_input_norm(const std::string& name);

}  // namespace msprune::interop
