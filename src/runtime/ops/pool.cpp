// MAX_POOL and AVG_POOL: k×k windows, stride s, no padding (average over k·k;
// global average pooling is k = H = W). One file: the two share their rules.
#include "runtime/internal.h"

namespace msprune::rt {

Status verify_pool(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err) {
  if (Status s = check_unused(v, i, o, 1, 0, 2, err); s != Status::kOk) return s;
  const unsigned long long off = v.op_off(i);
  const char* name = o.type == uint16_t(OpType::kMaxPool) ? "max_pool" : "avg_pool";
  ActShape x, y;
  if (Status s = v.act(i, "input", o.in[0], &x, err); s != Status::kOk) return s;
  if (Status s = v.act(i, "output", o.out, &y, err); s != Status::kOk) return s;
  const uint32_t k = o.p[0], s = o.p[1];
  if (k < 1 || k > fmt::kMaxPoolWindow || s < 1 || s > fmt::kMaxPoolWindow || k > x.h || k > x.w)
    return fail(err, Status::kBadOp, off + fmt::orec::kP,
                "op %u (%s) at offset %llu: window %u stride %u invalid for input %ux%u (1..%u, "
                "window <= input)", i, name, off, k, s, x.h, x.w, fmt::kMaxPoolWindow);
  const uint32_t ho = (x.h - k) / s + 1, wo = (x.w - k) / s + 1;
  if (y.c != x.c || y.h != ho || y.w != wo)
    return fail(err, Status::kBadOp, off + fmt::orec::kOut,
                "op %u (%s) at offset %llu: output [%u, %u, %u], expected [%u, %u, %u]", i, name,
                off, y.c, y.h, y.w, x.c, ho, wo);
  return Status::kOk;
}

void max_pool_ref(const PoolArgs& a, int part, int parts) {
  int64_t y0, y1;
  split(a.y.h, part, parts, &y0, &y1);
  for (int64_t oy = y0; oy < y1; ++oy)
    for (int ox = 0; ox < a.y.w; ++ox)
      for (int c = 0; c < a.y.c; ++c) {
        float m = a.x.at(int(oy) * a.s, ox * a.s)[c];
        for (int ky = 0; ky < a.k; ++ky)
          for (int kx = 0; kx < a.k; ++kx) {
            const float v = a.x.at(int(oy) * a.s + ky, ox * a.s + kx)[c];
            m = v > m ? v : m;
          }
        a.y.at(int(oy), ox)[c] = m;
      }
}

void avg_pool_ref(const PoolArgs& a, int part, int parts) {
  int64_t y0, y1;
  split(a.y.h, part, parts, &y0, &y1);
  const float div = float(a.k * a.k);
  for (int64_t oy = y0; oy < y1; ++oy)
    for (int ox = 0; ox < a.y.w; ++ox)
      for (int c = 0; c < a.y.c; ++c) {
        float sum = 0.0f;
        for (int ky = 0; ky < a.k; ++ky)
          for (int kx = 0; kx < a.k; ++kx) sum += a.x.at(int(oy) * a.s + ky, ox * a.s + kx)[c];
        a.y.at(int(oy), ox)[c] = sum / div;
      }
}

}  // namespace msprune::rt
