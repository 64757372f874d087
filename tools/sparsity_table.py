#!/usr/bin/env python3
"""The sparsity sweep's table (bench/sparsity/sweep.sh): one row per run folder.

    /usr/bin/python3 tools/sparsity_table.py runs/sweep [--json OUT.json]

Reads OUT/NAME/{train.jsonl, eval.json, ms-<policy>.json, ms-<policy>-eval.json}
and prints a markdown table: the sparsity strength and schedule, the base's
test accuracy and mean |gamma|, and for each mean-shift threshold policy the
share of prunable channels, parameters and MACs removed and the pruned
network's test accuracy before fine-tuning. Writes the same numbers as JSON
(default OUT/sweep.json). Runs still training are listed as such.
"""
import json
import os
import sys

from runfiles import last_json, load_json as load

POLICIES = ("min-centre", "valley")


def row_for(folder):
    name = os.path.basename(folder.rstrip("/"))
    summary = last_json(os.path.join(folder, "train.jsonl"))
    base = load(os.path.join(folder, "eval.json"))
    r = {"name": name, "done": bool(summary and summary.get("summary") and base)}
    if summary is None:
        r["status"] = "not started"
        return r
    # The per-epoch records hold lr and sparsity; the summary the options.
    epochs = []
    with open(os.path.join(folder, "train.jsonl")) as f:
        for line in f:
            if line.startswith("{"):
                try:
                    j = json.loads(line)
                except ValueError:
                    continue
                if "epoch" in j and "test_acc" in j and not j.get("summary"):
                    epochs.append(j)
    r["epochs_done"] = len(epochs)
    r["history"] = [{"epoch": e["epoch"], "test_acc": e["test_acc"], "mean_abs_gamma": e.get("mean_abs_gamma"),
                     "sparsity": e.get("sparsity"), "lr": e.get("lr")} for e in epochs]
    if not r["done"]:
        r["status"] = "training (%d epochs done)" % len(epochs)
        return r
    opts = load(os.path.join(folder, "config.json")) or {}
    r.update({"arch": base["name"], "sparsity": opts.get("sparsity"), "schedule": opts.get("schedule"),
              "sparsity_warmup": opts.get("sparsity_warmup", 0), "epochs": opts.get("epochs", len(epochs)),
              "base_acc": base["accuracy"], "params": base["params"], "macs": base["macs"],
              "mean_abs_gamma": base.get("gamma_histogram", {}).get("mean")})
    h = base.get("gamma_histogram")
    if h:
        n = h["n"]
        r["gamma_low_bin_share"] = h["counts"][0] / n if n else None
        r["gamma_low_bin_edge"] = h["edges"][1]
    for p in POLICIES:
        rep = load(os.path.join(folder, "ms-%s.json" % p))
        ev = load(os.path.join(folder, "ms-%s-eval.json" % p))
        if not rep:
            continue
        t = rep["totals"]
        r[p] = {"channels_removed": t["channels"]["pruned_ratio"], "channels_pruned": t["channels"]["pruned"],
                "channels_before": t["channels"]["before"], "params_removed": t["params"]["reduction"],
                "macs_removed": t["macs"]["reduction"], "floor_acted": len(rep.get("floor_acted", [])),
                "acc_before_finetune": ev["accuracy"] if ev else None}
    return r


def pct(v):
    return "-" if v is None else "%.1f%%" % (100 * v)


def main(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = argv[0]
    out = os.path.join(root, "sweep.json")
    if len(argv) >= 3 and argv[1] == "--json":
        out = argv[2]
    rows = [row_for(os.path.join(root, d)) for d in sorted(os.listdir(root))
            if os.path.isfile(os.path.join(root, d, "train.jsonl"))]
    head = ["run", "network", "s", "schedule", "warm-up", "epochs", "base acc", "mean abs(gamma)",
            "MS min-centre: channels / params / MACs removed", "acc before FT",
            "MS valley: channels / params / MACs removed", "acc before FT"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for r in rows:
        if not r["done"]:
            print("| %s | %s |%s" % (r["name"], r["status"], " |" * (len(head) - 2)))
            continue
        cells = [r["name"], r["arch"], "%g" % r["sparsity"], r["schedule"], str(r["sparsity_warmup"]),
                 str(r["epochs"]), pct(r["base_acc"]), "%.4f" % r["mean_abs_gamma"]]
        for p in POLICIES:
            m = r.get(p)
            if m:
                cells += ["%s / %s / %s" % (pct(m["channels_removed"]), pct(m["params_removed"]),
                                            pct(m["macs_removed"])), pct(m["acc_before_finetune"])]
            else:
                cells += ["-", "-"]
        print("| " + " | ".join(cells) + " |")
    tmp = out + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        json.dump({"format": "msprune-sparsity-sweep", "version": 1, "runs": rows}, f, indent=1)
    os.replace(tmp, out)
    print("\n(JSON: %s)" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
