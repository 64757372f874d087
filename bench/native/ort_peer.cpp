// The ONNX Runtime peer of `msprune bench` (ort_peer.h).
#include "bench/native/ort_peer.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace msprune::bench {
namespace fs = std::filesystem;
namespace {

fs::path ort_dir() {
  if (const char* e = std::getenv("MSPRUNE_ORT_DIR"); e && *e) return e;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("tools/ort") : self.parent_path().parent_path() / "tools" / "ort";
}

std::vector<std::string_view> float_parts(const std::vector<std::vector<float>>& batches) {
  std::vector<std::string_view> parts;
  for (const auto& b : batches) parts.emplace_back(reinterpret_cast<const char*>(b.data()), b.size() * sizeof(float));
  return parts;
}

}  // namespace

fs::path find_node() {
  if (const char* e = std::getenv("MSPRUNE_NODE"); e && *e) return e;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    const size_t end = std::min(p.find(':', start), p.size());
    for (const char* name : {"node", "nodejs"}) {
      const fs::path cand = fs::path(p.substr(start, end - start)) / name;
      if (end > start && ::access(cand.c_str(), X_OK) == 0) return cand;
    }
    start = end + 1;
  }
  return {};
}

OrtPeer::TempFile::TempFile(const std::string& suffix, const std::vector<std::string_view>& parts) {
  std::string tmpl = (fs::temp_directory_path() / ("msprune-ort-XXXXXX" + suffix)).string();
  const int fd = ::mkstemps(tmpl.data(), int(suffix.size()));
  if (fd < 0) throw Error("ONNX Runtime peer: cannot create a temporary file: " + std::string(std::strerror(errno)));
  path = tmpl;
  bool ok = true;
  for (std::string_view part : parts) {
    while (ok && !part.empty()) {
      const ssize_t w = ::write(fd, part.data(), part.size());
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) ok = false;
      else part.remove_prefix(size_t(w));
    }
  }
  ::close(fd);
  if (!ok) {
    std::error_code ec;
    fs::remove(path, ec);
    throw Error("ONNX Runtime peer: cannot write " + tmpl);
  }
}

OrtPeer::TempFile::~TempFile() {
  std::error_code ec;
  fs::remove(path, ec);
}

std::string ort_unavailable_reason() {
  if (find_node().empty()) return "node not found (PATH, or set MSPRUNE_NODE)";
  const fs::path d = ort_dir();
  if (!fs::is_regular_file(d / "run.js")) return (d / "run.js").string() + " not found (set MSPRUNE_ORT_DIR)";
  if (!fs::is_regular_file(d / "node_modules" / "onnxruntime-node" / "package.json"))
    return "onnxruntime-node is not installed in " + (d / "node_modules").string() + " (run scripts/setup.sh)";
  return "";
}

// The checks run before the temporary files are written (member order).
static const std::vector<std::vector<float>>& checked(const std::vector<std::vector<float>>& batches, size_t per) {
  if (const std::string why = ort_unavailable_reason(); !why.empty()) throw Error("ONNX Runtime: " + why);
  if (batches.empty()) throw Error("ONNX Runtime peer: no input batches");
  for (const auto& b : batches)
    if (b.size() != per) throw Error("ONNX Runtime peer: an input batch of the wrong size");
  return batches;
}

OrtPeer::OrtPeer(std::string_view onnx, const std::vector<std::vector<float>>& batches, int B, int C, int H, int W,
                 int threads, double timeout_s)
    : model_(".onnx", {onnx}),
      inputs_(".f32", float_parts(checked(batches, size_t(B) * size_t(C) * size_t(H) * size_t(W)))),
      timeout_s_(timeout_s) {

  const fs::path node = find_node(), script = ort_dir() / "run.js";
  std::vector<std::string> args = {node.string(), script.string(), "serve", model_.path.string(), inputs_.path.string(),
                                   std::to_string(batches.size()) + "," + std::to_string(B) + "," +
                                       std::to_string(C) + "," + std::to_string(H) + "," + std::to_string(W),
                                   "--threads", std::to_string(threads)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) throw Error("pipe: " + std::string(std::strerror(errno)));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    throw Error("pipe: " + std::string(std::strerror(errno)));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    throw Error("fork: " + std::string(std::strerror(e)));
  }
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    // stderr too: run.js reports a failure there ("run.js: error: ...").
    if (::dup2(in[0], 0) != 0 || ::dup2(out[1], 1) != 1 || ::dup2(out[1], 2) != 2) _exit(127);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  pid_ = pid;
  to_ = in[1];
  from_ = out[0];
  ::signal(SIGPIPE, SIG_IGN);  // a dead peer is reported by write's EPIPE
  try {
    const nlohmann::json hello = nlohmann::json::parse(request(""), nullptr, false);
    if (!hello.is_object() || !hello.value("ready", false)) throw Error("ONNX Runtime peer did not start");
    version_ = hello.value("ort", std::string("?"));
    node_ = hello.value("node", std::string("?"));
  } catch (...) {
    stop();  // no destructor runs for a constructor that throws
    throw;
  }
}

