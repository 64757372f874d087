#pragma once
// The ECALL protocol between host and enclave: one AF_UNIX SOCK_SEQPACKET
// socket pair, so every packet arrives whole or not at all and a truncated
// message can be told from a complete one. Byte-level spec: docs/tee.md.
//
// Packet = 32-byte frame header + fragment (at most kMaxPacketBytes in all):
//   0  u32 magic "MSEC"          8  u32 seq (request id, echoed in the reply)
//   4  u16 version (1)           12 u32 fragment bytes (= packet size - 32)
//   6  u16 type                  16 u64 total message payload bytes
//                                24 u64 offset of this fragment in the payload
// A message of T bytes is sent as fragments at offsets 0, 64 KiB-32, ... in
// order; a message with T = 0 is one header-only packet. Every limit is
// checked before a byte is stored. Enclave-safe: no exceptions, no allocation.
#include <cstdint>
#include <cstring>

#include "tee/enclave/crypto.h"
#include "tee/enclave/status.h"

namespace msprune::tee {

inline constexpr std::uint32_t kProtoMagic = 0x4345534D;  // bytes "MSEC"
inline constexpr std::uint16_t kProtoVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes = 32;
inline constexpr std::size_t kMaxPacketBytes = 64 * 1024;
inline constexpr std::size_t kMaxFragmentBytes = kMaxPacketBytes - kFrameHeaderBytes;

enum class MsgType : std::uint16_t {
  kPing = 1,       // payload <= 4 KiB, echoed back (round-trip cost)
  kLoadModel = 2,  // LoadRequest header + sealed blob
  kInfer = 3,      // InferRequest header + images
  kGetReport = 4,  // nonce (1..64 bytes) -> 192-byte report
  kGetStats = 5,   // u32 flags (bit 0: reset counters after reading) -> EnclaveStats
  kShutdown = 6,   // empty -> empty reply, then the enclave exits 0
  kTestHook = 0x7F00,  // test builds only: u32 action (see enclave_main.cpp)
};
inline constexpr std::uint16_t kReplyBit = 0x8000;
inline constexpr std::uint16_t kErrorReply = 0xFFFF;  // payload: u32 status + message text

inline constexpr std::size_t kMaxPingBytes = 4096;
inline constexpr std::size_t kMaxInferBatch = 1024;
inline constexpr std::uint32_t kLoadFlagStreamWeights = 1;
inline constexpr std::uint32_t kStatsFlagReset = 1;
enum class InputType : std::uint32_t { kF32 = 0, kU8 = 1 };

struct FrameHeader {
  std::uint16_t version = kProtoVersion;
  std::uint16_t type = 0;
  std::uint32_t seq = 0;
  std::uint32_t fragment_bytes = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t offset = 0;
};

void encode_frame_header(const FrameHeader& h, std::uint8_t out[kFrameHeaderBytes]);
// Checks magic, version, the fragment size against the packet, and that the
// fragment lies inside the message. On failure out->seq still holds the
// header's seq when the packet was long enough, so the reply can name it.
[[nodiscard]] bool decode_frame(Bytes packet, FrameHeader* out, TeeError* err);

// Cuts the message `a` ‖ `b` of type `type` into packets, built one at a time
// in `packet` (kMaxPacketBytes bytes), and calls send(Bytes) for each.
template <typename Send>
void send_fragmented(std::uint16_t type, std::uint32_t seq, Bytes a, Bytes b, std::uint8_t* packet, Send&& send) {
  const std::uint64_t total = a.size() + b.size();
  std::uint64_t off = 0;
  do {
    const std::size_t n = std::size_t(total - off < kMaxFragmentBytes ? total - off : kMaxFragmentBytes);
    FrameHeader h;
    h.type = type;
    h.seq = seq;
    h.fragment_bytes = std::uint32_t(n);
    h.total_bytes = total;
    h.offset = off;
    encode_frame_header(h, packet);
    std::uint8_t* dst = packet + kFrameHeaderBytes;
    const std::size_t from_a = off < a.size() ? (n < a.size() - off ? n : std::size_t(a.size() - off)) : 0;
    if (from_a != 0) std::memcpy(dst, a.data() + off, from_a);
    if (n > from_a) std::memcpy(dst + from_a, b.data() + (off + from_a - a.size()), n - from_a);
    send(Bytes(packet, kFrameHeaderBytes + n));
    off += n;
  } while (off < total);
}

// Reassembles one message at a time into a caller-owned buffer.
class Reassembler {
 public:
  Reassembler(std::uint8_t* buf, std::size_t cap) : buf_(buf), cap_(cap) {}

