#pragma once
// Optimized kernels, written once over a vector-traits type `V` (V512 in
// avx512.cpp, V256 in avx2.cpp) and compiled once per ISA. Included ONLY by
// those two files, inside their own namespace, so no inline function compiled
// with AVX-512 can be picked by the linker for a CPU without it.
//
// Each kernel is tested against its reference (src/runtime/ops/) in
// tests/runtime/test_kernels.cpp with the tolerance declared there.
//
// V provides: T, L (lanes), kRegs (vector registers), kMaxNV (vectors per
// conv sub-block), zero, load, loadn (first n lanes, rest 0; n <= 0 gives 0),
// store, storen (first n lanes), bcast, bcast_value, bcast4 (4 floats to every
// 128-bit block), bcast4n (the first n of them, the rest 0), reduce4(a, b, c, d)
// (vector v holds L/4 output channels, channel j's four partial sums in lanes
// 4j..4j+3; lane v·L/4 + j of the result is their sum), fma, add, div, hsum,
// gathern (the first n lanes from base[idx[j]], rest 0), the index vector
// type I with window_index(idx, n, lo) (idx[j] - lo in the first n lanes, 0
// elsewhere) and permute2(a, b, i) (lane j = lane i[j] of the 2L-lane
// concatenation a|b), and max(a, b) with x86 semantics (b if either is NaN),
// which the kernels call as max(0, x) / max(new, old) to match the
// reference's NaN behaviour.

// conv2d ---------------------------------------------------------------------
//
// Direct convolution on padded NHWC. The output pixels are flattened and cut
// into tiles of NP pixels; the output channels of each weight block into
// sub-blocks of NV vectors. A micro-kernel keeps NP×NV accumulators in
// registers and walks the block's weight rows in storage order: one pass over
// contiguous weights per tile. The input's zero border stands in for padding,
// so the loops have no bounds checks. Two weight layouts (docs/model-format.md):
//
// * CONV_PACKED, rows (tap, ci) of Bw output channels: each input value is
//   broadcast to all lanes (one output channel per lane). Output channels are
//   padded to 16, so a 12-channel conv wastes a quarter of every FMA.
// * CONV_QUAD, rows (tap, input quad) of 4 floats per output channel: four
//   consecutive input channels are broadcast as a 128-bit block (lane 4j + q
//   multiplies input channel 4·iq + q by output channel j of the vector), so
//   every lane does useful work when O is a multiple of 4 (DenseNet's growth
//   12); the 4 partial sums per output are added once, after the loop.

// A run of tiles of NP output pixels, taken in row-major order: pixel p of
// a tile sits p steps after its first pixel, plus one `jump` (the border
// between rows) for every row end it lies past; a tile may wrap onto the
// next row, several times when rows are narrower than a tile. The
// micro-kernel works the offsets out once per tile from the tile's column:
// building per-pixel pointers in the driver instead cost more than the
// arithmetic of a thin 1×1 conv (measured at 32×32: 2.1 of a 1→16 conv's
// 3.4 µs), and cutting tiles at row ends costs small maps more passes over
// the weights (64→64 3×3 at 8×8: +43%).
struct ConvTile {
  const float* in;  // first tile, pixel 0: input at tap (0, 0), channel 0
  float* out;       // first tile, pixel 0: output at the sub-block's first channel
  int64_t in_step, out_step;  // from one pixel to the next within a row
  int64_t in_jump, out_jump;  // added past the end of a row
  int width, ox;              // row width; the first tile's column
  int tiles;
  // Residual (conv2d with a second input): every output element's residual
  // lies res_delta floats after it (the verifier requires the two buffers'
  // geometry to match). Added after the bias, before the ReLU, by the
  // kRes = true micro-kernels only: a run-time test in the store cost thin
  // layers without a residual up to 22% (bench/kernels/conv_ab.sh).
  int64_t res_delta = 0;
};

// Moves (in, out, ox) from one tile's first pixel to the next tile's, np on.
inline void step_tile(const ConvTile& t, int np, const float** in, float** out, int* ox) {
  *in += np * t.in_step, *out += np * t.out_step, *ox += np;
  while (*ox >= t.width) *ox -= t.width, *in += t.in_jump, *out += t.out_jump;
}