OrtPeer::~OrtPeer() { stop(); }

void OrtPeer::stop() {
  if (to_ >= 0) {
    const char q[] = "quit\n";
    (void)!::write(to_, q, sizeof q - 1);
    ::close(to_);
  }
  if (pid_ > 0) {
    int st = 0;
    pid_t r = 0;
    for (int waited = 0; waited < 2000 && (r = ::waitpid(pid_, &st, WNOHANG)) == 0; waited += 5) ::usleep(5000);
    if (r == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &st, 0);
    }
  }
  pid_ = -1;
  to_ = -1;
  if (from_ >= 0) ::close(from_);
  from_ = -1;
}

std::string OrtPeer::request(const std::string& line) {
  if (!line.empty()) {
    const std::string l = line + "\n";
    size_t done = 0;
    while (done < l.size()) {
      const ssize_t w = ::write(to_, l.data() + done, l.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) throw Error("ONNX Runtime peer exited (writing \"" + line + "\")");
      done += size_t(w);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s_);
  for (;;) {
    const size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string reply = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      static const std::string kError = "run.js: error: ";
      if (reply.compare(0, kError.size(), kError) == 0) throw Error("ONNX Runtime peer: " + reply.substr(kError.size()));
      if (!reply.empty() && reply[0] == '{') return reply;
      continue;  // anything else Node prints (a warning, the rest of a multi-line error)
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw Error("ONNX Runtime peer: no answer within " + std::to_string(timeout_s_) + " s");
    pollfd p{from_, POLLIN, 0};
    const int r = ::poll(&p, 1, int(std::min<int64_t>(left.count(), 1 << 30)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char chunk[65536];
    const ssize_t n = ::read(from_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error("ONNX Runtime peer exited without an answer" + (line.empty() ? "" : " to \"" + line + "\""));
    buf_.append(chunk, size_t(n));
    if (buf_.size() > (size_t(1) << 30)) throw Error("ONNX Runtime peer: answer too long");
  }
}

std::vector<double> OrtPeer::times(const std::string& line) {
  const nlohmann::json j = nlohmann::json::parse(request(line), nullptr, false);
  if (!j.is_object() || !j.contains("us") || !j["us"].is_array()) throw Error("ONNX Runtime peer: bad answer to " + line);
  std::vector<double> ms;
  for (const auto& v : j["us"]) {
    if (!v.is_number()) throw Error("ONNX Runtime peer: bad answer to " + line);
    ms.push_back(v.get<double>() / 1000.0);
  }
  return ms;
}

std::vector<double> OrtPeer::run(int n, int64_t first) {
  return times("run " + std::to_string(n) + " " + std::to_string(first));
}

std::vector<double> OrtPeer::bridge(int n) { return times("bridge " + std::to_string(n)); }

std::vector<float> OrtPeer::logits(int64_t j) {
  const std::string line = "logits " + std::to_string(j);
  const nlohmann::json r = nlohmann::json::parse(request(line), nullptr, false);
  if (!r.is_object() || !r.contains("logits") || !r["logits"].is_array())
    throw Error("ONNX Runtime peer: bad answer to " + line);
  std::vector<float> out;
  for (const auto& v : r["logits"]) {
    if (!v.is_number()) throw Error("ONNX Runtime peer: bad answer to " + line);
    out.push_back(v.get<float>());
  }
  return out;
}

}  // namespace msprune::bench
