#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "util/error.h"

namespace msprune {
namespace fs = std::filesystem;

static void fsync_path(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

void atomic_write(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  fs::path dir = path.parent_path();
  if (!dir.empty() && !fs::exists(dir)) fs::create_directories(dir);
  std::random_device rd;
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd() % 1000000);
  try {
    write(tmp);
    if (!fs::exists(tmp)) throw Error("internal: writer did not create " + tmp.string());
    fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw Error("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
    fsync_path(dir.empty() ? fs::path(".") : dir);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void atomic_write_bytes(const fs::path& path, std::string_view bytes) {
  atomic_write(path, [&](const fs::path& tmp) {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw Error("cannot open " + tmp.string() + " for writing: " + std::strerror(errno));
    size_t n = bytes.empty() ? 0 : std::fwrite(bytes.data(), 1, bytes.size(), f);
    int close_rc = std::fclose(f);
    if (n != bytes.size() || close_rc != 0)
      throw Error("cannot write " + path.string() + ": " + std::strerror(errno));
  });
}

std::vector<unsigned char> read_file_bytes(const fs::path& path, std::size_t max_bytes) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path.string() + ": file not found");
  if (fs::is_directory(path, ec)) throw Error(path.string() + ": is a directory, expected a file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
  std::vector<unsigned char> out;
  unsigned char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (out.size() + n > max_bytes) {
      std::fclose(f);
      throw Error(path.string() + ": larger than the limit of " + std::to_string(max_bytes) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  bool err = std::ferror(f);
  std::fclose(f);
  if (err) throw Error(path.string() + ": read error");
  return out;
}

}  // namespace msprune
