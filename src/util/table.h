#pragma once
// Plain-text tables for human-readable output: columns are right-aligned
// except the first, separated by two spaces, with a rule under the header.
#include <string>
#include <vector>

namespace msprune {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void add_rule() { rows_.push_back({}); }
  std::string str() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// printf-style formatting into std::string.
std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// 14.7M, 312.5K, 830
std::string human_count(double n);
// 1.5 GiB, 12.0 MiB, 512 B
std::string human_bytes(double n);

}  // namespace msprune
