// msprune-enclave: the emulated enclave. Started by the host (EnclaveClient)
// with one end of a SOCK_SEQPACKET socket pair; answers ECALLs (protocol.h)
// until told to shut down or until the host goes away.
//
//   msprune-enclave --fd N [--platform-key FILE] [--epc-mib X] [--fault-cost-us X]
//                   [--heap-mib N]
//
// Start-up, in this order (nothing after step 4 can open a file):
//   1. measure itself (/proc/self/exe + security configuration, keys.h)
//   2. read the platform key (if given) and derive the report key
//   3. map its memory: the paged heap (epc.h), message buffers, reply buffer
//   4. lock itself with the seccomp allow-list (sandbox.h)
// then serve. Enclave-side code: no exceptions, no iostream, no heap use of
// its own after start-up (OpenSSL's key-derivation contexts excepted).
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <new>

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "tee/enclave/crypto.h"
#include "tee/enclave/enclave_heap.h"
#include "tee/enclave/epc.h"
#include "tee/enclave/keys.h"
#include "tee/enclave/protocol.h"
#include "tee/enclave/report.h"
#include "tee/enclave/sandbox.h"
#include "tee/enclave/sealed_format.h"

// Allocation counters: the link wraps malloc/calloc/realloc (see
// src/tee/CMakeLists.txt), so the fault handler can prove it allocates nothing.
extern "C" {
void* __real_malloc(std::size_t);
void* __real_calloc(std::size_t, std::size_t);
void* __real_realloc(void*, std::size_t);
void* __wrap_malloc(std::size_t n) {
  msprune::tee::EpcPager::alloc_count.fetch_add(1, std::memory_order_relaxed);
  return __real_malloc(n);
}
void* __wrap_calloc(std::size_t a, std::size_t b) {
  msprune::tee::EpcPager::alloc_count.fetch_add(1, std::memory_order_relaxed);
  return __real_calloc(a, b);
}
void* __wrap_realloc(void* p, std::size_t n) {
  msprune::tee::EpcPager::alloc_count.fetch_add(1, std::memory_order_relaxed);
  return __real_realloc(p, n);
}
}

namespace msprune::tee {
namespace {

constexpr std::size_t kBounceBytes = 64 * 1024;
constexpr std::size_t kReplyCapacity = std::size_t(16) << 20;

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1000000000ull + std::uint64_t(ts.tv_nsec);
}

void log_line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_line(const char* fmt, ...) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, "msprune-enclave: ");
  va_list ap;
  va_start(ap, fmt);
  int m = std::vsnprintf(buf + n, sizeof buf - std::size_t(n) - 1, fmt, ap);
  va_end(ap);
  std::size_t len = std::size_t(n) + (m < 0 ? 0 : std::size_t(m) < sizeof buf - std::size_t(n) - 1
                                                       ? std::size_t(m)
                                                       : sizeof buf - std::size_t(n) - 2);
  buf[len++] = '\n';
  ssize_t ignored = ::write(2, buf, len);
  (void)ignored;
}

std::uint8_t* map_untrusted(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<std::uint8_t*>(p);
}

// ---- enclave state (all fixed at start-up) ---------------------------------

struct Enclave {
  int fd = -1;
  Digest measurement{};
  bool have_key = false;
  PlatformKey platform_key{};
  Key256 report_key{};
  double epc_mib = 93.5;
  EpcPager pager;

  // Message buffers live outside the heap: they stand for untrusted memory
  // shared with the host. Two, so a sealed model being streamed can stay in
  // one while the next message arrives in the other.
  std::uint8_t* msg_buf[2] = {nullptr, nullptr};
  int msg_cur = 0;
  std::size_t msg_capacity = 0;
  std::uint8_t* reply = nullptr;  // reply payloads (untrusted side)
  alignas(64) std::uint8_t packet[kMaxPacketBytes + 1];
  alignas(64) std::uint8_t out_packet[kMaxPacketBytes];
  alignas(64) std::uint8_t bounce[kBounceBytes];

