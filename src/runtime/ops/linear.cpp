// LINEAR: y = W x + b on a 1×1 activation (the classifier after global pooling).
#include "runtime/internal.h"

namespace msprune::rt {

Status verify_linear(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err) {
  if (Status s = check_unused(v, i, o, 1, 2, 0, err); s != Status::kOk) return s;
  const unsigned long long off = v.op_off(i);
  ActShape x, y;
  if (Status s = v.act(i, "input", o.in[0], &x, err); s != Status::kOk) return s;
  if (Status s = v.act(i, "output", o.out, &y, err); s != Status::kOk) return s;
  if (x.h != 1 || x.w != 1 || y.h != 1 || y.w != 1)
    return fail(err, Status::kBadOp, off + fmt::orec::kIn,
                "op %u (linear) at offset %llu: input %ux%u and output %ux%u must be 1x1", i, off,
                x.h, x.w, y.h, y.w);
  const uint32_t wd[4] = {y.c, x.c, 0, 0};
  return v.weight_and_bias(i, o, "linear", fmt::kDense, wd, y.c, err);
}

void linear_ref(const LinearArgs& a, int part, int parts) {
  int64_t o0, o1;
  split(a.out, part, parts, &o0, &o1);
  for (int64_t o = o0; o < o1; ++o) {
    const float* w = a.w + o * a.in;
    float acc = 0.0f;
    for (int i = 0; i < a.in; ++i) acc += w[i] * a.x[i];
    a.y[o] = acc + (a.bias ? a.bias[o] : 0.0f);
  }
}

}  // namespace msprune::rt
