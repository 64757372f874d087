// Enclave-boundary building blocks: crypto wrappers (against published
// vectors), the sealed format (round trip and every tamper case), reports,
// and the ECALL framing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "tee/enclave/crypto.h"
#include "tee/enclave/keys.h"
#include "tee/enclave/protocol.h"
#include "tee/enclave/report.h"
#include "tee/enclave/sealed_format.h"
#include "tee_test_util.h"

using namespace msprune::tee;

namespace {

std::vector<std::uint8_t> unhex(const char* s) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; s[i] && s[i + 1]; i += 2) {
    auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; };
    out.push_back(std::uint8_t(nib(s[i]) * 16 + nib(s[i + 1])));
  }
  return out;
}

std::string hexs(Bytes b) {
  std::string s(b.size() * 2, '0');
  to_hex(b, s.data());
  return s;
}

PlatformKey key_from(std::uint8_t seed) {
  PlatformKey k;
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = std::uint8_t(seed * 31 + i);
  return k;
}

Digest digest_from(std::uint8_t seed) {
  Digest d;
  d.fill(seed);
  return d;
}

// A sealed blob of `n` random plaintext bytes cut into chunks of `chunk` bytes.
struct Sealed {
  std::vector<std::uint8_t> plain, blob;
  std::vector<ChunkSpan> chunks;
};

Sealed make_sealed(std::size_t n, std::size_t chunk, const Digest& meas, const PlatformKey& key,
                   std::uint32_t seed = 1) {
  Sealed s;
  std::mt19937 rng(seed);
  s.plain.resize(n);
  for (auto& b : s.plain) b = std::uint8_t(rng());
  for (std::size_t off = 0; off < n; off += chunk) s.chunks.push_back({off, std::min(chunk, n - off)});
  s.blob.resize(sealed_total_bytes(n, s.chunks.size()));
  std::uint8_t salt[32];
  for (auto& b : salt) b = std::uint8_t(rng());
  TeeError err;
  EXPECT_TRUE(seal_into(s.plain, s.chunks, digest_from(0x77), meas, key, salt, s.blob, &err)) << err.message;
  return s;
}

// Opens and decrypts everything; returns the status of the first failure.
TeeStatus unseal(Bytes blob, const Digest& meas, const PlatformKey& key, std::vector<std::uint8_t>* out,
                 std::string* msg = nullptr) {
  SealedModel m;
  SealKeys k;
  TeeError err;
  if (!open_sealed(blob, meas, key, &m, &k, &err)) {
    if (msg) *msg = err.message;
    return err.status;
  }
  AesGcm gcm;
  EXPECT_TRUE(gcm.init(k.enc));
  out->assign(m.plaintext_bytes, 0);
  std::uint8_t bounce[1000];
  for (std::uint32_t i = 0; i < m.chunk_count; ++i) {
    // Alternate direct and bounce-buffer decryption: both must behave alike.
    bool ok = decrypt_chunk(m, gcm, i, out->data() + m.chunk(i).offset, i % 2 ? bounce : nullptr,
                            sizeof bounce, nullptr, &err);
    if (!ok) {
      if (msg) *msg = err.message;
      return err.status;
    }
  }
  return TeeStatus::kOk;
}

}  // namespace

// ---- crypto against published vectors ----------------------------------------

