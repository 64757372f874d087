// The enclave as a process: ECALL protocol hardening (malformed, truncated,
// fuzzed messages), the seccomp sandbox, death and hang detection, EPC paging
// of the heap, attestation reports, and refusal of bad sealed blobs.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>

#include "tee/enclave/crypto.h"
#include "tee/host/enclave_client.h"
#include "tee/host/host.h"
#include "tee/enclave/report.h"
#include "tee/enclave/sealed_format.h"
#include "tee_test_util.h"

using namespace msprune::tee;
using namespace msprune::tee::testing;

namespace {

// Sends `packet`, then a ping; collects replies until the ping's answer.
// Returns the replies that came before it (error replies for the packet).
std::vector<Reply> poke(EnclaveClient& c, const std::vector<std::uint8_t>& packet) {
  c.send_raw(packet);
  std::uint32_t seq = c.next_seq();
  const std::vector<std::uint8_t> hello = {'h', 'i'};
  c.send_raw(frame(std::uint16_t(MsgType::kPing), seq, 2, 0, hello));
  std::vector<Reply> before;
  for (;;) {
    Reply r = c.receive();
    if (r.seq == seq && r.type == (std::uint16_t(MsgType::kPing) | kReplyBit)) {
      EXPECT_EQ(r.payload, hello);
      return before;
    }
    before.push_back(std::move(r));
  }
}

std::uint32_t u32(std::uint32_t v) { return v; }

}  // namespace

TEST(Enclave, StartsAnswersAndShutsDown) {
  TempDir dir("tee_start");
  EnclaveClient c(test_options(write_key(dir, 1)));
  EXPECT_GT(c.pid(), 0);
  c.ping(std::vector<std::uint8_t>(4096, 7));  // the largest ping
  EnclaveStats s = c.stats();
  EXPECT_GE(s.ecalls, 2u);
  c.shutdown();
  EXPECT_FALSE(c.alive());
}

TEST(Enclave, MalformedMessagesAreRefusedAndTheEnclaveStaysUsable) {
  TempDir dir("tee_malformed");
  EnclaveClient c(test_options(write_key(dir, 1)));
  struct Case {
    const char* what;
    std::vector<std::uint8_t> packet;
    TeeStatus expect;
  };
  std::vector<Case> cases;
  cases.push_back({"empty packet", {}, TeeStatus::kBadMessage});
  cases.push_back({"5 bytes", {1, 2, 3, 4, 5}, TeeStatus::kBadMessage});
  auto bad_magic = frame(1, 900, 0, 0, {});
  bad_magic[1] ^= 0xff;
  cases.push_back({"bad magic", bad_magic, TeeStatus::kBadMessage});
  auto bad_version = frame(1, 901, 0, 0, {});
  bad_version[4] = 9;
  cases.push_back({"bad version", bad_version, TeeStatus::kBadVersion});
  auto lying = frame(1, 902, 4, 0, {1, 2, 3, 4});
  lying.pop_back();
  cases.push_back({"fragment length lies", lying, TeeStatus::kBadMessage});
  cases.push_back({"fragment past total", frame(1, 903, 2, 0, {1, 2, 3}), TeeStatus::kBadMessage});
  cases.push_back({"oversized packet", frame(1, 904, 70000, 0, std::vector<std::uint8_t>(70000 - 32)),
                   TeeStatus::kTooLarge});
  cases.push_back({"unknown type", frame(0x1234, 905, 0, 0, {}), TeeStatus::kUnknownType});
  cases.push_back({"continuation without start", frame(1, 906, 100, 50, {1}), TeeStatus::kBadMessage});
  cases.push_back({"ping over 4 KiB", frame(1, 907, 5000, 0, std::vector<std::uint8_t>(5000)),
                   TeeStatus::kTooLarge});
  cases.push_back({"infer without a model", frame(3, 908, 8, 0, std::vector<std::uint8_t>(8)), TeeStatus::kNoModel});
  cases.push_back({"stats with 3 bytes", frame(5, 909, 3, 0, {0, 0, 0}), TeeStatus::kBadRequest});
  cases.push_back({"stats unknown flag", frame(5, 910, 4, 0, {2, 0, 0, 0}), TeeStatus::kBadRequest});
  cases.push_back({"report with empty nonce", frame(4, 911, 0, 0, {}), TeeStatus::kBadRequest});
  cases.push_back({"report nonce of 65 bytes", frame(4, 912, 65, 0, std::vector<std::uint8_t>(65)), TeeStatus::kTooLarge});
  cases.push_back({"load without header", frame(2, 913, 4, 0, {0, 0, 0, 0}), TeeStatus::kBadRequest});
  cases.push_back({"load with unknown flags", frame(2, 914, 8, 0, {2, 0, 0, 0, 0, 0, 0, 0}), TeeStatus::kBadRequest});
  std::vector<std::uint8_t> garbage(24, 0x5a);
  std::fill(garbage.begin(), garbage.begin() + 8, 0);  // valid load header, then not a sealed model
  cases.push_back({"load of garbage", frame(2, 915, 24, 0, garbage), TeeStatus::kSealFormat});
  cases.push_back({"shutdown with payload", frame(6, 916, 1, 0, {1}), TeeStatus::kTooLarge});
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    std::vector<Reply> replies = poke(c, k.packet);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_TRUE(replies[0].is_error());
    EXPECT_EQ(replies[0].error_status(), k.expect) << replies[0].error_message();
    EXPECT_FALSE(replies[0].error_message().empty());
  }
  EXPECT_EQ(c.stats().malformed, cases.size());
}

