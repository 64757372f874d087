#include "data/fetch.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/progress.h"

namespace msprune::data {
namespace fs = std::filesystem;

namespace {

struct Known {
  const char* name;
  const char* url;
  const char* md5;
  const char* folder;
  std::vector<std::string> files;
};

const Known& known(const std::string& which) {
  static const Known c10{"cifar10",
                         "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                         "c32a1d4ab5d03f1284b67883e8d87530",
                         "cifar-10-batches-bin",
                         {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                          "data_batch_5.bin", "test_batch.bin", "batches.meta.txt"}};
  static const Known c100{"cifar100",
                          "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
                          "03b5dce01913d631647c71ecec9e9cb8",
                          "cifar-100-binary",
                          {"train.bin", "test.bin", "fine_label_names.txt", "coarse_label_names.txt"}};
  if (which == "cifar10") return c10;
  if (which == "cifar100") return c100;
  throw Error("unknown dataset '" + which + "' (expected cifar10 or cifar100)");
}

struct Download {
  std::FILE* f = nullptr;
  Progress* bar = nullptr;
  curl_off_t last = 0;
};

size_t on_data(char* p, size_t size, size_t n, void* ud) {
  auto* d = static_cast<Download*>(ud);
  return std::fwrite(p, size, n, d->f) * size;
}

int on_progress(void* ud, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* d = static_cast<Download*>(ud);
  if (d->bar && now > d->last) {
    d->bar->tick(uint64_t(now - d->last) / 1024, total > 0 ? "of " + std::to_string(total / (1024 * 1024)) + " MiB" : "");
    d->last = now;
  }
  return 0;
}

}  // namespace

std::string md5_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path + ": cannot open for checksum");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  std::vector<unsigned char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) EVP_DigestUpdate(ctx, buf.data(), n);
  std::fclose(f);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", md[i]);
    hex += b;
  }
  return hex;
}

int extract_tar_gz(const std::string& archive, const std::string& dest, const std::vector<std::string>& wanted) {
  gzFile gz = gzopen(archive.c_str(), "rb");
  if (!gz) throw Error(archive + ": cannot open archive");
  struct Closer {
    gzFile g;
    ~Closer() { gzclose(g); }
  } closer{gz};
  auto read_exact = [&](void* p, size_t n) -> bool {
    size_t got = 0;
    while (got < n) {
      int r = gzread(gz, static_cast<char*>(p) + got, unsigned(n - got));
      if (r <= 0) return false;
      got += size_t(r);
    }
    return true;
  };
  int written = 0;
  unsigned char hdr[512];
  std::vector<char> data;
  while (true) {
    if (!read_exact(hdr, 512)) throw Error(archive + ": truncated tar archive (no end marker)");
    bool zero = true;
    for (unsigned char c : hdr) zero = zero && c == 0;
    if (zero) break;
    // Checksum: sum of header bytes with the checksum field taken as spaces.
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : hdr[i];
    unsigned stored = unsigned(std::strtoul(std::string(reinterpret_cast<char*>(hdr) + 148, 8).c_str(), nullptr, 8));
    if (sum != stored) throw Error(archive + ": corrupt tar header (checksum mismatch)");
    std::string name(reinterpret_cast<char*>(hdr), strnlen(reinterpret_cast<char*>(hdr), 100));
    unsigned long long size = std::strtoull(std::string(reinterpret_cast<char*>(hdr) + 124, 12).c_str(), nullptr, 8);
    if (size > (1ull << 31)) throw Error(archive + ": member " + name + " too large");
    char type = char(hdr[156]);
    size_t padded = size_t((size + 511) / 512 * 512);
    data.resize(padded);
    if (padded && !read_exact(data.data(), padded)) throw Error(archive + ": truncated member " + name);
    std::string base = fs::path(name).filename().string();
    bool want = (type == '0' || type == '\0');
    want = want && std::find(wanted.begin(), wanted.end(), base) != wanted.end();
    if (want) {
      atomic_write_bytes(fs::path(dest) / base, std::string_view(data.data(), size_t(size)));
      ++written;
    }
  }
  return written;
}

std::string fetch_cifar(const FetchOptions& opt) {
  const Known& k = known(opt.which);
  if (opt.dest.empty()) throw Error("--dest is required");
  fs::create_directories(opt.dest);
  fs::path archive = fs::path(opt.dest) / (std::string(k.folder) + ".tar.gz");
  fs::path part = archive;
  part += ".part";
  std::string url = opt.url.empty() ? k.url : opt.url;

  if (!fs::exists(archive) || md5_file(archive.string()) != k.md5) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL* c = curl_easy_init();
    if (!c) throw Error("cannot initialise libcurl");
    Download d;
    d.f = std::fopen(part.c_str(), "wb");
    if (!d.f) {
      curl_easy_cleanup(c);
      throw Error(part.string() + ": cannot open for writing");
    }
    char err[CURL_ERROR_SIZE] = {0};
    Progress bar("download " + std::string(k.name), 0, "KiB");
    d.bar = &bar;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, opt.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &d);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    std::fclose(d.f);
    bar.finish();
    if (rc != CURLE_OK) {
      fs::remove(part);
      throw Error("cannot download " + url + ": " + (err[0] ? std::string(err) : curl_easy_strerror(rc)) +
                  ". Without network access, copy an existing CIFAR binary folder to this machine and point "
                  "--data (or MSPRUNE_DATA) at it.");
    }
    std::string md5 = md5_file(part.string());
    if (md5 != k.md5) {
      fs::remove(part);
      throw Error("downloaded archive has MD5 " + md5 + ", expected the published " + k.md5 + "; not unpacked");
    }
    fs::rename(part, archive);
  }
  fs::path out = fs::path(opt.dest) / k.folder;
  fs::create_directories(out);
  int n = extract_tar_gz(archive.string(), out.string(), k.files);
  if (n != int(k.files.size()))
    throw Error(archive.string() + ": expected " + std::to_string(k.files.size()) + " files, found " +
                std::to_string(n));
  return out.string();
}

}  // namespace msprune::data