TEST(TeeCrypto, HkdfMatchesRfc5869Case1) {
  auto ikm = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  auto salt = unhex("000102030405060708090a0b0c");
  auto info = unhex("f0f1f2f3f4f5f6f7f8f9");
  std::uint8_t okm[42];
  ASSERT_TRUE(hkdf_sha256(ikm, salt, info, okm));
  EXPECT_EQ(hexs(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(TeeCrypto, HmacAndSha256MatchRfc4231AndFips) {
  auto key = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  const char* msg = "Hi There";
  Digest mac;
  ASSERT_TRUE(hmac_sha256(key, {as_bytes(msg, 4), as_bytes(msg + 4, 4)}, &mac));  // parts concatenate
  EXPECT_EQ(hexs(mac), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  Digest d;
  ASSERT_TRUE(sha256({as_bytes("abc", 3)}, &d));
  EXPECT_EQ(hexs(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TeeCrypto, AesGcmRoundTripAndTagCheck) {
  AesGcm gcm;
  Key256 key = digest_from(3);
  ASSERT_TRUE(gcm.init(key));
  std::uint8_t iv[12] = {1, 2, 3}, tag[16];
  std::vector<std::uint8_t> pt(1000), ct(1000), back(1000);
  for (std::size_t i = 0; i < pt.size(); ++i) pt[i] = std::uint8_t(i * 7);
  const std::uint8_t aad[] = {9, 9, 9};
  ASSERT_TRUE(gcm.begin(iv, true) && gcm.aad(aad) && gcm.update(pt, ct.data()) && gcm.finish_encrypt(tag));
  EXPECT_NE(pt, ct);
  ASSERT_TRUE(gcm.begin(iv, false) && gcm.aad(aad) && gcm.update(ct, back.data()) && gcm.finish_decrypt(tag));
  EXPECT_EQ(pt, back);
  tag[0] ^= 1;
  ASSERT_TRUE(gcm.begin(iv, false) && gcm.aad(aad) && gcm.update(ct, back.data()));
  EXPECT_FALSE(gcm.finish_decrypt(tag));
  tag[0] ^= 1;
  const std::uint8_t other_aad[] = {9, 9, 8};
  ASSERT_TRUE(gcm.begin(iv, false) && gcm.aad(other_aad) && gcm.update(ct, back.data()));
  EXPECT_FALSE(gcm.finish_decrypt(tag));
}

TEST(TeeCrypto, KeysDependOnSecretAndMeasurement) {
  KeyId a, b;
  ASSERT_TRUE(platform_key_id(key_from(1), &a));
  ASSERT_TRUE(platform_key_id(key_from(2), &b));
  EXPECT_NE(a, b);
  std::uint8_t salt[32] = {};
  SealKeys k1, k2, k3;
  ASSERT_TRUE(derive_seal_keys(key_from(1), digest_from(1), salt, &k1));
  ASSERT_TRUE(derive_seal_keys(key_from(1), digest_from(2), salt, &k2));
  ASSERT_TRUE(derive_seal_keys(key_from(2), digest_from(1), salt, &k3));
  EXPECT_NE(k1.enc, k2.enc);
  EXPECT_NE(k1.enc, k3.enc);
  EXPECT_NE(k1.enc, k1.mac);
}

// ---- sealing ------------------------------------------------------------------

TEST(TeeSeal, RoundTripRecoversThePlaintext) {
  const PlatformKey key = key_from(1);
  const Digest meas = digest_from(0xA1);
  Sealed s = make_sealed(5000, 1024, meas, key);
  EXPECT_EQ(s.blob.size(), sealed_header_bytes(5) + 5000 + 5 * 16);
  std::vector<std::uint8_t> out;
  ASSERT_EQ(unseal(s.blob, meas, key, &out), TeeStatus::kOk);
  EXPECT_EQ(out, s.plain);
  // The plaintext does not appear in the blob.
  auto it = std::search(s.blob.begin(), s.blob.end(), s.plain.begin(), s.plain.begin() + 16);
  EXPECT_EQ(it, s.blob.end());
  SealedModel m;
  TeeError err;
  ASSERT_TRUE(peek_sealed_header(s.blob, &m, &err));
  EXPECT_EQ(m.model_hash, digest_from(0x77));
  EXPECT_EQ(m.chunk_starting_at(2048), 2);
  EXPECT_EQ(m.chunk_starting_at(2047), -1);
}

TEST(TeeSeal, EveryHeaderByteFlipIsRefusedBeforeDecryption) {
  const PlatformKey key = key_from(1);
  const Digest meas = digest_from(0xA1);
  Sealed s = make_sealed(3000, 1000, meas, key);
  const std::size_t header = sealed_header_bytes(3);
  for (std::size_t i = 0; i < header; ++i) {
    std::vector<std::uint8_t> blob = s.blob;
    blob[i] ^= 0x01;
    std::vector<std::uint8_t> out;
    std::string msg;
    TeeStatus st = unseal(blob, meas, key, &out, &msg);
    SCOPED_TRACE("byte " + std::to_string(i) + ": " + msg);
    ASSERT_NE(st, TeeStatus::kOk);
    EXPECT_FALSE(msg.empty());
    // Fields read before the MAC give precise reasons; everything else is tampering.
    if (i >= 16 && i < 48) EXPECT_EQ(st, TeeStatus::kSealWrongEnclave);
    else if (i >= 112 && i < 120) EXPECT_EQ(st, TeeStatus::kSealWrongKey);
    else if (i < 16 || (i >= 128 && i < 132)) EXPECT_EQ(st, TeeStatus::kSealFormat);
    else EXPECT_EQ(st, TeeStatus::kSealTampered);
  }
}

TEST(TeeSeal, EveryChunkByteFlipIsRefused) {
  const PlatformKey key = key_from(1);
  const Digest meas = digest_from(0xA1);
  Sealed s = make_sealed(1536, 512, meas, key);
  SealedModel m;
  TeeError err;
  ASSERT_TRUE(peek_sealed_header(s.blob, &m, &err));
  // All of chunk 1: ciphertext and tag.
  const std::size_t from = m.chunk_cipher(1) - s.blob.data(), to = from + 512 + 16;
  for (std::size_t i = from; i < to; ++i) {
    std::vector<std::uint8_t> blob = s.blob;
    blob[i] ^= 0x80;
    std::vector<std::uint8_t> out;
    std::string msg;
    ASSERT_EQ(unseal(blob, meas, key, &out, &msg), TeeStatus::kSealTampered) << "byte " << i;
    EXPECT_NE(msg.find("chunk 1"), std::string::npos) << msg;
  }
}

TEST(TeeSeal, WrongKeyOtherEnclaveTruncationAndSwapsAreRefused) {
  const PlatformKey key = key_from(1);
  const Digest meas = digest_from(0xA1);
  Sealed s = make_sealed(4096, 1024, meas, key, 1);
  std::vector<std::uint8_t> out;
  std::string msg;
  EXPECT_EQ(unseal(s.blob, meas, key_from(2), &out, &msg), TeeStatus::kSealWrongKey);
  EXPECT_NE(msg.find("another platform key"), std::string::npos) << msg;
  EXPECT_EQ(unseal(s.blob, digest_from(0xA2), key, &out, &msg), TeeStatus::kSealWrongEnclave);
  EXPECT_NE(msg.find("another enclave build"), std::string::npos) << msg;

  // Truncated anywhere, or extended: refused.
  for (std::size_t cut : {std::size_t(0), std::size_t(7), std::size_t(100), sealed_header_bytes(4), s.blob.size() - 1}) {
    EXPECT_NE(unseal(Bytes(s.blob.data(), cut), meas, key, &out), TeeStatus::kOk) << "cut at " << cut;
  }
  std::vector<std::uint8_t> longer = s.blob;
  longer.push_back(0);
  EXPECT_EQ(unseal(longer, meas, key, &out), TeeStatus::kSealFormat);

  // Two chunks swapped inside one file.
  SealedModel m;
  TeeError err;
  ASSERT_TRUE(peek_sealed_header(s.blob, &m, &err));
  std::vector<std::uint8_t> swapped = s.blob;
  const std::size_t c1 = m.chunk_cipher(1) - s.blob.data(), c2 = m.chunk_cipher(2) - s.blob.data();
  std::swap_ranges(swapped.begin() + c1, swapped.begin() + c1 + 1024 + 16, swapped.begin() + c2);
  EXPECT_EQ(unseal(swapped, meas, key, &out, &msg), TeeStatus::kSealTampered);
  EXPECT_NE(msg.find("chunk 1"), std::string::npos) << msg;

  // A chunk taken from another file sealed with the same key and layout.
  Sealed other = make_sealed(4096, 1024, meas, key, 2);
  std::vector<std::uint8_t> mixed = s.blob;
  std::copy(other.blob.begin() + c2, other.blob.begin() + c2 + 1024 + 16, mixed.begin() + c2);
  EXPECT_EQ(unseal(mixed, meas, key, &out, &msg), TeeStatus::kSealTampered);
  // Another file's header on this body.
  std::vector<std::uint8_t> rehead = s.blob;
  std::copy(other.blob.begin(), other.blob.begin() + sealed_header_bytes(4), rehead.begin());
  EXPECT_EQ(unseal(rehead, meas, key, &out), TeeStatus::kSealTampered);
}

TEST(TeeSeal, SealRefusesChunksThatDoNotTile) {
  std::vector<std::uint8_t> plain(100, 1), blob(sealed_total_bytes(100, 2));
  std::uint8_t salt[32] = {};
  TeeError err;
  std::vector<ChunkSpan> gap = {{0, 40}, {50, 50}};
  EXPECT_FALSE(seal_into(plain, gap, digest_from(1), digest_from(1), key_from(1), salt, blob, &err));
  EXPECT_EQ(err.status, TeeStatus::kSealFormat);
  std::vector<ChunkSpan> shortc = {{0, 40}, {40, 50}};
  EXPECT_FALSE(seal_into(plain, shortc, digest_from(1), digest_from(1), key_from(1), salt, blob, &err));
}

// ---- reports -------------------------------------------------------------------

TEST(TeeReport, VerifiesAndRejectsTamperingAndWrongKey) {
  const PlatformKey key = key_from(5);
  Key256 rk;
  ASSERT_TRUE(derive_report_key(key, &rk));
  Report r;
  r.flags = kReportFlagModel;
  r.measurement = digest_from(1);
  r.model_hash = digest_from(2);
  r.nonce_bytes = 3;
  r.nonce[0] = 0xde, r.nonce[1] = 0xad, r.nonce[2] = 0x01;
  r.epc_limit_bytes = 98041856;
  std::uint8_t buf[kReportBytes];
  TeeError err;
  ASSERT_TRUE(build_report(r, rk, buf, &err));
  Report back;
  ASSERT_TRUE(verify_report(Bytes(buf, kReportBytes), key, &back, &err)) << err.message;
  EXPECT_EQ(back.measurement, r.measurement);
  EXPECT_EQ(back.model_hash, r.model_hash);
  EXPECT_EQ(back.nonce_bytes, 3u);
  EXPECT_EQ(back.nonce[2], 0x01);
  EXPECT_EQ(back.epc_limit_bytes, r.epc_limit_bytes);
  EXPECT_FALSE(verify_report(Bytes(buf, kReportBytes), key_from(6), &back, &err));
  for (std::size_t i = 0; i < kReportBytes; ++i) {
    std::uint8_t t[kReportBytes];
    std::memcpy(t, buf, kReportBytes);
    t[i] ^= 0x04;
    EXPECT_FALSE(verify_report(Bytes(t, kReportBytes), key, &back, &err)) << "byte " << i;
  }
  EXPECT_FALSE(verify_report(Bytes(buf, kReportBytes - 1), key, &back, &err));
  r.nonce_bytes = 0;
  EXPECT_FALSE(build_report(r, rk, buf, &err));
}

// ---- framing -------------------------------------------------------------------

namespace {
std::vector<std::uint8_t> packet(std::uint16_t type, std::uint32_t seq, std::uint64_t total, std::uint64_t off,
                                 std::size_t frag, std::uint8_t fill = 0xAB) {
  return msprune::tee::testing::frame(type, seq, total, off, std::vector<std::uint8_t>(frag, fill));
}
}  // namespace

TEST(TeeProtocol, DecodeFrameChecksEveryField) {
  FrameHeader h;
  TeeError err;
  auto ok = packet(1, 7, 10, 0, 10);
  ASSERT_TRUE(decode_frame(ok, &h, &err)) << err.message;
  EXPECT_EQ(h.seq, 7u);
  EXPECT_EQ(h.total_bytes, 10u);
  EXPECT_FALSE(decode_frame(Bytes(ok.data(), 31), &h, &err));  // shorter than a header
  auto bad = ok;
  bad[0] ^= 1;
  EXPECT_FALSE(decode_frame(bad, &h, &err));
  EXPECT_EQ(err.status, TeeStatus::kBadMessage);
  bad = ok;
  bad[4] = 2;  // version 2
  EXPECT_FALSE(decode_frame(bad, &h, &err));
  EXPECT_EQ(err.status, TeeStatus::kBadVersion);
  EXPECT_EQ(h.seq, 7u);  // still named, so the error reply can refer to it
  EXPECT_FALSE(decode_frame(Bytes(ok.data(), ok.size() - 1), &h, &err));  // fragment length lies
  EXPECT_FALSE(decode_frame(packet(1, 1, 5, 0, 10), &h, &err));            // fragment past total
  EXPECT_FALSE(decode_frame(packet(1, 1, 20, 15, 10), &h, &err));
  EXPECT_FALSE(decode_frame(packet(1, 1, ~0ull, ~0ull - 3, 10), &h, &err));  // overflow
  EXPECT_FALSE(decode_frame(packet(1, 1, 10, 0, 0), &h, &err));             // empty fragment
  EXPECT_TRUE(decode_frame(packet(1, 1, 0, 0, 0), &h, &err));               // empty message
}

TEST(TeeProtocol, ReassemblerHandlesOrderLimitsAndTruncation) {
  std::vector<std::uint8_t> buf(100);
  Reassembler r(buf.data(), buf.size());
  TeeError err;
  FrameHeader h;
  auto feed = [&](const std::vector<std::uint8_t>& p, std::size_t limit = 100) {
    EXPECT_TRUE(decode_frame(p, &h, &err)) << err.message;
    return r.feed(h, Bytes(p.data() + kFrameHeaderBytes, h.fragment_bytes), limit, &err);
  };
  EXPECT_EQ(feed(packet(1, 1, 30, 0, 10, 1)).result, Reassembler::Result::kIncomplete);
  EXPECT_EQ(feed(packet(1, 1, 30, 10, 20, 2)).result, Reassembler::Result::kComplete);
  EXPECT_EQ(r.payload().size(), 30u);
  EXPECT_EQ(r.payload()[9], 1);
  EXPECT_EQ(r.payload()[10], 2);
  // Over the limit for its type, or over the buffer.
  EXPECT_EQ(feed(packet(1, 2, 30, 0, 10), 20).result, Reassembler::Result::kError);
  EXPECT_EQ(err.status, TeeStatus::kTooLarge);
  EXPECT_EQ(feed(packet(1, 2, 101, 0, 10), 1000).result, Reassembler::Result::kError);
  // A continuation with nothing in progress.
  EXPECT_EQ(feed(packet(1, 3, 30, 10, 10)).result, Reassembler::Result::kError);
  // A gap.
  EXPECT_EQ(feed(packet(1, 4, 30, 0, 10)).result, Reassembler::Result::kIncomplete);
  EXPECT_EQ(feed(packet(1, 4, 30, 20, 10)).result, Reassembler::Result::kError);
  EXPECT_FALSE(r.in_progress());
  // Truncated: a new message starts before the old one is complete.
  EXPECT_EQ(feed(packet(1, 5, 30, 0, 10)).result, Reassembler::Result::kIncomplete);
  Reassembler::Outcome o = feed(packet(2, 6, 4, 0, 4));
  EXPECT_TRUE(o.abandoned);
  EXPECT_EQ(o.abandoned_seq, 5u);
  EXPECT_EQ(o.abandoned_got, 10u);
  EXPECT_EQ(o.result, Reassembler::Result::kComplete);
  EXPECT_EQ(r.type(), 2);
}

TEST(TeeProtocol, PayloadCodecsRoundTrip) {
  ModelInfo m;
  m.in_c = 3, m.in_h = 32, m.in_w = 32, m.classes = 10, m.arena_bytes = 12345, m.flags = 1;
  m.model_hash = digest_from(9);
  std::uint8_t buf[kModelInfoBytes];
  encode_model_info(m, buf);
  ModelInfo back;
  ASSERT_TRUE(decode_model_info(Bytes(buf, kModelInfoBytes), &back));
  EXPECT_EQ(back.arena_bytes, 12345u);
  EXPECT_EQ(back.model_hash, m.model_hash);
  EXPECT_FALSE(decode_model_info(Bytes(buf, kModelInfoBytes - 1), &back));
  EnclaveStats s;
  s.ecalls = 1, s.faults = 2, s.infer_ns = 3;
  std::uint8_t sb[kStatsBytes];
  encode_stats(s, sb);
  EnclaveStats sback;
  ASSERT_TRUE(decode_stats(Bytes(sb, kStatsBytes), &sback));
  EXPECT_EQ(sback.ecalls, 1u);
  EXPECT_EQ(sback.faults, 2u);
  EXPECT_EQ(sback.infer_ns, 3u);
}
