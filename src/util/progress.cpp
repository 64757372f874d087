#include "util/progress.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>

namespace msprune {

static std::atomic<bool> g_enabled{true};

void Progress::set_global_enabled(bool on) { g_enabled = on; }

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--";
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  }
  return buf;
}

Progress::Progress(std::string label, std::uint64_t total, std::string unit, bool enabled)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(enabled && g_enabled),
      tty_(::isatty(2) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_) finish();
}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::rate() const {
  double e = elapsed_s();
  return e > 0 ? double(done_) / e : 0.0;
}

void Progress::tick(std::uint64_t n, const std::string& status) {
  done_ += n;
  if (!status.empty()) status_ = status;
  draw(false);
}

void Progress::set_status(const std::string& status) {
  status_ = status;
  draw(false);
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  if (!status.empty()) status_ = status;
  draw(true);
  if (enabled_ && tty_) std::fputc('\n', stderr);
  finished_ = true;
}

void Progress::draw(bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  // Terminal: redraw at 10 Hz. Logs: one line every 5 s (and the final one).
  if (!force && since < (tty_ ? 0.1 : 5.0)) return;
  last_draw_ = now;
  double r = rate();
  char line[512];
  int pos = 0;
  if (total_ > 0) {
    const int width = 24;
    double frac = std::min(1.0, double(done_) / double(total_));
    int filled = int(frac * width);
    char bar[width + 1];
    for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
    bar[width] = 0;
    double eta = r > 0 ? double(total_ - std::min(total_, done_)) / r : NAN;
    pos = std::snprintf(line, sizeof line, "%s [%s] %llu/%llu %.1f %s/s ETA %s", label_.c_str(), bar,
                        (unsigned long long)done_, (unsigned long long)total_, r, unit_.c_str(),
                        format_duration(eta).c_str());
  } else {
    pos = std::snprintf(line, sizeof line, "%s %llu %s %.1f %s/s %s", label_.c_str(), (unsigned long long)done_,
                        unit_.c_str(), r, unit_.c_str(), format_duration(elapsed_s()).c_str());
  }
  if (!status_.empty() && pos > 0 && pos < int(sizeof line))
    std::snprintf(line + pos, sizeof line - pos, " | %s", status_.c_str());
  if (tty_)
    std::fprintf(stderr, "\r\033[K%s", line);
  else
    std::fprintf(stderr, "%s\n", line);
  std::fflush(stderr);
}

}  // namespace msprune
