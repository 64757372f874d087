#include "prune/fit_epc.h"

#include <cctype>
#include <map>
#include <optional>

#include "export/export.h"
#include "prune/surgery.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::prune {
using nlohmann::json;

namespace {

constexpr uint64_t kMaxSize = uint64_t(1) << 62;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

uint64_t parse_size(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Error("--fit-epc '" + text + "': " + why +
                 " (expected a size such as 8MiB, 8M, 512KiB, 1.5MiB or 1048576 bytes)");
  };
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i < text.size() && text[i] == '-') throw bad("the size must be positive");
  if (i < text.size() && text[i] == '+') ++i;
  // Whole part.
  const size_t int_start = i;
  unsigned __int128 whole = 0;
  bool too_big = false;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    whole = whole * 10 + unsigned(text[i] - '0');
    if (whole > kMaxSize) too_big = true, whole = kMaxSize + 1;
  }
  const size_t int_digits = i - int_start;
  // Fraction (at most 18 digits count; more are ignored, after checking they are digits).
  unsigned __int128 frac = 0, frac_scale = 1;
  size_t frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && is_digit(text[i]); ++i, ++frac_digits) {
      if (frac_digits < 18) {
        frac = frac * 10 + unsigned(text[i] - '0');
        frac_scale *= 10;
      }
    }
    if (frac_digits == 0) throw bad("a number needs digits after its decimal point");
  }
  if (int_digits == 0 && frac_digits == 0) throw bad("not a size");
  while (i < text.size() && text[i] == ' ') ++i;
  const std::string unit = lower(text.substr(i));
  uint64_t mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kib") mult = uint64_t(1) << 10;
  else if (unit == "m" || unit == "mib") mult = uint64_t(1) << 20;
  else if (unit == "g" || unit == "gib") mult = uint64_t(1) << 30;
  else if (unit == "kb" || unit == "mb" || unit == "gb")
    throw bad("'" + text.substr(i) + "' is ambiguous; write KiB, MiB or GiB (powers of 1024) or a number of bytes");
  else
    throw bad("unknown unit '" + text.substr(i) + "'");
  if (mult == 1 && frac != 0) throw bad("a number of bytes must be whole");
  if (too_big) throw bad("more than 2^62 bytes");
  const unsigned __int128 bytes = whole * mult + frac * mult / frac_scale;  // fraction rounded down
  if (bytes > kMaxSize) throw bad("more than 2^62 bytes");
  if (bytes == 0) throw bad("the size must be at least one byte");
  return uint64_t(bytes);
}

std::string describe_size(uint64_t bytes) {
  return human_bytes(double(bytes)) + strf(" (%llu bytes)", (unsigned long long)bytes);
}

json FitResult::to_json() const {
  json c = json::array();
  for (const auto& t : tried) {
    json j = {{"step", t.step},       {"method", t.method}, {"pruned_channels", t.pruned},
              {"heap_bytes", t.heap_bytes}, {"fits", t.fits}};
    if (t.level >= 0) j["level"] = t.level;
    c.push_back(j);
  }
  json r = {{"requested_bytes", requested},
            {"reached_bytes", reached},
            {"base_bytes", base},
            {"chosen", step},
            {"method", decision.method},
            {"pruned_channels", decision.prunable_before - decision.prunable_after},
            {"ladder_levels", levels},
            {"max_prunable", max_prunable},
            {"measure", "enclave heap: .msm bytes rounded up to 64 + runtime arena bytes (resident weights), "
                        "the network exported as `msprune export` does"},
            {"candidates", c}};
  if (decision.method == "meanshift") r["level"] = decision.level;
  return r;
}

