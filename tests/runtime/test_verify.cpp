// The verifier: SHA-256 vectors, one test per rule (mutate a valid file,
// re-hash it so the structural check is what fires), hostile files
// (truncation at every byte, every bit of the metadata flipped), arena
// pinning and API misuse. Runs under ASan+UBSan in CI (scripts/test.sh).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "rt_test_util.h"
#include "runtime/format.h"
#include "runtime/sha256.h"

using namespace rt_test;
namespace fmt = msprune::rt::fmt;

namespace {

std::string hex(const uint8_t* d, int n) {
  std::string s;
  char b[3];
  for (int i = 0; i < n; ++i) std::snprintf(b, sizeof b, "%02x", d[i]), s += b;
  return s;
}

TEST(RuntimeSha256, NistVectors) {
  uint8_t d[32];
  rt::Sha256::hash("abc", 3, d);
  EXPECT_EQ(hex(d, 32), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  rt::Sha256::hash("", 0, d);
  EXPECT_EQ(hex(d, 32), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const char* m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  rt::Sha256::hash(m, 56, d);
  EXPECT_EQ(hex(d, 32), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  rt::Sha256 s;  // one million 'a', fed in uneven pieces
  std::string chunk(997, 'a');
  size_t left = 1000000;
  while (left) {
    size_t n = std::min(left, chunk.size());
    s.update(chunk.data(), n);
    left -= n;
  }
  s.final(d);
  EXPECT_EQ(hex(d, 32), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// A small model with every op type (conv 3x3/1x1, stride 2, both conv weight
// layouts, affine with gather, in-place concat, max/avg pool, add, linear,
// softmax).
msm::Tensor build_sink(Twin& t) {
  auto a = t.conv(t.b.input(), 4, 3, 1, 1, true);  // 6x6, CONV_PACKED
  auto b = t.affine(a, {3, 1, 0, 2}, true);
  auto c = t.conv(b, 2, 3, 1, 1, false);           // CONV_QUAD (2 outputs, 4x3x3 terms)
  auto d = t.concat({a, c});                       // 6 channels, in place
  auto e = t.pool(d, 2, 2, true);                  // 3x3
  auto f = t.conv(e, 6, 1, 2, 0, false);           // 2x2, CONV_QUAD (<= 16 outputs, >= 4 inputs)
  auto g = t.add(f, t.pool(d, 3, 3, false), true); // 2x2
  auto l = t.linear(t.gap(g), 3);
  return t.softmax(l);
}

std::vector<uint8_t> sink_file(Twin** keep = nullptr) {
  static Twin t(3, 6, 6, 77);
  static msm::Tensor out = build_sink(t);
  if (keep) *keep = &t;
  return t.b.finish(out);
}

void rehash(std::vector<uint8_t>& f) {
  const uint64_t wo = fmt::rd<uint64_t>(f.data() + fmt::hdr::kWeightsOffset);
  rt::Sha256::hash(f.data() + wo, f.size() - wo, f.data() + fmt::hdr::kWeightsHash);
  std::memset(f.data() + fmt::hdr::kMetaHash, 0, 32);
  uint8_t d[32];
  rt::Sha256::hash(f.data(), wo, d);
  std::memcpy(f.data() + fmt::hdr::kMetaHash, d, 32);
}

uint32_t num_tensors(const std::vector<uint8_t>& f) { return fmt::rd<uint32_t>(f.data() + fmt::hdr::kNumTensors); }
uint32_t num_ops(const std::vector<uint8_t>& f) { return fmt::rd<uint32_t>(f.data() + fmt::hdr::kNumOps); }
uint8_t* trec(std::vector<uint8_t>& f, uint32_t i) { return f.data() + 256 + 64 * size_t(i); }
uint8_t* orec(std::vector<uint8_t>& f, uint32_t i) { return f.data() + 256 + 64 * size_t(num_tensors(f)) + 96 * size_t(i); }
fmt::TensorRec tensor(std::vector<uint8_t>& f, uint32_t i) { return fmt::read_tensor(trec(f, i)); }
fmt::OpRec op(std::vector<uint8_t>& f, uint32_t i) { return fmt::read_op(orec(f, i)); }

// Loads `f` after re-hashing; returns the status and the message.
rt::Status load(std::vector<uint8_t> f, std::string* msg = nullptr, bool do_rehash = true) {
  if (do_rehash) rehash(f);
  Aligned a = copy_aligned(f);
  rt::Model m;
  rt::Error err;
  rt::Status s = m.load(a.data(), f.size(), {}, &err);
  if (msg) *msg = err.message;
  if (s != rt::Status::kOk) {
    EXPECT_STRNE(err.message, "") << "a failure must say why";
  }
  return s;
}

TEST(RuntimeVerify, WriterOutputLoads) {
  std::vector<uint8_t> f = sink_file();
  EXPECT_EQ(load(f, nullptr, false), rt::Status::kOk);
  int packed = 0, quad = 0;
  for (uint32_t i = 0; i < num_tensors(f); ++i) {
    packed += tensor(f, i).layout == fmt::kConvPacked && tensor(f, i).kind == fmt::kWeight;
    quad += tensor(f, i).layout == fmt::kConvQuad && tensor(f, i).kind == fmt::kWeight;
  }
  EXPECT_EQ(packed, 1);
  EXPECT_EQ(quad, 2);
}

// Version 1 files (before CONV_QUAD) still load; a CONV_QUAD tensor in one does not.
TEST(RuntimeVerify, Version1FilesWithoutQuadLoad) {
  Twin t(3, 6, 6, 3);
  auto x = t.conv(t.b.input(), 4, 3, 1, 1, true);
  msm::Tensor out = t.linear(t.gap(t.conv(x, 8, 3, 1, 1, true)), 3);
  msm::FinishOptions packed;
  packed.conv_layout = msm::ConvLayout::kPacked;
  std::vector<uint8_t> f = t.b.finish(out, packed);
  fmt::wr<uint32_t>(f.data() + fmt::hdr::kVersionOff, 1);
  std::string msg;
  EXPECT_EQ(load(f, &msg), rt::Status::kOk) << msg;
  msm::FinishOptions quad;
  quad.conv_layout = msm::ConvLayout::kQuad;
  f = t.b.finish(out, quad);
  EXPECT_EQ(load(f, &msg), rt::Status::kOk) << msg;
  fmt::wr<uint32_t>(f.data() + fmt::hdr::kVersionOff, 1);
  EXPECT_EQ(load(f, &msg), rt::Status::kBadTensor);
  EXPECT_NE(msg.find("needs format version 2"), std::string::npos) << msg;
}

// A conv's residual input (version 3): the writer's fused add loads; the
// rules on it fire (shape, version, aliasing the output, kind).
TEST(RuntimeVerify, ConvResidualRules) {
  Twin t(3, 6, 6, 5);
  auto a = t.conv(t.b.input(), 4, 3, 1, 1, true);
  auto b = t.conv(a, 6, 1, 1, 0, true);
  auto z = t.add(t.conv(b, 4, 1, 1, 0, false), a);  // fused: conv(b) + a
  const std::vector<uint8_t> good = t.b.finish(t.linear(t.gap(z), 3));
  std::string msg;
  ASSERT_EQ(load(good, &msg, false), rt::Status::kOk) << msg;
  int fused = -1;
  std::vector<uint8_t> g = good;
  for (uint32_t i = 0; i < num_ops(g); ++i) {
    if (op(g, i).type == uint16_t(rt::OpType::kConv2d) && op(g, i).in[1] != fmt::kNone) fused = int(i);
    EXPECT_NE(op(g, i).type, uint16_t(rt::OpType::kAdd));
  }
  ASSERT_EQ(fused, 2);
  auto with = [&](auto mutate) {
    std::vector<uint8_t> f = good;
    mutate(f);
    return load(f, &msg);
  };
  // The 6-channel activation as the residual of a 4-channel output.
  EXPECT_EQ(with([&](auto& f) { fmt::wr<uint32_t>(orec(f, 2) + fmt::orec::kIn + 4, op(f, 1).out); }),
            rt::Status::kBadOp);
  EXPECT_NE(msg.find("does not match the output"), std::string::npos) << msg;
  EXPECT_EQ(with([&](auto& f) { fmt::wr<uint32_t>(f.data() + fmt::hdr::kVersionOff, 2); }),
            rt::Status::kBadOp);
  EXPECT_NE(msg.find("needs format version 3"), std::string::npos) << msg;
  // Its own output as the residual: read before it is written.
  EXPECT_EQ(with([&](auto& f) { fmt::wr<uint32_t>(orec(f, 2) + fmt::orec::kIn + 4, op(f, 2).out); }),
            rt::Status::kBadGraph);
  EXPECT_NE(msg.find("not before this op"), std::string::npos) << msg;
  // A weight tensor as the residual.
  EXPECT_EQ(with([&](auto& f) { fmt::wr<uint32_t>(orec(f, 2) + fmt::orec::kIn + 4, op(f, 2).w[0]); }),
            rt::Status::kBadOp);
  EXPECT_NE(msg.find("residual tensor"), std::string::npos) << msg;
  // A residual slot past the one conv2d has.
  EXPECT_EQ(with([&](auto& f) { fmt::wr<uint32_t>(orec(f, 2) + fmt::orec::kIn + 8, op(f, 0).out); }),
            rt::Status::kBadOp);
  EXPECT_NE(msg.find("input slot 2 must be NONE"), std::string::npos) << msg;
}

TEST(RuntimeVerify, RulesFireWithTheirStatus) {
  const std::vector<uint8_t> good = sink_file();
  std::string msg;
  struct Rule {
    const char* name;
    rt::Status want;
    const char* in_message;
    std::function<bool(std::vector<uint8_t>&)> mutate;  // false: not applicable
  };
  auto first_of = [&](std::vector<uint8_t>& f, std::function<bool(const fmt::TensorRec&, uint32_t)> pred) {
    for (uint32_t i = 0; i < num_tensors(f); ++i)
      if (pred(tensor(f, i), i)) return int(i);
    return -1;
  };
  const std::vector<Rule> rules = {
      {"magic", rt::Status::kBadMagic, "magic", [](auto& f) { f[0] = 'X'; return true; }},
      {"version 4", rt::Status::kBadVersion, "version", [](auto& f) { f[8] = 4; return true; }},
      {"version 0", rt::Status::kBadVersion, "version", [](auto& f) { f[8] = 0; return true; }},
      {"num_ops 0", rt::Status::kBadHeader, "num_ops", [](auto& f) { fmt::wr<uint32_t>(f.data() + 28, 0); return true; }},
      {"reserved header byte", rt::Status::kBadHeader, "reserved", [](auto& f) { f[150] = 1; return true; }},
      {"std <= 0", rt::Status::kBadHeader, "std[1]", [](auto& f) { fmt::wr<float>(f.data() + 124, -1.0f); return true; }},
      {"activation_bytes", rt::Status::kBadPlan, "activation_bytes",
       [](auto& f) { fmt::wr<uint64_t>(f.data() + 64, fmt::rd<uint64_t>(f.data() + 64) + 64); return true; }},
      {"staging_bytes", rt::Status::kBadHeader, "staging_bytes",
       [](auto& f) { fmt::wr<uint64_t>(f.data() + 72, fmt::rd<uint64_t>(f.data() + 72) + 4); return true; }},
      {"gather index out of range", rt::Status::kBadOp, "gather index",
       [&](auto& f) {
         int t = first_of(f, [](auto& r, uint32_t) { return r.kind == fmt::kIndex; });
         fmt::wr<uint32_t>(f.data() + tensor(f, t).offset, 4);  // input has 4 channels
         return t >= 0;
       }},
      {"view outside its root", rt::Status::kBadTensor, "exceed root",
       [&](auto& f) {
         int t = first_of(f, [](auto& r, uint32_t i) { return r.kind == fmt::kAct && r.root != i; });
         fmt::wr<uint32_t>(trec(f, t) + fmt::trec::kCOffset, 5);
         return t >= 0;
       }},
      {"producer mismatch", rt::Status::kBadGraph, "producer",
       [&](auto& f) {
         int t = first_of(f, [](auto& r, uint32_t) { return r.kind == fmt::kAct && r.producer == 2; });
         fmt::wr<uint32_t>(trec(f, t) + fmt::trec::kProducer, 3);
         return t >= 0;
       }},
      {"use before definition", rt::Status::kBadGraph, "not before",
       [&](auto& f) {  // the add (op 7) reads its own output
         fmt::wr<uint32_t>(orec(f, 7) + fmt::orec::kIn, op(f, 7).out);
         return op(f, 7).type == uint16_t(rt::OpType::kAdd);
       }},
      {"read outside live range", rt::Status::kBadPlan, "live range",
       [&](auto& f) {
         const uint32_t t = op(f, 1).in[0];  // conv 0's output, read by op 1
         const uint32_t r = tensor(f, t).root;
         fmt::wr<uint32_t>(trec(f, r) + fmt::trec::kLiveLast, 0);
         return true;
       }},
      {"live buffers overlap", rt::Status::kBadPlan, "overlap",
       [&](auto& f) {
         // Move the root written by op 1 onto the root op 1 reads (both live at
         // op 1), then make activation_bytes fit the moved plan again.
         const fmt::OpRec o = op(f, 1);
         const uint32_t a = tensor(f, o.in[0]).root, b = tensor(f, o.out).root;
         fmt::wr<uint64_t>(trec(f, b) + fmt::trec::kOffset, tensor(f, a).offset);
         uint64_t end = 0;
         for (uint32_t i = 0; i < num_tensors(f); ++i)
           if (tensor(f, i).kind == fmt::kAct && tensor(f, i).root == i)
             end = std::max(end, tensor(f, i).offset + tensor(f, i).bytes);
         fmt::wr<uint64_t>(f.data() + fmt::hdr::kActivationBytes, (end + 63) / 64 * 64);
         return true;
       }},
      {"unaligned arena offset", rt::Status::kBadAlignment, "64-aligned",
       [&](auto& f) {
         const uint32_t b = tensor(f, op(f, 1).out).root;
         fmt::wr<uint64_t>(trec(f, b) + fmt::trec::kOffset, tensor(f, b).offset + 4);
         return true;
       }},
      {"weight range out of order", rt::Status::kBadPlan, "weight range",
       [&](auto& f) {
         fmt::wr<uint64_t>(orec(f, 0) + fmt::orec::kRangeOff, op(f, 0).range_off + 64);
         return true;
       }},
      {"weight tensor outside its op's range", rt::Status::kBadPlan, "outside the op's weight range",
       [&](auto& f) {
         fmt::wr<uint64_t>(orec(f, 0) + fmt::orec::kRangeBytes, 64);
         return true;
       }},
      {"unknown op type", rt::Status::kBadOp, "type 99", [&](auto& f) { fmt::wr<uint16_t>(orec(f, 0), 99); return true; }},
      {"relu flag on a pool", rt::Status::kBadOp, "flags",
       [&](auto& f) {
         for (uint32_t i = 0; i < num_ops(f); ++i)
           if (op(f, i).type == uint16_t(rt::OpType::kMaxPool)) { fmt::wr<uint16_t>(orec(f, i) + 2, 1); return true; }
         return false;
       }},
      {"conv kernel 5", rt::Status::kBadOp, "kernel 5", [&](auto& f) { fmt::wr<uint32_t>(orec(f, 0) + fmt::orec::kP, 5); return true; }},
      {"conv output shape", rt::Status::kBadOp, "expected",
       [&](auto& f) { fmt::wr<uint32_t>(orec(f, 0) + fmt::orec::kP + 4, 2); return true; }},  // stride 2
      {"weight bytes", rt::Status::kBadTensor, "bytes",
       [&](auto& f) {
         int t = first_of(f, [](auto& r, uint32_t) { return r.kind == fmt::kWeight; });
         fmt::wr<uint64_t>(trec(f, t) + fmt::trec::kBytes, tensor(f, t).bytes + 4);
         return t >= 0;
       }},
      {"packed conv block 8", rt::Status::kBadTensor, "packed conv block 8",
       [&](auto& f) {
         int t = first_of(f, [](auto& r, uint32_t) { return r.layout == fmt::kConvPacked && r.kind == fmt::kWeight; });
         fmt::wr<uint32_t>(trec(f, t) + fmt::trec::kAux, 8);
         return t >= 0;
       }},
      {"quad conv block 6", rt::Status::kBadTensor, "quad conv block 6",
       [&](auto& f) {
         int t = first_of(f, [](auto& r, uint32_t) { return r.layout == fmt::kConvQuad; });
         fmt::wr<uint32_t>(trec(f, t) + fmt::trec::kAux, 6);
         return t >= 0;
       }},
      {"quad conv block 68", rt::Status::kBadTensor, "quad conv block 68",
       [&](auto& f) {
         int t = first_of(f, [](auto& r, uint32_t) { return r.layout == fmt::kConvQuad; });
         fmt::wr<uint32_t>(trec(f, t) + fmt::trec::kAux, 68);
         return t >= 0;
       }},
      {"quad conv bytes (packed size)", rt::Status::kBadTensor, "bytes",
       [&](auto& f) {  // 2 outputs, 4 inputs, 3x3: 4*4*9 floats, not 16*4*9
         int t = first_of(f, [](auto& r, uint32_t) { return r.layout == fmt::kConvQuad; });
         fmt::wr<uint64_t>(trec(f, t) + fmt::trec::kBytes, 4 * 16 * 4 * 9);
         return t >= 0 && tensor(f, t).dims[0] == 2 && tensor(f, t).dims[1] == 4;
       }},
      {"conv with dense weights", rt::Status::kBadOp, "layout 1",
       [&](auto& f) {
         int t = first_of(f, [](auto& r, uint32_t) { return r.layout == fmt::kConvQuad; });
         fmt::wr<uint16_t>(trec(f, t) + fmt::trec::kLayout, fmt::kDense);
         fmt::wr<uint32_t>(trec(f, t) + fmt::trec::kAux, 0);
         fmt::wr<uint32_t>(trec(f, t) + fmt::trec::kDims + 8, 0);  // [2, 36] dense: 72 floats
         fmt::wr<uint32_t>(trec(f, t) + fmt::trec::kDims + 4, 36);
         fmt::wr<uint32_t>(trec(f, t) + fmt::trec::kDims + 12, 0);
         fmt::wr<uint64_t>(trec(f, t) + fmt::trec::kBytes, 4 * 72);
         return t >= 0;
       }},
      {"weight dims overflow", rt::Status::kOverflow, "overflow",
       [&](auto& f) {
         int t = first_of(f, [](auto& r, uint32_t) { return r.layout == fmt::kConvPacked; });
         for (int d = 0; d < 4; ++d) fmt::wr<uint32_t>(trec(f, t) + fmt::trec::kDims + 4 * d, 65536);
         return t >= 0;
       }},
      {"output not a 1x1 root", rt::Status::kBadHeader, "output",
       [&](auto& f) { fmt::wr<uint32_t>(f.data() + 84, op(f, 0).out); return true; }},
      {"concat part not in place, same buffer", rt::Status::kBadGraph, "in-place",
       [&](auto& f) {
         for (uint32_t i = 0; i < num_ops(f); ++i)
           if (op(f, i).type == uint16_t(rt::OpType::kConcat)) {
             const fmt::OpRec o = op(f, i);  // swap the parts: same buffer, wrong positions
             fmt::wr<uint32_t>(orec(f, i) + fmt::orec::kIn, o.in[1]);
             fmt::wr<uint32_t>(orec(f, i) + fmt::orec::kIn + 4, o.in[0]);
             return true;
           }
         return false;
       }},
  };
  for (const Rule& r : rules) {
    std::vector<uint8_t> f = good;
    ASSERT_TRUE(r.mutate(f)) << r.name;
    EXPECT_EQ(load(f, &msg), r.want) << r.name << ": " << msg;
    EXPECT_NE(msg.find(r.in_message), std::string::npos) << r.name << ": " << msg;
  }
}

TEST(RuntimeVerify, HashesAuthenticateMetadataAndPayload) {
  std::vector<uint8_t> f = sink_file();
  const uint64_t wo = fmt::rd<uint64_t>(f.data() + 48);
  std::vector<uint8_t> bad = f;
  bad[wo + 10] ^= 1;  // payload
  Aligned a = copy_aligned(bad);
  rt::Model m;
  rt::Error err;
  EXPECT_EQ(m.load(a.data(), bad.size(), {}, &err), rt::Status::kBadHash);
  EXPECT_EQ(err.offset, uint64_t(fmt::hdr::kWeightsHash));
  rt::LoadOptions meta_only;
  meta_only.hash = rt::HashCheck::kMetadata;
  EXPECT_EQ(m.load(a.data(), bad.size(), meta_only, &err), rt::Status::kOk);
  bad = f;
  bad[300] ^= 0x10;  // tensor table
  a = copy_aligned(bad);
  EXPECT_EQ(m.load(a.data(), bad.size(), {}, &err), rt::Status::kBadHash);
  EXPECT_EQ(err.offset, uint64_t(fmt::hdr::kMetaHash));
}

TEST(RuntimeVerify, StreamingSpanIsTheMetadata) {
  std::vector<uint8_t> f = sink_file();
  const uint64_t wo = fmt::rd<uint64_t>(f.data() + 48);
  Aligned a = copy_aligned(f);
  rt::LoadOptions lo;
  lo.weights = rt::WeightMode::kStreaming;
  rt::Model m;
  rt::Error err;
  EXPECT_EQ(m.load(a.data(), wo, lo, &err), rt::Status::kOk) << err.message;
  EXPECT_EQ(m.load(a.data(), f.size(), lo, &err), rt::Status::kOk) << err.message;
  EXPECT_EQ(m.load(a.data(), wo + 64, lo, &err), rt::Status::kTruncated);
  EXPECT_EQ(m.load(a.data(), wo - 1, lo, &err), rt::Status::kTruncated);
  EXPECT_EQ(m.load(a.data(), wo, {}, &err), rt::Status::kTruncated);  // resident needs all
}

// Truncation at every byte offset: each load fails cleanly (resident) or, in
// streaming mode, succeeds only at the metadata boundary.
TEST(RuntimeHostile, TruncatedAtEveryByte) {
  const std::vector<uint8_t> f = sink_file();
  const uint64_t wo = fmt::rd<uint64_t>(f.data() + 48);
  for (size_t n = 0; n < f.size(); ++n) {
    Aligned a = copy_aligned(std::vector<uint8_t>(f.begin(), f.begin() + n));
    for (auto hash : {rt::HashCheck::kFull, rt::HashCheck::kNone}) {
      rt::Model m;
      rt::Error err;
      rt::LoadOptions lo;
      lo.hash = hash;
      ASSERT_NE(m.load(a.data(), n, lo, &err), rt::Status::kOk) << "resident, " << n << " bytes";
      lo.weights = rt::WeightMode::kStreaming;
      const rt::Status s = m.load(a.data(), n, lo, &err);
      ASSERT_EQ(s == rt::Status::kOk, n == wo) << "streaming, " << n << " bytes: " << err.message;
    }
  }
}

// Every bit of the metadata (header, tensor table, op table, index data) and
// a sample of the payload flipped, one at a time. With hashes: every flip is
// rejected. Without: a flip may load, and then the model must also run.
TEST(RuntimeHostile, EveryMetadataBitFlipped) {
  const std::vector<uint8_t> f = sink_file();
  const uint64_t wo = fmt::rd<uint64_t>(f.data() + 48);
  Aligned a = copy_aligned(f);
  Aligned arena(1 << 20);
  std::vector<float> input(3 * 6 * 6, 0.5f), logits(65536);
  int loaded = 0, ran = 0;
  auto flip_and_check = [&](size_t byte, int bit) {
    a.data()[byte] ^= uint8_t(1u << bit);
    rt::Model m;
    rt::Error err;
    ASSERT_NE(m.load(a.data(), f.size(), {}, &err), rt::Status::kOk) << "byte " << byte << " bit " << bit;
    rt::LoadOptions none;
    none.hash = rt::HashCheck::kNone;
    if (m.load(a.data(), f.size(), none, &err) == rt::Status::kOk) {
      ++loaded;
      if (m.arena_bytes() <= arena.size) {
        rt::Interpreter in;
        if (in.init(m, arena.data(), arena.size, {}, &err) == rt::Status::kOk &&
            in.invoke(input.data(), logits.data(), &err) == rt::Status::kOk)
          ++ran;
      }
    }
    a.data()[byte] ^= uint8_t(1u << bit);
  };
  for (size_t byte = 0; byte < wo; ++byte)
    for (int bit = 0; bit < 8; ++bit) flip_and_check(byte, bit);
  for (size_t byte = wo; byte < f.size(); byte += 7) flip_and_check(byte, int(byte % 8));
  // Flips in hashes, padding, weight values and unused slack load fine without hashes.
  EXPECT_GT(loaded, 0);
  EXPECT_EQ(loaded, ran);
  RecordProperty("flips_loaded_without_hash", loaded);
}

// Pinned budget: a 3-op chain whose plan can be checked by hand.
//   input [1,4,4] pad 1 (read by a 3x3 conv): 4*1*6*6 = 144 B at 0, live [0,0]
//   conv  [2,4,4] pad 0:                      4*2*4*4 = 128 B, live [0,1] -> at 192
//   gap   [2,1,1]: 8 B,  live [1,2] (free of the input) -> at 0
//   fc    [3,1,1]: 12 B, live [2,2] (overlaps gap's lifetime) -> at 64
//   activation_bytes = round_up_64(192 + 128) = 320
TEST(RuntimeArena, PinnedBytesAndOneByteShort) {
  Twin t(1, 4, 4, 1);
  auto out = t.linear(t.gap(t.conv(t.b.input(), 2, 3, 1, 1, true)), 3);
  const std::vector<uint8_t> f = t.b.finish(out);
  Aligned bytes = copy_aligned(f);
  rt::Model m;
  rt::Error err;
  ASSERT_EQ(m.load(bytes.data(), f.size(), {}, &err), rt::Status::kOk) << err.message;
  EXPECT_EQ(m.activation_bytes(), 320u);
  // The largest weight range: conv, 16 (padded) outputs * 9 taps * 4 B = 576, bias at 576 + 8.
  EXPECT_EQ(m.staging_bytes(), 584u);
  // + the prepared op table: 3 ops * 256 B (sizeof the runtime's PrepOp); no gather indices.
  EXPECT_EQ(m.arena_bytes(), 768u + 320u);

  Aligned arena(m.arena_bytes());
  rt::Interpreter in;
  EXPECT_EQ(in.init(m, arena.data(), m.arena_bytes() - 1, {}, &err), rt::Status::kArenaTooSmall);
  EXPECT_NE(std::string(err.message).find("1087"), std::string::npos) << err.message;
  EXPECT_NE(std::string(err.message).find("1088"), std::string::npos) << err.message;
  EXPECT_FALSE(in.ready());
  float logits[3];
  EXPECT_EQ(in.invoke(nullptr, logits), rt::Status::kNotReady);
  EXPECT_EQ(in.init(m, arena.data() + 16, m.arena_bytes(), {}, &err), rt::Status::kBadAlignment);
  rt::InterpreterOptions io;
  io.threads = 0;
  EXPECT_EQ(in.init(m, arena.data(), m.arena_bytes(), io, &err), rt::Status::kBadArgument);
  io.threads = rt::Interpreter::kMaxThreads + 1;
  EXPECT_EQ(in.init(m, arena.data(), m.arena_bytes(), io, &err), rt::Status::kBadArgument);
  ASSERT_EQ(in.init(m, arena.data(), m.arena_bytes(), {}, &err), rt::Status::kOk);
  EXPECT_EQ(in.invoke(nullptr, logits), rt::Status::kBadArgument);
  std::vector<float> x(16, 1.0f);
  EXPECT_EQ(in.invoke(x.data(), logits), rt::Status::kOk);
}

TEST(RuntimeArena, ApiMisuseFailsCleanly) {
  const std::vector<uint8_t> f = sink_file();
  Aligned a = copy_aligned(f);
  rt::Model m;
  rt::Error err;
  EXPECT_EQ(m.load(nullptr, 10, {}, &err), rt::Status::kBadArgument);
  EXPECT_EQ(m.load(a.data() + 1, f.size() - 1, {}, &err), rt::Status::kBadMagic);
  std::vector<uint8_t> shifted(f.size() + 1);
  std::copy(f.begin(), f.end(), shifted.begin() + 1);
  Aligned s = copy_aligned(shifted);
  EXPECT_EQ(m.load(s.data() + 1, f.size(), {}, &err), rt::Status::kBadAlignment);
  rt::LoadOptions bad;
  bad.hash = rt::HashCheck(9);
  EXPECT_EQ(m.load(a.data(), f.size(), bad, &err), rt::Status::kBadArgument);
  EXPECT_EQ(m.arena_bytes(), 0u);
  rt::OpInfo info;
  EXPECT_EQ(m.op_info(0, &info), rt::Status::kNotReady);
  ASSERT_EQ(m.load(a.data(), f.size(), {}, &err), rt::Status::kOk);
  EXPECT_EQ(m.op_info(m.num_ops(), &info), rt::Status::kBadArgument);
  rt::Interpreter in;
  Aligned arena(m.arena_bytes());
  rt::InterpreterOptions io;
  io.kernels = rt::KernelLevel(9);
  EXPECT_EQ(in.init(m, arena.data(), arena.size, io, &err), rt::Status::kUnsupported);
  rt::LoadOptions stream;
  stream.weights = rt::WeightMode::kStreaming;
  ASSERT_EQ(m.load(a.data(), f.size(), stream, &err), rt::Status::kOk);
  arena.resize(m.arena_bytes());
  EXPECT_EQ(in.init(m, arena.data(), arena.size, {}, &err), rt::Status::kBadArgument);  // no fetch
  EXPECT_STREQ(rt::status_name(rt::Status::kArenaTooSmall), "arena too small");
}

}  // namespace