// The current tile of a run: its first pixel and column, and the offsets of
// its NP pixels from there.
template <int NP>
struct TileCursor {
  const float* in;
  float* out;
  int ox;
  int64_t in_off[NP], out_off[NP];
  explicit TileCursor(const ConvTile& t) : in(t.in), out(t.out), ox(t.ox) { offsets(t); }
  void offsets(const ConvTile& t) {
    int64_t ji = 0, jo = 0;
    int end = t.width - ox;  // first pixel past the row end
    for (int p = 0; p < NP; ++p) {
      if (p == end) ji += t.in_jump, jo += t.out_jump, end += t.width;
      in_off[p] = p * t.in_step + ji, out_off[p] = p * t.out_step + jo;
    }
  }
  void next(const ConvTile& t) {
    step_tile(t, NP, &in, &out, &ox);
    offsets(t);
  }
};

// Whether a micro-kernel walks a whole run of tiles itself (else the driver
// calls it once per tile): see conv_micro.
constexpr bool walks_run(bool quad, int nv) { return quad || nv == 1; }

// Stores relu?(r (+ residual)) to the first n lanes of p; with kRes the
// residual of p[j] is p[j + res_delta].
template <bool kRes>
inline void store_out(float* p, typename V::T r, int n, bool relu, int64_t res_delta) {
  if constexpr (kRes) r = V::add(r, n >= V::L ? V::load(p + res_delta) : V::loadn(p + res_delta, n));
  if (relu) r = V::max(V::zero(), r);
  if (n >= V::L)
    V::store(p, r);
  else if (n > 0)
    V::storen(p, r, n);
}

// One weight row of a micro-kernel: acc[p][v] += x(p) * row vector v, with
// x(p) the pixel's broadcast input (one channel, or a quad for CONV_QUAD).
template <int NV, int NP, typename X>
inline void fma_row(typename V::T (&acc)[NP][NV], const float* wp, X x) {
  typename V::T wv[NV];
  for (int v = 0; v < NV; ++v) wv[v] = V::load(wp + v * V::L);
  for (int p = 0; p < NP; ++p) {
    const typename V::T xp = x(p);
    for (int v = 0; v < NV; ++v) acc[p][v] = V::fma(xp, wv[v], acc[p][v]);
  }
}

// Every loop over acc's indices must be unrolled (the pragmas on the loops
// with branches inside): an array indexed by a run-time value lives in memory,
// and GCC then keeps all accumulators on the stack, storing and reloading them
// around each tap's loop (measured: up to 20% slower on thin layers).
template <int NV, int NP, bool kRes>
inline void conv_micro(const ConvTile& t, const float* w, int bw, const int* tap_off, int taps,
                       int ci_n, const float* bias, int nvalid, bool relu) {
  using T = typename V::T;
  constexpr int L = V::L;
  T b[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v)
    b[v] = bias ? (nvalid >= (v + 1) * L ? V::load(bias + v * L) : V::loadn(bias + v * L, nvalid - v * L))
                : V::zero();
  // One tile per call for NV >= 2 (the driver loops): with the tile loop in
  // here GCC 12 spills the weight vectors of wider sub-blocks to the stack
  // and every FMA reloads them (measured: 7→32 1×1 at 32×32 25% slower).
  const int tiles = walks_run(false, NV) ? t.tiles : 1;
  TileCursor<NP> c(t);
  for (int tile = 0; tile < tiles; ++tile, c.next(t)) {
    T acc[NP][NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      for (int p = 0; p < NP; ++p) acc[p][v] = b[v];
    const float* wp = w;
    for (int tap = 0; tap < taps; ++tap) {
      const float* ip[NP];
      for (int p = 0; p < NP; ++p) ip[p] = c.in + c.in_off[p] + tap_off[tap];
      for (int ci = 0; ci < ci_n; ++ci, wp += bw)  // one (tap, ci) row of the block
        fma_row(acc, wp, [&](int p) { return V::bcast(ip[p] + ci); });
    }
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) store_out<kRes>(c.out + c.out_off[p] + v * L, acc[p][v], nvalid - v * L, relu, t.res_delta);
  }
}

