#include "util/table.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace msprune {

std::string strf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string s(n > 0 ? size_t(n) : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), size_t(n) + 1, fmt, ap2);
  va_end(ap2);
  return s;
}

std::string human_count(double n) {
  double a = std::fabs(n);
  if (a >= 1e9) return strf("%.2fG", n / 1e9);
  if (a >= 1e6) return strf("%.2fM", n / 1e6);
  if (a >= 1e3) return strf("%.1fK", n / 1e3);
  return strf("%.0f", n);
}

std::string human_bytes(double n) {
  double a = std::fabs(n);
  if (a >= 1024.0 * 1024 * 1024) return strf("%.2f GiB", n / (1024.0 * 1024 * 1024));
  if (a >= 1024.0 * 1024) return strf("%.2f MiB", n / (1024.0 * 1024));
  if (a >= 1024.0) return strf("%.1f KiB", n / 1024.0);
  return strf("%.0f B", n);
}

std::string Table::str() const {
  size_t ncol = header_.size();
  for (const auto& r : rows_) ncol = std::max(ncol, r.size());
  std::vector<size_t> w(ncol, 0);
  auto widen = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  };
  widen(header_);
  for (const auto& r : rows_) widen(r);
  size_t total = 0;
  for (size_t i = 0; i < ncol; ++i) total += w[i] + (i ? 2 : 0);
  std::string out;
  auto emit = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < ncol; ++i) {
      const std::string c = i < r.size() ? r[i] : "";
      if (i) out += "  ";
      if (i == 0)
        out += c + std::string(w[i] - c.size(), ' ');
      else
        out += std::string(w[i] - c.size(), ' ') + c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  };
  emit(header_);
  out += std::string(total, '-') + '\n';
  for (const auto& r : rows_) {
    if (r.empty())
      out += std::string(total, '-') + '\n';
    else
      emit(r);
  }
  return out;
}

}  // namespace msprune
