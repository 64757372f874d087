// Threshold policies for pruning (see threshold.h for the contract).
#include "cluster/threshold.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cluster/mean_shift.h"
#include "cluster/validate.h"

namespace msprune::cluster {

const char* policy_name(ThresholdPolicy p) {
  return p == ThresholdPolicy::kValley ? "valley" : "min-centre";
}

bool parse_policy(const std::string& s, ThresholdPolicy* out) {
  if (s == "min-centre" || s == "min-center") {
    *out = ThresholdPolicy::kMinCentre;
    return true;
  }
  if (s == "valley") {
    *out = ThresholdPolicy::kValley;
    return true;
  }
  return false;
}

namespace {

// The largest float below v: every value >= v passes `value > threshold`.
double just_below(float v) {
  return double(std::nextafter(v, -std::numeric_limits<float>::infinity()));
}

double valley_threshold(const std::vector<float>& sorted, double c0, double c1) {
  // Points c0, the values strictly between, c1; the widest gap's lower end.
  auto first = std::upper_bound(sorted.begin(), sorted.end(), c0,
                                [](double a, float b) { return a < double(b); });
  double prev = c0, best_lo = c0, best_gap = -1;
  for (auto it = first; it != sorted.end() && double(*it) < c1; ++it) {
    const double gap = double(*it) - prev;
    if (gap > best_gap) {
      best_gap = gap;
      best_lo = prev;
    }
    prev = double(*it);
  }
  if (c1 - prev > best_gap) best_lo = prev;
  return best_lo;
}

void apply(std::span<const float> g, ThresholdResult* r) {
  r->keep.assign(g.size(), 0);
  r->kept = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (double(g[i]) > r->threshold) {
      r->keep[i] = 1;
      ++r->kept;
    }
  }
}

}  // namespace

ThresholdResult choose_threshold(std::span<const float> g, const ThresholdOptions& opt) {
  ThresholdResult r;
  if (std::string e = detail::check_points(g, 1, "abs_gamma"); !e.empty()) {
    r.error = e;
    return r;
  }
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g[i] < 0) {
      r.error = "abs_gamma[" + std::to_string(i) + "] = " + detail::describe_value(g[i]) +
                " is negative (pass magnitudes)";
      return r;
    }
  }
  if (!(opt.min_keep_fraction >= 0.0 && opt.min_keep_fraction <= 1.0)) {
    r.error = "min_keep_fraction must be in [0, 1], got " +
              detail::describe_value(opt.min_keep_fraction);
    return r;
  }
  const std::size_t n = g.size();
  if (opt.bandwidth) {
    if (!(*opt.bandwidth >= 0.0) || std::isinf(*opt.bandwidth)) {
      r.error = "bandwidth must be finite and >= 0, got " + detail::describe_value(*opt.bandwidth);
      return r;
    }
    r.bandwidth = *opt.bandwidth;
  } else {
    BandwidthOptions bo;
    bo.quantile = opt.quantile;
    bo.n_samples = opt.n_samples ? opt.n_samples : n;
    BandwidthResult b = estimate_bandwidth(g, 1, bo);
    if (!b.ok()) {
      r.error = b.error;
      return r;
    }
    r.bandwidth = b.bandwidth;
  }
  const float min_value = *std::min_element(g.begin(), g.end());
  if (r.bandwidth == 0.0) {
    r.bandwidth_zero = true;
    r.threshold = just_below(min_value);
  } else {
    MeanShiftOptions mo;
    mo.bin_seeding = opt.bin_seeding;
    MeanShiftResult ms = mean_shift(g, 1, r.bandwidth, mo);
    if (!ms.ok()) {
      r.error = ms.error;
      return r;
    }
    r.centres = ms.centers;
    r.counts = ms.counts;
    r.n_iter = ms.n_iter;
    std::vector<double> by_value = ms.centers;
    std::sort(by_value.begin(), by_value.end());
    if (opt.policy == ThresholdPolicy::kMinCentre) {
      r.threshold = by_value.front();
    } else if (by_value.size() < 2) {
      r.threshold = just_below(min_value);  // nothing to separate
    } else {
      std::vector<float> sorted(g.begin(), g.end());
      std::sort(sorted.begin(), sorted.end());
      r.threshold = valley_threshold(sorted, by_value[0], by_value[1]);
    }
  }
  apply(g, &r);

  std::size_t required = std::max<std::size_t>(1, opt.min_keep_count);
  const double frac = std::ceil(opt.min_keep_fraction * double(n));
  required = std::max(required, std::size_t(frac));
  required = std::min(required, n);
  if (r.kept < required) {
    std::vector<float> desc(g.begin(), g.end());
    std::sort(desc.begin(), desc.end(), [](float a, float b) { return a > b; });
    const float v_req = desc[required - 1];
    auto below = std::find_if(desc.begin() + std::ptrdiff_t(required), desc.end(),
                              [&](float v) { return v < v_req; });
    r.threshold = below != desc.end() ? double(*below) : just_below(v_req);
    r.floor_applied = true;
    apply(g, &r);
  }
  return r;
}

std::size_t threshold_steps(std::size_t n_centres) { return n_centres == 0 ? 0 : 2 * n_centres - 1; }

double step_threshold(std::span<const float> g, std::span<const double> centres, std::size_t step) {
  if (centres.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> by_value(centres.begin(), centres.end());
  std::sort(by_value.begin(), by_value.end());
  step = std::min(step, threshold_steps(by_value.size()) - 1);
  const std::size_t k = step / 2;
  if (step % 2 == 0) return by_value[k];
  std::vector<float> sorted(g.begin(), g.end());
  std::sort(sorted.begin(), sorted.end());
  return valley_threshold(sorted, by_value[k], by_value[k + 1]);
}

namespace {
std::string ordinal(std::size_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    else if (n % 10 == 2) suffix = "nd";
    else if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}
}  // namespace

std::string step_name(std::size_t step) {
  const std::size_t k = step / 2;
  if (step % 2 == 0) return k == 0 ? "lowest centre" : ordinal(k + 1) + " centre";
  return "valley between the " + (k == 0 ? std::string("lowest") : ordinal(k + 1)) + " and " + ordinal(k + 2) +
         " centres";
}

}  // namespace msprune::cluster