// CONV_QUAD micro-kernel: NV (<= 4) vectors of L/4 output channels each; `row`
// = floats per (tap, quad) row of the block (4 × its width).
template <int NV, int NP, bool kRes>
inline void quad_micro(const ConvTile& t, const float* w, int row, const int* tap_off, int taps,
                       int ci_n, const float* bias, int nvalid, bool relu) {
  static_assert(NV >= 1 && NV <= 4, "one reduce4 per pixel");
  using T = typename V::T;
  constexpr int L = V::L;
  const int full = ci_n / 4, rem = ci_n % 4;
  const int nout = nvalid < NV * L / 4 ? nvalid : NV * L / 4;
  const T z = V::zero();
  const T b = bias ? V::loadn(bias, nout) : z;
  const int tiles = walks_run(true, NV) ? t.tiles : 1;
  TileCursor<NP> c(t);
  for (int tile = 0; tile < tiles; ++tile, c.next(t)) {
    T acc[NP][NV];
    for (int p = 0; p < NP; ++p)
      for (int v = 0; v < NV; ++v) acc[p][v] = z;
    const float* wp = w;
    for (int tap = 0; tap < taps; ++tap) {
      const float* ip[NP];
      for (int p = 0; p < NP; ++p) ip[p] = c.in + c.in_off[p] + tap_off[tap];
      for (int iq = 0; iq < full; ++iq, wp += row)  // one (tap, quad) row of the block
        fma_row(acc, wp, [&](int p) { return V::bcast4(ip[p] + 4 * iq); });
      if (rem != 0) {  // last, partial quad: the missing input channels read as 0
        fma_row(acc, wp, [&](int p) { return V::bcast4n(ip[p] + 4 * full, rem); });
        wp += row;
      }
    }
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) {
      T q[4] = {z, z, z, z};
      for (int v = 0; v < NV; ++v) q[v] = acc[p][v];
      store_out<kRes>(c.out + c.out_off[p], V::add(V::reduce4(q[0], q[1], q[2], q[3]), b), nout, relu, t.res_delta);
    }
  }
}

using MicroFn = void (*)(const ConvTile&, const float*, int, const int*, int, int, const float*,
                         int, bool);

template <int NV, bool kQuad, bool kRes, int... P>
constexpr std::array<MicroFn, sizeof...(P)> micro_row(std::integer_sequence<int, P...>) {
  if constexpr (kQuad)
    return {&quad_micro<NV, P + 1, kRes>...};
  else
    return {&conv_micro<NV, P + 1, kRes>...};
}

constexpr int kMaxTile = 8;
constexpr int kMaxQuadNV = 4;
// Pixels per tile for NV vectors: keeps NP×NV accumulators + NV weights (+ one
// broadcast input for CONV_QUAD) within the vector registers and the NP input
// pointers within the general registers.
constexpr int tile_pixels(int nv) { return V::kRegs >= 32 ? (nv >= 4 ? 6 : 8) : (nv >= 2 ? 6 : 8); }
constexpr int quad_tile_pixels(int nv) {
  return (V::kRegs - 2 - nv) / nv < kMaxTile ? (V::kRegs - 2 - nv) / nv : kMaxTile;
}

template <bool kQuad, bool kRes>
constexpr std::array<std::array<MicroFn, kMaxTile>, 4> micro_table() {
  constexpr auto P = std::make_integer_sequence<int, kMaxTile>{};
  return {micro_row<1, kQuad, kRes>(P), micro_row<2, kQuad, kRes>(P),
          micro_row<(kQuad || V::kMaxNV >= 3) ? 3 : 1, kQuad, kRes>(P),
          micro_row<(kQuad || V::kMaxNV >= 4) ? 4 : 1, kQuad, kRes>(P)};
}
// [residual][vectors - 1][pixels - 1]
constexpr std::array<std::array<std::array<MicroFn, kMaxTile>, 4>, 2> kMicro = {
    micro_table<false, false>(), micro_table<false, true>()};
constexpr std::array<std::array<std::array<MicroFn, kMaxTile>, 4>, 2> kQuadMicro = {
    micro_table<true, false>(), micro_table<true, true>()};

