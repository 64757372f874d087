#include "data/cifar_raw.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace msprune::data {
namespace fs = std::filesystem;

namespace {

const char* kCifar10Train[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                               "data_batch_5.bin"};
const char* kCifar10Test = "test_batch.bin";

bool has(const fs::path& d, const char* f) {
  std::error_code ec;
  return fs::is_regular_file(d / f, ec);
}

bool looks_like_10(const fs::path& d) { return has(d, kCifar10Test) || has(d, kCifar10Train[0]); }
bool looks_like_100(const fs::path& d) { return has(d, "train.bin") || has(d, "test.bin"); }

std::vector<std::string> read_names(const fs::path& p, size_t expect) {
  std::vector<std::string> names;
  std::ifstream in(p);
  std::string line;
  while (in && std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  if (names.size() != expect) names.clear();  // fall back to numeric names
  for (size_t i = names.size(); i < expect; ++i) names.push_back("class" + std::to_string(i));
  return names;
}

std::string layout_hint() {
  return "expected the CIFAR-10 binary layout (data_batch_1..5.bin, test_batch.bin) or CIFAR-100 "
         "(train.bin, test.bin); point --data (or MSPRUNE_DATA) at such a folder, or run "
         "`msprune data fetch --dest DIR`";
}

}  // namespace

CifarKind detect_layout(const std::string& dir, std::string* resolved) {
  fs::path d(dir);
  std::error_code ec;
  if (!fs::exists(d, ec)) throw Error("data folder " + dir + " does not exist; " + layout_hint());
  if (!fs::is_directory(d, ec)) throw Error("data folder " + dir + " is not a directory; " + layout_hint());
  for (const fs::path& cand : {d, d / "cifar-10-batches-bin", d / "cifar-100-binary"}) {
    if (looks_like_10(cand)) {
      if (resolved) *resolved = cand.string();
      return CifarKind::kCifar10;
    }
    if (looks_like_100(cand)) {
      if (resolved) *resolved = cand.string();
      return CifarKind::kCifar100;
    }
  }
  throw Error("data folder " + dir + " holds no CIFAR files; " + layout_hint());
}

CifarRecords read_cifar(const std::string& dir, bool train, int64_t limit) {
  std::string root;
  CifarRecords s;
  s.kind = detect_layout(dir, &root);
  const bool c100 = s.kind == CifarKind::kCifar100;
  const int64_t label_bytes = c100 ? 2 : 1;
  const int64_t rec = label_bytes + kImageBytes;
  s.num_classes = c100 ? 100 : 10;

  std::vector<std::string> files;
  if (c100)
    files.push_back(train ? "train.bin" : "test.bin");
  else if (train)
    files.assign(std::begin(kCifar10Train), std::end(kCifar10Train));
  else
    files.push_back(kCifar10Test);

  // First pass: check every file exists and is a whole number of records.
  std::vector<int64_t> counts;
  int64_t total = 0;
  for (const auto& f : files) {
    fs::path p = fs::path(root) / f;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) throw Error(p.string() + ": file not found; " + layout_hint());
    auto size = int64_t(fs::file_size(p, ec));
    if (ec) throw Error(p.string() + ": cannot stat: " + ec.message());
    if (size == 0) throw Error(p.string() + ": file is empty");
    if (size % rec != 0)
      throw Error(p.string() + ": size " + std::to_string(size) + " bytes is not a whole number of " +
                  std::to_string(rec) + "-byte records (truncated or not a CIFAR-" + (c100 ? "100" : "10") +
                  " file?)");
    counts.push_back(size / rec);
    total += size / rec;
  }
  int64_t want = limit >= 0 ? std::min(limit, total) : total;

  s.images.resize(size_t(want * kImageBytes));
  s.labels.resize(size_t(want));
  if (c100) s.coarse_labels.resize(size_t(want));
  uint8_t* img = s.images.data();
  int64_t* lab = s.labels.data();
  int64_t* coarse = c100 ? s.coarse_labels.data() : nullptr;

  int64_t got = 0;
  std::vector<uint8_t> buf;
  for (size_t fi = 0; fi < files.size() && got < want; ++fi) {
    fs::path p = fs::path(root) / files[fi];
    int64_t n = std::min(counts[fi], want - got);
    buf.resize(size_t(n * rec));
    std::FILE* fp = std::fopen(p.c_str(), "rb");
    if (!fp) throw Error(p.string() + ": cannot open");
    size_t rd = std::fread(buf.data(), 1, buf.size(), fp);
    std::fclose(fp);
    if (rd != buf.size())
      throw Error(p.string() + ": short read (" + std::to_string(rd) + " of " + std::to_string(buf.size()) +
                  " bytes); the file changed while reading?");
    for (int64_t r = 0; r < n; ++r) {
      const uint8_t* q = buf.data() + r * rec;
      int fine = c100 ? q[1] : q[0];
      if (fine >= s.num_classes)
        throw Error(p.string() + ": record " + std::to_string(r) + " (byte offset " + std::to_string(r * rec) +
                    "): label " + std::to_string(fine) + " out of range 0.." + std::to_string(s.num_classes - 1));
      if (c100) {
        if (q[0] >= 20)
          throw Error(p.string() + ": record " + std::to_string(r) + " (byte offset " + std::to_string(r * rec) +
                      "): coarse label " + std::to_string(q[0]) + " out of range 0..19");
        coarse[got + r] = q[0];
      }
      lab[got + r] = fine;
      std::memcpy(img + (got + r) * kImageBytes, q + label_bytes, kImageBytes);
    }
    s.files.push_back(p.string());
    got += n;
  }
  s.class_names = c100 ? read_names(fs::path(root) / "fine_label_names.txt", 100)
                       : read_names(fs::path(root) / "batches.meta.txt", 10);
  return s;
}

}  // namespace msprune::data
