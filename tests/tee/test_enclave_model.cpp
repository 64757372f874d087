// Real models through the enclave: sealed load, bit-identical inference with
// and without an EPC limit and with weight streaming, no plaintext weights on
// the wire, reports naming the model, tampered models refused.
#include <gtest/gtest.h>

#include <cstring>
#include <unordered_set>

#include "tee/host/enclave_client.h"
#include "tee/host/host.h"
#include "tee/host/inference.h"
#include "tee/enclave/report.h"
#include "tee_test_util.h"

using namespace msprune::tee;
using namespace msprune::tee::testing;

namespace {

struct Fixture {
  TempDir dir{"tee_model"};
  PlatformKey key;
  std::filesystem::path key_path = write_key(dir, 7, &key);
  std::vector<float> weights;
  std::vector<std::uint8_t> msm = tiny_model(11, &weights);
  Digest meas = measure_enclave(test_enclave_bin());
  std::vector<std::uint8_t> sealed = seal_model(msm, meas, key);
  std::vector<std::uint8_t> images = random_images(6, 3);

  ModelFile msm_file() const {
    ModelFile m;
    m.path = "tiny.msm";
    m.bytes = msm;
    return m;
  }
  ImageSet image_set() const {
    ImageSet s;
    s.pixels = images.data();
    s.count = 6;
    return s;
  }
  // Logits of all images through an enclave with this EPC and mode.
  std::vector<float> enclave_logits(double epc_mib, bool stream, EnclaveStats* stats = nullptr,
                                    ModelInfo* info = nullptr) {
    EnclaveClient c(test_options(key_path, epc_mib));
    ModelInfo mi = c.load(sealed, stream);
    if (info) *info = mi;
    c.stats(true);
    std::vector<float> logits;
    time_enclave(c, image_set(), 6, false, &logits);
    if (stats) *stats = c.stats();
    return logits;
  }
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

}  // namespace

TEST(EnclaveModel, LogitsAreBitIdenticalNativeUnlimitedPagedAndStreamed) {
  Fixture f;
  NativeRunner native(f.msm_file(), 1);
  std::vector<float> ref;
  time_native(native, f.image_set(), 6, false, &ref);
  ASSERT_EQ(ref.size(), 60u);

  EnclaveStats free_s, paged_s, stream_s;
  ModelInfo info, sinfo;
  auto unlimited = f.enclave_logits(0, false, &free_s, &info);
  auto paged = f.enclave_logits(0.0625, false, &paged_s);  // 16 pages
  auto streamed = f.enclave_logits(0, true, &stream_s, &sinfo);
  auto streamed_paged = f.enclave_logits(0.0625, true);
  EXPECT_TRUE(same_bits(ref, unlimited));
  EXPECT_TRUE(same_bits(ref, paged));
  EXPECT_TRUE(same_bits(ref, streamed));
  EXPECT_TRUE(same_bits(ref, streamed_paged));

  EXPECT_GT(info.heap_bytes, 16u * 4096) << "the model must not fit the 16-page EPC for this test";
  EXPECT_EQ(free_s.faults, 0u);
  EXPECT_GT(paged_s.faults, 0u);
  EXPECT_GT(paged_s.pages_loaded, 0u);
  EXPECT_LE(paged_s.peak_resident_pages, 16u);
  EXPECT_EQ(paged_s.handler_allocs, 0u);
  EXPECT_EQ(paged_s.infer_images, 6u);
  // Streaming: weights decrypted per op, never resident as a whole.
  EXPECT_GT(stream_s.stream_chunks, 0u);
  std::uint64_t op_weight_bytes = 0;
  for (std::uint32_t i = 0; i < native.model().num_ops(); ++i) {
    msprune::rt::OpInfo oi;
    ASSERT_EQ(native.model().op_info(i, &oi), msprune::rt::Status::kOk);
    op_weight_bytes += oi.weight_bytes;
  }
  EXPECT_EQ(stream_s.stream_bytes, 6 * op_weight_bytes);  // every op's weights, every image
  EXPECT_LT(sinfo.heap_bytes, info.heap_bytes);
  EXPECT_EQ(sinfo.model_hash, info.model_hash);
}

TEST(EnclaveModel, HostNeverSeesAPlaintextWeight) {
  Fixture f;
  std::vector<std::uint8_t> wire;
  {
    EnclaveClient c(test_options(f.key_path, 0.0625));
    c.set_transcript([&](bool, std::span<const std::uint8_t> p) { wire.insert(wire.end(), p.begin(), p.end()); });
    c.load(f.sealed, false);
    std::vector<float> logits;
    time_enclave(c, f.image_set(), 6, false, &logits);
    c.report(std::vector<std::uint8_t>{1, 2, 3});
    c.stats();
  }
  auto windows = [](const std::vector<std::uint8_t>& bytes) {
    std::unordered_set<std::uint32_t> s;
    for (std::size_t i = 0; i + 4 <= bytes.size(); ++i) {
      std::uint32_t v;
      std::memcpy(&v, bytes.data() + i, 4);
      s.insert(v);
    }
    return s;
  };
  const auto plain = windows(f.msm), seen = windows(wire);
  std::size_t in_plain = 0, on_wire = 0;
  for (float w : f.weights) {
    std::uint32_t v;
    std::memcpy(&v, &w, 4);
    in_plain += plain.count(v);
    on_wire += seen.count(v);
  }
  // The search works (the .msm holds its weights verbatim) ...
  EXPECT_EQ(in_plain, f.weights.size());
  // ... and none of them crossed the boundary in the clear.
  EXPECT_GT(wire.size(), f.sealed.size());
  EXPECT_EQ(on_wire, 0u) << "of " << f.weights.size() << " weights";
}

TEST(EnclaveModel, ReportNamesTheLoadedModel) {
  Fixture f;
  EnclaveClient c(test_options(f.key_path));
  c.load(f.sealed, true);
  const std::vector<std::uint8_t> nonce(32, 0x5c);
  Report r;
  TeeError err;
  ASSERT_TRUE(verify_report(c.report(nonce), f.key, &r, &err)) << err.message;
  EXPECT_EQ(r.flags, kReportFlagModel | kReportFlagStreaming);
  EXPECT_EQ(r.model_hash, plan_seal(f.msm, "tiny").content_hash);
  EXPECT_EQ(r.measurement, f.meas);
}

TEST(EnclaveModel, TamperedModelIsRefusedAndNothingIsLoaded) {
  Fixture f;
  EnclaveClient c(test_options(f.key_path));
  SealedModel m;
  TeeError err;
  ASSERT_TRUE(peek_sealed_header(f.sealed, &m, &err));
  // A byte in the last weight chunk: checked at load in both modes.
  auto bad = f.sealed;
  bad[m.chunk_cipher(m.chunk_count - 1) - f.sealed.data() + 3] ^= 0x10;
  for (bool stream : {false, true}) {
    try {
      c.load(bad, stream);
      FAIL() << "tampered model loaded (stream=" << stream << ")";
    } catch (const EnclaveError& e) {
      EXPECT_EQ(e.status, TeeStatus::kSealTampered) << e.what();
    }
    std::vector<float> logits(10);
    std::vector<std::uint8_t> img = random_images(1, 1);
    Reply r = c.call(std::uint16_t(MsgType::kInfer), std::vector<std::uint8_t>(8 + 3072, 0));
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error_status(), TeeStatus::kNoModel);
  }
  c.load(f.sealed, false);  // the genuine one still loads
}

