#pragma once
// A progress bar on stderr with rate and ETA. On a terminal it redraws one
// line; otherwise (logs, CI) it prints a plain line at most every few seconds
// so logs stay readable. Thread-compatible, not thread-safe.
#include <chrono>
#include <cstdint>
#include <string>

namespace msprune {

class Progress {
 public:
  // total == 0 means unknown length (no ETA).
  Progress(std::string label, std::uint64_t total, std::string unit = "it", bool enabled = true);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Advance by n units; `status` is shown after the bar (e.g. "loss 1.23").
  void tick(std::uint64_t n = 1, const std::string& status = {});
  void set_status(const std::string& status);
  // Final redraw and newline. Called by the destructor if not called.
  void finish(const std::string& status = {});

  double elapsed_s() const;
  double rate() const;  // units per second so far

  // Quiet mode for the whole process (e.g. tests, --quiet).
  static void set_global_enabled(bool on);

 private:
  void draw(bool force);
  std::string label_, unit_, status_;
  std::uint64_t total_, done_ = 0;
  bool enabled_, tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1h02m", "3m04s", "12.3s"
std::string format_duration(double seconds);

}  // namespace msprune