  enum class Result { kIncomplete, kComplete, kError };
  struct Outcome {
    Result result = Result::kIncomplete;
    // A message in progress was cut short by a new one (offset 0): the caller
    // answers `abandoned_seq` with an error and goes on with `result`.
    bool abandoned = false;
    std::uint32_t abandoned_seq = 0;
    std::uint64_t abandoned_got = 0, abandoned_total = 0;
  };
  // `limit` is the largest payload this message type may have.
  Outcome feed(const FrameHeader& h, Bytes fragment, std::size_t limit, TeeError* err);

  std::uint16_t type() const { return type_; }
  std::uint32_t seq() const { return seq_; }
  Bytes payload() const { return {buf_, std::size_t(total_)}; }
  bool in_progress() const { return active_; }
  void reset() { active_ = false; }

 private:
  std::uint8_t* buf_;
  std::size_t cap_;
  bool active_ = false;
  std::uint16_t type_ = 0;
  std::uint32_t seq_ = 0;
  std::uint64_t total_ = 0, got_ = 0;
};

// ---- payloads (fixed little-endian layouts) --------------------------------

struct ModelInfo {  // reply to kLoadModel
  std::uint64_t in_c = 0, in_h = 0, in_w = 0, classes = 0;
  std::uint64_t model_bytes = 0;    // plaintext .msm
  std::uint64_t weight_bytes = 0;   // bytes of op weights inside it
  std::uint64_t arena_bytes = 0;    // runtime activations
  std::uint64_t staging_bytes = 0;  // streaming: the reused weight buffer
  std::uint64_t heap_bytes = 0;     // enclave heap in use (what may page)
  std::uint64_t ops = 0;
  std::uint64_t flags = 0;          // kLoadFlagStreamWeights if streaming
  Digest model_hash{};
};
inline constexpr std::size_t kModelInfoBytes = 11 * 8 + 32;
void encode_model_info(const ModelInfo& m, std::uint8_t out[kModelInfoBytes]);
[[nodiscard]] bool decode_model_info(Bytes in, ModelInfo* out);

struct EnclaveStats {  // reply to kGetStats; counters since start or last reset
  std::uint64_t ecalls = 0, malformed = 0;
  std::uint64_t faults = 0, first_touch = 0, pages_evicted = 0, pages_loaded = 0;
  std::uint64_t bytes_encrypted = 0, bytes_decrypted = 0;
  std::uint64_t handler_ns = 0, injected_ns = 0;  // measured vs added (--fault-cost-us)
  std::uint64_t resident_pages = 0, peak_resident_pages = 0, epc_limit_pages = 0, heap_pages = 0;
  std::uint64_t handler_allocs = 0;  // heap allocations inside the fault handler (must stay 0)
  std::uint64_t allocs = 0;          // all heap allocations (shows the counter is live)
  std::uint64_t stream_chunks = 0, stream_bytes = 0, stream_ns = 0;
  std::uint64_t infer_images = 0, infer_ns = 0;
};
inline constexpr std::size_t kStatsFields = 21;
inline constexpr std::size_t kStatsBytes = kStatsFields * 8;
void encode_stats(const EnclaveStats& s, std::uint8_t out[kStatsBytes]);
[[nodiscard]] bool decode_stats(Bytes in, EnclaveStats* out);

inline constexpr std::size_t kLoadHeaderBytes = 8;    // u32 flags, u32 reserved
inline constexpr std::size_t kInferHeaderBytes = 8;   // u32 count, u32 input type
inline constexpr std::size_t kInferReplyHeaderBytes = 24;  // u32 count, u32 classes, u64 enclave ns, u64 faults

}  // namespace msprune::tee
