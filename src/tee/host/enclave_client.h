#pragma once
// Host side of the ECALL protocol: spawns msprune-enclave, talks to it over a
// SOCK_SEQPACKET socket pair and turns every failure into msprune::Error:
// an error reply (EnclaveError, with the enclave's status), a timeout, or the
// enclave's death (EnclaveDied; "enclave killed by seccomp (SIGSYS)", ...).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tee/enclave/protocol.h"
#include "util/error.h"

namespace msprune::tee {

struct EnclaveOptions {
  std::filesystem::path binary;        // empty: find_enclave_binary()
  std::filesystem::path platform_key;  // empty: the enclave cannot unseal or report
  double epc_mib = 93.5;               // 0 = unlimited
  double fault_cost_us = 0;            // added per EPC fault (projection)
  double heap_mib = 1024;              // enclave heap (virtual; pages on use)
  double timeout_s = 120;              // per reply
};

class EnclaveError : public Error {
 public:
  EnclaveError(TeeStatus s, const std::string& what) : Error(what), status(s) {}
  TeeStatus status;
};

class EnclaveDied : public Error {
 public:
  using Error::Error;
};

struct InferResult {
  std::uint32_t count = 0, classes = 0;
  std::uint64_t enclave_ns = 0;  // time inside the enclave for the batch
  std::uint64_t faults = 0;      // EPC faults during the batch
};

struct Reply {
  std::uint16_t type = 0;
  std::uint32_t seq = 0;
  std::vector<std::uint8_t> payload;
  bool is_error() const { return type == kErrorReply; }
  TeeStatus error_status() const;
  std::string error_message() const;
};

class EnclaveClient {
 public:
  explicit EnclaveClient(const EnclaveOptions& opts);
  ~EnclaveClient();  // asks for shutdown, then kills if needed
  EnclaveClient(const EnclaveClient&) = delete;
  EnclaveClient& operator=(const EnclaveClient&) = delete;

  // ECALLs (throw EnclaveError on an error reply, EnclaveDied otherwise).
  ModelInfo load(std::span<const std::uint8_t> sealed, bool stream_weights);
  InferResult infer_u8(const std::uint8_t* images, std::uint32_t count, float* logits);
  InferResult infer_f32(const float* images, std::uint32_t count, float* logits);
  std::vector<std::uint8_t> report(std::span<const std::uint8_t> nonce);
  EnclaveStats stats(bool reset = false);
  void ping(std::span<const std::uint8_t> payload = {});
  void shutdown();  // waits for the enclave to exit

  const ModelInfo& model() const { return model_; }
  pid_t pid() const { return pid_; }
  bool alive() const { return pid_ > 0; }

  // ---- low level (tests) ----
  // One request/response: sends `payload` as message `type`, returns the reply
  // (error replies included; throws only if the enclave dies or times out).
  Reply call(std::uint16_t type, std::span<const std::uint8_t> payload);
  // Sends one raw packet as is.
  void send_raw(std::span<const std::uint8_t> packet);
  // Receives the next reply message (any seq), with the timeout.
  Reply receive();
  std::uint32_t next_seq() { return ++seq_; }
  // Every packet sent (true) or received (false), as it went over the socket.
  void set_transcript(std::function<void(bool sent, std::span<const std::uint8_t>)> fn) { transcript_ = std::move(fn); }
  void set_timeout(double seconds) { timeout_s_ = seconds; }

 private:
  InferResult infer_raw(InputType type, const std::uint8_t* data, std::size_t bytes, std::uint32_t count,
                        float* logits);
  void send_message(std::uint16_t type, std::uint32_t seq, std::span<const std::uint8_t> payload);
  Reply expect(std::uint16_t type, std::uint32_t seq, const char* what);
  [[noreturn]] void died(const std::string& context);
  // Waits up to wait_ms for the child to exit (then kills it), closes the
  // socket; returns the wait status.
  int reap(int wait_ms);

  pid_t pid_ = -1;
  int fd_ = -1;
  std::uint32_t seq_ = 0;
  double timeout_s_ = 120;
  ModelInfo model_;
  std::vector<std::uint8_t> packet_;
  std::function<void(bool, std::span<const std::uint8_t>)> transcript_;
};

// "enclave killed by seccomp (SIGSYS)", "enclave exited with status 3", ...
std::string describe_wait_status(int status);

}  // namespace msprune::tee
