// CONCAT: channel concatenation, planned in place. A part the planner already
// placed in its slice of the output costs nothing; any other part is copied.
#include <cstring>

#include "runtime/internal.h"

namespace msprune::rt {

Status verify_concat(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err) {
  const unsigned long long off = v.op_off(i);
  const uint32_t n = o.p[0];
  if (n < 2 || n > fmt::kMaxConcat)
    return fail(err, Status::kBadOp, off + fmt::orec::kP,
                "op %u (concat) at offset %llu: %u parts (must be 2..%u)", i, off, n,
                fmt::kMaxConcat);
  if (Status s = check_unused(v, i, o, int(n), 0, 1, err); s != Status::kOk) return s;
  ActShape y;
  if (Status s = v.act(i, "output", o.out, &y, err); s != Status::kOk) return s;
  uint64_t total = 0;
  for (uint32_t k = 0; k < n; ++k) {
    ActShape x;
    if (Status s = v.act(i, "input", o.in[k], &x, err); s != Status::kOk) return s;
    if (x.h != y.h || x.w != y.w)
      return fail(err, Status::kBadOp, off + fmt::orec::kIn + 4 * k,
                  "op %u (concat) at offset %llu: part %u is %ux%u, output %ux%u", i, off, k, x.h,
                  x.w, y.h, y.w);
    total += x.c;
  }
  if (total != y.c)
    return fail(err, Status::kBadOp, off + fmt::orec::kOut,
                "op %u (concat) at offset %llu: parts have %llu channels, output %u", i, off,
                (unsigned long long)total, y.c);
  return Status::kOk;
}

void concat_ref(const ConcatArgs& a) {
  int pos = 0;
  for (int k = 0; k < a.n; ++k) {
    const Act& x = a.parts[k];
    if (x.p != a.y.p + pos) {  // not in place: copy its channels
      for (int yy = 0; yy < a.y.h; ++yy)
        for (int xx = 0; xx < a.y.w; ++xx)
          std::memcpy(a.y.at(yy, xx) + pos, x.at(yy, xx), sizeof(float) * size_t(x.c));
    }
    pos += x.c;
  }
}

}  // namespace msprune::rt
