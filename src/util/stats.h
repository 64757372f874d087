#pragma once
// Latency statistics: percentiles over timed runs (nearest-rank on sorted data
// with linear interpolation, as numpy.percentile's default).
#include <string>
#include <vector>

namespace msprune {

struct Summary {
  std::size_t n = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, min = 0, max = 0;
};

double percentile(std::vector<double> v, double q);  // q in [0, 100]
Summary summarize(const std::vector<double>& samples);

}  // namespace msprune
