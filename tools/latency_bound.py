#!/usr/bin/env python3
"""How far can pruning cut a network's runtime latency? (issue 12, point 3)

    build/msprune bench --model BASE.ckpt   --threads 1 --runs 300 --layers --json > base.json
    build/msprune bench --model PRUNED.ckpt --threads 1 --runs 300 --layers --json > pruned.json
    /usr/bin/python3 tools/latency_bound.py base.json pruned.json [--ops] [--json]

Each side may be several profiles, comma-separated (base1.json,base2.json):
each op then counts with its smallest p50 over them. On a shared machine two
profiles taken one after the other can differ by 30% on identical layers;
taking them alternately (base, pruned, base, pruned, ...) and keeping each
op's minimum compares the two networks, not the moments they ran at.
--ops prints the per-op table as well.

Pairs the two per-op profiles (same op order: pruning changes channel counts,
not the graph) and splits the pruned network's time into the convolutions
that pruning thinned (MACs down by more than --thinned, default 25%) and
everything else (the residual trunk's convs, adds, block-input affines,
pooling, the classifier). It then prints the best the runtime could do if the
thinned convs' time fell exactly in proportion to their MACs, against the
issue's target (latency down by at least 0.8 x the MAC cut). All times are
sums of per-op p50s (the op hook's, single image), so both networks are
measured the same way.
"""
import argparse
import json
import sys


def load_one(path):
    try:
        with open(path) as f:
            d = json.load(f)
        ops = d["profile"]["ops"]
        return d, [(o["type"], int(o["macs"]), float(o["ms"]["p50"]), o["in"], o["out"]) for o in ops]
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"latency_bound: {path}: not the output of 'msprune bench --layers --json' ({e})")


def load(paths):
    """One side: the first profile's document and ops, each op's time the
    minimum over all the profiles given (comma-separated)."""
    docs = [load_one(p) for p in paths.split(",")]
    d, ops = docs[0]
    for path, (_, other) in zip(paths.split(",")[1:], docs[1:]):
        if [x[:2] for x in other] != [x[:2] for x in ops]:
            sys.exit(f"latency_bound: {path} is not a profile of the same model as {paths.split(',')[0]}")
    best = [min(o[k][2] for _, o in docs) for k in range(len(ops))]
    return d, [(t, m, ms, i, o) for (t, m, _, i, o), ms in zip(ops, best)], len(docs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("base", help="profile(s) of the base network, comma-separated")
    ap.add_argument("pruned", help="profile(s) of the pruned network, comma-separated")
    ap.add_argument("--ops", action="store_true", help="also print the per-op table")
    ap.add_argument("--thinned", type=float, default=0.25, help="MAC drop that marks a conv as thinned")
    ap.add_argument("--target", type=float, default=0.8, help="latency cut / MAC cut to reach")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args()
    bd, b, nb = load(a.base)
    pd, p, np_ = load(a.pruned)
    if len(b) != len(p) or any(x[0] != y[0] for x, y in zip(b, p)):
        sys.exit("latency_bound: the two profiles do not have the same ops in the same order")
    tb, tp = sum(x[2] for x in b), sum(y[2] for y in p)
    mb, mp = sum(x[1] for x in b), sum(y[1] for y in p)
    if tb <= 0 or mb <= 0:
        sys.exit("latency_bound: the base profile has no time or no MACs")
    thin_b = thin_p = thin_mb = thin_mp = 0.0
    rest_b = rest_p = 0.0
    for x, y in zip(b, p):
        if x[0] == "conv2d" and y[1] < (1 - a.thinned) * x[1]:
            thin_b, thin_p, thin_mb, thin_mp = thin_b + x[2], thin_p + y[2], thin_mb + x[1], thin_mp + y[1]
        else:
            rest_b, rest_p = rest_b + x[2], rest_p + y[2]
    mac_cut = 1 - mp / mb
    ideal = rest_p + (thin_b * thin_mp / thin_mb if thin_mb else 0.0)
    out = {
        "base": {"model": bd.get("model"), "ms": tb, "macs": mb, "loadavg": bd.get("loadavg"), "profiles": nb},
        "pruned": {"model": pd.get("model"), "ms": tp, "macs": mp, "loadavg": pd.get("loadavg"), "profiles": np_},
        "ops": [{"type": x[0], "base_in": x[3], "base_out": x[4], "pruned_in": y[3], "pruned_out": y[4],
                 "base_ms": x[2], "pruned_ms": y[2], "base_macs": x[1], "pruned_macs": y[1]} for x, y in zip(b, p)],
        "mac_cut": mac_cut,
        "latency_ratio": tp / tb,
        "latency_cut_over_mac_cut": (1 - tp / tb) / mac_cut if mac_cut > 0 else None,
        "thinned_convs": {"base_ms": thin_b, "pruned_ms": thin_p, "base_macs": thin_mb, "pruned_macs": thin_mp},
        "rest": {"base_ms": rest_b, "pruned_ms": rest_p},
        "ideal_pruned_ms": ideal,
        "ideal_latency_ratio": ideal / tb,
        "target_latency_ratio": 1 - a.target * mac_cut,
    }
    if a.json:
        print(json.dumps(out, indent=1))
        return
    if a.ops:
        shape = lambda s: "x".join(str(v) for v in s)
        print(f"{'#':>3} {'op':<8} {'base':<24} {'ms':>7}  {'pruned':<24} {'ms':>7} {'ratio':>6}")
        for k, (x, y) in enumerate(zip(b, p)):
            print(f"{k:>3} {x[0]:<8} {shape(x[3]) + ' -> ' + shape(x[4]):<24} {x[2]:>7.4f}  "
                  f"{shape(y[3]) + ' -> ' + shape(y[4]):<24} {y[2]:>7.4f} {y[2] / x[2] if x[2] > 0 else 0:>6.2f}")
    if nb > 1 or np_ > 1:
        print(f"each op: its smallest p50 over {nb} base and {np_} pruned profiles")
    print(f"sum of per-op p50: base {tb:.4f} ms, pruned {tp:.4f} ms: latency x{tp / tb:.3f} "
          f"for MACs {mb / 1e6:.2f}M -> {mp / 1e6:.2f}M (-{100 * mac_cut:.1f}%), "
          f"i.e. {out['latency_cut_over_mac_cut']:.2f} x the MAC cut")
    print(f"thinned convs (MACs -{100 * a.thinned:.0f}% or more): {thin_b:.4f} -> {thin_p:.4f} ms "
          f"for {thin_mb / 1e6:.2f}M -> {thin_mp / 1e6:.2f}M MACs")
    print(f"everything else: {rest_b:.4f} ms in the base, {rest_p:.4f} ms pruned")
    print(f"if the thinned convs' time fell in proportion to their MACs: pruned {ideal:.4f} ms, "
          f"latency x{ideal / tb:.3f}; target (cut >= {a.target} x the MAC cut): x{out['target_latency_ratio']:.3f} or less")


if __name__ == "__main__":
    main()
