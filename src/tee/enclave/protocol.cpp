#include "tee/enclave/protocol.h"

#include <cinttypes>
#include <cstring>

namespace msprune::tee {

void encode_frame_header(const FrameHeader& h, std::uint8_t out[kFrameHeaderBytes]) {
  put_u32(out, kProtoMagic);
  put_u16(out + 4, h.version);
  put_u16(out + 6, h.type);
  put_u32(out + 8, h.seq);
  put_u32(out + 12, h.fragment_bytes);
  put_u64(out + 16, h.total_bytes);
  put_u64(out + 24, h.offset);
}

bool decode_frame(Bytes packet, FrameHeader* out, TeeError* err) {
  *out = FrameHeader{};
  if (packet.size() < kFrameHeaderBytes)
    return fail(err, TeeStatus::kBadMessage, "packet of %zu bytes is shorter than the %zu-byte frame header",
                packet.size(), kFrameHeaderBytes);
  const std::uint8_t* p = packet.data();
  out->seq = get_u32(p + 8);
  if (get_u32(p) != kProtoMagic) return fail(err, TeeStatus::kBadMessage, "bad frame magic 0x%08x", get_u32(p));
  out->version = get_u16(p + 4);
  out->type = get_u16(p + 6);
  out->fragment_bytes = get_u32(p + 12);
  out->total_bytes = get_u64(p + 16);
  out->offset = get_u64(p + 24);
  if (out->version != kProtoVersion)
    return fail(err, TeeStatus::kBadVersion, "protocol version %u not supported (this side speaks %u)", out->version,
                kProtoVersion);
  if (packet.size() > kMaxPacketBytes)
    return fail(err, TeeStatus::kTooLarge, "packet of %zu bytes exceeds the %zu-byte limit", packet.size(),
                kMaxPacketBytes);
  if (out->fragment_bytes != packet.size() - kFrameHeaderBytes)
    return fail(err, TeeStatus::kBadMessage, "frame says %u fragment bytes but the packet carries %zu",
                out->fragment_bytes, packet.size() - kFrameHeaderBytes);
  if (out->offset > out->total_bytes || out->fragment_bytes > out->total_bytes - out->offset)
    return fail(err, TeeStatus::kBadMessage,
                "fragment [%" PRIu64 ", +%u) lies outside the %" PRIu64 "-byte message", out->offset,
                out->fragment_bytes, out->total_bytes);
  if (out->fragment_bytes == 0 && out->total_bytes != 0)
    return fail(err, TeeStatus::kBadMessage, "empty fragment in a %" PRIu64 "-byte message", out->total_bytes);
  return true;
}

Reassembler::Outcome Reassembler::feed(const FrameHeader& h, Bytes fragment, std::size_t limit, TeeError* err) {
  Outcome o;
  if (active_) {
    bool continues = h.offset != 0 && h.type == type_ && h.seq == seq_ && h.total_bytes == total_;
    if (!continues) {
      // The message in progress is cut short: report it, go on with this packet.
      o.abandoned = true;
      o.abandoned_seq = seq_;
      o.abandoned_got = got_;
      o.abandoned_total = total_;
      active_ = false;
    } else if (h.offset != got_) {
      active_ = false;
      o.result = Result::kError;
      fail(err, TeeStatus::kBadMessage, "fragment at offset %" PRIu64 " but %" PRIu64 " bytes were received so far",
           h.offset, got_);
      return o;
    }
  }
  if (!active_) {
    if (h.offset != 0) {
      o.result = Result::kError;
      fail(err, TeeStatus::kBadMessage, "fragment at offset %" PRIu64 " with no message in progress", h.offset);
      return o;
    }
    if (h.total_bytes > limit || h.total_bytes > cap_) {
      o.result = Result::kError;
      fail(err, TeeStatus::kTooLarge, "message of %" PRIu64 " bytes exceeds the %zu-byte limit for type 0x%04x",
           h.total_bytes, limit < cap_ ? limit : cap_, h.type);
      return o;
    }
    active_ = true;
    type_ = h.type;
    seq_ = h.seq;
    total_ = h.total_bytes;
    got_ = 0;
  }
  if (!fragment.empty()) std::memcpy(buf_ + got_, fragment.data(), fragment.size());
  got_ += fragment.size();
  if (got_ == total_) {
    active_ = false;
    o.result = Result::kComplete;
  }
  return o;
}

namespace {
void put_digest(std::uint8_t* p, const Digest& d) { std::memcpy(p, d.data(), d.size()); }
void get_digest(const std::uint8_t* p, Digest* d) { std::memcpy(d->data(), p, d->size()); }
}  // namespace

void encode_model_info(const ModelInfo& m, std::uint8_t out[kModelInfoBytes]) {
  const std::uint64_t v[11] = {m.in_c,        m.in_h,          m.in_w,       m.classes, m.model_bytes, m.weight_bytes,
                               m.arena_bytes, m.staging_bytes, m.heap_bytes, m.ops,     m.flags};
  for (int i = 0; i < 11; ++i) put_u64(out + 8 * i, v[i]);
  put_digest(out + 88, m.model_hash);
}

bool decode_model_info(Bytes in, ModelInfo* m) {
  if (in.size() != kModelInfoBytes) return false;
  std::uint64_t* v[11] = {&m->in_c,        &m->in_h,          &m->in_w,       &m->classes, &m->model_bytes, &m->weight_bytes,
                          &m->arena_bytes, &m->staging_bytes, &m->heap_bytes, &m->ops,     &m->flags};
  for (int i = 0; i < 11; ++i) *v[i] = get_u64(in.data() + 8 * i);
  get_digest(in.data() + 88, &m->model_hash);
  return true;
}

namespace {
// The stats fields in wire order (keep in sync with EnclaveStats).
template <typename S, typename F>
void for_each_stat(S& s, F&& f) {
  f(s.ecalls), f(s.malformed), f(s.faults), f(s.first_touch), f(s.pages_evicted), f(s.pages_loaded),
      f(s.bytes_encrypted), f(s.bytes_decrypted), f(s.handler_ns), f(s.injected_ns), f(s.resident_pages),
      f(s.peak_resident_pages), f(s.epc_limit_pages), f(s.heap_pages), f(s.handler_allocs), f(s.allocs), f(s.stream_chunks),
      f(s.stream_bytes), f(s.stream_ns), f(s.infer_images), f(s.infer_ns);
}
}  // namespace

static_assert(sizeof(EnclaveStats) == kStatsBytes, "EnclaveStats must be kStatsFields u64 fields");

void encode_stats(const EnclaveStats& s, std::uint8_t out[kStatsBytes]) {
  std::size_t i = 0;
  for_each_stat(s, [&](const std::uint64_t& v) { put_u64(out + 8 * i++, v); });
}

bool decode_stats(Bytes in, EnclaveStats* s) {
  if (in.size() != kStatsBytes) return false;
  std::size_t i = 0;
  for_each_stat(*s, [&](std::uint64_t& v) { v = get_u64(in.data() + 8 * i++); });
  return true;
}

}  // namespace msprune::tee