// Calls fn(co0, bw, s, nv) for every sub-block: each block of bw channels
// (output channels rounded up to 16, or to 4 for CONV_QUAD) cut into pieces of
// at most kMaxNV (kMaxQuadNV) vectors of L (L/4) channels.
template <typename Fn>
inline void for_each_sub(int o, int block, bool quad, Fn&& fn) {
  const int unit = quad ? 4 : 16, per_vec = quad ? V::L / 4 : V::L;
  const int sw = (quad ? kMaxQuadNV : V::kMaxNV) * per_vec;
  const int op = (o + unit - 1) / unit * unit;
  for (int co0 = 0; co0 < op; co0 += block) {
    const int bw = op - co0 < block ? op - co0 : block;
    for (int s = 0; s < bw; s += sw) fn(co0, bw, s, ((bw - s < sw ? bw - s : sw) + per_vec - 1) / per_vec);
  }
}

void conv2d(const ConvArgs& a, int part, int parts) {
  const int k = a.k, taps = k * k, ci_n = a.x.c, o = a.y.c;
  const bool quad = a.quad;
  int tap_off[9];
  for (int ky = 0; ky < k; ++ky)
    for (int kx = 0; kx < k; ++kx) tap_off[ky * k + kx] = ky * a.x.rs + kx * a.x.cs;
  const int wo = a.y.w;
  const int64_t npix = int64_t(a.y.h) * wo;
  auto pixels = [quad](int nv) { return quad ? quad_tile_pixels(nv) : tile_pixels(nv); };

  // Work items are (sub-block, tile) in that order; a share takes a
  // contiguous range, so each thread streams whole weight blocks.
  int64_t items = 0;
  for_each_sub(o, a.block, quad, [&](int, int, int, int nv) { items += (npix + pixels(nv) - 1) / pixels(nv); });
  int64_t begin, end;
  split(items, part, parts, &begin, &end);
  int64_t base = 0;
  const int64_t ci_rows = quad ? (ci_n + 3) / 4 * 4 : ci_n;  // floats per tap per channel
  ConvTile t;
  t.in_step = int64_t(a.stride) * a.x.cs, t.out_step = a.y.cs;
  t.in_jump = int64_t(a.stride) * a.x.rs - wo * t.in_step, t.out_jump = a.y.rs - wo * t.out_step;
  t.width = wo;
  const bool res = a.res.p != nullptr;
  t.res_delta = res ? a.res.p - a.y.p : 0;
  for_each_sub(o, a.block, quad, [&](int co0, int bw, int s, int nv) {
    const int np = pixels(nv);
    const int64_t ntiles = (npix + np - 1) / np;
    const int64_t t0 = begin > base ? begin - base : 0;
    const int64_t t1 = end - base < ntiles ? end - base : ntiles;
    base += ntiles;
    if (t0 >= t1) return;
    const float* w = a.w + int64_t(co0) * taps * ci_rows + (quad ? 4 * s : s);
    const int row = quad ? 4 * bw : bw;
    const float* bias = a.bias ? a.bias + co0 + s : nullptr;
    const int valid = o - (co0 + s);
    const MicroFn* fns = (quad ? kQuadMicro : kMicro)[res][nv - 1].data();
    // Tiles [first, last) of this share, all of cnt pixels.
    auto run = [&](int64_t first, int64_t last, int cnt) {
      if (first >= last) return;
      const int oy = int(first * np / wo), ox = int(first * np - int64_t(oy) * wo);
      t.in = a.x.at(oy * a.stride - a.pad, ox * a.stride - a.pad);
      t.out = a.y.at(oy, ox) + co0 + s;
      t.ox = ox;
      t.tiles = int(last - first);
      if (walks_run(quad, nv)) return fns[cnt - 1](t, w, row, tap_off, taps, ci_n, bias, valid, a.relu);
      ConvTile one = t;  // one call per tile: see conv_micro
      one.tiles = 1;
      for (int i = 0; i < t.tiles; ++i, step_tile(one, np, &one.in, &one.out, &one.ox))
        fns[cnt - 1](one, w, row, tap_off, taps, ci_n, bias, valid, a.relu);
    };
    const int last_cnt = int(npix - (ntiles - 1) * np);  // every tile is full but perhaps the last
    const int64_t tfull = last_cnt == np ? t1 : std::min(t1, ntiles - 1);
    run(t0, tfull, np);
    run(std::max(t0, tfull), t1, last_cnt);
  });
}

