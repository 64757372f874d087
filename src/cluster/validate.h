#pragma once
// Input checks shared by the cluster entry points: shape and finiteness.
// They return an error sentence (empty when the input is fine).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace msprune::cluster::detail {

template <class T>
std::int64_t first_non_finite_impl(std::span<const T> x) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) return std::int64_t(i);
  }
  return -1;
}

std::string describe_value(double v);  // "nan", "inf", "-inf" or the number

// Checks n_features, the shape, emptiness and finiteness of `x`.
// `what` names the array in messages ("x", "abs_gamma").
template <class T>
std::string check_points(std::span<const T> x, std::size_t n_features, const char* what) {
  if (n_features == 0) return std::string("n_features must be at least 1");
  if (x.empty()) return std::string("empty input: ") + what + " has no values";
  if (x.size() % n_features != 0) {
    return std::string(what) + " has " + std::to_string(x.size()) +
           " values, not a multiple of n_features = " + std::to_string(n_features);
  }
  const std::int64_t bad = first_non_finite_impl(x);
  if (bad >= 0) {
    const std::size_t i = std::size_t(bad);
    std::string where = std::string(what) + "[" + std::to_string(i) + "]";
    if (n_features > 1) {
      where += " (row " + std::to_string(i / n_features) + ", column " +
               std::to_string(i % n_features) + ")";
    }
    return "non-finite value " + describe_value(double(x[i])) + " at " + where;
  }
  return {};
}

}  // namespace msprune::cluster::detail
