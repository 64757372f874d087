#pragma once
// `msprune prune --fit-epc SIZE`: the least pruning whose exported model fits
// an enclave heap of SIZE bytes.
//
// Size measure: what the emulated enclave needs on its heap for the exported
// model (tee/enclave/enclave_heap.h): round_up_64(.msm bytes) + arena bytes, with
// the network exported in memory exactly as `msprune export` does. `msprune
// inspect` prints the same figure ("enclave heap") for the exported file.
//
// Candidates, from the least pruning to the most:
//  1. --method meanshift (the default): mean shift's own decision (ladder
//     level 0), then the ladder of decide_meanshift_level: every group's
//     threshold raised one cluster step at a time (valley to the 2nd-lowest
//     centre, the 2nd-lowest centre, valley to the 3rd, ...). The first level
//     that fits wins. The ladder is short (2 steps per centre of the group
//     with the most centres; about 20 for VGG's stages), so it is walked
//     level by level; a ladder longer than FitOptions::linear_ladder is
//     searched with levels 1, 2, 4, ... and a binary search.
//  2. if no level fits (and always with --method slimming): Network
//     Slimming's global order (decide_slimming_count). The most pruning the
//     floor allows is measured first; then a binary search between 0 and
//     that count for the fewest pruned channels that fit.
// The floor (--min-keep) applies to every candidate. If the most pruning the
// floor allows (slimming, every other channel pruned) does not fit, fit_epc
// throws msprune::Error naming the requested size and the smallest reachable.
//
// Sizes are not strictly monotone in the pruning: packed convolution weights
// are padded to 16 (or 4) output channels and the layout of each convolution
// is chosen by its shape, so pruning a few more channels can add a few
// hundred bytes (measured: a tiny VGG's top cluster level needed 1.7 KiB more
// than the level below it). Hence the linear walk of the cluster ladder. The
// binary searches end on a neighbouring pair, the chosen candidate fitting
// and the one with one step (one channel) less pruning not; a candidate even
// further down could fit in principle, past such a bump.
//
// Each check is surgery + export + memory plan; results are cached by mask,
// so equal candidates (e.g. level 0 and 1 under --policy valley) are measured
// once.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/models.h"
#include "prune/decide.h"
#include "prune/masks.h"

namespace msprune::prune {

// SIZE for --fit-epc: a positive number of bytes, optionally with a binary
// unit: "1048576", "512KiB", "8MiB", "8M", "1.5MiB", "2 GiB" (K, M, G with or
// without "iB", any case; "B" for bytes). A fraction is allowed with a unit
// and rounded down to whole bytes. Throws msprune::Error naming the text for
// anything else: garbage, zero, negative, a decimal unit ("MB": ambiguous),
// or more than 2^62 bytes.
uint64_t parse_size(const std::string& text);

// "8.00 MiB (8388608 bytes)".
std::string describe_size(uint64_t bytes);

// The heap bytes the exported network needs. The default (an empty function)
// is exporter::exported_enclave_heap_bytes; tests may pass their own.
using HeapMeasure = std::function<uint64_t(const models::Net& net)>;

struct FitOptions {
  uint64_t size = 0;             // the enclave memory to fit (bytes, > 0)
  bool meanshift = true;         // false: --method slimming (slimming search only)
  MeanShiftConfig meanshift_cfg; // for the mean-shift ladder (its floor is ignored: `floor` applies)
  Floor floor;
  // Mean-shift ladders of at most this many levels are walked level by level
  // (the first that fits is the least pruning); longer ones are searched
  // with levels 1, 2, 4, ... then a binary search.
  int linear_ladder = 32;
};

struct FitCandidate {
  std::string step;        // "mean shift (min-centre)", "cluster level 3 (...)", "slimming, 40 channels"
  std::string method;      // "meanshift" or "slimming"
  int level = -1;          // mean-shift ladder level (-1 for slimming)
  int64_t pruned = 0;      // channels pruned (prunable BNs)
  uint64_t heap_bytes = 0;
  bool fits = false;
};

struct FitResult {
  Decision decision;       // the chosen candidate
  std::string step;        // its description (as FitCandidate::step)
  uint64_t requested = 0, reached = 0, base = 0;
  int levels = 0;          // the mean-shift ladder's top level (0 for --method slimming)
  int64_t max_prunable = 0;
  std::vector<FitCandidate> tried;  // in the order measured
  nlohmann::json to_json() const;
};

FitResult fit_epc(const models::Net& net, const std::vector<LayerGammas>& layers, const FitOptions& opt,
                  const HeapMeasure& measure = {});

// The human block printed after the prune table.
std::string fit_text(const nlohmann::json& fit);

}  // namespace msprune::prune