// affine ---------------------------------------------------------------------
//
// y[c] = relu?(scale[c] * x[index[c]] + shift[c]) per pixel. Without an index
// the channels are contiguous. With one (a pruned network's channel
// selection), the output channels go in chunks of L: if a chunk's indices lie
// within 2L consecutive input channels (the usual case, since a selection
// keeps channels in order) two masked loads and a two-source permute replace
// the hardware gather, which costs about three times as much (measured on
// DenseNet-16: docs/results.md); otherwise the chunk falls back to the
// gather, in a pass over the pixels of its own.

inline typename V::T affine_out(typename V::T v, typename V::T sc, typename V::T sh, bool relu) {
  typename V::T r = V::fma(v, sc, sh);
  return relu ? V::max(V::zero(), r) : r;
}

// A chunk of L output channels (from c) whose inputs lie within 2L input
// channels from lo, their smallest index.
struct WindowChunk {
  int c;
  uint32_t lo;
};

// NC such chunks: two masked loads and a two-source permute per chunk and
// pixel, all NC chunks of a pixel before the next.
template <int NC>
inline void affine_window_pass(const AffineArgs& a, int64_t y0, int64_t y1, const WindowChunk* ch) {
  using T = typename V::T;
  constexpr int L = V::L;
  T sc[NC], sh[NC];
  typename V::I perm[NC];
  int c[NC], n[NC], avail[NC];
  uint32_t lo[NC];
#pragma GCC unroll 4
  for (int k = 0; k < NC; ++k) {
    c[k] = ch[k].c, lo[k] = ch[k].lo;
    n[k] = a.y.c - c[k] < L ? a.y.c - c[k] : L;
    sc[k] = V::loadn(a.scale + c[k], n[k]), sh[k] = V::loadn(a.shift + c[k], n[k]);
    perm[k] = V::window_index(a.index + c[k], n[k], lo[k]);
    // Channels readable from input channel lo on: the loads never leave the
    // input's own channels (it may be a slice of a wider buffer).
    avail[k] = a.x.c - int(lo[k]);
  }
  for (int64_t yy = y0; yy < y1; ++yy)
    for (int xx = 0; xx < a.y.w; ++xx) {
      const float* in = a.x.at(int(yy), xx);
      float* out = a.y.at(int(yy), xx);
#pragma GCC unroll 4
      for (int k = 0; k < NC; ++k) {
        const T v = V::permute2(V::loadn(in + lo[k], avail[k]), V::loadn(in + lo[k] + L, avail[k] - L), perm[k]);
        const T r = affine_out(v, sc[k], sh[k], a.relu);
        if (n[k] == L)
          V::store(out + c[k], r);
        else
          V::storen(out + c[k], r, n[k]);
      }
    }
}

inline void affine_windows(const AffineArgs& a, int64_t y0, int64_t y1, const WindowChunk* ch, int nc) {
  switch (nc) {
    case 1: return affine_window_pass<1>(a, y0, y1, ch);
    case 2: return affine_window_pass<2>(a, y0, y1, ch);
    case 3: return affine_window_pass<3>(a, y0, y1, ch);
    default: return affine_window_pass<4>(a, y0, y1, ch);
  }
}

