#include "prune/report.h"

#include <algorithm>
#include <cmath>

#include "prune/fit_epc.h"
#include "util/error.h"
#include "util/plot.h"
#include "util/progress.h"
#include "util/table.h"

namespace msprune::prune {
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json centres_json(const GroupResult& g) {
  json c = json::array();
  for (size_t k = 0; k < g.centres.size(); ++k) c.push_back({{"centre", g.centres[k]}, {"count", g.counts[k]}});
  return c;
}

json model_json(const std::string& path, const models::Net& net) {
  return {{"path", path},
          {"name", net->spec().name()},
          {"spec", net->spec().to_json()},
          {"params", net->num_params()},
          {"macs", net->macs()}};
}

json change(int64_t before, int64_t after) {
  return {{"before", before},
          {"after", after},
          {"reduction", before ? 1.0 - double(after) / double(before) : 0.0},
          {"ratio", after ? double(before) / double(after) : 0.0}};
}

std::string pct(double f) { return strf("%.1f%%", 100 * f); }

}  // namespace

json make_report(const ReportInputs& in) {
  const Decision& d = *in.decision;
  json r;
  r["format"] = "msprune-prune-report";
  r["version"] = kReportVersion;
  r["model"] = model_json(in.model_path, in.before);
  r["pruned"] = model_json(in.out_path, in.after);
  r["method"] = d.method;
  r["rule"] = d.rule;
  json opt = {{"min_keep", {{"fraction", d.floor.fraction}, {"count", d.floor.count}}}};
  if (d.method == "meanshift") {
    opt["scope"] = scope_name(d.meanshift.scope);
    opt["quantile"] = d.meanshift.quantile;
    opt["policy"] = d.meanshift.policy;
    opt["bin_seeding"] = true;
  } else if (d.method == "random") {
    opt["per_layer_counts_from"] = in.match_path;
  } else if (d.target_pruned >= 0) {
    opt["target_pruned"] = d.target_pruned;
    if (!in.match_path.empty()) opt["match"] = in.match_path;
  } else {
    opt["percent"] = d.percent;
    opt["global_threshold"] = d.global_threshold;
  }
  r["options"] = opt;

  json groups = json::array();
  for (const auto& g : d.groups) {
    json names = json::array();
    for (size_t i : g.layers) names.push_back(d.layers[i].name);
    groups.push_back({{"name", g.name},
                      {"stage", g.stage},
                      {"layers", names},
                      {"n", g.n},
                      {"mean_abs_gamma", g.mean_abs_gamma},
                      {"bandwidth", g.bandwidth},
                      {"bandwidth_zero", g.bandwidth_zero},
                      {"centres", centres_json(g)},
                      {"threshold", g.threshold}});
    if (g.step >= 0) groups.back()["ladder_step"] = g.step;
  }
  r["groups"] = groups;

  json layers = json::array(), acted = json::array();
  for (const auto& l : d.layers) {
    json j = {{"name", l.name},
              {"stage", l.stage},
              {"prunable", l.prunable},
              {"n", l.total},
              {"mean_abs_gamma", l.mean_abs_gamma},
              {"min_abs_gamma", l.min_abs_gamma},
              {"max_abs_gamma", l.max_abs_gamma},
              {"threshold", l.threshold},
              {"kept", l.kept},
              {"total", l.total},
              {"floor", l.floor},
              {"floor_acted", l.floor_acted}};
    if (l.group >= 0) {
      const auto& g = d.groups[size_t(l.group)];
      j["group"] = g.name;
      j["bandwidth"] = g.bandwidth;
      j["centres"] = centres_json(g);
      j["policy"] = d.meanshift.policy;
      j["cluster_threshold"] = g.threshold;
    }
    if (l.floor_acted) acted.push_back(l.name);
    layers.push_back(j);
  }
  r["layers"] = layers;
  r["floor_acted"] = acted;
  r["totals"] = {{"channels",
                  {{"before", d.prunable_before},
                   {"after", d.prunable_after},
                   {"pruned", d.prunable_before - d.prunable_after},
                   {"pruned_ratio", d.pruned_ratio()}}},
                 {"params", change(in.before->num_params(), in.after->num_params())},
                 {"macs", change(in.before->macs(), in.after->macs())}};
  if (!in.fit_epc.is_null()) r["fit_epc"] = in.fit_epc;
  return r;
}

json checkpoint_summary(const json& report) {
  json layers = json::array();
  for (const auto& l : report["layers"])
    layers.push_back({{"name", l["name"]}, {"kept", l["kept"]}, {"total", l["total"]}, {"floor_acted", l["floor_acted"]}});
  json s = {{"method", report["method"]},     {"rule", report["rule"]},
            {"options", report["options"]},   {"source", report["model"]["path"]},
            {"source_name", report["model"]["name"]}, {"totals", report["totals"]},
            {"floor_acted", report["floor_acted"]},   {"layers", layers}};
  if (report.contains("fit_epc")) {
    json f = report["fit_epc"];
    f.erase("candidates");
    s["fit_epc"] = f;
  }
  return s;
}

