// AFFINE: y[c] = relu?(scale[c] * x[index[c]] + shift[c]) — a folded
// BatchNorm after a sum or a concat, with the channel selection of pruning.
#include "runtime/internal.h"

namespace msprune::rt {

Status verify_affine(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err) {
  if (Status s = check_unused(v, i, o, 1, 3, 0, err); s != Status::kOk) return s;
  const unsigned long long off = v.op_off(i);
  ActShape x, y;
  if (Status s = v.act(i, "input", o.in[0], &x, err); s != Status::kOk) return s;
  if (Status s = v.act(i, "output", o.out, &y, err); s != Status::kOk) return s;
  if (y.h != x.h || y.w != x.w)
    return fail(err, Status::kBadOp, off + fmt::orec::kOut,
                "op %u (affine) at offset %llu: output %ux%u differs from input %ux%u", i, off,
                y.h, y.w, x.h, x.w);
  if (o.w[0] == fmt::kNone || o.w[1] == fmt::kNone)
    return fail(err, Status::kBadOp, off + fmt::orec::kW,
                "op %u (affine) at offset %llu: scale and shift are required", i, off);
  const uint32_t d[4] = {y.c, 0, 0, 0};
  if (Status s = v.weight(i, "scale", o.w[0], fmt::kWeight, fmt::kDense, d, err); s != Status::kOk)
    return s;
  if (Status s = v.weight(i, "shift", o.w[1], fmt::kWeight, fmt::kDense, d, err); s != Status::kOk)
    return s;
  if (o.w[2] == fmt::kNone) {
    if (y.c != x.c)
      return fail(err, Status::kBadOp, off + fmt::orec::kW + 8,
                  "op %u (affine) at offset %llu: no gather index but output channels %u != "
                  "input channels %u", i, off, y.c, x.c);
    return Status::kOk;
  }
  if (Status s = v.weight(i, "index", o.w[2], fmt::kIndex, fmt::kDense, d, err); s != Status::kOk)
    return s;
  const uint64_t base = v.tensor(o.w[2]).offset;  // validated inside the metadata
  for (uint32_t c = 0; c < y.c; ++c) {
    const uint32_t idx = fmt::rd<uint32_t>(v.data + base + 4 * uint64_t(c));
    if (idx >= x.c)
      return fail(err, Status::kBadOp, base + 4 * uint64_t(c),
                  "op %u (affine): gather index[%u] = %u at offset %llu >= input channels %u", i,
                  c, idx, (unsigned long long)(base + 4 * uint64_t(c)), x.c);
  }
  return Status::kOk;
}

void affine_ref(const AffineArgs& a, int part, int parts) {
  int64_t y0, y1;
  split(a.y.h, part, parts, &y0, &y1);
  for (int64_t yy = y0; yy < y1; ++yy)
    for (int xx = 0; xx < a.y.w; ++xx) {
      const float* in = a.x.at(int(yy), xx);
      float* out = a.y.at(int(yy), xx);
      for (int c = 0; c < a.y.c; ++c) {
        const float v = a.scale[c] * in[a.index ? a.index[c] : uint32_t(c)] + a.shift[c];
        out[c] = a.relu && v < 0.0f ? 0.0f : v;
      }
    }
}

}  // namespace msprune::rt
