// SOFTMAX over a 1×1 activation's channels, plus the argmax helper.
#include <cmath>

#include "runtime/internal.h"

namespace msprune::rt {

Status verify_softmax(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err) {
  if (Status s = check_unused(v, i, o, 1, 0, 0, err); s != Status::kOk) return s;
  ActShape x, y;
  if (Status s = v.act(i, "input", o.in[0], &x, err); s != Status::kOk) return s;
  if (Status s = v.act(i, "output", o.out, &y, err); s != Status::kOk) return s;
  if (x.h != 1 || x.w != 1 || y.c != x.c || y.h != 1 || y.w != 1)
    return fail(err, Status::kBadOp, v.op_off(i) + fmt::orec::kIn,
                "op %u (softmax) at offset %llu: input [%u, %u, %u] -> output [%u, %u, %u]; both "
                "must be [C, 1, 1]", i, (unsigned long long)v.op_off(i), x.c, x.h, x.w, y.c, y.h,
                y.w);
  return Status::kOk;
}

void softmax(const float* in, float* out, uint32_t n) {
  if (n == 0) return;
  float m = in[0];
  for (uint32_t i = 1; i < n; ++i) m = in[i] > m ? in[i] : m;
  float sum = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = std::exp(in[i] - m);
    sum += out[i];
  }
  const float inv = 1.0f / sum;
  for (uint32_t i = 0; i < n; ++i) out[i] *= inv;
}

uint32_t argmax(const float* v, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

void softmax_ref(const SoftmaxArgs& a) { softmax(a.x, a.y, uint32_t(a.n)); }

}  // namespace msprune::rt