TEST(Enclave, TruncatedMessageIsReportedAndTheNextOneServed) {
  TempDir dir("tee_trunc");
  EnclaveClient c(test_options(write_key(dir, 1)));
  // First fragment of a 100000-byte load, then a ping: the load is abandoned.
  std::vector<Reply> replies = poke(c, frame(2, 77, 100000, 0, std::vector<std::uint8_t>(60000, 1)));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].seq, 77u);
  EXPECT_EQ(replies[0].error_status(), TeeStatus::kBadMessage);
  EXPECT_NE(replies[0].error_message().find("truncated"), std::string::npos) << replies[0].error_message();
  // The rest of a refused message is dropped without a flood of replies.
  c.send_raw(frame(0x4444, 78, 200000, 0, std::vector<std::uint8_t>(60000)));
  c.send_raw(frame(0x4444, 78, 200000, 60000, std::vector<std::uint8_t>(60000)));
  replies = poke(c, frame(0x4444, 78, 200000, 120000, std::vector<std::uint8_t>(60000)));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].error_status(), TeeStatus::kUnknownType);
}

TEST(Enclave, FuzzedPacketsNeverCrashIt) {
  TempDir dir("tee_fuzz");
  EnclaveClient c(test_options(write_key(dir, 1)));
  std::mt19937 rng(12345);
  int answered = 0;
  for (int i = 0; i < 400; ++i) {
    std::vector<std::uint8_t> p;
    if (i % 2 == 0) {
      // A well-formed header with random fields (small totals), random body.
      std::uint16_t type = std::uint16_t(rng() % 8);
      if (type == std::uint16_t(MsgType::kShutdown)) type = 0;  // everything but a clean exit
      std::uint64_t total = rng() % 300, off = rng() % 4 == 0 ? rng() % 300 : 0;
      std::size_t frag = std::size_t(std::min<std::uint64_t>(total - std::min(off, total), rng() % 300));
      std::vector<std::uint8_t> body(frag);
      for (auto& b : body) b = std::uint8_t(rng());
      p = frame(type, 5000 + u32(i), total, off, body);
      if (rng() % 5 == 0) p[12 + rng() % 20] ^= std::uint8_t(1u << (rng() % 8));  // corrupt a size
    } else {
      p.resize(rng() % 200);
      for (auto& b : p) b = std::uint8_t(rng());
    }
    std::vector<Reply> replies = poke(c, p);
    answered += int(replies.size());
    for (const Reply& r : replies) ASSERT_TRUE(r.is_error() || (r.type & kReplyBit)) << "type " << r.type;
  }
  EXPECT_GT(answered, 300);
  EXPECT_TRUE(c.alive());
  c.shutdown();
}