  // The loaded model.
  bool loaded = false;
  bool streaming = false;
  SealedModel sealed;  // streaming: points into msg_buf[1 - msg_cur]
  AesGcm gcm;
  rt::Model model;
  alignas(rt::Interpreter) unsigned char interp_storage[sizeof(rt::Interpreter)];
  rt::Interpreter* interp = nullptr;
  ModelInfo info;
  std::uint64_t weights_offset = 0;

  EnclaveStats counters;  // ECALL-level counters (the pager keeps its own)
  std::uint64_t allocs_at_reset = 0;
  std::uint32_t rejected_seq = 0;
  bool have_rejected = false;
};

Enclave* g = nullptr;

// ---- replies ----------------------------------------------------------------

void send_packet(const std::uint8_t* p, std::size_t n) {
  for (;;) {
    ssize_t r = ::send(g->fd, p, n, MSG_NOSIGNAL);
    if (r == ssize_t(n)) return;
    if (r < 0 && errno == EINTR) continue;
    _exit(0);  // the host is gone: nothing left to serve
  }
}

// Sends `a` ‖ `b` as one message of type `type`, fragmented into packets.
void send_message(std::uint16_t type, std::uint32_t seq, Bytes a, Bytes b = {}) {
  send_fragmented(type, seq, a, b, g->out_packet, [](Bytes p) { send_packet(p.data(), p.size()); });
}

void send_error(std::uint32_t seq, const TeeError& e) {
  std::uint8_t head[4];
  put_u32(head, std::uint32_t(e.status));
  send_message(kErrorReply, seq, head, Bytes(reinterpret_cast<const std::uint8_t*>(e.message), std::strlen(e.message)));
}

