#!/usr/bin/python3
"""Golden cases for msprune's mean shift, computed by scikit-learn 1.2.1.

Run (Debian's python3 with python3-sklearn 1.2.1 and numpy 1.24; the pyenv
`python3` on PATH has no sklearn):

    /usr/bin/python3 tools/gen_meanshift_golden.py [--out tests/golden/meanshift]

Everything is seeded (numpy.random.default_rng with fixed seeds per case), so
a re-run on the same library versions rewrites byte-identical files. The C++
test (tests/cluster/test_meanshift_golden.cpp) compares bandwidth, centres
(same order), labels (every one) and n_iter with each case, bit for bit.

What each case runs, exactly as the paper's scripts do:

    bw = bandwidth or estimate_bandwidth(X, quantile=q, n_samples=ns)
    MeanShift(bandwidth=bw, seeds=seeds, bin_seeding=b, min_bin_freq=f,
              cluster_all=c, max_iter=m).fit(X)

File format (one JSON object per case, <name>.json):
    name, about, dtype ("float32" | "float64"), n, d,
    x_b64        X as little-endian raw bytes of dtype, row-major, base64
    params       quantile, n_samples (null = all, in order), bandwidth (null
                 = estimated), bin_seeding, min_bin_freq, cluster_all,
                 max_iter, seeds_b64 (float64 rows, or null)
    expected     bandwidth_hex (float.hex of the bandwidth used), error (null
                 or "bandwidth_zero" | "no_point" | "no_seeds"), and when
                 error is null: n_clusters, centers_b64 (dtype, row-major),
                 labels_b64 (int32), n_iter, counts (labels per centre)

primitives.json holds checks of the building blocks: RandomState(seed)
.permutation(n), KDTree(X, leaf_size=30) index arrays, and numpy sums and
means of deterministic arrays (formula shared with the C++ test:
v_i = (((i * 7919) % 10007) / 10007.0 - 0.5) * SCALES[i % 7]).
"""
import argparse
import base64
import json
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.cluster import MeanShift, estimate_bandwidth
from sklearn.neighbors import KDTree

SCALES = [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1000.0]


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def gamma_like(rng, n, spike=0.6):
    """|gamma| after sparsity training: a spike near zero plus a bulk."""
    k = int(round(n * spike))
    near = np.abs(rng.normal(0.0, 0.004, k))
    bulk = np.abs(rng.normal(0.45, 0.15, n - k))
    x = np.concatenate([near, bulk])
    rng.shuffle(x)
    return x.reshape(-1, 1)


def mixture(rng, n, centers, scale):
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim == 1:
        centers = centers[:, None]
    lab = rng.integers(0, len(centers), n)
    return centers[lab] + rng.normal(0.0, scale, (n, centers.shape[1]))


def case(name, about, X, dtype, quantile=0.3, n_samples=None, bandwidth=None, bin_seeding=False,
         min_bin_freq=1, cluster_all=True, max_iter=300, seeds=None):
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64).astype(dtype))
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    return dict(name=name, about=about, X=X, dtype=dtype, quantile=quantile, n_samples=n_samples,
                bandwidth=bandwidth, bin_seeding=bin_seeding, min_bin_freq=min_bin_freq,
                cluster_all=cluster_all, max_iter=max_iter,
                seeds=None if seeds is None else np.asarray(seeds, dtype=np.float64).reshape(-1, X.shape[1]))


