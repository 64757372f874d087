#pragma once
// Plots through gnuplot (Debian's gnuplot-nox): a small description of the
// figure is turned into a gnuplot script with inline data and rendered to PNG
// (pngcairo) or SVG, chosen by the output file's extension. The script is kept
// next to the picture (same name, ".gp") so a person can tweak and re-render.
#include <filesystem>
#include <string>
#include <vector>

namespace msprune {

struct PlotSeries {
  std::string title;
  std::vector<double> x, y;
  // gnuplot style: "linespoints", "lines", "points", "boxes", "impulses".
  std::string style = "linespoints";
};

struct PlotMarker {  // a vertical line at x with a label
  double x = 0;
  std::string label;
  std::string color = "red";
  std::string dash = "solid";  // "solid" or "dashed"
};

struct PlotSpec {
  std::string title, xlabel, ylabel;
  std::vector<PlotSeries> series;
  std::vector<PlotMarker> markers;
  std::vector<std::string> xtic_labels;  // if set: category axis 0..n-1
  bool logx = false, logy = false;
  int width = 900, height = 500;
  std::string note;  // small text under the title (e.g. "emulated enclave")
};

// Renders `spec` to `out` (.png or .svg). Returns false (and leaves the .gp
// script) when gnuplot is not installed or fails; `why` says which.
bool render_plot(const PlotSpec& spec, const std::filesystem::path& out, std::string* why = nullptr);

}  // namespace msprune