void reply_error(std::uint32_t seq, TeeStatus s, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void reply_error(std::uint32_t seq, TeeStatus s, const char* fmt, ...) {
  TeeError e;
  e.status = s;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(e.message, sizeof e.message, fmt, ap);
  va_end(ap);
  ++g->counters.malformed;
  send_error(seq, e);
}

void reply_ok(std::uint16_t type, std::uint32_t seq, Bytes payload = {}) {
  send_message(std::uint16_t(type | kReplyBit), seq, payload);
}

// ---- load --------------------------------------------------------------------

void unload() {
  if (g->interp != nullptr) {
    g->interp->~Interpreter();
    g->interp = nullptr;
  }
  g->model = rt::Model();
  g->loaded = false;
  g->streaming = false;
  g->info = ModelInfo{};
}

// Weight fetch for streaming: decrypt the chunks holding op `op`'s weights
// into the staging buffer (through the bounce buffer: faults only in memcpy).
int fetch_weights(void*, std::uint32_t op, std::uint64_t payload_off, std::uint64_t bytes, void* dst) {
  const std::uint64_t t0 = now_ns();
  const SealedModel& m = g->sealed;
  std::uint64_t off = g->weights_offset + payload_off;
  std::int64_t idx = m.chunk_starting_at(off);
  if (idx < 0) return 1;
  std::uint64_t done = 0;
  TeeError err;
  while (done < bytes) {
    if (std::uint64_t(idx) >= m.chunk_count) return 1;
    ChunkSpan c = m.chunk(std::uint32_t(idx));
    if (c.offset != off + done || c.length > bytes - done) return 1;
    if (!decrypt_chunk(m, g->gcm, std::uint32_t(idx), static_cast<std::uint8_t*>(dst) + done, g->bounce,
                       kBounceBytes, nullptr, &err)) {
      log_line("op %u: %s", op, err.message);
      return 2;
    }
    done += c.length;
    ++idx;
    ++g->counters.stream_chunks;
  }
  g->counters.stream_bytes += bytes;
  g->counters.stream_ns += now_ns() - t0;
  return 0;
}

// Chunks must start at `off` and end exactly at `off + bytes`.
bool chunks_tile(const SealedModel& m, std::uint64_t off, std::uint64_t bytes) {
  std::int64_t idx = m.chunk_starting_at(off);
  if (idx < 0) return false;
  std::uint64_t end = off + bytes;
  while (std::uint64_t(idx) < m.chunk_count) {
    ChunkSpan c = m.chunk(std::uint32_t(idx));
    if (c.offset + c.length == end) return true;
    if (c.offset + c.length > end) return false;
    ++idx;
  }
  return false;
}

void handle_load(std::uint32_t seq, Bytes payload) {
  if (!g->have_key)
    return reply_error(seq, TeeStatus::kNoPlatformKey,
                       "the enclave was started without a platform key, so it cannot unseal models");
  if (payload.size() < kLoadHeaderBytes)
    return reply_error(seq, TeeStatus::kBadRequest, "load request of %zu bytes has no header", payload.size());
  const std::uint32_t flags = get_u32(payload.data()), reserved = get_u32(payload.data() + 4);
  if ((flags & ~kLoadFlagStreamWeights) != 0 || reserved != 0)
    return reply_error(seq, TeeStatus::kBadRequest, "load request: unknown flags 0x%x / reserved 0x%x", flags,
                       reserved);
  const bool stream = (flags & kLoadFlagStreamWeights) != 0;
  unload();

  TeeError err;
  SealedModel m;
  SealKeys keys;
  if (!open_sealed(payload.subspan(kLoadHeaderBytes), g->measurement, g->platform_key, &m, &keys, &err))
    return reply_error(seq, err.status, "%s", err.message);
  bool keyed = g->gcm.init(keys.enc);
  secure_zero(&keys, sizeof keys);
  if (!keyed) return reply_error(seq, TeeStatus::kInternal, "AES-GCM key set-up failed");

  // The .msm header (first 256 bytes) says where the metadata ends.
  if (m.plaintext_bytes < 256)
    return reply_error(seq, TeeStatus::kModelInvalid, "sealed model holds only %" PRIu64 " bytes", m.plaintext_bytes);
  EpcPager& pager = g->pager;
  if (!pager.reset(std::size_t(stream ? 256 : m.plaintext_bytes), &err))
    return reply_error(seq, err.status, "%s", err.message);
  std::uint8_t* heap = pager.base();
  std::uint32_t next = 0;
  std::uint64_t have = 0;
  Sha256 payload_hash;
  auto decrypt_until = [&](std::uint64_t end, bool keep) -> bool {
    while (have < end && next < m.chunk_count) {
      ChunkSpan c = m.chunk(next);
      if (keep && (c.offset > pager.capacity() || c.length > pager.capacity() - c.offset))
        return fail(&err, TeeStatus::kOutOfMemory, "the model does not fit the %zu-byte enclave heap; raise --heap-mib",
                    pager.capacity());
      bool in_payload = c.offset >= g->weights_offset && g->weights_offset != 0;
      if (!decrypt_chunk(m, g->gcm, next, keep ? heap + c.offset : nullptr, g->bounce, kBounceBytes,
                         in_payload ? &payload_hash : nullptr, &err))
        return false;
      have = c.offset + c.length;
      ++next;
    }
    return true;
  };
  g->weights_offset = 0;
  if (!decrypt_until(256, true)) return reply_error(seq, err.status, "%s", err.message);
  std::uint64_t wo = get_u64(heap + 48);  // weights_offset; the runtime re-checks it
  if (wo < 256 || wo > m.plaintext_bytes)
    return reply_error(seq, TeeStatus::kModelInvalid, "model weights_offset %" PRIu64 " outside [256, %" PRIu64 "]",
                       wo, m.plaintext_bytes);
  if (have > wo || (wo < m.plaintext_bytes && m.chunk_starting_at(wo) < 0))
    return reply_error(seq, TeeStatus::kSealFormat,
                       "sealed chunks do not start a new chunk at the weights (offset %" PRIu64 "); reseal the model",
                       wo);
  if (wo > pager.capacity())
    return reply_error(seq, TeeStatus::kOutOfMemory, "model metadata of %" PRIu64 " bytes exceeds the %zu-byte heap",
                       wo, pager.capacity());
  g->weights_offset = wo;
  // Metadata always goes into the heap; the payload too unless streaming.
  if (!decrypt_until(wo, true) || !decrypt_until(m.plaintext_bytes, !stream))
    return reply_error(seq, err.status, "%s", err.message);
  Digest wh;
  if (!payload_hash.finish(&wh)) return reply_error(seq, TeeStatus::kInternal, "SHA-256 failed");

  // Authentic plaintext from here on: let the runtime verify its structure.
  rt::Error rerr;
  rt::LoadOptions lo;
  lo.hash = rt::HashCheck::kMetadata;  // payload: GCM tags + the hash just computed
  lo.weights = stream ? rt::WeightMode::kStreaming : rt::WeightMode::kResident;
  if (g->model.load(heap, std::size_t(stream ? wo : m.plaintext_bytes), lo, &rerr) != rt::Status::kOk) {
    unload();
    return reply_error(seq, TeeStatus::kModelInvalid, "the runtime refused the model: %s", rerr.message);
  }
  if (!ct_equal(Bytes(g->model.content_hash(), 32), m.model_hash) || !ct_equal(Bytes(g->model.weights_hash(), 32), wh)) {
    unload();
    return reply_error(seq, TeeStatus::kSealTampered,
                       "the decrypted model does not match the hashes its header and sealed header name");
  }
  if (stream) {  // every op's weights must be whole chunks
    for (std::uint32_t i = 0; i < g->model.num_ops(); ++i) {
      rt::OpInfo oi;
      if (g->model.op_info(i, &oi) != rt::Status::kOk) break;
      if (oi.weight_bytes != 0 && !chunks_tile(m, wo + oi.weight_offset, oi.weight_bytes)) {
        unload();
        return reply_error(seq, TeeStatus::kSealFormat,
                           "op %u's weights are not whole sealed chunks, so they cannot be streamed; reseal the model", i);
      }
    }
  }
  const std::size_t model_span = std::size_t(stream ? wo : m.plaintext_bytes);
  const std::size_t arena = g->model.arena_bytes();
  // The host's `inspect` and `prune --fit-epc` use this same formula.
  const std::uint64_t need = enclave_heap_bytes(model_span, arena);  // saturates
  if (need > pager.capacity()) {
    unload();
    return reply_error(seq, TeeStatus::kOutOfMemory,
                       "model needs %" PRIu64 " heap bytes (model %zu + arena %zu) but the enclave heap has %zu; "
                       "raise --heap-mib",
                       need, model_span, arena, pager.capacity());
  }
  const std::size_t arena_off = std::size_t(need) - arena;
  pager.set_used(arena_off + arena);
  rt::InterpreterOptions io;
  io.threads = 1;
  if (stream) {
    io.fetch = &fetch_weights;
    io.fetch_ctx = nullptr;
  }
  g->interp = new (g->interp_storage) rt::Interpreter();
  if (g->interp->init(g->model, heap + arena_off, arena, io, &rerr) != rt::Status::kOk) {
    unload();
    return reply_error(seq, TeeStatus::kModelInvalid, "the runtime could not prepare the model: %s", rerr.message);
  }
  if (stream) {
    // Keep the sealed blob: the next message goes to the other buffer.
    g->sealed = m;
    g->msg_cur = 1 - g->msg_cur;
  }
  g->loaded = true;
  g->streaming = stream;
  ModelInfo& info = g->info;
  info.in_c = g->model.input_channels();
  info.in_h = g->model.input_height();
  info.in_w = g->model.input_width();
  info.classes = g->model.num_classes();
  info.model_bytes = m.plaintext_bytes;
  info.weight_bytes = g->model.weights_bytes();
  info.arena_bytes = arena;
  info.staging_bytes = g->model.staging_bytes();
  info.heap_bytes = arena_off + arena;
  info.ops = g->model.num_ops();
  info.flags = stream ? kLoadFlagStreamWeights : 0;
  std::memcpy(info.model_hash.data(), g->model.content_hash(), 32);
  std::uint8_t out[kModelInfoBytes];
  encode_model_info(info, out);
  reply_ok(std::uint16_t(MsgType::kLoadModel), seq, out);
}

// ---- infer, report, stats ----------------------------------------------------

void handle_infer(std::uint32_t seq, Bytes payload) {
  if (!g->loaded) return reply_error(seq, TeeStatus::kNoModel, "no model is loaded");
  if (payload.size() < kInferHeaderBytes)
    return reply_error(seq, TeeStatus::kBadRequest, "infer request of %zu bytes has no header", payload.size());
  const std::uint32_t count = get_u32(payload.data()), type = get_u32(payload.data() + 4);
  if (count == 0 || count > kMaxInferBatch)
    return reply_error(seq, TeeStatus::kBadRequest, "batch of %u images outside 1..%zu", count, kMaxInferBatch);
  if (type != std::uint32_t(InputType::kF32) && type != std::uint32_t(InputType::kU8))
    return reply_error(seq, TeeStatus::kBadRequest, "unknown input type %u", type);
  const std::uint64_t elems = g->info.in_c * g->info.in_h * g->info.in_w;
  const std::uint64_t esize = type == std::uint32_t(InputType::kF32) ? 4 : 1;
  const std::uint64_t expect = kInferHeaderBytes + std::uint64_t(count) * elems * esize;
  if (payload.size() != expect)
    return reply_error(seq, TeeStatus::kBadRequest,
                       "infer payload is %zu bytes; %u images of %" PRIu64 "x%" PRIu64 "x%" PRIu64
                       " %s need %" PRIu64,
                       payload.size(), count, g->info.in_c, g->info.in_h, g->info.in_w, esize == 4 ? "f32" : "u8",
                       expect);
  const std::uint64_t classes = g->info.classes;
  const std::uint64_t reply_bytes = kInferReplyHeaderBytes + std::uint64_t(count) * classes * 4;
  if (reply_bytes > kReplyCapacity)
    return reply_error(seq, TeeStatus::kTooLarge, "reply of %" PRIu64 " bytes exceeds %zu", reply_bytes,
                       kReplyCapacity);
  const std::uint8_t* in = payload.data() + kInferHeaderBytes;
  auto* logits = reinterpret_cast<float*>(g->reply + kInferReplyHeaderBytes);
  const std::uint64_t faults0 = g->pager.counters().faults;
  const std::uint64_t t0 = now_ns();
  for (std::uint32_t i = 0; i < count; ++i) {
    rt::Error rerr;
    rt::Status s = type == std::uint32_t(InputType::kF32)
                       ? g->interp->invoke(reinterpret_cast<const float*>(in + i * elems * 4), logits + i * classes, &rerr)
                       : g->interp->invoke_u8(in + i * elems, logits + i * classes, &rerr);
    if (s != rt::Status::kOk)
      return reply_error(seq, s == rt::Status::kStreamFailed ? TeeStatus::kSealTampered : TeeStatus::kInternal,
                         "inference failed on image %u: %s", i, rerr.message);
  }
  const std::uint64_t ns = now_ns() - t0;
  g->counters.infer_images += count;
  g->counters.infer_ns += ns;
  put_u32(g->reply, count);
  put_u32(g->reply + 4, std::uint32_t(classes));
  put_u64(g->reply + 8, ns);
  put_u64(g->reply + 16, g->pager.counters().faults - faults0);
  reply_ok(std::uint16_t(MsgType::kInfer), seq, Bytes(g->reply, std::size_t(reply_bytes)));
}

void handle_report(std::uint32_t seq, Bytes nonce) {
  if (!g->have_key)
    return reply_error(seq, TeeStatus::kNoPlatformKey, "the enclave was started without a platform key");
  if (nonce.empty() || nonce.size() > kMaxNonceBytes)
    return reply_error(seq, TeeStatus::kBadRequest, "nonce must be 1..%zu bytes, got %zu", kMaxNonceBytes,
                       nonce.size());
  Report r;
  r.flags = (g->loaded ? kReportFlagModel : 0) | (g->streaming ? kReportFlagStreaming : 0);
  r.measurement = g->measurement;
  if (g->loaded) r.model_hash = g->info.model_hash;
  r.nonce_bytes = std::uint32_t(nonce.size());
  std::memcpy(r.nonce, nonce.data(), nonce.size());
  r.epc_limit_bytes = std::uint64_t(g->pager.limit_pages()) * EpcPager::kPage;
  std::uint8_t out[kReportBytes];
  TeeError err;
  if (!build_report(r, g->report_key, out, &err)) return reply_error(seq, err.status, "%s", err.message);
  reply_ok(std::uint16_t(MsgType::kGetReport), seq, out);
}

void handle_stats(std::uint32_t seq, Bytes payload) {
  if (payload.size() != 4)
    return reply_error(seq, TeeStatus::kBadRequest, "stats request must carry 4 bytes, got %zu", payload.size());
  const std::uint32_t flags = get_u32(payload.data());
  if ((flags & ~kStatsFlagReset) != 0) return reply_error(seq, TeeStatus::kBadRequest, "unknown stats flags 0x%x", flags);
  EnclaveStats s = g->counters;
  PagerCounters p = g->pager.counters();
  s.faults = p.faults;
  s.first_touch = p.first_touch;
  s.pages_evicted = p.pages_evicted;
  s.pages_loaded = p.pages_loaded;
  s.bytes_encrypted = p.bytes_encrypted;
  s.bytes_decrypted = p.bytes_decrypted;
  s.handler_ns = p.handler_ns;
  s.injected_ns = p.injected_ns;
  s.handler_allocs = p.handler_allocs;
  s.allocs = EpcPager::alloc_count.load(std::memory_order_relaxed) - g->allocs_at_reset;
  s.epc_limit_pages = g->pager.limit_pages();
  s.heap_pages = g->pager.used_pages();
  // Unlimited EPC: every used heap page counts as resident.
  s.resident_pages = s.epc_limit_pages == 0 ? s.heap_pages : g->pager.resident_pages();
  s.peak_resident_pages = s.epc_limit_pages == 0 ? s.heap_pages : p.peak_resident_pages;
  std::uint8_t out[kStatsBytes];
  encode_stats(s, out);
  if (flags & kStatsFlagReset) {
    g->pager.reset_counters();
    g->counters = EnclaveStats{};
    g->allocs_at_reset = EpcPager::alloc_count.load(std::memory_order_relaxed);
  }
  reply_ok(std::uint16_t(MsgType::kGetStats), seq, out);
}

#ifdef MSPRUNE_ENCLAVE_TEST_HOOKS
// Test-only actions (a separate binary, msprune-enclave-test; the production
// enclave answers kTestHook with "unknown message type"):
//   1: open() a file  -> must die by SIGSYS
//   2: spin forever   -> the host's timeout must fire
//   3: write to address 16 -> dies by SIGSEGV (fault outside the heap)
//   4: u32 seed, u64 bytes: drop the model, fill heap[0, bytes) with a
//      pseudo-random pattern, read it back; reply u64 checksum, u64 mismatches
void handle_test_hook(std::uint32_t seq, Bytes payload) {
  if (payload.size() < 4) return reply_error(seq, TeeStatus::kBadRequest, "test hook needs an action");
  switch (get_u32(payload.data())) {
    case 1: {
      int fd = ::open("/etc/hostname", O_RDONLY);  // forbidden: SIGSYS
      reply_error(seq, TeeStatus::kInternal, "open() was allowed (fd %d)", fd);
      return;
    }
    case 2:
      for (;;) asm volatile("" ::: "memory");
    case 3: {
      static volatile std::uintptr_t bad_address = 16;
      *reinterpret_cast<volatile int*>(bad_address) = 1;
      return;
    }
    case 4: {
      if (payload.size() != 16) return reply_error(seq, TeeStatus::kBadRequest, "action 4 needs seed and size");
      std::uint32_t seed = get_u32(payload.data() + 4);
      std::uint64_t bytes = get_u64(payload.data() + 8) & ~std::uint64_t(7);
      unload();
      TeeError err;
      if (!g->pager.reset(std::size_t(bytes), &err)) return reply_error(seq, err.status, "%s", err.message);
      auto* w = reinterpret_cast<std::uint64_t*>(g->pager.base());
      std::uint64_t x = seed | 1, sum = 0, bad = 0;
      for (std::uint64_t i = 0; i < bytes / 8; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        w[i] = x;
      }
      x = seed | 1;
      for (std::uint64_t i = 0; i < bytes / 8; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        bad += w[i] != x;
        sum = sum * 31 + w[i];
      }
      std::uint8_t out[16];
      put_u64(out, sum);
      put_u64(out + 8, bad);
      reply_ok(std::uint16_t(MsgType::kTestHook), seq, out);
      return;
    }
    default:
      return reply_error(seq, TeeStatus::kBadRequest, "unknown test action");
  }
}
#endif

// ---- the ECALL loop ----------------------------------------------------------

bool type_known(std::uint16_t t) {
  switch (MsgType(t)) {
    case MsgType::kPing:
    case MsgType::kLoadModel:
    case MsgType::kInfer:
    case MsgType::kGetReport:
    case MsgType::kGetStats:
    case MsgType::kShutdown:
      return true;
    case MsgType::kTestHook:
#ifdef MSPRUNE_ENCLAVE_TEST_HOOKS
      return true;
#else
      return false;
#endif
  }
  return false;
}

std::size_t type_limit(std::uint16_t t) {
  switch (MsgType(t)) {
    case MsgType::kPing: return kMaxPingBytes;
    case MsgType::kLoadModel: return g->msg_capacity;
    case MsgType::kInfer:
      return g->loaded ? std::size_t(kInferHeaderBytes + kMaxInferBatch * g->info.in_c * g->info.in_h * g->info.in_w * 4)
                       : g->msg_capacity;
    case MsgType::kGetReport: return kMaxNonceBytes;
    case MsgType::kGetStats: return 4;
    case MsgType::kShutdown: return 0;
    case MsgType::kTestHook: return 16;
  }
  return 0;
}

void dispatch(std::uint16_t type, std::uint32_t seq, Bytes payload) {
  ++g->counters.ecalls;
  switch (MsgType(type)) {
    case MsgType::kPing: return reply_ok(type, seq, payload);
    case MsgType::kLoadModel: return handle_load(seq, payload);
    case MsgType::kInfer: return handle_infer(seq, payload);
    case MsgType::kGetReport: return handle_report(seq, payload);
    case MsgType::kGetStats: return handle_stats(seq, payload);
    case MsgType::kShutdown:
      reply_ok(type, seq);
      _exit(0);
    case MsgType::kTestHook:
#ifdef MSPRUNE_ENCLAVE_TEST_HOOKS
      return handle_test_hook(seq, payload);
#else
      break;
#endif
  }
  reply_error(seq, TeeStatus::kUnknownType, "unknown message type 0x%04x", type);
}

// A zero-length recv is either an empty packet or the host closing the socket.
bool peer_closed() {
  pollfd p{g->fd, POLLIN | POLLRDHUP, 0};
  int r = ::poll(&p, 1, 0);
  return r < 0 || (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

[[noreturn]] void serve() {
  Reassembler asm_(g->msg_buf[g->msg_cur], g->msg_capacity);
  int asm_buf = g->msg_cur;
  for (;;) {
    ssize_t n = ::recv(g->fd, g->packet, sizeof g->packet, MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    if (n == 0) {
      if (peer_closed()) _exit(0);
      reply_error(0, TeeStatus::kBadMessage, "empty packet");
      continue;
    }
    if (std::size_t(n) > kMaxPacketBytes) {
      std::uint32_t seq = get_u32(g->packet + 8);
      reply_error(seq, TeeStatus::kTooLarge, "packet of %zd bytes exceeds the %zu-byte limit", n, kMaxPacketBytes);
      continue;
    }
    TeeError err;
    FrameHeader h;
    if (!decode_frame(Bytes(g->packet, std::size_t(n)), &h, &err)) {
      reply_error(h.seq, err.status, "%s", err.message);
      continue;
    }
    if (asm_buf != g->msg_cur) {  // a streaming load took the old buffer
      asm_ = Reassembler(g->msg_buf[g->msg_cur], g->msg_capacity);
      asm_buf = g->msg_cur;
    }
    if (h.offset == 0) {
      // First fragment: refuse unknown types and oversize messages before
      // storing a byte; later fragments of a refused message are dropped.
      if (!type_known(h.type)) {
        g->have_rejected = true, g->rejected_seq = h.seq;
        reply_error(h.seq, TeeStatus::kUnknownType, "unknown message type 0x%04x", h.type);
        continue;
      }
      if (MsgType(h.type) == MsgType::kInfer && !g->loaded) {
        g->have_rejected = true, g->rejected_seq = h.seq;
        reply_error(h.seq, TeeStatus::kNoModel, "no model is loaded");
        continue;
      }
    } else if (!asm_.in_progress() && g->have_rejected && h.seq == g->rejected_seq) {
      ++g->counters.malformed;  // rest of a message already answered
      continue;
    }
    Reassembler::Outcome o =
        asm_.feed(h, Bytes(g->packet + kFrameHeaderBytes, h.fragment_bytes), type_limit(h.type), &err);
    if (o.abandoned)
      reply_error(o.abandoned_seq, TeeStatus::kBadMessage,
                  "message %u truncated: %" PRIu64 " of %" PRIu64 " bytes arrived before the next message",
                  o.abandoned_seq, o.abandoned_got, o.abandoned_total);
    if (o.result == Reassembler::Result::kError) {
      g->have_rejected = true, g->rejected_seq = h.seq;
      reply_error(h.seq, err.status, "%s", err.message);
    } else if (o.result == Reassembler::Result::kComplete) {
      dispatch(asm_.type(), asm_.seq(), asm_.payload());
    }
  }
}

// ---- start-up ----------------------------------------------------------------

bool parse_number(const char* s, double lo, double hi, double* out) {
  if (s == nullptr || *s == 0) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  if (errno != 0 || *end != 0 || !(v >= lo && v <= hi)) return false;
  *out = v;
  return true;
}

[[noreturn]] void usage(const char* why) {
  log_line("%s", why);
  log_line("usage: msprune-enclave --fd N [--platform-key FILE] [--epc-mib X] [--fault-cost-us X] [--heap-mib N]");
  _exit(2);
}

}  // namespace
}  // namespace msprune::tee

int main(int argc, char** argv) {
  using namespace msprune::tee;
  static Enclave enclave;  // static: the buffers are large
  g = &enclave;
  double fd = -1, epc_mib = 93.5, fault_cost_us = 0, heap_mib = 1024;
  const char* key_path = nullptr;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    bool ok = true;
    if (std::strcmp(a, "--fd") == 0) ok = parse_number(v, 0, 1 << 20, &fd);
    else if (std::strcmp(a, "--platform-key") == 0) key_path = v, ok = v != nullptr;
    else if (std::strcmp(a, "--epc-mib") == 0) ok = parse_number(v, 0, 1 << 20, &epc_mib);
    else if (std::strcmp(a, "--fault-cost-us") == 0) ok = parse_number(v, 0, 1e6, &fault_cost_us);
    else if (std::strcmp(a, "--heap-mib") == 0) ok = parse_number(v, 1, 1 << 20, &heap_mib);
    else usage("unknown argument");
    if (!ok) usage("bad or missing value");
    ++i;
  }
  if (fd < 0) usage("--fd is required");
  g->fd = int(fd);
  g->epc_mib = epc_mib;

  TeeError err;
  if (!measure_enclave_file("/proc/self/exe", &g->measurement, &err)) {
    log_line("%s", err.message);
    return 3;
  }
  if (key_path != nullptr) {
    if (!read_platform_key_file(key_path, &g->platform_key, &err) ||
        !derive_report_key(g->platform_key, &g->report_key)) {
      log_line("%s", err.message);
      return 3;
    }
    g->have_key = true;
  }
  const std::size_t heap = std::size_t(heap_mib * 1048576.0);
  const std::size_t epc_pages = std::size_t(epc_mib * 1048576.0 / double(EpcPager::kPage));
  if (epc_mib > 0 && epc_pages < 16) usage("--epc-mib must be 0 (unlimited) or at least 64 KiB");
  if (!g->pager.init(heap, epc_pages, std::uint64_t(fault_cost_us * 1000.0), &err)) {
    log_line("%s", err.message);
    return 3;
  }
  g->msg_capacity = heap + (std::size_t(1) << 20);  // a sealed model: heap + header and tags
  g->msg_buf[0] = map_untrusted(g->msg_capacity);
  g->msg_buf[1] = map_untrusted(g->msg_capacity);
  g->reply = map_untrusted(kReplyCapacity);
  if (!g->msg_buf[0] || !g->msg_buf[1] || !g->reply) {
    log_line("cannot map message buffers");
    return 3;
  }
  if (!lock_down(g->fd, &err)) {
    log_line("%s", err.message);
    return 3;
  }
  serve();
}