def build_cases():
    f32, f64 = np.float32, np.float64
    C = []
    # --- the paper's configuration on gamma-like layers ---------------------
    for i, n in enumerate([16, 64, 128, 256, 512]):
        rng = np.random.default_rng(100 + i)
        C.append(case(f"paper_gamma_{n}_f32", "paper config: |gamma| float32, quantile 0.3, n_samples=len, bin seeding",
                      gamma_like(rng, n), f32, n_samples=n, bin_seeding=True))
    rng = np.random.default_rng(110)
    C.append(case("paper_gamma_vgg_q01_f32", "VGG group: quantile 0.1", gamma_like(rng, 1472), f32,
                  quantile=0.1, n_samples=1472, bin_seeding=True))
    rng = np.random.default_rng(111)
    C.append(case("gamma_20000_f32", "large layer, float32, n_samples=None", gamma_like(rng, 20000, 0.4), f32,
                  bin_seeding=True))
    rng = np.random.default_rng(112)
    C.append(case("gamma_20000_f64_nsamples", "large layer, float64, n_samples=len (permuted)",
                  gamma_like(rng, 20000, 0.5), f64, n_samples=20000, bin_seeding=True))
    # --- Gaussian mixtures, 1-D ----------------------------------------------
    rng = np.random.default_rng(120)
    X = mixture(rng, 1000, [-2.0, 0.5, 3.0], 0.4)
    C.append(case("gauss1d_3c_f64_bins", "3 blobs, float64, bin seeding", X, f64, bin_seeding=True))
    C.append(case("gauss1d_3c_f32_bins", "3 blobs, float32, bin seeding", X, f32, bin_seeding=True))
    rng = np.random.default_rng(121)
    X = mixture(rng, 300, [0.0, 1.0, 5.0], 0.3)
    C.append(case("gauss1d_f64_allseeds", "every point a seed", X, f64))
    C.append(case("gauss1d_f32_allseeds", "every point a seed, float32", X, f32))
    rng = np.random.default_rng(122)
    X = mixture(rng, 700, [-3.0, 0.0, 4.0], [0.5])
    C.append(case("gauss1d_negative_f64", "negative values", X, f64, bin_seeding=True))
    # --- ties, bin edges, radius edges ----------------------------------------
    rng = np.random.default_rng(130)
    X = rng.choice([0.0, 1.0, 2.0, 5.0, 6.0, 6.0, 9.0], 500)
    C.append(case("ties_integers_f64_bins", "many exact duplicates", X, f64, bin_seeding=True))
    C.append(case("ties_integers_f32_allseeds", "many exact duplicates, float32", X, f32))
    rng = np.random.default_rng(131)
    X = rng.integers(0, 40, 200) * 0.25
    C.append(case("bin_edges_f64", "x / bandwidth on half-integers (round half to even)", X, f64,
                  bandwidth=0.5, bin_seeding=True))
    C.append(case("bin_edges_f32", "x / bandwidth on half-integers, float32", X, f32, bandwidth=0.5,
                  bin_seeding=True))
    rng = np.random.default_rng(132)
    X = rng.integers(0, 64, 300) * 0.125
    C.append(case("radius_edges_f64", "neighbours exactly at the bandwidth", X, f64, bandwidth=0.25))
    C.append(case("radius_edges_f32_bins", "neighbours exactly at the bandwidth, bins", X, f32,
                  bandwidth=0.25, bin_seeding=True))
    # --- tiny inputs: brute-force neighbour paths -----------------------------
    rng = np.random.default_rng(140)
    for n in [1, 2, 3]:
        X = rng.normal(0.0, 1.0, n)
        C.append(case(f"tiny_{n}_estimated", "estimated bandwidth is 0", X, f64))
        C.append(case(f"tiny_{n}_bw1", "explicit bandwidth", X, f64, bandwidth=1.0))
    for n in [4, 5, 7, 11, 12, 13, 30, 31, 61, 62]:
        X = rng.normal(0.0, 1.0, n) + rng.choice([0.0, 3.0], n)
        C.append(case(f"small_{n}_f64", "small n around sklearn's brute/kd switch", X, f64))
        C.append(case(f"small_{n}_f32_bins", "small n, float32, bin seeding", X, f32, bin_seeding=True))
    rng = np.random.default_rng(141)
    X = 1000.0 + rng.normal(0.0, 0.01, 9)
    C.append(case("offset_9_f32", "large offset: GEMM-form cancellation, brute", X, f32, quantile=0.6))
    C.append(case("offset_9_f64_bins", "large offset, float64, bins", X, f64, quantile=0.6, bin_seeding=True))
    # --- N-D -----------------------------------------------------------------
    rng = np.random.default_rng(150)
    X = mixture(rng, 600, [[0.0, 0.0], [3.0, 1.0], [0.5, 4.0]], 0.6)
    C.append(case("gauss2d_f64_bins", "2-D, bin seeding", X, f64, bin_seeding=True))
    C.append(case("gauss2d_f32_bins", "2-D float32, bin seeding", X, f32, bin_seeding=True))
    rng = np.random.default_rng(151)
    X = mixture(rng, 250, [[0, 0, 0], [2, 2, 0], [0, 3, 3]], 0.5)
    C.append(case("gauss3d_f64_allseeds", "3-D, every point a seed", X, f64))
    C.append(case("gauss3d_f32_orphans", "3-D float32, cluster_all=False", X, f32, bandwidth=0.6,
                  cluster_all=False, bin_seeding=True))
    rng = np.random.default_rng(152)
    X = mixture(rng, 8, [[0, 0], [2, 2]], 0.3)
    C.append(case("tiny2d_8_f64", "2-D, brute radius", X, f64, bandwidth=1.0))
    C.append(case("tiny2d_8_f32", "2-D float32, brute radius", X, f32, bandwidth=1.0))
    # --- options ----------------------------------------------------------
    rng = np.random.default_rng(160)
    X = mixture(rng, 800, [0.0, 2.0, 2.6, 7.0], 0.3)
    C.append(case("min_bin_freq_5", "min_bin_freq > 1", X, f64, bin_seeding=True, min_bin_freq=5))
    C.append(case("min_bin_freq_40_f32", "min_bin_freq > 1, float32", X, f32, bin_seeding=True, min_bin_freq=40))
    C.append(case("min_bin_freq_too_high", "no bin survives: sklearn fails on max([])", X, f64,
                  bin_seeding=True, min_bin_freq=100000))
    rng = np.random.default_rng(161)
    X = np.concatenate([mixture(rng, 300, [0.0, 1.5], 0.2)[:, 0], [9.0, -7.5, 20.0]])
    C.append(case("orphans_1d_f64", "cluster_all=False with outliers", X, f64, bin_seeding=True,
                  min_bin_freq=2, cluster_all=False))
    C.append(case("orphans_1d_f32", "cluster_all=False with outliers, float32", X, f32, bin_seeding=True,
                  min_bin_freq=2, cluster_all=False))
    rng = np.random.default_rng(162)
    X = mixture(rng, 400, [0.0, 3.0], 0.8)
    C.append(case("max_iter_0", "max_iter=0", X, f64, max_iter=0, bin_seeding=True))
    C.append(case("max_iter_2_f32", "max_iter=2", X, f32, max_iter=2))
    rng = np.random.default_rng(163)
    X = mixture(rng, 500, [0.0, 1.0, 4.0], 0.5)
    C.append(case("quantile_05_f64", "quantile 0.5: brute k-th neighbours", X, f64, quantile=0.5,
                  bin_seeding=True))
    C.append(case("quantile_08_f32", "quantile 0.8, float32", X, f32, quantile=0.8, bin_seeding=True))
    C.append(case("quantile_1_f64", "quantile 1.0", X[:60], f64, quantile=1.0))
    C.append(case("quantile_005_f32", "quantile 0.05", X, f32, quantile=0.05, bin_seeding=True))
    rng = np.random.default_rng(164)
    X = mixture(rng, 3000, [0.0, 2.0], 0.5)
    C.append(case("n_samples_300_of_3000_f64", "subsample: RandomState(0).permutation", X, f64,
                  n_samples=300, bin_seeding=True))
    C.append(case("n_samples_700_of_3000_f32", "subsample, float32", X, f32, n_samples=700,
                  bin_seeding=True))
    rng = np.random.default_rng(165)
    X = mixture(rng, 300, [0.0, 2.0], 0.3)
    C.append(case("seeds_f64", "explicit seeds, one far away", X, f64, bandwidth=0.5,
                  seeds=[-0.3, 0.1, 2.2, 50.0]))
    C.append(case("seeds_on_f32_data", "float64 seeds on float32 data", X, f32, bandwidth=0.5,
                  seeds=[0.05, 1.9, 2.0]))
    C.append(case("seeds_none_near", "no point near any seed: sklearn raises", X, f64, bandwidth=0.5,
                  seeds=[100.0, -100.0]))
    rng = np.random.default_rng(166)
    centres = np.arange(90) * 1.0
    X = mixture(rng, 2700, centres, 0.05)
    C.append(case("many_clusters_f64", "90 clusters: KD trees for dedup and labels", X, f64,
                  bandwidth=0.3, bin_seeding=True))
    C.append(case("many_clusters_f32", "90 clusters, float32", X, f32, bandwidth=0.3, bin_seeding=True))
    rng = np.random.default_rng(167)
    X = np.sort(rng.uniform(0, 1, 40)) * 1e-3
    C.append(case("points_are_seeds", "every point in its own bin: seeds = X", X, f64, bandwidth=1e-9,
                  bin_seeding=True))
    rng = np.random.default_rng(168)
    X = mixture(rng, 200, [np.zeros(16), np.ones(16) * 2.0], 0.5)
    C.append(case("d16_f64", "16 features: brute everywhere", X, f64, bin_seeding=True))
    C.append(case("constant_f32", "all values equal: bandwidth 0", np.full(50, 0.25), f32))
    return C


