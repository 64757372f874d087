#include "tee/host/enclave_client.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tee/enclave/epc.h"
#include "tee/host/host.h"
#include "util/table.h"

namespace msprune::tee {
namespace {

constexpr std::size_t kMaxReplyBytes = std::size_t(64) << 20;

std::string fmt_double(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

}  // namespace

TeeStatus Reply::error_status() const {
  return payload.size() >= 4 ? TeeStatus(get_u32(payload.data())) : TeeStatus::kInternal;
}

std::string Reply::error_message() const {
  if (payload.size() < 4) return "malformed error reply";
  return std::string(payload.begin() + 4, payload.end());
}

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGSYS) return "enclave killed by seccomp (SIGSYS): it attempted a system call outside its allow-list";
    const char* name = sigabbrev_np(sig);
    return strf("enclave killed by signal %d (SIG%s)", sig, name ? name : "?");
  }
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    switch (code) {
      case 0: return "enclave exited";
      case 2: return "enclave exited with status 2 (bad command line)";
      case 3: return "enclave exited with status 3 (start-up failed; its message is above)";
      case kExitPagingIntegrity:
        return strf("enclave stopped with status %d: an evicted EPC page failed authentication", code);
      case kExitPagingSyscall: return strf("enclave stopped with status %d: a paging system call failed", code);
      case 127: return "enclave exited with status 127 (could not execute the enclave program)";
      default: return strf("enclave exited with status %d", code);
    }
  }
  return strf("enclave stopped (wait status 0x%x)", status);
}