std::string report_text(const json& r) {
  std::string out;
  out += strf("%s -> %s\n", r["model"]["name"].get<std::string>().c_str(), r["pruned"]["name"].get<std::string>().c_str());
  out += "rule: " + r["rule"].get<std::string>() + "\n\n";
  bool ms = r["method"] == "meanshift";
  std::vector<std::string> head = {"layer", "stage", "mean|g|", "threshold", "kept", "total", "kept%", "floor"};
  if (ms) head.insert(head.begin() + 3, {"bandwidth", "centres"});
  Table t(head);
  for (const auto& l : r["layers"]) {
    int64_t kept = l["kept"], total = l["total"];
    std::vector<std::string> row = {l["name"].get<std::string>(), std::to_string(l["stage"].get<int>()),
                                    strf("%.4f", l["mean_abs_gamma"].get<double>())};
    if (ms) {
      if (l.contains("group")) {
        row.push_back(strf("%.4f", l["bandwidth"].get<double>()));
        row.push_back(std::to_string(l["centres"].size()));
      } else {
        row.insert(row.end(), {"-", "-"});
      }
    }
    // At an exact count a layer that lost nothing has no threshold of its own.
    bool no_cut = (r["options"].contains("target_pruned") && kept == total) || r["method"] == "random";
    row.push_back(!l["prunable"].get<bool>() ? "not pruned" : no_cut ? "-" : strf("%.4g", l["threshold"].get<double>()));
    row.insert(row.end(), {std::to_string(kept), std::to_string(total), pct(double(kept) / double(total)),
                           l["floor_acted"].get<bool>() ? "acted (" + std::to_string(l["floor"].get<int64_t>()) + ")" : ""});
    t.add(row);
  }
  out += t.str() + "\n";
  if (ms && r["options"]["scope"] != "layer") {
    Table g({"group", "layers", "n", "bandwidth", "centres (count), by value", "threshold"});
    for (const auto& gr : r["groups"]) {
      std::vector<std::pair<double, int64_t>> cs;
      for (const auto& c : gr["centres"]) cs.emplace_back(c["centre"].get<double>(), c["count"].get<int64_t>());
      std::sort(cs.begin(), cs.end());
      std::string list;
      for (size_t k = 0; k < cs.size() && k < 4; ++k) list += strf("%s%.4g (%lld)", k ? ", " : "", cs[k].first, (long long)cs[k].second);
      if (cs.size() > 4) list += strf(", +%zu more", cs.size() - 4);
      if (gr["bandwidth_zero"].get<bool>()) list = "bandwidth 0: all kept";
      g.add({gr["name"].get<std::string>(), std::to_string(gr["layers"].size()), std::to_string(gr["n"].get<int64_t>()),
             strf("%.4f", gr["bandwidth"].get<double>()), list, strf("%.4g", gr["threshold"].get<double>())});
    }
    out += g.str() + "\n";
  }
  const auto& tot = r["totals"];
  Table s({"", "before", "after", "reduction"});
  s.add({"channels (prunable BNs)", std::to_string(tot["channels"]["before"].get<int64_t>()),
         std::to_string(tot["channels"]["after"].get<int64_t>()), pct(tot["channels"]["pruned_ratio"].get<double>())});
  for (const char* k : {"params", "macs"}) {
    const auto& c = tot[k];
    s.add({std::string(k == std::string("params") ? "parameters" : "MACs / image"),
           human_count(double(c["before"].get<int64_t>())), human_count(double(c["after"].get<int64_t>())),
           pct(c["reduction"].get<double>()) + strf("  (%.2fx smaller)", c["ratio"].get<double>())});
  }
  out += s.str();
  if (!r["floor_acted"].empty()) {
    out += "\nthe floor acted in:";
    for (const auto& n : r["floor_acted"]) out += " " + n.get<std::string>();
    out += "\n";
  }
  if (r.contains("fit_epc")) out += "\n" + fit_text(r["fit_epc"]);
  return out;
}

namespace {
// Throws unless `report` is a pruning report made for `net`'s configuration.
void check_report_for(const json& report, const models::Net& net, const std::string& path) {
  if (!report.is_object() || report.value("format", "") != "msprune-prune-report")
    throw Error(path + ": not an msprune pruning report (write one with --report)");
  if (report.value("version", 0) != kReportVersion)
    throw Error(path + ": pruning report version " + report.value("version", json(0)).dump() + " not supported");
  models::ModelSpec theirs = models::ModelSpec::from_json(report.at("model").at("spec"));
  if (theirs.to_json() != net->spec().to_json())
    throw Error(path + ": the report was made for " + theirs.name() + " with channels " + json(theirs.cfg).dump() +
                ", not for this model (" + net->spec().name() + ", " + json(net->spec().cfg).dump() + ")");
}
}  // namespace

int64_t pruned_count_to_match(const json& report, const models::Net& net, const std::string& path) {
  try {
    check_report_for(report, net, path);
    int64_t before = report.at("totals").at("channels").at("before").get<int64_t>();
    int64_t pruned = report.at("totals").at("channels").at("pruned").get<int64_t>();
    if (pruned < 0 || pruned > before) throw Error(path + ": report says it pruned " + std::to_string(pruned) + " of " +
                                                   std::to_string(before) + " channels");
    return pruned;
  } catch (const json::exception& e) {
    throw Error(path + ": malformed pruning report (" + e.what() + ")");
  }
}

