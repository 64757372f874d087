#pragma once
// `msprune data fetch`: download the official CIFAR archive over HTTPS, check
// its published MD5, and unpack the binary files into a folder.
#include <string>
#include <vector>

namespace msprune::data {

struct FetchOptions {
  std::string dest;              // target folder (created)
  std::string which = "cifar10"; // "cifar10" | "cifar100"
  std::string url;               // override (mirrors); default: the official one
  long connect_timeout_s = 15;
};

// Returns the folder that now holds the .bin files. Throws msprune::Error on
// any failure (no network, bad checksum, malformed archive); a failed fetch
// leaves no partial .bin files behind.
std::string fetch_cifar(const FetchOptions& opt);

// Extracts the regular files whose base names are in `wanted` from a .tar.gz
// (ignores every other member, never follows paths out of `dest`). Exposed for
// tests. Returns the number of files written.
int extract_tar_gz(const std::string& archive, const std::string& dest, const std::vector<std::string>& wanted);

// Lower-case hex MD5 of a file.
std::string md5_file(const std::string& path);

}  // namespace msprune::data