EnclaveClient::EnclaveClient(const EnclaveOptions& opts) : timeout_s_(opts.timeout_s) {
  const std::filesystem::path bin = opts.binary.empty() ? find_enclave_binary() : opts.binary;
  if (!std::filesystem::is_regular_file(bin)) throw Error("enclave program " + bin.string() + " not found");
  if (!(opts.epc_mib >= 0)) throw Error("--epc-mib must be >= 0 (0 = unlimited)");
  if (opts.epc_mib > 0 && opts.epc_mib * 1048576.0 < 16 * 4096.0)
    throw Error("--epc-mib must be 0 (unlimited) or at least 0.0625 (16 pages)");
  if (!(opts.fault_cost_us >= 0 && opts.fault_cost_us <= 1e6)) throw Error("--fault-cost-us must be in [0, 1e6]");
  std::vector<std::string> args = {bin.string(),  "--fd",          "3",
                                   "--epc-mib",   fmt_double(opts.epc_mib), "--fault-cost-us",
                                   fmt_double(opts.fault_cost_us), "--heap-mib", fmt_double(opts.heap_mib)};
  if (!opts.platform_key.empty()) {
    // Check here too, for a clear message before anything is spawned.
    (void)load_platform_key(opts.platform_key);
    args.push_back("--platform-key");
    args.push_back(opts.platform_key.string());
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    throw Error(std::string("socketpair: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(sv[0]);
    ::close(sv[1]);
    throw Error(std::string("fork: ") + std::strerror(e));
  }
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    if (sv[1] == 3) ::fcntl(3, F_SETFD, 0);
    else if (::dup2(sv[1], 3) != 3) _exit(127);
    ::close_range(4, ~0u, 0);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(sv[1]);
  pid_ = pid;
  fd_ = sv[0];
  packet_.resize(kMaxPacketBytes + 1);
  // Start-up is complete once the enclave answers.
  try {
    ping();
  } catch (const EnclaveDied& e) {
    throw EnclaveDied(std::string("the enclave did not start: ") + e.what());
  }
}

EnclaveClient::~EnclaveClient() {
  if (pid_ > 0) {
    try {
      timeout_s_ = std::min(timeout_s_, 5.0);
      shutdown();
    } catch (...) {
    }
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
  }
  if (fd_ >= 0) ::close(fd_);
}

int EnclaveClient::reap(int wait_ms) {
  int status = 0;
  pid_t r = 0;
  for (int waited = 0; waited < wait_ms && (r = ::waitpid(pid_, &status, WNOHANG)) == 0; waited += 2)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (r == 0) {  // still running: it had its chance
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  ::close(fd_);
  fd_ = -1;
  return status;
}

void EnclaveClient::died(const std::string& context) {
  if (pid_ <= 0) throw EnclaveDied(context + ": the enclave is not running");
  // The socket is closed, so the enclave is exiting; give it a moment.
  const int status = reap(5000);
  throw EnclaveDied(context + ": " + describe_wait_status(status));
}

void EnclaveClient::send_raw(std::span<const std::uint8_t> packet) {
  if (pid_ <= 0) throw EnclaveDied("the enclave is not running");
  pollfd p{fd_, POLLOUT, 0};
  int r;
  do r = ::poll(&p, 1, int(timeout_s_ * 1000));
  while (r < 0 && errno == EINTR);
  if (r == 0) {
    ::kill(pid_, SIGKILL);
    died(strf("the enclave did not take a message within %.0f s (killed it)", timeout_s_));
  }
  if (transcript_) transcript_(true, packet);
  ssize_t n;
  do n = ::send(fd_, packet.data(), packet.size(), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n != ssize_t(packet.size())) died("sending to the enclave failed");
}

void EnclaveClient::send_message(std::uint16_t type, std::uint32_t seq, std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> pkt(kMaxPacketBytes);
  send_fragmented(type, seq, payload, {}, pkt.data(), [this](Bytes p) { send_raw(p); });
}

Reply EnclaveClient::receive() {
  if (pid_ <= 0) throw EnclaveDied("the enclave is not running");
  Reply out;
  std::uint64_t total = 0, got = 0;
  bool started = false;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    int r;
    do r = ::poll(&p, 1, int(timeout_s_ * 1000));
    while (r < 0 && errno == EINTR);
    if (r == 0) {
      ::kill(pid_, SIGKILL);
      died(strf("the enclave did not answer within %.0f s (killed it)", timeout_s_));
    }
    ssize_t n;
    do n = ::recv(fd_, packet_.data(), packet_.size(), MSG_TRUNC);
    while (n < 0 && errno == EINTR);
    if (n <= 0) died("the enclave closed the connection");
    if (std::size_t(n) > kMaxPacketBytes) throw Error(strf("enclave sent a packet of %zd bytes (limit %zu)", n, kMaxPacketBytes));
    std::span<const std::uint8_t> pk(packet_.data(), std::size_t(n));
    if (transcript_) transcript_(false, pk);
    FrameHeader h;
    TeeError err;
    if (!decode_frame(pk, &h, &err)) throw Error(std::string("malformed reply from the enclave: ") + err.message);
    if (!started) {
      if (h.offset != 0) throw Error("malformed reply from the enclave: first fragment not at offset 0");
      if (h.total_bytes > kMaxReplyBytes) throw Error(strf("enclave reply of %llu bytes exceeds %zu",
                                                           (unsigned long long)h.total_bytes, kMaxReplyBytes));
      out.type = h.type;
      out.seq = h.seq;
      total = h.total_bytes;
      out.payload.resize(std::size_t(total));
      started = true;
    } else if (h.type != out.type || h.seq != out.seq || h.total_bytes != total || h.offset != got) {
      throw Error("malformed reply from the enclave: fragments out of order");
    }
    if (h.fragment_bytes) std::memcpy(out.payload.data() + got, pk.data() + kFrameHeaderBytes, h.fragment_bytes);
    got += h.fragment_bytes;
    if (got == total) return out;
  }
}

Reply EnclaveClient::call(std::uint16_t type, std::span<const std::uint8_t> payload) {
  std::uint32_t seq = next_seq();
  send_message(type, seq, payload);
  for (;;) {
    Reply r = receive();
    if (r.seq == seq) return r;
    // An answer to an earlier, abandoned request: skip it.
  }
}

Reply EnclaveClient::expect(std::uint16_t type, std::uint32_t seq, const char* what) {
  for (;;) {
    Reply r = receive();
    if (r.seq != seq) continue;
    if (r.is_error())
      throw EnclaveError(r.error_status(), std::string(what) + ": " + r.error_message());
    if (r.type != (type | kReplyBit))
      throw Error(strf("%s: the enclave answered with message type 0x%04x", what, r.type));
    return r;
  }
}

void EnclaveClient::ping(std::span<const std::uint8_t> payload) {
  std::uint32_t seq = next_seq();
  send_message(std::uint16_t(MsgType::kPing), seq, payload);
  Reply r = expect(std::uint16_t(MsgType::kPing), seq, "ping");
  if (r.payload.size() != payload.size() || !std::equal(payload.begin(), payload.end(), r.payload.begin()))
    throw Error("ping: the enclave echoed different bytes");
}

ModelInfo EnclaveClient::load(std::span<const std::uint8_t> sealed, bool stream_weights) {
  std::vector<std::uint8_t> msg(kLoadHeaderBytes + sealed.size());
  put_u32(msg.data(), stream_weights ? kLoadFlagStreamWeights : 0);
  put_u32(msg.data() + 4, 0);
  std::memcpy(msg.data() + kLoadHeaderBytes, sealed.data(), sealed.size());
  std::uint32_t seq = next_seq();
  send_message(std::uint16_t(MsgType::kLoadModel), seq, msg);
  Reply r = expect(std::uint16_t(MsgType::kLoadModel), seq, "the enclave refused the model");
  ModelInfo info;
  if (!decode_model_info(r.payload, &info)) throw Error("load: malformed model description from the enclave");
  if (info.in_c == 0 || info.in_c > 4 || info.in_h == 0 || info.in_h > 4096 || info.in_w == 0 || info.in_w > 4096 ||
      info.classes == 0 || info.classes > 65536)
    throw Error("load: the enclave described an implausible model");
  model_ = info;
  return info;
}

InferResult EnclaveClient::infer_raw(InputType type, const std::uint8_t* data, std::size_t bytes, std::uint32_t count,
                                     float* logits) {
  if (model_.classes == 0) throw Error("infer: no model loaded");
  if (count == 0 || count > kMaxInferBatch) throw Error(strf("infer: batch of %u outside 1..%zu", count, kMaxInferBatch));
  std::vector<std::uint8_t> msg(kInferHeaderBytes + bytes);
  put_u32(msg.data(), count);
  put_u32(msg.data() + 4, std::uint32_t(type));
  std::memcpy(msg.data() + kInferHeaderBytes, data, bytes);
  std::uint32_t seq = next_seq();
  send_message(std::uint16_t(MsgType::kInfer), seq, msg);
  Reply r = expect(std::uint16_t(MsgType::kInfer), seq, "inference in the enclave failed");
  InferResult res;
  if (r.payload.size() < kInferReplyHeaderBytes) throw Error("infer: short reply from the enclave");
  res.count = get_u32(r.payload.data());
  res.classes = get_u32(r.payload.data() + 4);
  res.enclave_ns = get_u64(r.payload.data() + 8);
  res.faults = get_u64(r.payload.data() + 16);
  if (res.count != count || res.classes != model_.classes ||
      r.payload.size() != kInferReplyHeaderBytes + std::size_t(count) * res.classes * 4)
    throw Error("infer: the enclave's reply does not match the request");
  std::memcpy(logits, r.payload.data() + kInferReplyHeaderBytes, std::size_t(count) * res.classes * 4);
  return res;
}

InferResult EnclaveClient::infer_u8(const std::uint8_t* images, std::uint32_t count, float* logits) {
  const std::size_t bytes = std::size_t(count) * model_.in_c * model_.in_h * model_.in_w;
  return infer_raw(InputType::kU8, images, bytes, count, logits);
}

InferResult EnclaveClient::infer_f32(const float* images, std::uint32_t count, float* logits) {
  const std::size_t bytes = std::size_t(count) * model_.in_c * model_.in_h * model_.in_w * 4;
  return infer_raw(InputType::kF32, reinterpret_cast<const std::uint8_t*>(images), bytes, count, logits);
}

std::vector<std::uint8_t> EnclaveClient::report(std::span<const std::uint8_t> nonce) {
  std::uint32_t seq = next_seq();
  send_message(std::uint16_t(MsgType::kGetReport), seq, nonce);
  return expect(std::uint16_t(MsgType::kGetReport), seq, "the enclave refused to report").payload;
}

EnclaveStats EnclaveClient::stats(bool reset) {
  std::uint8_t flags[4];
  put_u32(flags, reset ? kStatsFlagReset : 0);
  std::uint32_t seq = next_seq();
  send_message(std::uint16_t(MsgType::kGetStats), seq, flags);
  Reply r = expect(std::uint16_t(MsgType::kGetStats), seq, "stats");
  EnclaveStats s;
  if (!decode_stats(r.payload, &s)) throw Error("stats: malformed reply from the enclave");
  return s;
}

void EnclaveClient::shutdown() {
  if (pid_ <= 0) return;
  std::uint32_t seq = next_seq();
  send_message(std::uint16_t(MsgType::kShutdown), seq, {});
  expect(std::uint16_t(MsgType::kShutdown), seq, "shutdown");
  reap(1000);
}

}  // namespace msprune::tee
