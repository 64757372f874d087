// msprune prune: mean-shift channel pruning (Xu & Lai) or Network Slimming,
// network surgery, the pruning report and its plots; --fit-epc SIZE: the least
// pruning whose exported model fits an enclave heap of SIZE (prune/fit_epc.h).
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "prune/decide.h"
#include "prune/fit_epc.h"
#include "prune/masks.h"
#include "prune/report.h"
#include "prune/surgery.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::cli {
namespace fs = std::filesystem;

namespace {

struct PruneCli {
  std::string model, out, method = "meanshift", scope, policy = "min-centre", min_keep = "1";
  double quantile = 0, percent = 0, target_ratio = 0;
  // Which optional values were given (CLI11 options, counted after parsing).
  CLI::Option *scope_opt = nullptr, *quantile_opt = nullptr, *policy_opt = nullptr, *percent_opt = nullptr,
              *ratio_opt = nullptr, *match_opt = nullptr;
  std::string match, report, plots, plot_format = "png", fit_epc;
  CLI::Option *fit_opt = nullptr, *seed_opt = nullptr;
  uint64_t seed = 1;
  bool json = false, quiet = false;
  int threads = 1;
};

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

// The pruning report given to --match (size-capped, must parse as JSON; the
// caller checks its content).
nlohmann::json read_report(const std::string& path) {
  auto bytes = read_file_bytes(path, 64u << 20);
  nlohmann::json rep = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (rep.is_discarded()) throw Error(path + ": not valid JSON (expected a report written by prune --report)");
  return rep;
}

void run_prune(const PruneCli& c) {
  train::set_threads(c.threads);
  // Outputs must not overwrite the input (nothing already saved is lost).
  if (same_file(c.model, c.out)) throw Error("--out " + c.out + " is the input checkpoint; write the pruned network elsewhere");
  for (const auto& [flag, path] : {std::pair{"--report", c.report}, std::pair{"--match", c.match}}) {
    if (path.empty()) continue;
    if (same_file(path, c.model) || same_file(path, c.out))
      throw Error(std::string(flag) + " " + path + " is also the input or output checkpoint");
  }
  if (!c.report.empty() && !c.match.empty() && same_file(c.report, c.match))
    throw Error("--report " + c.report + " would overwrite the report given to --match");

  bool ms = c.method == "meanshift", rnd = c.method == "random";
  if (rnd) {
    if (c.match_opt->count() == 0 || c.percent_opt->count() || c.ratio_opt->count() || c.fit_opt->count())
      throw Error("--method random needs --match REPORT.json (it keeps each layer's count from that run, choosing the "
                  "channels at random) and takes no --percent, --target-ratio or --fit-epc");
    if (c.scope_opt->count() || c.quantile_opt->count() || c.policy_opt->count())
      throw Error("--scope, --quantile and --policy are for --method meanshift");
  } else if (c.seed_opt->count()) {
    throw Error("--seed is for --method random");
  }
  bool given_percent = c.percent_opt->count() > 0, given_ratio = c.ratio_opt->count() > 0;
  bool fit = c.fit_opt->count() > 0;
  int slim_modes = int(given_percent) + int(given_ratio) + int(c.match_opt->count() > 0);
  if (fit && slim_modes)
    throw Error("--fit-epc chooses how much to prune by itself; it cannot be combined with --percent, --target-ratio "
                "or --match");
  if (ms && slim_modes) throw Error("--percent, --target-ratio and --match are for --method slimming");
  if (!ms && (c.scope_opt->count() || c.quantile_opt->count() || c.policy_opt->count()))
    throw Error("--scope, --quantile and --policy are for --method meanshift");
  if (!ms && !rnd && !fit && slim_modes != 1)
    throw Error("--method slimming needs exactly one of --percent P, --target-ratio R, --match REPORT.json or "
                "--fit-epc SIZE");
  if (c.plot_format != "png" && c.plot_format != "svg") throw Error("--plot-format must be png or svg");
  prune::Floor floor = prune::Floor::parse(c.min_keep);
  const uint64_t fit_size = fit ? prune::parse_size(c.fit_epc) : 0;

  auto ck = train::load_checkpoint(c.model);
  auto layers = prune::collect_gammas(ck.model);

  prune::Decision d;
  nlohmann::json fit_json;
  if (rnd) {
    d = prune::decide_random_counts(layers, prune::kept_counts_to_match(read_report(c.match), ck.model, c.match),
                                    c.seed);
  } else if (ms) {
    auto cfg = prune::default_meanshift_config(ck.model->spec().arch);
    if (c.scope == "layer") cfg = {prune::Scope::kLayer, 0.3, cfg.policy, cfg.floor};
    else if (c.scope == "stage") cfg = {prune::Scope::kStage, 0.1, cfg.policy, cfg.floor};
    else if (c.scope == "authors") cfg = {prune::Scope::kAuthors, 0.1, cfg.policy, cfg.floor};
    else if (c.scope_opt->count()) throw Error("--scope must be layer, stage or authors, got '" + c.scope + "'");
    if (c.quantile_opt->count()) cfg.quantile = c.quantile;
    cfg.policy = c.policy;
    cfg.floor = floor;
    if (fit) {
      auto r = prune::fit_epc(ck.model, layers, {fit_size, true, cfg, floor});
      fit_json = r.to_json();
      d = std::move(r.decision);
    } else {
      d = prune::decide_meanshift(layers, cfg);
    }
  } else if (fit) {
    auto r = prune::fit_epc(ck.model, layers, {fit_size, false, {}, floor});
    fit_json = r.to_json();
    d = std::move(r.decision);
  } else if (given_percent) {
    d = prune::decide_slimming_percent(layers, c.percent, floor);
  } else {
    int64_t n;
    if (!given_ratio) {
      n = prune::pruned_count_to_match(read_report(c.match), ck.model, c.match);
    } else {
      n = prune::count_for_ratio(layers, c.target_ratio);
    }
    d = prune::decide_slimming_count(layers, n, floor);
  }

  auto compact = prune::compact_network(ck.model, d.masks);
  prune::ReportInputs in{c.model, c.out, c.match, &d, ck.model, compact, fit_json};
  auto report = prune::make_report(in);
  nlohmann::json meta = {{"command", "prune"}, {"prune", prune::checkpoint_summary(report)}};
  if (ck.meta.contains("metrics")) meta["prune"]["source_metrics"] = ck.meta["metrics"];
  train::save_checkpoint(c.out, compact, nullptr, meta);
  if (!c.report.empty()) atomic_write_bytes(c.report, report.dump(2) + "\n");

  std::vector<fs::path> pics;
  if (!c.plots.empty()) {
    try {
      pics = prune::write_plots(d, layers, ck.model->spec().name(), c.plots, "." + c.plot_format, !c.quiet && !c.json);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + " (the pruned checkpoint " + c.out + " was written)");
    }
  }

