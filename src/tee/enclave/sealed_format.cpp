#include "tee/enclave/sealed_format.h"

#include <cinttypes>
#include <cstring>

namespace msprune::tee {
namespace {

void chunk_iv(std::uint32_t i, std::uint8_t iv[kGcmIvBytes]) {
  std::memset(iv, 0, kGcmIvBytes);
  put_u32(iv, i);
}

void chunk_aad(const Digest& header_mac, std::uint32_t i, const ChunkSpan& c, std::uint8_t aad[52]) {
  std::memcpy(aad, header_mac.data(), 32);
  put_u32(aad + 32, i);
  put_u64(aad + 36, c.offset);
  put_u64(aad + 44, c.length);
}

void short_hex(const std::uint8_t* p, char out[17]) {
  to_hex(Bytes(p, 8), out);
  out[16] = 0;
}

bool check_chunk_table(std::span<const ChunkSpan> chunks, std::uint64_t plaintext, TeeError* err) {
  if (chunks.empty() || chunks.size() > kSealMaxChunks)
    return fail(err, TeeStatus::kSealFormat, "chunk count %zu outside 1..%u", chunks.size(), kSealMaxChunks);
  std::uint64_t expect = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const ChunkSpan& c = chunks[i];
    if (c.offset != expect)
      return fail(err, TeeStatus::kSealFormat, "chunk %zu starts at %" PRIu64 ", expected %" PRIu64, i, c.offset,
                  expect);
    if (c.length == 0 || c.length > kSealMaxChunkBytes)
      return fail(err, TeeStatus::kSealFormat, "chunk %zu has length %" PRIu64 " (allowed 1..%" PRIu64 ")", i,
                  c.length, kSealMaxChunkBytes);
    if (c.length > plaintext - c.offset)
      return fail(err, TeeStatus::kSealFormat, "chunk %zu ends past the plaintext (%" PRIu64 " bytes)", i, plaintext);
    expect = c.offset + c.length;
  }
  if (expect != plaintext)
    return fail(err, TeeStatus::kSealFormat, "chunks cover %" PRIu64 " of %" PRIu64 " plaintext bytes", expect,
                plaintext);
  return true;
}

}  // namespace

std::size_t sealed_header_bytes(std::size_t chunks) { return kSealFixedBytes + 16 * chunks + kSealMacBytes; }

std::size_t sealed_total_bytes(std::size_t plaintext_bytes, std::size_t chunks) {
  return sealed_header_bytes(chunks) + plaintext_bytes + kGcmTagBytes * chunks;
}

bool seal_into(Bytes plaintext, std::span<const ChunkSpan> chunks, const Digest& model_hash,
               const Digest& measurement, const PlatformKey& secret, Bytes salt, MutBytes out, TeeError* err) {
  if (salt.size() != 32) return fail(err, TeeStatus::kInternal, "seal salt must be 32 bytes");
  if (!check_chunk_table(chunks, plaintext.size(), err)) return false;
  const std::size_t header = sealed_header_bytes(chunks.size());
  if (out.size() != sealed_total_bytes(plaintext.size(), chunks.size()))
    return fail(err, TeeStatus::kInternal, "seal output buffer has the wrong size");

  std::uint8_t* h = out.data();
  std::memset(h, 0, header);
  std::memcpy(h, kSealMagic, 8);
  put_u32(h + 8, kSealVersion);
  put_u32(h + 12, std::uint32_t(header));
  std::memcpy(h + 16, measurement.data(), 32);
  std::memcpy(h + 48, model_hash.data(), 32);
  std::memcpy(h + 80, salt.data(), 32);
  KeyId kid;
  if (!platform_key_id(secret, &kid)) return fail(err, TeeStatus::kInternal, "HKDF failed");
  std::memcpy(h + 112, kid.data(), kKeyIdBytes);
  put_u64(h + 120, plaintext.size());
  put_u32(h + 128, std::uint32_t(chunks.size()));
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    put_u64(h + kSealFixedBytes + 16 * i, chunks[i].offset);
    put_u64(h + kSealFixedBytes + 16 * i + 8, chunks[i].length);
  }
  SealKeys keys;
  if (!derive_seal_keys(secret, measurement, salt, &keys)) return fail(err, TeeStatus::kInternal, "HKDF failed");
  Digest mac;
  if (!hmac_sha256(keys.mac, {Bytes(h, header - kSealMacBytes)}, &mac))
    return fail(err, TeeStatus::kInternal, "HMAC failed");
  std::memcpy(h + header - kSealMacBytes, mac.data(), 32);

  AesGcm gcm;
  bool ok = gcm.init(keys.enc);
  std::uint8_t* body = h + header;
  for (std::size_t i = 0; ok && i < chunks.size(); ++i) {
    std::uint8_t iv[kGcmIvBytes], aad[52];
    chunk_iv(std::uint32_t(i), iv);
    chunk_aad(mac, std::uint32_t(i), chunks[i], aad);
    ok = gcm.begin(iv, true) && gcm.aad(aad) &&
         gcm.update(plaintext.subspan(chunks[i].offset, chunks[i].length), body) &&
         gcm.finish_encrypt(body + chunks[i].length);
    body += chunks[i].length + kGcmTagBytes;
  }
  secure_zero(&keys, sizeof keys);
  if (!ok) return fail(err, TeeStatus::kInternal, "AES-GCM encryption failed");
  return true;
}