TEST(EnclaveModel, InferRequestsAreCheckedAgainstTheModelShape) {
  Fixture f;
  EnclaveClient c(test_options(f.key_path));
  c.load(f.sealed, false);
  auto req = [&](std::uint32_t count, std::uint32_t type, std::size_t body) {
    std::vector<std::uint8_t> p(8 + body);
    put_u32(p.data(), count);
    put_u32(p.data() + 4, type);
    return c.call(std::uint16_t(MsgType::kInfer), p);
  };
  EXPECT_EQ(req(1, 1, 3071).error_status(), TeeStatus::kBadRequest);
  EXPECT_EQ(req(2, 1, 3072).error_status(), TeeStatus::kBadRequest);
  EXPECT_EQ(req(1, 0, 3072).error_status(), TeeStatus::kBadRequest);  // f32 needs 4x the bytes
  EXPECT_EQ(req(0, 1, 0).error_status(), TeeStatus::kBadRequest);
  EXPECT_EQ(req(1, 7, 3072).error_status(), TeeStatus::kBadRequest);
  EXPECT_EQ(req(5000, 1, 0).error_status(), TeeStatus::kBadRequest);
  Reply ok = req(2, 1, 2 * 3072);
  ASSERT_FALSE(ok.is_error()) << ok.error_message();
  EXPECT_EQ(ok.payload.size(), kInferReplyHeaderBytes + 2 * 10 * 4);
}

TEST(EnclaveModel, SealedModelRunsOnlyInTheEnclave) {
  Fixture f;
  ModelFile sealed;
  sealed.path = "tiny.sealed";
  sealed.bytes = f.sealed;
  sealed.sealed = true;
  EXPECT_THROW(NativeRunner(sealed, 1), msprune::Error);
  // Sealed to the test enclave: the production enclave refuses it up front.
  EXPECT_THROW(sealed_bytes_for(sealed, measure_enclave(enclave_bin()), f.key), msprune::Error);
  EXPECT_EQ(sealed_bytes_for(sealed, f.meas, f.key), f.sealed);
}

TEST(EnclaveModel, ModelLargerThanTheHeapIsRefusedCleanly) {
  Fixture f;
  // About 1.3 MB of weights against a 1 MiB enclave heap.
  msprune::msm::Builder b(3, 32, 32, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f});
  auto x = b.conv2d(b.input(), 64, 3, 1, 1, std::vector<float>(64 * 3 * 9, 0.01f), {}, true);
  x = b.conv2d(x, 256, 3, 2, 1, std::vector<float>(256 * 64 * 9, 0.01f), {}, true);
  x = b.global_avg_pool(x);
  x = b.linear(x, 10, std::vector<float>(10 * 256, 0.01f), {});
  const auto big = seal_model(b.finish(x), f.meas, f.key);
  EnclaveOptions o = test_options(f.key_path);
  o.heap_mib = 1;
  for (bool stream : {false, true}) {
    EnclaveClient c(o);
    try {
      c.load(big, stream);
      if (!stream) FAIL() << "a 1.3 MB model loaded into a 1 MiB heap";
    } catch (const EnclaveError& e) {
      EXPECT_EQ(e.status, TeeStatus::kOutOfMemory) << e.what();
      EXPECT_NE(std::string(e.what()).find("heap"), std::string::npos) << e.what();
    }
    c.ping();  // still serving
  }
}
