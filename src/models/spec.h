#pragma once
// ModelSpec: everything needed to rebuild a network of the zoo — family,
// depth, width multiplier, class count and the channel configuration (`cfg`).
// A pruned network is the same family with a smaller cfg, so one class serves
// both, and checkpoints store the spec next to the weights.
//
// cfg per family (the same convention as Network Slimming's models):
//  * vgg: output width of each 3x3 conv in order, with kPool (-1) marking a
//    2x2 max-pool. Default for depth 16 at width 1:
//    64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512.
//  * preresnet (depth 9n+2, bottleneck): 3 entries per block —
//    [channels kept by the channel selection after bn1, conv1 out, conv2 out] —
//    then one entry for the channels kept after the final BN. The BN widths
//    themselves (block inputs, 4 x planes) are fixed by depth and width.
//  * densenet (depth 3n+4, growth 12 x width, compression 1): one entry per
//    BN-select-conv unit — n dense layers, a transition, n, a transition, n,
//    and the final BN — giving the channels kept by its channel selection.
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace msprune::models {

enum class Arch { kVgg, kPreResNet, kDenseNet };

constexpr int kPool = -1;         // 'M' in a VGG cfg
constexpr int kMaxChannels = 8192;  // sanity bound for hostile checkpoints

std::string arch_name(Arch a);
Arch parse_arch(const std::string& s);  // throws msprune::Error

// The per-channel input normalisation a network was trained with, applied to
// pixels scaled to [0, 1]: (x - mean) / std. Mean 0 and std 1 feed raw [0, 1]
// pixels.
struct InputNorm {
  std::array<float, 3> mean{0.f, 0.f, 0.f};
  std::array<float, 3> std{1.f, 1.f, 1.f};
  bool operator==(const InputNorm&) const = default;
  nlohmann::json to_json() const;
  static InputNorm from_json(const nlohmann::json& j);  // validates; throws msprune::Error
};

struct ModelSpec {
  Arch arch = Arch::kVgg;
  int depth = 16;
  double width = 1.0;
  int num_classes = 10;
  std::vector<int> cfg;
  // Recorded for imported networks (`msprune import --normalize`); unset for
  // networks msprune trained, which use their dataset's statistics
  // (data::normalization_for). Carried through pruning and fine-tuning.
  std::optional<InputNorm> input_norm;

  // Derived, fixed widths (not pruned):
  int growth() const;                     // densenet growth rate
  std::vector<int> stage_planes() const;  // preresnet planes per stage (3)
  int blocks_per_stage() const;           // preresnet / densenet n

  std::string name() const;  // e.g. "vgg16-w0.25", "preresnet56", with "-pruned" if cfg differs from default
  bool is_default_cfg() const;

  nlohmann::json to_json() const;
  static ModelSpec from_json(const nlohmann::json& j);  // validates; throws msprune::Error
};

// The unpruned configuration of a family.
ModelSpec default_spec(Arch arch, int depth, double width = 1.0, int num_classes = 10);

// Throws msprune::Error naming the problem if the spec cannot be built.
void validate_spec(const ModelSpec& s);

// Depths each family accepts, for messages.
std::string valid_depths(Arch arch);

// Scales a base width by the multiplier (rounded, at least 1).
int scale_width(int base, double width);

}  // namespace msprune::models