std::map<std::string, int64_t> kept_counts_to_match(const json& report, const models::Net& net,
                                                    const std::string& path) {
  try {
    check_report_for(report, net, path);
    std::map<std::string, int64_t> kept;
    for (const auto& l : report.at("layers")) {
      if (!l.at("prunable").get<bool>()) continue;
      const auto k = l.at("kept").get<int64_t>(), n = l.at("total").get<int64_t>();
      if (k < 1 || k > n)
        throw Error(path + ": layer " + l.at("name").get<std::string>() + " keeps " + std::to_string(k) + " of " +
                    std::to_string(n) + " channels");
      kept[l.at("name").get<std::string>()] = k;
    }
    return kept;
  } catch (const json::exception& e) {
    throw Error(path + ": malformed pruning report (" + e.what() + ")");
  }
}

std::vector<fs::path> write_plots(const Decision& d, const std::vector<LayerGammas>& layers, const std::string& title,
                                  const fs::path& dir, const std::string& ext, bool progress) {
  if (ext != ".png" && ext != ".svg") throw Error("plot format must be png or svg, got '" + ext + "'");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot create the plot folder: " + ec.message());
  // One histogram per clustering group (mean shift) or one for everything (slimming).
  struct Hist {
    std::string name;
    std::vector<float> values;
    std::vector<std::pair<double, int64_t>> centres;
    double threshold;
    std::string info;
  };
  std::vector<Hist> hists;
  if (!d.groups.empty()) {
    for (const auto& g : d.groups) {
      Hist h{g.name, g.values, {}, g.threshold, strf("bandwidth %.4g, %zu centres", g.bandwidth, g.centres.size())};
      for (size_t k = 0; k < g.centres.size(); ++k) h.centres.emplace_back(g.centres[k], g.counts[k]);
      hists.push_back(std::move(h));
    }
  } else {
    Hist h{"all", {}, {}, d.global_threshold, ""};
    for (const auto& l : layers)
      if (l.prunable) h.values.insert(h.values.end(), l.abs_gamma.begin(), l.abs_gamma.end());
    h.info = d.method == "random" ? "random channels, |gamma| not used" : "one global threshold";
    hists.push_back(std::move(h));
  }
  std::vector<fs::path> files;
  Progress bar("plots", hists.size() + 1, "plot", progress && hists.size() > 8);
  auto render = [&](const PlotSpec& spec, const fs::path& f) {
    std::string why;
    if (!render_plot(spec, f, &why)) throw Error("cannot draw " + f.string() + ": " + why);
    files.push_back(f);
    bar.tick();
  };
  for (const auto& h : hists) {
    float mx = *std::max_element(h.values.begin(), h.values.end());
    const int bins = 50;
    double w = mx > 0 ? double(mx) / bins : 1.0;
    PlotSeries s{strf("|gamma| (%zu channels)", h.values.size()), {}, {}, "boxes"};
    std::vector<double> counts(bins, 0);
    for (float v : h.values) counts[std::min<size_t>(bins - 1, size_t(double(v) / w))] += 1;
    for (int b = 0; b < bins; ++b) {
      s.x.push_back((b + 0.5) * w);
      s.y.push_back(counts[size_t(b)]);
    }
    PlotSpec p;
    p.title = title + ": " + h.name + " (" + h.info + ")";
    p.xlabel = "|gamma|";
    p.ylabel = "channels";
    p.series.push_back(s);
    // The threshold first, so that its label sits on top.
    p.markers.push_back({h.threshold, strf("threshold %.4g", h.threshold), "red", "solid"});
    auto cs = h.centres;
    std::sort(cs.begin(), cs.end());
    for (size_t k = 0; k < cs.size(); ++k)
      p.markers.push_back({cs[k].first, k < 2 ? strf("centre %.3g (%lld)", cs[k].first, (long long)cs[k].second) : "",
                           "blue", "dashed"});
    std::string safe = h.name;
    for (char& c : safe)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    render(p, dir / ("hist_" + safe + ext));
  }
  PlotSpec k;
  k.title = title + ": kept channels per layer, " + d.method;
  k.xlabel = "BN layer";
  k.ylabel = "channels";
  k.width = std::max(900, int(16 * d.layers.size()));
  PlotSeries total{"total", {}, {}, "boxes"}, kept{"kept", {}, {}, "boxes"};
  for (size_t i = 0; i < d.layers.size(); ++i) {
    k.xtic_labels.push_back(d.layers[i].name);
    total.x.push_back(double(i));
    total.y.push_back(double(d.layers[i].total));
    kept.x.push_back(double(i));
    kept.y.push_back(double(d.layers[i].kept));
  }
  k.series = {total, kept};
  render(k, dir / ("kept" + ext));
  bar.finish();
  return files;
}

}  // namespace msprune::prune