def run_case(c):
    X = c["X"]
    p = dict(quantile=c["quantile"], n_samples=c["n_samples"], bandwidth=c["bandwidth"],
             bin_seeding=c["bin_seeding"], min_bin_freq=c["min_bin_freq"], cluster_all=c["cluster_all"],
             max_iter=c["max_iter"], seeds_b64=None if c["seeds"] is None else b64(c["seeds"]))
    out = dict(name=c["name"], about=c["about"], dtype=np.dtype(c["dtype"]).name, n=int(X.shape[0]),
               d=int(X.shape[1]), x_b64=b64(X), params=p)
    bw = c["bandwidth"]
    if bw is None:
        bw = estimate_bandwidth(X, quantile=c["quantile"], n_samples=c["n_samples"])
    exp = dict(bandwidth_hex=float(bw).hex(), bandwidth=float(bw), error=None)
    if bw == 0:
        exp["error"] = "bandwidth_zero"
    else:
        ms = MeanShift(bandwidth=bw, seeds=c["seeds"], bin_seeding=c["bin_seeding"],
                       min_bin_freq=c["min_bin_freq"], cluster_all=c["cluster_all"], max_iter=c["max_iter"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ms.fit(X)
        except ValueError as e:
            msg = str(e)
            if "No point was within bandwidth" in msg:
                exp["error"] = "no_point"
            elif "max() arg is an empty sequence" in msg:
                exp["error"] = "no_seeds"
            else:
                raise
        if exp["error"] is None:
            centers = np.ascontiguousarray(ms.cluster_centers_)
            assert centers.dtype == X.dtype, (centers.dtype, X.dtype)
            labels = ms.labels_.astype(np.int32)
            exp.update(n_clusters=int(centers.shape[0]), centers_b64=b64(centers), labels_b64=b64(labels),
                       n_iter=int(ms.n_iter_),
                       counts=[int((labels == k).sum()) for k in range(centers.shape[0])])
    out["expected"] = exp
    return out


def det_array(n):
    i = np.arange(n, dtype=np.int64)
    a = ((i * 7919) % 10007).astype(np.float64) / 10007.0 - 0.5
    return a * np.array(SCALES)[i % 7]


def primitives():
    out = {"permutations": [], "kdtrees": [], "sums": []}
    for seed, n in [(0, 1), (0, 2), (0, 10), (0, 1000), (12345, 100)]:
        out["permutations"].append(dict(seed=seed, n=n, perm_b64=b64(np.random.RandomState(seed).permutation(n).astype(np.int64))))
    rng = np.random.default_rng(7)
    trees = [
        ("uniform_1d_1000", rng.uniform(0, 1, (1000, 1))),
        ("ties_1d_777", rng.integers(0, 9, (777, 1)).astype(np.float64)),
        ("mixture_2d_500", rng.normal(0, 1, (500, 2)) * [1.0, 3.0]),
        ("grid_3d_300", rng.integers(0, 4, (300, 3)).astype(np.float64)),
        ("n61_1d", rng.normal(0, 1, (61, 1))),
    ]
    for name, X in trees:
        t = KDTree(X, leaf_size=30)
        out["kdtrees"].append(dict(name=name, n=X.shape[0], d=X.shape[1], x_b64=b64(X),
                                   idx_b64=b64(np.asarray(t.get_arrays()[1], dtype=np.int64))))
    for n in list(range(1, 300)) + [511, 1000, 8191, 8192, 8193, 16384, 16385, 20000, 50001]:
        a64 = det_array(n)
        a32 = a64.astype(np.float32)
        rec = dict(n=n, sum64=float(np.add.reduce(a64)).hex(), sum32=float(np.add.reduce(a32)).hex(),
                   mean64=float(np.mean(a64.reshape(-1, 1), axis=0)[0]).hex(),
                   mean32=float(np.mean(a32.reshape(-1, 1), axis=0)[0]).hex())
        if n % 2 == 0:
            m2 = np.mean(a32.reshape(-1, 2), axis=0)
            rec["mean32_2col"] = [float(v).hex() for v in m2]
        out["sums"].append(rec)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                                  "golden", "meanshift"))
    ap.add_argument("--only", help="comma-separated case names")
    args = ap.parse_args()
    if sklearn.__version__ != "1.2.1":
        print(f"warning: scikit-learn {sklearn.__version__}, the goldens are for 1.2.1", file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    meta = dict(sklearn=sklearn.__version__, numpy=np.__version__, cases=[])
    for c in build_cases():
        if only and c["name"] not in only:
            continue
        print(f"{c['name']}: n={c['X'].shape[0]} d={c['X'].shape[1]} {np.dtype(c['dtype']).name}", file=sys.stderr)
        rec = run_case(c)
        with open(os.path.join(args.out, c["name"] + ".json"), "w") as f:
            json.dump(rec, f, indent=1, sort_keys=True)
            f.write("\n")
        meta["cases"].append(c["name"])
    if not only:
        with open(os.path.join(args.out, "primitives.json"), "w") as f:
            json.dump(primitives(), f, indent=1, sort_keys=True)
            f.write("\n")
        with open(os.path.join(args.out, "index.json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
