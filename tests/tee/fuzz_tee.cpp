// libFuzzer target over everything the enclave parses from the host: ECALL
// frames and their reassembly, sealed model blobs, reports, reply payloads.
// Every input must be accepted or refused with a status, never crash or read
// out of bounds (build with -DMSPRUNE_SANITIZE=ON -DMSPRUNE_FUZZ=ON, clang).
//
// The first input byte picks what the rest is:
//   0: a stream of packets, each u16le length + bytes, fed to decode_frame and
//      one Reassembler (1 MiB buffer, per-type limits as in the enclave)
//   1: a sealed blob, opened with a fixed key and measurement
//   2: edits (u32le offset, u8 xor) applied to a genuine sealed blob, which is
//      then opened and every chunk decrypted: must fail unless unchanged
//   3: a report (parse + verify), model description and stats payloads
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tee/enclave/protocol.h"
#include "tee/enclave/report.h"
#include "tee/enclave/sealed_format.h"

using namespace msprune::tee;

namespace {

PlatformKey fixed_key() {
  PlatformKey k;
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = std::uint8_t(i * 7 + 1);
  return k;
}

Digest fixed_measurement() {
  Digest d;
  d.fill(0x42);
  return d;
}

// A genuine sealed blob of 3 chunks (built once).
const std::vector<std::uint8_t>& genuine() {
  static const std::vector<std::uint8_t> blob = [] {
    std::vector<std::uint8_t> plain(3000);
    for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = std::uint8_t(i * 13);
    const ChunkSpan chunks[3] = {{0, 1000}, {1000, 1000}, {2000, 1000}};
    std::vector<std::uint8_t> out(sealed_total_bytes(plain.size(), 3));
    std::uint8_t salt[32] = {9};
    TeeError err;
    if (!seal_into(plain, chunks, fixed_measurement(), fixed_measurement(), fixed_key(), salt, out, &err)) std::abort();
    return out;
  }();
  return blob;
}

bool open_and_decrypt(Bytes blob) {
  SealedModel m;
  SealKeys k;
  TeeError err;
  if (!open_sealed(blob, fixed_measurement(), fixed_key(), &m, &k, &err)) return false;
  static AesGcm gcm;
  if (!gcm.init(k.enc)) std::abort();
  std::vector<std::uint8_t> plain(m.plaintext_bytes);
  std::uint8_t bounce[700];
  bool ok = true;
  for (std::uint32_t i = 0; i < m.chunk_count && ok; ++i)
    ok = decrypt_chunk(m, gcm, i, plain.data() + m.chunk(i).offset, bounce, sizeof bounce, nullptr, &err);
  (void)m.chunk_starting_at(1000);
  return ok;
}

std::size_t limit_for(std::uint16_t type) {
  switch (type) {
    case 1: return kMaxPingBytes;
    case 4: return kMaxNonceBytes;
    case 5: return 4;
    case 6: return 0;
    default: return std::size_t(1) << 20;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0] % 4;
  Bytes in(data + 1, size - 1);
  TeeError err;
  switch (mode) {
    case 0: {
      static std::vector<std::uint8_t> buf(std::size_t(1) << 20);
      Reassembler r(buf.data(), buf.size());
      std::size_t off = 0;
      while (off + 2 <= in.size()) {
        std::size_t n = std::size_t(in[off]) | std::size_t(in[off + 1]) << 8;
        off += 2;
        if (n > in.size() - off) n = in.size() - off;
        Bytes pkt = in.subspan(off, n);
        off += n;
        FrameHeader h;
        if (!decode_frame(pkt, &h, &err)) continue;
        Reassembler::Outcome o = r.feed(h, pkt.subspan(kFrameHeaderBytes), limit_for(h.type), &err);
        if (o.result == Reassembler::Result::kComplete && r.payload().size() > buf.size()) std::abort();
      }
      break;
    }
    case 1:
      (void)open_and_decrypt(in);
      break;
    case 2: {
      std::vector<std::uint8_t> blob = genuine();
      bool changed = false;
      for (std::size_t off = 0; off + 5 <= in.size(); off += 5) {
        std::uint32_t pos = get_u32(in.data() + off) % std::uint32_t(blob.size() + 1);
        if (pos == blob.size()) {  // truncate instead
          blob.resize(blob.size() / 2);
          changed = true;
          continue;
        }
        blob[pos] ^= in[off + 4];
        changed |= in[off + 4] != 0;
      }
      const bool opened = open_and_decrypt(blob);
      if (opened && blob != genuine()) std::abort();  // a modified blob was accepted
      if (!opened && !changed) std::abort();          // the genuine blob was refused
      break;
    }
    case 3: {
      Report r;
      (void)parse_report(in, &r, &err);
      (void)verify_report(in, fixed_key(), &r, &err);
      ModelInfo mi;
      (void)decode_model_info(in, &mi);
      EnclaveStats st;
      (void)decode_stats(in, &st);
      break;
    }
  }
  return 0;
}
