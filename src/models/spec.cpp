#include "models/spec.h"

#include <cmath>
#include <sstream>

#include "util/error.h"

namespace msprune::models {

std::string arch_name(Arch a) {
  switch (a) {
    case Arch::kVgg: return "vgg";
    case Arch::kPreResNet: return "preresnet";
    case Arch::kDenseNet: return "densenet";
  }
  return "?";
}

Arch parse_arch(const std::string& s) {
  if (s == "vgg") return Arch::kVgg;
  if (s == "preresnet") return Arch::kPreResNet;
  if (s == "densenet") return Arch::kDenseNet;
  throw Error("unknown architecture '" + s + "' (expected vgg, preresnet or densenet)");
}

int scale_width(int base, double width) { return std::max(1, int(std::lround(base * width))); }

static std::vector<int> vgg_base(int depth) {
  const int M = kPool;
  switch (depth) {
    case 11: return {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512};
    case 13: return {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512};
    case 16: return {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512};
    case 19: return {64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512};
  }
  return {};
}

std::string valid_depths(Arch a) {
  switch (a) {
    case Arch::kVgg: return "11, 13, 16 or 19";
    case Arch::kPreResNet: return "9n+2 with n >= 1 (e.g. 20, 29, 56, 164)";
    case Arch::kDenseNet: return "3n+4 with n >= 1 (e.g. 40, 100)";
  }
  return "";
}

static bool depth_ok(Arch a, int d) {
  switch (a) {
    case Arch::kVgg: return !vgg_base(d).empty();
    case Arch::kPreResNet: return d >= 11 && (d - 2) % 9 == 0 && d <= 2000;
    case Arch::kDenseNet: return d >= 7 && (d - 4) % 3 == 0 && d <= 2000;
  }
  return false;
}

int ModelSpec::blocks_per_stage() const {
  if (arch == Arch::kPreResNet) return (depth - 2) / 9;
  if (arch == Arch::kDenseNet) return (depth - 4) / 3;
  return 0;
}

int ModelSpec::growth() const { return scale_width(12, width); }

std::vector<int> ModelSpec::stage_planes() const {
  return {scale_width(16, width), scale_width(32, width), scale_width(64, width)};
}

ModelSpec default_spec(Arch arch, int depth, double width, int num_classes) {
  if (!depth_ok(arch, depth))
    throw Error(arch_name(arch) + " depth " + std::to_string(depth) + " is not supported (valid: " +
                valid_depths(arch) + ")");
  if (!(width > 0 && width <= 16)) throw Error("width multiplier must be in (0, 16], got " + std::to_string(width));
  if (num_classes < 1 || num_classes > 100000) throw Error("num_classes out of range: " + std::to_string(num_classes));
  ModelSpec s;
  s.arch = arch;
  s.depth = depth;
  s.width = width;
  s.num_classes = num_classes;
  if (arch == Arch::kVgg) {
    for (int c : vgg_base(depth)) s.cfg.push_back(c == kPool ? kPool : scale_width(c, width));
  } else if (arch == Arch::kPreResNet) {
    int n = s.blocks_per_stage();
    auto p = s.stage_planes();
    int inplanes = p[0];
    for (int st = 0; st < 3; ++st) {
      for (int b = 0; b < n; ++b) {
        s.cfg.insert(s.cfg.end(), {inplanes, p[size_t(st)], p[size_t(st)]});
        inplanes = 4 * p[size_t(st)];
      }
    }
    s.cfg.push_back(inplanes);
  } else {
    int n = s.blocks_per_stage(), g = s.growth();
    int ch = 2 * g;
    for (int st = 0; st < 3; ++st) {
      for (int i = 0; i < n; ++i) {
        s.cfg.push_back(ch);
        ch += g;
      }
      s.cfg.push_back(ch);  // transition (or final BN) sees all channels
    }
  }
  return s;
}

bool ModelSpec::is_default_cfg() const {
  try {
    return default_spec(arch, depth, width, num_classes).cfg == cfg;
  } catch (...) {
    return false;
  }
}

std::string ModelSpec::name() const {
  std::ostringstream o;
  o << arch_name(arch) << depth;
  if (width != 1.0) o << "-w" << width;
  if (!is_default_cfg()) o << "-pruned";
  return o.str();
}

void validate_spec(const ModelSpec& s) {
  ModelSpec d = default_spec(s.arch, s.depth, s.width, s.num_classes);  // checks depth/width/classes
  auto fail = [&](const std::string& m) { throw Error("invalid " + arch_name(s.arch) + " channel config: " + m); };
  if (s.cfg.size() != d.cfg.size())
    fail("expected " + std::to_string(d.cfg.size()) + " entries, got " + std::to_string(s.cfg.size()));
  for (size_t i = 0; i < s.cfg.size(); ++i) {
    if (s.arch == Arch::kVgg && (d.cfg[i] == kPool) != (s.cfg[i] == kPool))
      fail("entry " + std::to_string(i) + " must be " + (d.cfg[i] == kPool ? "a pool (-1)" : "a width"));
    if (s.cfg[i] == kPool) continue;
    if (s.cfg[i] < 1 || s.cfg[i] > kMaxChannels)
      fail("entry " + std::to_string(i) + " = " + std::to_string(s.cfg[i]) + " outside 1.." +
           std::to_string(kMaxChannels));
    // Channel selections can only keep channels that exist.
    if (s.arch != Arch::kVgg && s.cfg[i] > d.cfg[i] &&
        !(s.arch == Arch::kPreResNet && i % 3 != 0 && i + 1 != s.cfg.size()))
      fail("entry " + std::to_string(i) + " selects " + std::to_string(s.cfg[i]) + " channels of " +
           std::to_string(d.cfg[i]));
  }
}

nlohmann::json InputNorm::to_json() const { return {{"mean", mean}, {"std", std}}; }

InputNorm InputNorm::from_json(const nlohmann::json& j) {
  InputNorm n;
  try {
    auto m = j.at("mean").get<std::vector<float>>(), s = j.at("std").get<std::vector<float>>();
    if (m.size() != 3 || s.size() != 3)
      throw Error("input normalisation needs 3 means and 3 stds, got " + std::to_string(m.size()) + " and " +
                  std::to_string(s.size()));
    for (size_t c = 0; c < 3; ++c) {
      if (!std::isfinite(m[c]) || !std::isfinite(s[c]) || !(s[c] > 0))
        throw Error("input normalisation channel " + std::to_string(c) + ": mean " + std::to_string(m[c]) + ", std " +
                    std::to_string(s[c]) + " (need finite values and std > 0)");
      n.mean[c] = m[c];
      n.std[c] = s[c];
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("malformed input normalisation: ") + e.what());
  }
  return n;
}

nlohmann::json ModelSpec::to_json() const {
  nlohmann::json j = {
      {"arch", arch_name(arch)}, {"depth", depth}, {"width", width}, {"num_classes", num_classes}, {"cfg", cfg}};
  if (input_norm) j["input_norm"] = input_norm->to_json();  // absent: the dataset's own (older checkpoints too)
  return j;
}

ModelSpec ModelSpec::from_json(const nlohmann::json& j) {
  try {
    ModelSpec s;
    s.arch = parse_arch(j.at("arch").get<std::string>());
    s.depth = j.at("depth").get<int>();
    s.width = j.at("width").get<double>();
    s.num_classes = j.at("num_classes").get<int>();
    s.cfg = j.at("cfg").get<std::vector<int>>();
    if (j.contains("input_norm")) s.input_norm = InputNorm::from_json(j.at("input_norm"));
    validate_spec(s);
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("malformed model spec: ") + e.what());
  }
}

}  // namespace msprune::models