ChunkSpan SealedModel::chunk(std::uint32_t i) const {
  const std::uint8_t* p = blob.data() + kSealFixedBytes + 16 * std::size_t(i);
  return {get_u64(p), get_u64(p + 8)};
}

const std::uint8_t* SealedModel::chunk_cipher(std::uint32_t i) const {
  // Chunks tile the plaintext in order, so chunk i's ciphertext starts after
  // the header, the plaintext before it and i tags.
  return blob.data() + header_bytes + chunk(i).offset + kGcmTagBytes * std::size_t(i);
}

std::int64_t SealedModel::chunk_starting_at(std::uint64_t off) const {
  std::uint32_t lo = 0, hi = chunk_count;  // binary search: offsets increase
  while (lo < hi) {
    std::uint32_t mid = lo + (hi - lo) / 2;
    std::uint64_t o = chunk(mid).offset;
    if (o == off) return mid;
    if (o < off) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

bool peek_sealed_header(Bytes blob, SealedModel* out, TeeError* err) {
  if (blob.size() < sealed_header_bytes(1))
    return fail(err, TeeStatus::kSealFormat, "not a sealed model: %zu bytes is shorter than any sealed header",
                blob.size());
  const std::uint8_t* h = blob.data();
  if (std::memcmp(h, kSealMagic, 8) != 0)
    return fail(err, TeeStatus::kSealFormat, "not a sealed model (bad magic; expected \"MSSEALED\")");
  std::uint32_t version = get_u32(h + 8);
  if (version != kSealVersion)
    return fail(err, TeeStatus::kSealFormat, "sealed format version %u is not supported (expected %u)", version,
                kSealVersion);
  std::uint32_t chunks = get_u32(h + 128);
  if (chunks == 0 || chunks > kSealMaxChunks)
    return fail(err, TeeStatus::kSealFormat, "sealed header: chunk count %u outside 1..%u", chunks, kSealMaxChunks);
  std::uint32_t header = get_u32(h + 12);
  if (header != sealed_header_bytes(chunks))
    return fail(err, TeeStatus::kSealFormat, "sealed header: header bytes %u do not match %u chunks (expected %zu)",
                header, chunks, sealed_header_bytes(chunks));
  if (blob.size() < header)
    return fail(err, TeeStatus::kSealFormat, "sealed model truncated inside its header (%zu of %u bytes)",
                blob.size(), header);
  out->blob = blob;
  out->header_bytes = header;
  out->chunk_count = chunks;
  out->plaintext_bytes = get_u64(h + 120);
  std::memcpy(out->measurement.data(), h + 16, 32);
  std::memcpy(out->model_hash.data(), h + 48, 32);
  std::memcpy(out->header_mac.data(), h + header - kSealMacBytes, 32);
  return true;
}

bool open_sealed(Bytes blob, const Digest& my_measurement, const PlatformKey& secret, SealedModel* out,
                 SealKeys* keys, TeeError* err) {
  SealedModel m;
  if (!peek_sealed_header(blob, &m, err)) return false;
  const std::uint8_t* h = blob.data();
  if (!ct_equal(m.measurement, my_measurement)) {
    char theirs[17], mine[17];
    short_hex(m.measurement.data(), theirs);
    short_hex(my_measurement.data(), mine);
    return fail(err, TeeStatus::kSealWrongEnclave,
                "model is sealed to another enclave build (measurement %s..., this enclave is %s...)", theirs, mine);
  }
  KeyId kid;
  if (!platform_key_id(secret, &kid)) return fail(err, TeeStatus::kInternal, "HKDF failed");
  if (!ct_equal(Bytes(h + 112, kKeyIdBytes), kid)) {
    char theirs[17], mine[17];
    short_hex(h + 112, theirs);
    short_hex(kid.data(), mine);
    return fail(err, TeeStatus::kSealWrongKey,
                "model is sealed under another platform key (key id %s, this platform's is %s)", theirs, mine);
  }
  SealKeys k;
  if (!derive_seal_keys(secret, my_measurement, Bytes(h + 80, 32), &k))
    return fail(err, TeeStatus::kInternal, "HKDF failed");
  Digest mac;
  if (!hmac_sha256(k.mac, {Bytes(h, m.header_bytes - kSealMacBytes)}, &mac))
    return fail(err, TeeStatus::kInternal, "HMAC failed");
  if (!ct_equal(mac, m.header_mac)) {
    secure_zero(&k, sizeof k);
    return fail(err, TeeStatus::kSealTampered, "sealed header failed authentication (the header was altered)");
  }
  // Authenticated from here on; still check every field before use.
  if (get_u32(h + 132) != 0 || get_u64(h + 136) != 0) {
    secure_zero(&k, sizeof k);
    return fail(err, TeeStatus::kSealFormat, "sealed header: unknown flags or reserved bytes set");
  }
  std::uint64_t total_expected = 0;
  bool size_ok = m.plaintext_bytes <= blob.size();
  if (size_ok) total_expected = sealed_total_bytes(std::size_t(m.plaintext_bytes), m.chunk_count);
  if (!size_ok || total_expected != blob.size()) {
    secure_zero(&k, sizeof k);
    return fail(err, TeeStatus::kSealFormat,
                "sealed model is %zu bytes but its header describes %" PRIu64 " plaintext bytes in %u chunks",
                blob.size(), m.plaintext_bytes, m.chunk_count);
  }
  for (std::uint32_t i = 0; i < m.chunk_count; ++i) {
    ChunkSpan c = m.chunk(i);
    std::uint64_t expect = i == 0 ? 0 : m.chunk(i - 1).offset + m.chunk(i - 1).length;
    if (c.offset != expect || c.length == 0 || c.length > kSealMaxChunkBytes || c.length > m.plaintext_bytes - c.offset) {
      secure_zero(&k, sizeof k);
      return fail(err, TeeStatus::kSealFormat, "sealed chunk table: chunk %u (offset %" PRIu64 ", length %" PRIu64
                  ") does not continue the tiling", i, c.offset, c.length);
    }
  }
  ChunkSpan last = m.chunk(m.chunk_count - 1);
  if (last.offset + last.length != m.plaintext_bytes) {
    secure_zero(&k, sizeof k);
    return fail(err, TeeStatus::kSealFormat, "sealed chunk table covers %" PRIu64 " of %" PRIu64 " bytes",
                last.offset + last.length, m.plaintext_bytes);
  }
  *out = m;
  *keys = k;
  secure_zero(&k, sizeof k);
  return true;
}

bool decrypt_chunk(const SealedModel& m, AesGcm& gcm, std::uint32_t i, std::uint8_t* dst, std::uint8_t* bounce,
                   std::size_t bounce_bytes, Sha256* hash, TeeError* err) {
  if (i >= m.chunk_count) return fail(err, TeeStatus::kInternal, "chunk %u out of range", i);
  if (bounce == nullptr && (dst == nullptr || hash != nullptr))
    return fail(err, TeeStatus::kInternal, "decrypt_chunk: a bounce buffer is needed");
  ChunkSpan c = m.chunk(i);
  const std::uint8_t* ct = m.chunk_cipher(i);
  std::uint8_t iv[kGcmIvBytes], aad[52];
  chunk_iv(i, iv);
  chunk_aad(m.header_mac, i, c, aad);
  bool ok = gcm.begin(iv, false) && gcm.aad(aad);
  if (bounce == nullptr) {
    ok = ok && gcm.update(Bytes(ct, c.length), dst);
  } else {
    for (std::uint64_t off = 0; ok && off < c.length; off += bounce_bytes) {
      std::size_t n = std::size_t(c.length - off < bounce_bytes ? c.length - off : bounce_bytes);
      ok = gcm.update(Bytes(ct + off, n), bounce);
      if (ok && hash != nullptr) hash->update(Bytes(bounce, n));
      if (ok && dst != nullptr) std::memcpy(dst + off, bounce, n);
    }
    secure_zero(bounce, bounce_bytes);
  }
  ok = ok && gcm.finish_decrypt(ct + c.length);
  if (!ok) {
    if (dst != nullptr) std::memset(dst, 0, c.length);
    return fail(err, TeeStatus::kSealTampered, "sealed chunk %u (bytes %" PRIu64 "..%" PRIu64
                ") failed authentication (tampered or swapped data)", i, c.offset, c.offset + c.length);
  }
  return true;
}

}  // namespace msprune::tee
