// ADD: y = relu?(a + b), the residual sum of PreResNet.
#include "runtime/internal.h"

namespace msprune::rt {

Status verify_add(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err) {
  if (Status s = check_unused(v, i, o, 2, 0, 0, err); s != Status::kOk) return s;
  ActShape a, b, y;
  if (Status s = v.act(i, "input", o.in[0], &a, err); s != Status::kOk) return s;
  if (Status s = v.act(i, "input", o.in[1], &b, err); s != Status::kOk) return s;
  if (Status s = v.act(i, "output", o.out, &y, err); s != Status::kOk) return s;
  if (a.c != y.c || a.h != y.h || a.w != y.w || b.c != y.c || b.h != y.h || b.w != y.w)
    return fail(err, Status::kBadOp, v.op_off(i) + fmt::orec::kIn,
                "op %u (add) at offset %llu: shapes [%u, %u, %u] + [%u, %u, %u] -> [%u, %u, %u] "
                "differ", i, (unsigned long long)v.op_off(i), a.c, a.h, a.w, b.c, b.h, b.w, y.c,
                y.h, y.w);
  return Status::kOk;
}

void add_ref(const AddArgs& a, int part, int parts) {
  int64_t y0, y1;
  split(a.y.h, part, parts, &y0, &y1);
  for (int64_t yy = y0; yy < y1; ++yy)
    for (int xx = 0; xx < a.y.w; ++xx) {
      const float* p = a.a.at(int(yy), xx);
      const float* q = a.b.at(int(yy), xx);
      float* out = a.y.at(int(yy), xx);
      for (int c = 0; c < a.y.c; ++c) {
        const float v = p[c] + q[c];
        out[c] = a.relu && v < 0.0f ? 0.0f : v;
      }
    }
}

}  // namespace msprune::rt
