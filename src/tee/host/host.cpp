#include "tee/host/host.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace msprune::tee {
namespace fs = std::filesystem;

fs::path find_enclave_binary() {
  if (const char* env = std::getenv("MSPRUNE_ENCLAVE"); env && *env) {
    fs::path p(env);
    if (!fs::is_regular_file(p)) throw Error("MSPRUNE_ENCLAVE=" + p.string() + ": no such enclave program");
    return p;
  }
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path p = self.parent_path() / "msprune-enclave";
    if (fs::is_regular_file(p)) return p;
  }
  if (const char* bd = std::getenv("MSPRUNE_BUILD_DIR"); bd && *bd) {
    fs::path p = fs::path(bd) / "msprune-enclave";
    if (fs::is_regular_file(p)) return p;
  }
  throw Error("cannot find the enclave program msprune-enclave next to " +
              (ec ? std::string("this executable") : self.string()) + "; set MSPRUNE_ENCLAVE=PATH");
}

Digest measure_enclave(const fs::path& binary) {
  Digest d;
  TeeError err;
  if (!measure_enclave_file(binary.c_str(), &d, &err)) throw Error(err.message);
  return d;
}

fs::path resolve_platform_key(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("MSPRUNE_PLATFORM_KEY"); env && *env) return env;
  throw Error("no platform key: pass --platform-key FILE or set MSPRUNE_PLATFORM_KEY (create one with "
              "`msprune keygen --out FILE`)");
}

PlatformKey load_platform_key(const fs::path& path) {
  PlatformKey k;
  TeeError err;
  if (!read_platform_key_file(path.c_str(), &k, &err)) throw Error(err.message);
  return k;
}

void write_new_platform_key(const fs::path& path, bool force) {
  std::error_code ec;
  if (fs::exists(path, ec) && !force)
    throw Error(path.string() + " already exists; refusing to replace a platform key (every model sealed to it "
                "would become unreadable). Pass --force to replace it.");
  PlatformKey k;
  if (!random_bytes(k)) throw Error("the system random number generator failed");
  atomic_write(path, [&](const fs::path& tmp) {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw Error("cannot create " + tmp.string() + ": " + std::strerror(errno));
    ssize_t n = ::write(fd, k.data(), k.size());
    int rc = ::close(fd);
    if (n != ssize_t(k.size()) || rc != 0) throw Error("cannot write " + path.string() + ": " + std::strerror(errno));
  });
  secure_zero(k.data(), k.size());
}

bool looks_sealed(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 8 && std::memcmp(bytes.data(), kSealMagic, 8) == 0;
}

SealPlan plan_seal(std::span<const std::uint8_t> msm, const std::string& what) {
  rt::Model model;
  rt::Error err;
  if (model.load(msm.data(), msm.size(), rt::LoadOptions{}, &err) != rt::Status::kOk)
    throw Error(what + ": not a valid model: " + err.message);
  SealPlan plan;
  std::memcpy(plan.content_hash.data(), model.content_hash(), 32);
  const std::uint64_t size = msm.size(), wo = model.metadata_bytes();
  auto add = [&](std::uint64_t from, std::uint64_t to) {
    while (from < to) {
      std::uint64_t n = std::min<std::uint64_t>(to - from, kSealMaxChunkBytes);
      plan.chunks.push_back({from, n});
      from += n;
    }
  };
  add(0, wo);
  std::uint64_t at = wo;
  for (std::uint32_t i = 0; i < model.num_ops(); ++i) {
    rt::OpInfo oi;
    if (model.op_info(i, &oi) != rt::Status::kOk) throw Error(what + ": cannot read op " + std::to_string(i));
    if (oi.weight_bytes == 0) continue;
    std::uint64_t from = wo + oi.weight_offset;
    add(at, from);  // a gap before this op's range (if any)
    add(from, from + oi.weight_bytes);
    at = from + oi.weight_bytes;
  }
  add(at, size);
  if (plan.chunks.size() > kSealMaxChunks)
    throw Error(what + ": needs " + std::to_string(plan.chunks.size()) + " sealed chunks, more than the format's " +
                std::to_string(kSealMaxChunks));
  return plan;
}

std::vector<std::uint8_t> seal_model(std::span<const std::uint8_t> msm, const Digest& measurement,
                                     const PlatformKey& key, const std::string& what) {
  SealPlan plan = plan_seal(msm, what);
  std::vector<std::uint8_t> out(sealed_total_bytes(msm.size(), plan.chunks.size()));
  std::uint8_t salt[32];
  if (!random_bytes(salt)) throw Error("the system random number generator failed");
  TeeError err;
  if (!seal_into(msm, plan.chunks, plan.content_hash, measurement, key, salt, out, &err))
    throw Error(what + ": sealing failed: " + err.message);
  return out;
}

std::string hex(std::span<const std::uint8_t> bytes) {
  std::string s(bytes.size() * 2, '0');
  to_hex(bytes, s.data());
  return s;
}

std::vector<std::uint8_t> parse_hex(const std::string& text, const std::string& what) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) throw Error(what + " must be an even number of hex digits, got " + std::to_string(text.size()));
  std::vector<std::uint8_t> out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nib(text[2 * i]), lo = nib(text[2 * i + 1]);
    if (hi < 0 || lo < 0) throw Error(what + " is not hex: bad character at position " + std::to_string(2 * i + (hi < 0 ? 0 : 1)));
    out[i] = std::uint8_t(hi * 16 + lo);
  }
  return out;
}

}  // namespace msprune::tee
