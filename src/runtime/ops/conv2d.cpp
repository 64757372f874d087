// CONV2D: K×K convolution (K = 1 or 3), stride 1 or 2, zero padding, optional
// bias, optional residual input (version >= 3: y = relu?(conv(x) + bias + r),
// PreResNet's add fused into the conv before it) and fused ReLU, on padded
// NHWC activations with CONV_PACKED or CONV_QUAD weights.
#include "runtime/internal.h"

namespace msprune::rt {

Status verify_conv2d(const VerifyCtx& v, uint32_t i, const fmt::OpRec& o, Error* err) {
  const unsigned long long off = v.op_off(i);
  const bool residual = o.in[1] != fmt::kNone;
  if (residual && v.version < 3)
    return fail(err, Status::kBadOp, off + fmt::orec::kIn + 4,
                "op %u (conv2d) at offset %llu: a residual input needs format version 3 (file "
                "has %u)", i, off, v.version);
  if (Status s = check_unused(v, i, o, residual ? 2 : 1, 2, 3, err); s != Status::kOk) return s;
  ActShape x, y;
  if (Status s = v.act(i, "input", o.in[0], &x, err); s != Status::kOk) return s;
  if (Status s = v.act(i, "output", o.out, &y, err); s != Status::kOk) return s;
  if (residual) {
    // The kernels find each output element's residual at a fixed distance:
    // same shape, same root width and border. (That the two buffers do not
    // overlap is the graph check's: an input never shares the output's root.)
    ActShape r;
    if (Status s = v.act(i, "residual", o.in[1], &r, err); s != Status::kOk) return s;
    if (r.c != y.c || r.h != y.h || r.w != y.w || r.root_c != y.root_c || r.pad != y.pad)
      return fail(err, Status::kBadOp, off + fmt::orec::kIn + 4,
                  "op %u (conv2d) at offset %llu: residual [%u, %u, %u] (root %u channels, border "
                  "%u) does not match the output [%u, %u, %u] (root %u channels, border %u)", i,
                  off, r.c, r.h, r.w, r.root_c, r.pad, y.c, y.h, y.w, y.root_c, y.pad);
  }
  const uint32_t k = o.p[0], stride = o.p[1], pad = o.p[2];
  if ((k != 1 && k != 3) || (stride != 1 && stride != 2) || pad > k / 2)
    return fail(err, Status::kBadOp, off + fmt::orec::kP,
                "op %u (conv2d) at offset %llu: kernel %u stride %u pad %u (kernel 1 or 3, stride "
                "1 or 2, pad <= kernel/2)", i, off, k, stride, pad);
  if (pad > x.pad)
    return fail(err, Status::kBadOp, off + fmt::orec::kP + 8,
                "op %u (conv2d) at offset %llu: pad %u exceeds the input buffer's border %u", i,
                off, pad, x.pad);
  if (x.h + 2 * pad < k || x.w + 2 * pad < k)
    return fail(err, Status::kBadOp, off, "op %u (conv2d) at offset %llu: input %ux%u too small "
                "for kernel %u pad %u", i, off, x.h, x.w, k, pad);
  const uint32_t ho = (x.h + 2 * pad - k) / stride + 1, wo = (x.w + 2 * pad - k) / stride + 1;
  if (y.h != ho || y.w != wo)
    return fail(err, Status::kBadOp, off + fmt::orec::kOut,
                "op %u (conv2d) at offset %llu: output %ux%u, expected %ux%u from input %ux%u", i,
                off, y.h, y.w, ho, wo, x.h, x.w);
  const uint32_t wd[4] = {y.c, x.c, k, k};
  // Either conv layout (the tensor record itself was checked, CONV_QUAD only
  // in version >= 2); anything else fails in weight_and_bias naming it.
  const bool quad = o.w[0] < v.num_tensors && v.tensor(o.w[0]).layout == fmt::kConvQuad;
  return v.weight_and_bias(i, o, "conv2d", quad ? fmt::kConvQuad : fmt::kConvPacked, wd, y.c, err);
}

// Reference: explicit bounds checks (it does not rely on the zero border), sums
// over (ky, kx, ci) in that order. Shares split the output rows.
void conv2d_ref(const ConvArgs& a, int part, int parts) {
  int64_t y0, y1;
  split(a.y.h, part, parts, &y0, &y1);
  const int k = a.k, ci_n = a.x.c, o = a.y.c;
  for (int64_t oy = y0; oy < y1; ++oy)
    for (int ox = 0; ox < a.y.w; ++ox) {
      float* out = a.y.at(int(oy), ox);
      for (int co = 0; co < o; ++co) {
        float acc = a.bias ? a.bias[co] : 0.0f;
        for (int ky = 0; ky < k; ++ky) {
          const int iy = int(oy) * a.stride - a.pad + ky;
          if (iy < 0 || iy >= a.x.h) continue;
          for (int kx = 0; kx < k; ++kx) {
            const int ix = ox * a.stride - a.pad + kx;
            if (ix < 0 || ix >= a.x.w) continue;
            const float* in = a.x.at(iy, ix);
            for (int ci = 0; ci < ci_n; ++ci)
              acc += in[ci] * a.w[a.quad ? fmt::conv_quad_index(co, ci, ky, kx, ci_n, k, o, a.block)
                                         : fmt::conv_packed_index(co, ci, ky, kx, ci_n, k, o, a.block)];
          }
        }
        if (a.res.p) acc += a.res.at(int(oy), ox)[co];
        out[co] = a.relu && acc < 0.0f ? 0.0f : acc;
      }
    }
}

}  // namespace msprune::rt