void affine(const AffineArgs& a, int part, int parts) {
  using T = typename V::T;
  constexpr int L = V::L;
  int64_t y0, y1;
  split(a.y.h, part, parts, &y0, &y1);
  const int c_n = a.y.c;
  if (!a.index) {
    for (int64_t yy = y0; yy < y1; ++yy)
      for (int xx = 0; xx < a.y.w; ++xx) {
        const float* in = a.x.at(int(yy), xx);
        float* out = a.y.at(int(yy), xx);
        int c = 0;
        for (; c + L <= c_n; c += L)
          V::store(out + c, affine_out(V::load(in + c), V::load(a.scale + c), V::load(a.shift + c), a.relu));
        if (c < c_n) {
          const int n = c_n - c;
          V::storen(out + c,
                    affine_out(V::loadn(in + c, n), V::loadn(a.scale + c, n), V::loadn(a.shift + c, n), a.relu),
                    n);
        }
      }
    return;
  }
  // Chunks whose inputs fit a 2L window go pixel by pixel, up to kGroup of
  // them per pass with their state in registers (one pass over the input
  // instead of one per chunk); the others fall back to the gather, a pass
  // each.
  constexpr int kGroup = 4;
  WindowChunk group[kGroup];
  int ng = 0;
  for (int c = 0; c < c_n; c += L) {
    const int n = c_n - c < L ? c_n - c : L;
    uint32_t lo = a.index[c], hi = a.index[c];
    for (int j = 1; j < n; ++j) {
      lo = a.index[c + j] < lo ? a.index[c + j] : lo;
      hi = a.index[c + j] > hi ? a.index[c + j] : hi;
    }
    if (hi - lo < uint32_t(2 * L)) {
      group[ng++] = {c, lo};
      if (ng == kGroup) affine_windows(a, y0, y1, group, ng), ng = 0;
      continue;
    }
    const T sc = V::loadn(a.scale + c, n), sh = V::loadn(a.shift + c, n);
    for (int64_t yy = y0; yy < y1; ++yy)
      for (int xx = 0; xx < a.y.w; ++xx) {
        const T r = affine_out(V::gathern(a.x.at(int(yy), xx), a.index + c, n), sc, sh, a.relu);
        float* out = a.y.at(int(yy), xx) + c;
        if (n == L)
          V::store(out, r);
        else
          V::storen(out, r, n);
      }
  }
  if (ng > 0) affine_windows(a, y0, y1, group, ng);
}

// pools --------------------------------------------------------------------

template <bool kMax>
void pool(const PoolArgs& a, int part, int parts) {
  using T = typename V::T;
  constexpr int L = V::L;
  int64_t y0, y1;
  split(a.y.h, part, parts, &y0, &y1);
  const int c_n = a.y.c;
  const T div = V::bcast_value(float(a.k * a.k));
  for (int64_t oy = y0; oy < y1; ++oy)
    for (int ox = 0; ox < a.y.w; ++ox) {
      float* out = a.y.at(int(oy), ox);
      for (int c = 0; c < c_n; c += L) {
        const int n = c_n - c < L ? c_n - c : L;
        T acc = kMax ? V::loadn(a.x.at(int(oy) * a.s, ox * a.s) + c, n) : V::zero();
        for (int ky = 0; ky < a.k; ++ky)
          for (int kx = 0; kx < a.k; ++kx) {
            const T v = V::loadn(a.x.at(int(oy) * a.s + ky, ox * a.s + kx) + c, n);
            acc = kMax ? V::max(v, acc) : V::add(acc, v);
          }
        if (!kMax) acc = V::div(acc, div);
        V::storen(out + c, acc, n);
      }
    }
}

void max_pool(const PoolArgs& a, int part, int parts) { pool<true>(a, part, parts); }
void avg_pool(const PoolArgs& a, int part, int parts) { pool<false>(a, part, parts); }

// add ----------------------------------------------------------------------

void add(const AddArgs& a, int part, int parts) {
  using T = typename V::T;
  constexpr int L = V::L;
  int64_t y0, y1;
  split(a.y.h, part, parts, &y0, &y1);
  const T z = V::zero();
  for (int64_t yy = y0; yy < y1; ++yy)
    for (int xx = 0; xx < a.y.w; ++xx) {
      const float* p = a.a.at(int(yy), xx);
      const float* q = a.b.at(int(yy), xx);
      float* out = a.y.at(int(yy), xx);
      for (int c = 0; c < a.y.c; c += L) {
        const int n = a.y.c - c < L ? a.y.c - c : L;
        T r = V::add(V::loadn(p + c, n), V::loadn(q + c, n));
        if (a.relu) r = V::max(z, r);
        V::storen(out + c, r, n);
      }
    }
}

// linear -------------------------------------------------------------------

void linear(const LinearArgs& a, int part, int parts) {
  using T = typename V::T;
  constexpr int L = V::L;
  int64_t o0, o1;
  split(a.out, part, parts, &o0, &o1);
  for (int64_t o = o0; o < o1; ++o) {
    const float* w = a.w + o * a.in;
    T acc = V::zero();
    for (int i = 0; i < a.in; i += L) {
      const int n = a.in - i < L ? a.in - i : L;
      acc = V::fma(V::loadn(w + i, n), V::loadn(a.x + i, n), acc);
    }
    a.y[o] = V::hsum(acc) + (a.bias ? a.bias[o] : 0.0f);
  }
}
