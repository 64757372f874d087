#pragma once
// On-disk layout of .msm files (docs/model-format.md): constants, the decoded
// records, and little-endian readers/writers shared by the runtime's verifier
// and the Torch-free writer (src/export/msm_writer.cpp).
#include <bit>
#include <cstdint>
#include <cstring>

namespace msprune::rt::fmt {

static_assert(std::endian::native == std::endian::little, "the .msm readers assume a little-endian host");

inline constexpr char kMagic[8] = {'M', 'S', 'M', 'O', 'D', 'E', 'L', '\0'};
inline constexpr uint32_t kVersion = 3;     // newest (the writer writes 2 unless a conv has a residual)
inline constexpr uint32_t kMinVersion = 1;  // oldest accepted (no CONV_QUAD before 2, no conv residual before 3)
inline constexpr uint32_t kHeaderBytes = 256;
inline constexpr uint32_t kTensorBytes = 64;
inline constexpr uint32_t kOpBytes = 96;
inline constexpr uint32_t kNone = 0xFFFFFFFFu;
inline constexpr uint32_t kAlign = 64;

inline constexpr uint32_t kMaxTensors = 16384;
inline constexpr uint32_t kMaxOps = 16384;
inline constexpr uint32_t kMaxChannels = 65536;
inline constexpr uint32_t kMaxSpatial = 4096;
inline constexpr uint32_t kMaxDim = 65536;    // any weight dim
inline constexpr uint32_t kMaxInputC = 4;
inline constexpr uint32_t kMaxPoolWindow = 32;
inline constexpr uint32_t kMaxConcat = 4;

// Header field offsets.
namespace hdr {
inline constexpr uint32_t kMagicOff = 0, kVersionOff = 8, kHeaderBytesOff = 12, kFileBytes = 16,
                          kNumTensors = 24, kNumOps = 28, kTensorTable = 32, kOpTable = 40,
                          kWeightsOffset = 48, kWeightsBytes = 56, kActivationBytes = 64,
                          kStagingBytes = 72, kInputTensor = 80, kOutputTensor = 84, kInputC = 88,
                          kInputH = 92, kInputW = 96, kNumClasses = 100, kMean = 104, kStd = 120,
                          kFlags = 136, kReserved = 140, kReservedEnd = 192, kWeightsHash = 192,
                          kMetaHash = 224;
}  // namespace hdr

enum Kind : uint8_t { kAct = 1, kWeight = 2, kIndex = 3 };
enum DType : uint8_t { kF32 = 1, kU32 = 2 };
enum Layout : uint16_t { kNHWC = 1, kDense = 1, kConvPacked = 2, kConvQuad = 3 };
enum OpFlags : uint16_t { kRelu = 1 };

// Tensor record field offsets.
namespace trec {
inline constexpr uint32_t kKind = 0, kDType = 1, kLayout = 2, kRoot = 4, kDims = 8, kCOffset = 24,
                          kPad = 28, kAux = 32, kProducer = 36, kOffset = 40, kBytes = 48,
                          kLiveFirst = 56, kLiveLast = 60;
}
// Op record field offsets.
namespace orec {
inline constexpr uint32_t kType = 0, kFlags = 2, kOut = 4, kIn = 8, kW = 24, kP = 40,
                          kRangeOff = 64, kRangeBytes = 72, kReserved = 80;
}

struct TensorRec {
  uint8_t kind = 0, dtype = 0;
  uint16_t layout = 0;
  uint32_t root = kNone;
  uint32_t dims[4] = {0, 0, 0, 0};
  uint32_t c_offset = 0, pad = 0, aux = 0, producer = kNone;
  uint64_t offset = 0, bytes = 0;
  uint32_t live_first = 0, live_last = 0;
};

struct OpRec {
  uint16_t type = 0, flags = 0;
  uint32_t out = kNone;
  uint32_t in[4] = {kNone, kNone, kNone, kNone};
  uint32_t w[4] = {kNone, kNone, kNone, kNone};
  uint32_t p[6] = {0, 0, 0, 0, 0, 0};
  uint64_t range_off = 0, range_bytes = 0;
  uint8_t reserved[16] = {};
};

template <typename T>
inline T rd(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
inline void wr(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

inline TensorRec read_tensor(const uint8_t* p) {
  TensorRec t;
  t.kind = p[trec::kKind];
  t.dtype = p[trec::kDType];
  t.layout = rd<uint16_t>(p + trec::kLayout);
  t.root = rd<uint32_t>(p + trec::kRoot);
  for (int i = 0; i < 4; ++i) t.dims[i] = rd<uint32_t>(p + trec::kDims + 4 * i);
  t.c_offset = rd<uint32_t>(p + trec::kCOffset);
  t.pad = rd<uint32_t>(p + trec::kPad);
  t.aux = rd<uint32_t>(p + trec::kAux);
  t.producer = rd<uint32_t>(p + trec::kProducer);
  t.offset = rd<uint64_t>(p + trec::kOffset);
  t.bytes = rd<uint64_t>(p + trec::kBytes);
  t.live_first = rd<uint32_t>(p + trec::kLiveFirst);
  t.live_last = rd<uint32_t>(p + trec::kLiveLast);
  return t;
}

inline void write_tensor(uint8_t* p, const TensorRec& t) {
  std::memset(p, 0, kTensorBytes);
  p[trec::kKind] = t.kind;
  p[trec::kDType] = t.dtype;
  wr<uint16_t>(p + trec::kLayout, t.layout);
  wr<uint32_t>(p + trec::kRoot, t.root);
  for (int i = 0; i < 4; ++i) wr<uint32_t>(p + trec::kDims + 4 * i, t.dims[i]);
  wr<uint32_t>(p + trec::kCOffset, t.c_offset);
  wr<uint32_t>(p + trec::kPad, t.pad);
  wr<uint32_t>(p + trec::kAux, t.aux);
  wr<uint32_t>(p + trec::kProducer, t.producer);
  wr<uint64_t>(p + trec::kOffset, t.offset);
  wr<uint64_t>(p + trec::kBytes, t.bytes);
  wr<uint32_t>(p + trec::kLiveFirst, t.live_first);
  wr<uint32_t>(p + trec::kLiveLast, t.live_last);
}

inline OpRec read_op(const uint8_t* p) {
  OpRec o;
  o.type = rd<uint16_t>(p + orec::kType);
  o.flags = rd<uint16_t>(p + orec::kFlags);
  o.out = rd<uint32_t>(p + orec::kOut);
  for (int i = 0; i < 4; ++i) o.in[i] = rd<uint32_t>(p + orec::kIn + 4 * i);
  for (int i = 0; i < 4; ++i) o.w[i] = rd<uint32_t>(p + orec::kW + 4 * i);
  for (int i = 0; i < 6; ++i) o.p[i] = rd<uint32_t>(p + orec::kP + 4 * i);
  o.range_off = rd<uint64_t>(p + orec::kRangeOff);
  o.range_bytes = rd<uint64_t>(p + orec::kRangeBytes);
  std::memcpy(o.reserved, p + orec::kReserved, 16);
  return o;
}

inline void write_op(uint8_t* p, const OpRec& o) {
  std::memset(p, 0, kOpBytes);
  wr<uint16_t>(p + orec::kType, o.type);
  wr<uint16_t>(p + orec::kFlags, o.flags);
  wr<uint32_t>(p + orec::kOut, o.out);
  for (int i = 0; i < 4; ++i) wr<uint32_t>(p + orec::kIn + 4 * i, o.in[i]);
  for (int i = 0; i < 4; ++i) wr<uint32_t>(p + orec::kW + 4 * i, o.w[i]);
  for (int i = 0; i < 6; ++i) wr<uint32_t>(p + orec::kP + 4 * i, o.p[i]);
  wr<uint64_t>(p + orec::kRangeOff, o.range_off);
  wr<uint64_t>(p + orec::kRangeBytes, o.range_bytes);
}

inline constexpr uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Bytes of an activation root: 4 * C * (H + 2 pad) * (W + 2 pad).
inline constexpr uint64_t act_bytes(uint64_t c, uint64_t h, uint64_t w, uint64_t pad) {
  return 4 * c * (h + 2 * pad) * (w + 2 * pad);
}
// Floats of a CONV_PACKED weight: round_up(O, 16) * I * K * K.
inline constexpr uint64_t conv_packed_floats(uint64_t o, uint64_t i, uint64_t k) {
  return round_up(o, 16) * i * k * k;
}
// Floats of a CONV_QUAD weight: round_up(O, 4) * round_up(I, 4) * K * K.
inline constexpr uint64_t conv_quad_floats(uint64_t o, uint64_t i, uint64_t k) {
  return round_up(o, 4) * round_up(i, 4) * k * k;
}

// Float index of w(co, ci, ky, kx) in a CONV_PACKED weight [o, ci_n, k, k]
// with output-channel block `block` (docs/model-format.md).
inline constexpr int64_t conv_packed_index(int64_t co, int64_t ci, int64_t ky, int64_t kx,
                                           int64_t ci_n, int64_t k, int64_t o, int64_t block) {
  const int64_t op = (o + 15) / 16 * 16;
  const int64_t co0 = co / block * block;
  const int64_t bw = op - co0 < block ? op - co0 : block;
  return co0 * k * k * ci_n + ((ky * k + kx) * ci_n + ci) * bw + (co - co0);
}
// ... in a CONV_QUAD weight: output channels in groups of 4, input channels in
// quads of 4, each (tap, input quad) row of a block holding, per output
// channel, its 4 weights for the quad.
inline constexpr int64_t conv_quad_index(int64_t co, int64_t ci, int64_t ky, int64_t kx,
                                         int64_t ci_n, int64_t k, int64_t o, int64_t block) {
  const int64_t op = (o + 3) / 4 * 4, ci4 = (ci_n + 3) / 4 * 4;
  const int64_t co0 = co / block * block;
  const int64_t bw = op - co0 < block ? op - co0 : block;
  return co0 * k * k * ci4 + ((ky * k + kx) * (ci4 / 4) + ci / 4) * 4 * bw + (co - co0) * 4 +
         ci % 4;
}

}  // namespace msprune::rt::fmt