TEST(Enclave, ForbiddenSystemCallKillsItBySigsys) {
  TempDir dir("tee_seccomp");
  EnclaveClient c(test_options(write_key(dir, 1)));
  std::uint8_t action[4];
  put_u32(action, 1);  // open("/etc/hostname")
  auto t0 = std::chrono::steady_clock::now();
  try {
    c.call(std::uint16_t(MsgType::kTestHook), action);
    FAIL() << "open() did not kill the enclave";
  } catch (const EnclaveDied& e) {
    EXPECT_NE(std::string(e.what()).find("enclave killed by seccomp (SIGSYS)"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_FALSE(c.alive());
  EXPECT_THROW(c.ping(), EnclaveDied);
}

TEST(Enclave, HungEnclaveIsKilledAfterTheTimeout) {
  TempDir dir("tee_hang");
  EnclaveClient c(test_options(write_key(dir, 1)));
  c.set_timeout(1.0);
  std::uint8_t action[4];
  put_u32(action, 2);
  try {
    c.call(std::uint16_t(MsgType::kTestHook), action);
    FAIL() << "no timeout";
  } catch (const EnclaveDied& e) {
    EXPECT_NE(std::string(e.what()).find("did not answer within 1 s"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(c.alive());
}

TEST(Enclave, CrashOutsideTheHeapIsReportedAsSigsegv) {
  TempDir dir("tee_crash");
  EnclaveClient c(test_options(write_key(dir, 1), 1.0));  // pager active
  std::uint8_t action[4];
  put_u32(action, 3);
  try {
    c.call(std::uint16_t(MsgType::kTestHook), action);
    FAIL() << "no crash";
  } catch (const EnclaveDied& e) {
    EXPECT_NE(std::string(e.what()).find("SIGSEGV"), std::string::npos) << e.what();
  }
}

TEST(Enclave, ProductionBuildHasNoTestHooks) {
  TempDir dir("tee_prod");
  EnclaveOptions o = test_options(write_key(dir, 1));
  o.binary = enclave_bin();
  EnclaveClient c(o);
  std::uint8_t action[4];
  put_u32(action, 1);
  Reply r = c.call(std::uint16_t(MsgType::kTestHook), action);
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.error_status(), TeeStatus::kUnknownType);
  c.ping();
  EXPECT_NE(measure_enclave(enclave_bin()), measure_enclave(test_enclave_bin()));
}

TEST(Enclave, PagingKeepsTheHeapIntactUnderAnEpcLimit) {
  TempDir dir("tee_paging");
  auto exercise = [&](double epc_mib, EnclaveStats* stats) {
    EnclaveClient c(test_options(write_key(dir, 1), epc_mib));
    std::uint8_t req[16];
    put_u32(req, 4);
    put_u32(req + 4, 99);
    put_u64(req + 8, 4u << 20);  // 4 MiB of heap
    Reply r = c.call(std::uint16_t(MsgType::kTestHook), req);
    EXPECT_FALSE(r.is_error()) << r.error_message();
    EXPECT_EQ(r.payload.size(), 16u);
    *stats = c.stats();
    EXPECT_EQ(get_u64(r.payload.data() + 8), 0u) << "words read back wrong";
    return get_u64(r.payload.data());
  };
  EnclaveStats free_s, tight_s;
  const std::uint64_t unlimited = exercise(0, &free_s);
  const std::uint64_t limited = exercise(0.5, &tight_s);  // 128 pages for 1024 used
  EXPECT_EQ(unlimited, limited);
  EXPECT_EQ(free_s.faults, 0u);
  EXPECT_EQ(tight_s.epc_limit_pages, 128u);
  EXPECT_GT(tight_s.faults, 1024u);
  EXPECT_GT(tight_s.pages_evicted, 0u);
  EXPECT_GT(tight_s.pages_loaded, 0u);  // the read-back pass reloads evicted pages
  EXPECT_EQ(tight_s.bytes_decrypted, tight_s.pages_loaded * 4096);
  EXPECT_LE(tight_s.peak_resident_pages, 128u);
  EXPECT_GT(tight_s.handler_ns, 0u);
  EXPECT_EQ(tight_s.injected_ns, 0u);
  EXPECT_EQ(tight_s.handler_allocs, 0u) << "the fault handler allocated memory";
}

TEST(Enclave, FaultCostIsAddedAndCountedApart) {
  TempDir dir("tee_cost");
  EnclaveOptions o = test_options(write_key(dir, 1), 0.25);
  o.fault_cost_us = 20;
  EnclaveClient c(o);
  std::uint8_t req[16];
  put_u32(req, 4);
  put_u32(req + 4, 5);
  put_u64(req + 8, 1u << 20);
  ASSERT_FALSE(c.call(std::uint16_t(MsgType::kTestHook), req).is_error());
  EnclaveStats s = c.stats(true);
  ASSERT_GT(s.faults, 0u);
  EXPECT_GE(s.injected_ns, s.faults * 20000);
  EXPECT_EQ(c.stats().faults, 0u);  // reset by the previous call
}

TEST(Enclave, ReportVerifiesAndBindsTheNonce) {
  TempDir dir("tee_report");
  PlatformKey key;
  auto key_path = write_key(dir, 3, &key);
  EnclaveClient c(test_options(key_path));
  const std::vector<std::uint8_t> nonce = {0xde, 0xad, 0xbe, 0xef};
  const std::uint64_t allocs0 = c.stats().allocs;
  std::vector<std::uint8_t> rep = c.report(nonce);
  if (MSPRUNE_TEE_ALLOC_COUNTING) {
    EXPECT_GT(c.stats().allocs, allocs0) << "the allocation counter is not wired (HMAC allocates)";
  }
  Report r;
  TeeError err;
  ASSERT_TRUE(verify_report(rep, key, &r, &err)) << err.message;
  EXPECT_EQ(r.measurement, measure_enclave(test_enclave_bin()));
  EXPECT_EQ(r.flags & kReportFlagModel, 0u);
  ASSERT_EQ(r.nonce_bytes, 4u);
  EXPECT_EQ(std::memcmp(r.nonce, nonce.data(), 4), 0);
  PlatformKey other;
  write_key(dir, 4, &other);
  EXPECT_FALSE(verify_report(rep, other, &r, &err));
  rep[20] ^= 1;
  EXPECT_FALSE(verify_report(rep, key, &r, &err));
}

TEST(Enclave, WithoutAPlatformKeyItCannotUnsealOrReport) {
  EnclaveOptions o = test_options({});
  EnclaveClient c(o);
  try {
    c.report(std::vector<std::uint8_t>{1});
    FAIL();
  } catch (const EnclaveError& e) {
    EXPECT_EQ(e.status, TeeStatus::kNoPlatformKey);
  }
  EXPECT_THROW(c.load(std::vector<std::uint8_t>(300, 1), false), EnclaveError);
  c.ping();
}

TEST(Enclave, SealedBlobsItCannotUseAreRefusedWithAReason) {
  TempDir dir("tee_refuse");
  PlatformKey key, other_key;
  auto key_path = write_key(dir, 1, &key);
  write_key(dir, 2, &other_key);
  EnclaveClient c(test_options(key_path));
  const Digest mine = measure_enclave(test_enclave_bin());
  const Digest prod = measure_enclave(enclave_bin());
  std::vector<std::uint8_t> plain(4096, 0x42);
  std::vector<ChunkSpan> chunks = {{0, 4096}};
  auto seal_with = [&](const Digest& meas, const PlatformKey& k) {
    std::vector<std::uint8_t> blob(sealed_total_bytes(plain.size(), 1));
    std::uint8_t salt[32] = {1};
    TeeError err;
    EXPECT_TRUE(seal_into(plain, chunks, meas, meas, k, salt, blob, &err));
    return blob;
  };
  auto refusal = [&](const std::vector<std::uint8_t>& blob) {
    try {
      c.load(blob, false);
    } catch (const EnclaveError& e) {
      c.ping();  // still usable
      return std::make_pair(e.status, std::string(e.what()));
    }
    return std::make_pair(TeeStatus::kOk, std::string());
  };
  auto [s1, m1] = refusal(seal_with(prod, key));
  EXPECT_EQ(s1, TeeStatus::kSealWrongEnclave) << m1;
  EXPECT_NE(m1.find("another enclave build"), std::string::npos) << m1;
  auto [s2, m2] = refusal(seal_with(mine, other_key));
  EXPECT_EQ(s2, TeeStatus::kSealWrongKey) << m2;
  auto good = seal_with(mine, key);
  auto flipped = good;
  flipped[flipped.size() - 100] ^= 1;
  auto [s3, m3] = refusal(flipped);
  EXPECT_EQ(s3, TeeStatus::kSealTampered) << m3;
  // Authentic, but not a model: the runtime refuses it.
  auto [s4, m4] = refusal(good);
  EXPECT_EQ(s4, TeeStatus::kModelInvalid) << m4;
}
