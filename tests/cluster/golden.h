#pragma once
// Loading the golden cases written by tools/gen_meanshift_golden.py.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace msprune::cluster::testing {

// The committed cases; $MSPRUNE_MEANSHIFT_GOLDEN_DIR points a direct run of
// the test binary at another set (e.g. freshly generated random cases).
inline std::string golden_dir() {
  const char* env = std::getenv("MSPRUNE_MEANSHIFT_GOLDEN_DIR");
  return env && *env ? env : MSPRUNE_MEANSHIFT_GOLDEN_DIR;
}

inline nlohmann::json load_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(f);
}

inline std::vector<unsigned char> b64_decode(const std::string& s) {
  static const std::string abc =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const auto pos = abc.find(c);
    if (pos == std::string::npos) throw std::runtime_error("bad base64");
    buf = (buf << 6) | unsigned(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back((unsigned char)((buf >> bits) & 0xff));
    }
  }
  return out;
}

template <class T>
std::vector<T> b64_array(const std::string& s) {
  const auto bytes = b64_decode(s);
  if (bytes.size() % sizeof(T)) throw std::runtime_error("base64 size not a multiple of the type");
  std::vector<T> v(bytes.size() / sizeof(T));
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

inline double hex_double(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

// The deterministic array shared with the generator.
inline double det_value(std::int64_t i) {
  static const double kScales[7] = {1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1000.0};
  const double a = double((i * 7919) % 10007) / 10007.0 - 0.5;
  return a * kScales[i % 7];
}

inline std::vector<std::string> case_names() {
  const auto idx = load_json(golden_dir() + "/index.json");
  std::vector<std::string> names;
  for (const auto& n : idx.at("cases")) names.push_back(n.get<std::string>());
  return names;
}

}  // namespace msprune::cluster::testing
