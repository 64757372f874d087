#pragma once
// The pruning report: JSON for programs (--report, --json), a text table for
// people, and pictures (--plots): per layer or group the |gamma| histogram
// with the cluster centres and the threshold marked, and one chart of kept
// against total channels per layer.
//
// JSON layout ("format": "msprune-prune-report", "version": 1):
//   model / pruned: {path, name, spec, params, macs}
//   method, rule, options: {scope, quantile, policy, bin_seeding, min_keep}
//                          or {percent} or {target_pruned, match}
//   groups[]: {name, stage, layers[], n, mean_abs_gamma, bandwidth,
//              bandwidth_zero, centres[{centre, count}], threshold}   (mean shift)
//   layers[]: {name, stage, prunable, group, n, mean_abs_gamma, min_abs_gamma,
//              max_abs_gamma, bandwidth, centres[], policy, threshold, kept,
//              total, floor, floor_acted}
//   floor_acted[]: names of the layers where the floor acted
//   totals: {channels: {before, after, pruned, pruned_ratio},
//            params | macs: {before, after, reduction, ratio}}
//   fit_epc (only with --fit-epc; prune/fit_epc.h): {requested_bytes,
//            reached_bytes, base_bytes, chosen, method, level (mean shift),
//            pruned_channels, ladder_levels, max_prunable, measure,
//            candidates[{step, method, level (mean shift), pruned_channels,
//            heap_bytes, fits}]}; groups[] then also carry ladder_step when
//            a cluster level above 0 was chosen.
// where channels are the channels in use of the prunable BN layers,
// reduction = 1 - after / before and ratio = before / after. Fields are only
// ever added: version 1 readers keep working.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/models.h"
#include "prune/decide.h"

namespace msprune::prune {

constexpr int kReportVersion = 1;

struct ReportInputs {
  std::string model_path, out_path, match_path;
  const Decision* decision = nullptr;
  models::Net before, after;
  nlohmann::json fit_epc;  // FitResult::to_json() with --fit-epc, else null
};

nlohmann::json make_report(const ReportInputs& in);

// The summary stored under meta["prune"] of the pruned checkpoint (what
// `finetune` carries forward): method, rule, options, totals, per-layer
// kept/total and the floor.
nlohmann::json checkpoint_summary(const nlohmann::json& report);

// The human-readable report: a per-layer table, groups (stage scope) and
// totals.
std::string report_text(const nlohmann::json& report);

// For `--method slimming --match REPORT`: the number of channels the report's
// run pruned. Throws msprune::Error unless `report` is a pruning report made
// for a network with `net`'s configuration.
int64_t pruned_count_to_match(const nlohmann::json& report, const models::Net& net, const std::string& report_path);

// For `--method random --match REPORT`: each prunable layer's kept count in
// the report's run (same checks as above).
std::map<std::string, int64_t> kept_counts_to_match(const nlohmann::json& report, const models::Net& net,
                                                    const std::string& report_path);

// Writes the pictures (extension ".png" or ".svg") into `dir`; returns the
// files written. A missing gnuplot is an error naming the problem.
// `title` names the model in the figures.
std::vector<std::filesystem::path> write_plots(const Decision& d, const std::vector<LayerGammas>& layers,
                                               const std::string& title, const std::filesystem::path& dir,
                                               const std::string& ext, bool progress);

}  // namespace msprune::prune