  if (c.json) {
    report["plots"] = nlohmann::json::array();
    for (const auto& p : pics) report["plots"].push_back(p.string());
    std::printf("%s\n", report.dump().c_str());
    return;
  }
  std::printf("%s\n", prune::report_text(report).c_str());
  const auto& ch = report["totals"]["channels"];
  // With --fit-epc, mean shift may have fallen back to slimming: name what pruned.
  const bool ms_chosen = d.method == "meanshift";
  std::printf("%s pruned %lld of %lld channels (ratio %.4f); wrote %s",
              ms_chosen ? "mean shift" : rnd ? "random choice" : (ms ? "slimming (fallback of --fit-epc)" : "slimming"),
              (long long)ch["pruned"].get<int64_t>(), (long long)ch["before"].get<int64_t>(),
              ch["pruned_ratio"].get<double>(), c.out.c_str());
  if (!c.report.empty()) std::printf(", report %s", c.report.c_str());
  if (!pics.empty()) std::printf(", %zu plots in %s", pics.size(), c.plots.c_str());
  std::printf("\n");
  if (fit) {
    std::printf("enclave heap %s, limit %s, unpruned %s\n",
                prune::describe_size(fit_json["reached_bytes"].get<uint64_t>()).c_str(),
                prune::describe_size(fit_size).c_str(),
                prune::describe_size(fit_json["base_bytes"].get<uint64_t>()).c_str());
  }
  if (ms_chosen) {
    std::printf("to compare: msprune prune --model %s --method slimming %s --out ...\n", c.model.c_str(),
                c.report.empty() ? strf("--target-ratio %.6f", ch["pruned_ratio"].get<double>()).c_str()
                                 : ("--match " + c.report).c_str());
  }
}

}  // namespace

void add_prune_command(CLI::App& app) {
  auto c = std::make_shared<PruneCli>();
  auto* sub = app.add_subcommand("prune", "Prune BN channels (mean shift or Network Slimming) and build the compact network");
  sub->add_option("--model", c->model, "Checkpoint to prune (sparsity-trained)")->required();
  sub->add_option("--out", c->out, "Pruned checkpoint to write")->required();
  sub->add_option("--method", c->method,
                  "meanshift (Xu & Lai), slimming (Network Slimming) or random (control: --match's per-layer counts, "
                  "channels drawn at random)")
      ->check(CLI::IsMember({"meanshift", "slimming", "random"}))
      ->capture_default_str();
  c->scope_opt = sub->add_option("--scope", c->scope,
                  "meanshift: cluster per layer (quantile 0.3), per stage (quantile 0.1) or in the authors' VGG-16 "
                  "groups, BN 0-2/3-5/6-8/9-12 (authors, quantile 0.1); default: stage for vgg, layer otherwise");
  c->quantile_opt = sub->add_option("--quantile", c->quantile, "meanshift: estimate_bandwidth quantile (default by scope)");
  c->policy_opt = sub->add_option("--policy", c->policy, "meanshift: threshold policy, min-centre or valley")->capture_default_str();
  sub->add_option("--min-keep", c->min_keep,
                  "Floor per layer: a fraction in (0,1) of its channels or a whole count (at least 1)")
      ->capture_default_str();
  c->percent_opt = sub->add_option("--percent", c->percent, "slimming: fraction of all prunable channels to prune via one global threshold");
  c->ratio_opt = sub->add_option("--target-ratio", c->target_ratio, "slimming: prune exactly this fraction of prunable channels");
  c->match_opt = sub->add_option("--match", c->match,
                                 "slimming: prune exactly as many channels as this --report did; random: keep its "
                                 "per-layer counts");
  c->seed_opt = sub->add_option("--seed", c->seed, "random: seed of the channel draw")->capture_default_str();
  c->fit_opt = sub->add_option("--fit-epc", c->fit_epc,
                               "Prune as little as possible so that the exported model fits this enclave heap "
                               "(e.g. 8MiB, 512KiB, 1048576): mean shift, then higher cluster levels, then Network "
                               "Slimming's order");
  sub->add_option("--report", c->report, "Write the JSON report here");
  sub->add_option("--plots", c->plots, "Write |gamma| histograms and the kept-channels chart into this folder");
  sub->add_option("--plot-format", c->plot_format, "png or svg")->capture_default_str();
  add_threads_option(sub, &c->threads);
  sub->add_flag("--json", c->json, "Print the report as JSON on stdout");
  sub->add_flag("--quiet", c->quiet, "No progress bar");
  sub->callback([c] { run_prune(*c); });
}

}  // namespace msprune::cli
