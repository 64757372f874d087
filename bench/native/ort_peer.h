#pragma once
// ONNX Runtime as a peer in `msprune bench` (issue 15): ONNX Runtime 1.30's CPU
// build ships here only inside the npm package onnxruntime-node (no C
// headers), so the peer is a Node.js process running `tools/ort/run.js
// serve`, driven over a pipe. The Node process times each session.run itself
// (process.hrtime around the call), so the pipe is not in the figures; the
// binding's own cost per call (input tensor in, output out, the promise) is
// measured on an Identity graph of the input's shape (`bridge`).
//
// Where things are: node from $MSPRUNE_NODE or PATH; the script and its
// node_modules from $MSPRUNE_ORT_DIR, else tools/ort beside the build folder
// this program lives in (build/../tools/ort), as scripts/setup.sh installs it.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace msprune::bench {

// Node.js: $MSPRUNE_NODE, else `node` (or Debian's older `nodejs`) on PATH;
// empty when there is none.
std::filesystem::path find_node();

// Why ONNX Runtime cannot run here ("" when it can): node or the package
// missing, named with where it was looked for.
std::string ort_unavailable_reason();

class OrtPeer {
 public:
  // Starts the Node process on the serialized ONNX model `onnx` with K
  // batches of [B,C,H,W] float32 inputs (both written to temporary files,
  // removed with the peer), ONNX Runtime using `threads` intra-op threads.
  // Throws msprune::Error naming the problem (ONNX Runtime cannot load the
  // model, ...), leaving no process or file behind.
  OrtPeer(std::string_view onnx, const std::vector<std::vector<float>>& batches, int B, int C, int H, int W,
          int threads = 1, double timeout_s = 300);
  ~OrtPeer();
  OrtPeer(const OrtPeer&) = delete;
  OrtPeer& operator=(const OrtPeer&) = delete;

  // n timed runs on batches first, first+1, ... (mod K); milliseconds each.
  std::vector<double> run(int n, int64_t first);
  // n timed runs of the Identity graph (the bridge's cost); milliseconds.
  std::vector<double> bridge(int n);
  // Logits of batch j, [B x classes] row-major.
  std::vector<float> logits(int64_t j);
  const std::string& version() const { return version_; }
  const std::string& node_version() const { return node_; }

 private:
  // A temporary file holding `parts` in order, removed with it.
  struct TempFile {
    std::filesystem::path path;
    TempFile(const std::string& suffix, const std::vector<std::string_view>& parts);
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
  };

  std::string request(const std::string& line);  // one line out, one line back
  std::vector<double> times(const std::string& line);
  void stop();  // asks the process to quit, then reaps (or kills) it

  TempFile model_, inputs_;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buf_;
  double timeout_s_;
  std::string version_, node_;
};

}  // namespace msprune::bench
