#!/usr/bin/python3
"""Random mean-shift cases beyond the committed goldens, for a wider check.

    /usr/bin/python3 tools/gen_meanshift_random.py SEED COUNT OUTDIR
    MSPRUNE_MEANSHIFT_GOLDEN_DIR=OUTDIR build-cluster/tests/cluster/test_cluster --gtest_filter='MeanShift/Golden*'

Each case draws a size (1 to 2,500), 1-3 dimensions, one of five
distributions (|gamma|-like, Gaussian mixture, integer grid with ties, large
offset, rounded normals), float32 or float64 and random options (quantile,
bin seeding, min_bin_freq, cluster_all, max_iter, explicit bandwidth,
n_samples), runs scikit-learn 1.2.1 on it with gen_meanshift_golden.py's
run_case and writes the same JSON format plus an index.json. Seeded: the same
SEED and COUNT give the same cases. docs/meanshift.md reports seeds 1 (150
cases) and 2 (300 cases).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_meanshift_golden as g  # noqa: E402


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    seed, count, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = []
    for t in range(count):
        d = int(rng.choice([1, 1, 1, 1, 2, 3]))
        n = int(rng.choice([1, 2, 3, 5, 8, 11, 12, 20, 40, 61, 100, 300, 1000, 2500]))
        kind = rng.integers(0, 5)
        if kind == 0:
            X = np.repeat(g.gamma_like(rng, n, rng.uniform(0.2, 0.8)), d, axis=1) * rng.uniform(0.5, 2, d)
        elif kind == 1:
            X = g.mixture(rng, n, rng.normal(0, 3, (int(rng.integers(1, 5)), d)), rng.uniform(0.1, 1))
        elif kind == 2:
            X = rng.integers(0, int(rng.integers(2, 20)), (n, d)) * float(rng.choice([1.0, 0.25, 0.1]))
        elif kind == 3:
            X = rng.normal(0, 1, (n, d)) * 10 ** rng.uniform(-3, 3) + rng.uniform(-1000, 1000)
        else:
            X = np.round(rng.normal(0, 1, (n, d)), int(rng.integers(1, 4)))
        dt = np.float32 if rng.random() < 0.5 else np.float64
        kw = dict(quantile=float(rng.choice([0.05, 0.1, 0.3, 0.3, 0.5, 0.7, 1.0])),
                  bin_seeding=bool(rng.random() < 0.6), min_bin_freq=int(rng.choice([1, 1, 1, 2, 5])),
                  cluster_all=bool(rng.random() < 0.7), max_iter=int(rng.choice([300, 300, 300, 3, 0])))
        if rng.random() < 0.25:
            kw["bandwidth"] = float(rng.choice([0.25, 0.5, 1.0, float(rng.uniform(0.05, 2))]))
        if rng.random() < 0.2:
            kw["n_samples"] = int(rng.integers(1, n + 3))
        if n > 1000 and not kw["bin_seeding"]:
            kw["bin_seeding"] = True
        c = g.case(f"fz{seed}_{t}", "random", X, dt, **kw)
        try:
            rec = g.run_case(c)
        except Exception as e:  # sklearn failing in a way the goldens do not model
            print(f"skipped case {t}: {e!r}", file=sys.stderr)
            continue
        with open(os.path.join(out, c["name"] + ".json"), "w") as f:
            json.dump(rec, f)
        names.append(c["name"])
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"cases": names}, f)
    print(f"{len(names)} cases in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
