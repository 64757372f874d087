#include "util/plot.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "util/atomic_file.h"
#include "util/error.h"

namespace msprune {
namespace fs = std::filesystem;

static std::string quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o + "\"";
}

static std::string shell_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'')
      o += "'\\''";
    else
      o += c;
  }
  return o + "'";
}

bool render_plot(const PlotSpec& spec, const fs::path& out, std::string* why) {
  std::string ext = out.extension().string();
  std::ostringstream gp;
  gp.precision(10);
  if (ext == ".svg")
    gp << "set terminal svg size " << spec.width << "," << spec.height << " dynamic background rgb 'white'\n";
  else if (ext == ".png")
    gp << "set terminal pngcairo size " << spec.width << "," << spec.height << " font 'Sans,10'\n";
  else
    throw Error("plot " + out.string() + ": extension must be .png or .svg");
  gp << "set output " << quote(out.filename().string()) << "\n";
  std::string title = spec.title;
  if (!spec.note.empty()) title += "\n{/*0.8 " + spec.note + "}";
  gp << "set title " << quote(title) << " enhanced\n";
  gp << "set xlabel " << quote(spec.xlabel) << "\nset ylabel " << quote(spec.ylabel) << "\n";
  gp << "set grid\nset key outside right top\nset style fill solid 0.5 border -1\n";
  if (spec.logx) gp << "set logscale x\n";
  if (spec.logy) gp << "set logscale y\n";
  if (!spec.xtic_labels.empty()) {
    gp << "set xtics rotate by -45 (";
    for (size_t i = 0; i < spec.xtic_labels.size(); ++i)
      gp << (i ? ", " : "") << quote(spec.xtic_labels[i]) << " " << i;
    gp << ")\nset xrange [-0.75:" << double(spec.xtic_labels.size()) - 0.25 << "]\n";
  }
  int mi = 0;
  for (const auto& m : spec.markers) {
    ++mi;
    gp << "set arrow " << mi << " from " << m.x << ", graph 0 to " << m.x << ", graph 1 nohead front lw 2 lc rgb "
       << quote(m.color) << (m.dash == "dashed" ? " dt 2" : "") << "\n";
    if (!m.label.empty())
      gp << "set label " << mi << " " << quote(m.label) << " at " << m.x << ", graph " << (0.97 - 0.05 * ((mi - 1) % 6))
         << " left offset 0.5,0 textcolor rgb " << quote(m.color) << " font ',9'\n";
  }
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    if (s.x.size() != s.y.size()) throw Error("plot: series '" + s.title + "' has x/y of different lengths");
    gp << "$d" << i << " << EOD\n";
    for (size_t k = 0; k < s.x.size(); ++k) gp << s.x[k] << " " << s.y[k] << "\n";
    gp << "EOD\n";
  }
  gp << "plot ";
  bool any = false;
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    if (s.x.empty()) continue;
    gp << (any ? ", " : "") << "$d" << i << " using 1:2 with " << s.style << " lw 2 title " << quote(s.title);
    any = true;
  }
  if (!any) gp << "NaN notitle";
  gp << "\n";

  fs::path dir = out.parent_path();
  if (!dir.empty()) fs::create_directories(dir);
  fs::path script = out;
  script.replace_extension(".gp");
  atomic_write_bytes(script, gp.str());
  std::string cmd = "cd " + shell_quote(dir.empty() ? "." : dir.string()) + " && gnuplot " +
                    shell_quote(script.filename().string()) + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    if (why) *why = "cannot start gnuplot";
    return false;
  }
  std::string msg;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) msg += buf;
  int rc = ::pclose(p);
  if (rc != 0 || !fs::exists(out)) {
    if (why) *why = "gnuplot failed (is gnuplot-nox installed?): " + msg;
    return false;
  }
  return true;
}

}  // namespace msprune
