#include "tee/enclave/crypto.h"

#include <cstring>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace msprune::tee {

bool sha256(std::initializer_list<Bytes> parts, Digest* out) {
  Sha256 h;
  for (Bytes p : parts) h.update(p);
  return h.finish(out);
}

Sha256::Sha256() {
  ctx_ = EVP_MD_CTX_new();
  ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1;
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(Bytes data) {
  if (ok_ && !data.empty()) ok_ = EVP_DigestUpdate(ctx_, data.data(), data.size()) == 1;
}

bool Sha256::finish(Digest* out) {
  unsigned len = 0;
  if (!ok_ || EVP_DigestFinal_ex(ctx_, out->data(), &len) != 1 || len != out->size()) ok_ = false;
  return ok_;
}

bool hmac_sha256(Bytes key, std::initializer_list<Bytes> parts, Digest* out) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return false;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  bool ok = ctx != nullptr;
  if (ok) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    ok = EVP_MAC_init(ctx, key.data(), key.size(), params) == 1;
    for (Bytes p : parts)
      if (ok && !p.empty()) ok = EVP_MAC_update(ctx, p.data(), p.size()) == 1;
    std::size_t len = 0;
    ok = ok && EVP_MAC_final(ctx, out->data(), &len, out->size()) == 1 && len == out->size();
  }
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return ok;
}

bool hkdf_sha256(Bytes ikm, Bytes salt, Bytes info, MutBytes out) {
  if (out.empty() || out.size() > 255 * 32) return false;
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return false;
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  bool ok = ctx != nullptr;
  if (ok) {
    char digest[] = "SHA256";
    // OSSL_PARAM wants non-const pointers; the KDF only reads them.
    auto* k = const_cast<std::uint8_t*>(ikm.data());
    auto* s = const_cast<std::uint8_t*>(salt.data());
    auto* i = const_cast<std::uint8_t*>(info.data());
    OSSL_PARAM params[5];
    int n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k, ikm.size());
    if (!salt.empty()) params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, s, salt.size());
    if (!info.empty()) params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, i, info.size());
    params[n] = OSSL_PARAM_construct_end();
    ok = EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
  }
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  return ok;
}

bool ct_equal(Bytes a, Bytes b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void secure_zero(void* p, std::size_t n) { OPENSSL_cleanse(p, n); }

bool random_bytes(MutBytes out) {
  return out.empty() || RAND_bytes(out.data(), int(out.size())) == 1;
}

AesGcm::~AesGcm() {
  EVP_CIPHER_CTX_free(ctx_);
  EVP_CIPHER_free(cipher_);
}

bool AesGcm::init(Bytes key32) {
  if (key32.size() != 32) return false;
  if (ctx_ != nullptr)  // re-key in place
    return EVP_CipherInit_ex(ctx_, nullptr, nullptr, key32.data(), nullptr, 1) == 1;
  cipher_ = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  ctx_ = EVP_CIPHER_CTX_new();
  if (cipher_ == nullptr || ctx_ == nullptr) return false;
  // Key schedule once; begin() only sets the IV afterwards.
  if (EVP_CipherInit_ex(ctx_, cipher_, nullptr, key32.data(), nullptr, 1) != 1) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = nullptr;
    return false;
  }
  return true;
}

bool AesGcm::begin(Bytes iv12, bool encrypt) {
  if (ctx_ == nullptr || iv12.size() != kGcmIvBytes) return false;
  encrypting_ = encrypt;
  // cipher == NULL and key == NULL: keep the provider context and key, set
  // only direction and IV (no allocation on this path).
  return EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, iv12.data(), encrypt ? 1 : 0) == 1;
}

bool AesGcm::aad(Bytes data) {
  int outl = 0;
  return data.empty() || EVP_CipherUpdate(ctx_, nullptr, &outl, data.data(), int(data.size())) == 1;
}

bool AesGcm::update(Bytes in, std::uint8_t* out) {
  // EVP takes int lengths: feed at most 1 GiB at a time.
  constexpr std::size_t kStep = std::size_t(1) << 30;
  for (std::size_t off = 0; off < in.size(); off += kStep) {
    std::size_t n = in.size() - off < kStep ? in.size() - off : kStep;
    int outl = 0;
    if (EVP_CipherUpdate(ctx_, out + off, &outl, in.data() + off, int(n)) != 1 || std::size_t(outl) != n)
      return false;
  }
  return true;
}

bool AesGcm::finish_encrypt(std::uint8_t tag[kGcmTagBytes]) {
  int outl = 0;
  std::uint8_t dummy[16];
  if (!encrypting_ || EVP_CipherFinal_ex(ctx_, dummy, &outl) != 1 || outl != 0) return false;
  return EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, int(kGcmTagBytes), tag) == 1;
}

bool AesGcm::finish_decrypt(const std::uint8_t tag[kGcmTagBytes]) {
  if (encrypting_) return false;
  std::uint8_t t[kGcmTagBytes];
  std::memcpy(t, tag, kGcmTagBytes);
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, int(kGcmTagBytes), t) != 1) return false;
  int outl = 0;
  std::uint8_t dummy[16];
  return EVP_CipherFinal_ex(ctx_, dummy, &outl) == 1 && outl == 0;
}

void to_hex(Bytes b, char* out) {
  static const char* kDigits = "0123456789abcdef";
  for (std::size_t i = 0; i < b.size(); ++i) {
    out[2 * i] = kDigits[b[i] >> 4];
    out[2 * i + 1] = kDigits[b[i] & 15];
  }
}

}  // namespace msprune::tee