FitResult fit_epc(const models::Net& net, const std::vector<LayerGammas>& layers, const FitOptions& opt,
                  const HeapMeasure& measure_in) {
  if (opt.size == 0) throw Error("--fit-epc: the size must be at least one byte");
  HeapMeasure measure = measure_in;
  if (!measure) measure = [](const models::Net& n) { return exporter::exported_enclave_heap_bytes(*n); };

  FitResult r;
  r.requested = opt.size;
  r.max_prunable = max_prunable(layers, opt.floor);
  std::map<Masks, uint64_t> cache;
  auto heap_of = [&](const Masks& m) {
    auto it = cache.find(m);
    if (it != cache.end()) return it->second;
    uint64_t h = measure(compact_network(net, m));
    cache.emplace(m, h);
    return h;
  };
  // The base: the network as it is (a keep-everything mask builds it bit for bit).
  r.base = measure(net);
  cache.emplace(keep_all(layers), r.base);

  auto check = [&](const Decision& d, const std::string& step, int level) {
    FitCandidate c;
    c.step = step;
    c.method = d.method;
    c.level = level;
    c.pruned = d.prunable_before - d.prunable_after;
    c.heap_bytes = heap_of(d.masks);
    c.fits = c.heap_bytes <= opt.size;
    r.tried.push_back(c);
    return c.fits;
  };
  auto choose = [&](Decision d, const std::string& step) {
    r.step = step;
    r.reached = heap_of(d.masks);
    d.rule += "; fitted to an enclave heap of " + describe_size(opt.size) + ": " + step;
    r.decision = std::move(d);
    return r;
  };

  // 1. The mean-shift ladder, walked from level 0 up: the first level that fits.
  if (opt.meanshift) {
    MeanShiftConfig cfg = opt.meanshift_cfg;
    cfg.floor = opt.floor;
    const Decision d0 = decide_meanshift(layers, cfg);
    r.levels = meanshift_levels(d0);
    std::optional<Decision> found;
    auto try_level = [&](int level) {
      Decision d = decide_meanshift_level(layers, d0, level);
      if (!check(d, meanshift_level_name(d0, level), level)) return false;
      found = std::move(d);
      return true;
    };
    if (r.levels + 1 <= opt.linear_ladder) {
      for (int level = 0; level <= r.levels && !try_level(level); ++level) {
      }
    } else if (!try_level(0) && r.levels > 0) {
      // A long ladder: levels 1, 2, 4, 8, ... (and the top) until one fits,
      // then a binary search between it and the last one that did not.
      int lo = 0;  // does not fit
      for (int step = 1;; step *= 2) {
        const int next = std::min(r.levels, step);
        if (try_level(next)) {
          int hi = next;  // fits
          Decision best = std::move(*found);
          while (hi - lo > 1) {
            const int mid = lo + (hi - lo) / 2;
            if (try_level(mid)) {
              hi = mid;
              best = std::move(*found);
            } else {
              lo = mid;
            }
          }
          found = std::move(best);
          break;
        }
        lo = next;
        if (next == r.levels) break;
      }
    }
    if (found) {
      const std::string name = meanshift_level_name(d0, found->level);
      return choose(std::move(*found), name);
    }
  }

  // 2. Network Slimming's global order: the fewest pruned channels that fit.
  const char* label = opt.meanshift ? "slimming fallback" : "slimming";
  auto slim_name = [&](int64_t n) { return strf("%s, %lld channels", label, (long long)n); };
  Decision most = decide_slimming_count(layers, r.max_prunable, opt.floor);
  if (!check(most, slim_name(r.max_prunable), -1)) {
    throw Error(strf("--fit-epc %s: no admissible pruning fits. The smallest enclave heap reachable is %s, with every "
                     "prunable channel but the floor's pruned (%lld of %lld channels, floor %s); the unpruned model "
                     "needs %s",
                     describe_size(opt.size).c_str(), describe_size(r.tried.back().heap_bytes).c_str(),
                     (long long)r.max_prunable, (long long)most.prunable_before, opt.floor.str().c_str(),
                     describe_size(r.base).c_str()));
  }
  if (r.base <= opt.size) {  // nothing needs pruning (only reachable with --method slimming)
    Decision none = decide_slimming_count(layers, 0, opt.floor);
    check(none, slim_name(0), -1);
    return choose(std::move(none), slim_name(0));
  }
  int64_t lo = 0, hi = r.max_prunable;  // lo (the base) does not fit, hi fits
  Decision best = std::move(most);
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    Decision dm = decide_slimming_count(layers, mid, opt.floor);
    if (check(dm, slim_name(mid), -1)) {
      hi = mid;
      best = std::move(dm);
    } else {
      lo = mid;
    }
  }
  return choose(std::move(best), slim_name(hi));
}

std::string fit_text(const json& f) {
  auto sz = [&](const char* key) { return describe_size(f.at(key).get<uint64_t>()); };
  std::string out = "fit to enclave memory (heap = .msm bytes rounded up to 64 + runtime arena, as `inspect` prints)\n";
  out += "  requested  " + sz("requested_bytes") + "\n";
  out += "  base       " + sz("base_bytes") + "\n";
  out += "  reached    " + sz("reached_bytes") + " with " + f.at("chosen").get<std::string>() + "\n\n";
  Table t({"candidate (in the order tried)", "pruned", "enclave heap", "bytes", "fits"});
  for (const auto& c : f.at("candidates")) {
    const auto h = c.at("heap_bytes").get<uint64_t>();
    t.add({c.at("step").get<std::string>(), std::to_string(c.at("pruned_channels").get<int64_t>()),
           human_bytes(double(h)), std::to_string(h), c.at("fits").get<bool>() ? "yes" : "no"});
  }
  return out + t.str();
}

}  // namespace msprune::prune
