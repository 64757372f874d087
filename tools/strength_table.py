#!/usr/bin/env python3
"""Whole-length runs of one network at several sparsity strengths, side by side.

    tools/strength_table.py runs/cpu-pre-s1e-4 runs/cpu-pre-s3e-4 ... [--json OUT.json]

Each argument is a `msprune pipeline` run folder (or its report.json). A
finished run is read from its report.json; a run stopped after mean shift's
fine-tuning (its Network Slimming step not yet run) is read from its logs:
logs/train.log, logs/eval-base.log, prune-meanshift.json,
logs/eval-meanshift-pruned.log, logs/eval-meanshift.log. One row per run: the
strength s, the epochs, the base's test accuracy and mean |gamma| at the end
of training, the share of prunable channels, parameters and MACs mean shift
removed, the pruned network's accuracy before and after fine-tuning, the
change against the base, Network Slimming at the same count (fine-tuned),
and the runtime's p50 latency base -> mean shift where the run measured it.
Rows are sorted by s. Prints Markdown; --json writes the same numbers.
Standard library only.
"""
import json
import os
import sys

from runfiles import json_lines, load_json, sci


def fail(msg):
    sys.stderr.write("strength_table: error: " + msg + "\n")
    sys.exit(1)


def last_with(path, key):
    rows = [j for j in json_lines(path) if key in j]
    return rows[-1] if rows else None


def removed(totals, key):
    t = totals.get(key, {})
    if key == "channels":
        return t.get("pruned_ratio")
    return t.get("reduction")


def from_report(rep, name):
    s = rep["settings"]
    pr = s["preset"]
    models = rep["models"]
    epochs = [e for e in rep.get("training", {}).get("epochs", []) if "mean_abs_gamma" in e]
    totals = rep["prune"]["meanshift"]["totals"]
    nat = lambda k: models.get(k, {}).get("native", {}).get("runtime_ms", {}).get("p50")
    return {
        "run": name,
        "network": "%s-%d x%g" % (s["arch"], s["depth"], s.get("width", pr.get("width", 1))),
        "sparsity": pr.get("sparsity"),
        "epochs": pr.get("epochs"),
        "finetune_epochs": pr.get("finetune_epochs"),
        "base_acc": models["base"]["accuracy"],
        "mean_abs_gamma": epochs[-1]["mean_abs_gamma"] if epochs else None,
        "removed": {k: removed(totals, k) for k in ("channels", "params", "macs")},
        "acc_before_ft": models.get("meanshift_pruned", {}).get("accuracy"),
        "acc_after_ft": models.get("meanshift", {}).get("accuracy"),
        "slimming_acc": models.get("slimming", {}).get("accuracy"),
        "runtime_p50_ms": {"base": nat("base"), "meanshift": nat("meanshift")},
        "complete": True,
    }


def from_logs(folder, name):
    train = json_lines(os.path.join(folder, "logs", "train.log"))
    train = [e for e in train if "epoch" in e]
    base = last_with(os.path.join(folder, "logs", "eval-base.log"), "accuracy")
    pr = load_json(os.path.join(folder, "prune-meanshift.json"))
    if not train or base is None or pr is None:
        fail("%s: neither a report.json nor a trained, evaluated and pruned run" % folder)
    spec = base.get("spec", {})
    acc = lambda log: (last_with(os.path.join(folder, "logs", log), "accuracy") or {}).get("accuracy")
    return {
        "run": name,
        "network": "%s-%d x%g" % (spec.get("arch", "?"), spec.get("depth", 0), spec.get("width", 1)),
        "sparsity": train[-1].get("sparsity"),
        "epochs": train[-1].get("epoch"),
        "finetune_epochs": len([e for e in json_lines(os.path.join(folder, "logs", "finetune-meanshift.log"))
                                if "epoch" in e]) or None,
        "base_acc": base["accuracy"],
        "mean_abs_gamma": train[-1].get("mean_abs_gamma"),
        "removed": {k: removed(pr["totals"], k) for k in ("channels", "params", "macs")},
        "acc_before_ft": acc("eval-meanshift-pruned.log"),
        "acc_after_ft": acc("eval-meanshift.log"),
        "slimming_acc": None,
        "runtime_p50_ms": {"base": None, "meanshift": None},
        "complete": False,
    }


def row_of(arg):
    if not os.path.exists(arg):
        fail("%s: no such run folder or report" % arg)
    if os.path.isdir(arg):
        folder, report = arg, os.path.join(arg, "report.json")
    else:
        folder, report = os.path.dirname(arg), arg
    name = os.path.normpath(folder)
    rep = load_json(report)
    if rep is not None:
        if rep.get("format") != "msprune-pipeline-report":
            fail("%s: not a msprune pipeline report" % report)
        return from_report(rep, name)
    return from_logs(folder, name)


def pct(v):
    return "-" if v is None else "%.2f%%" % (100 * v)


def main(argv):
    out_json = None
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--json":
            if i + 1 >= len(argv):
                fail("--json needs a file")
            out_json = argv[i + 1]
            i += 2
            continue
        args.append(argv[i])
        i += 1
    if not args:
        fail("give one or more pipeline run folders (or their report.json)")
    rows = sorted((row_of(a) for a in args), key=lambda r: (r["network"], r["sparsity"] or 0))
    print("| network | s | epochs | base acc | mean abs(gamma) | MS removes: channels / params / MACs "
          "| acc before FT | after FT | vs base | Slimming, same count, + FT | runtime p50 ms base -> MS | run |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        rm = r["removed"]
        cut = " / ".join("-" if rm[k] is None else "%.1f%%" % (100 * rm[k]) for k in ("channels", "params", "macs"))
        delta = "-" if r["acc_after_ft"] is None else "%+.2f pt" % (100 * (r["acc_after_ft"] - r["base_acc"]))
        rt = r["runtime_p50_ms"]
        lat = "-" if not (rt["base"] and rt["meanshift"]) else "%.3f -> %.3f (%.2fx)" % (
            rt["base"], rt["meanshift"], rt["base"] / rt["meanshift"])
        ep = "%s + %s" % (r["epochs"], r["finetune_epochs"] if r["finetune_epochs"] else "-")
        gamma = "-" if r["mean_abs_gamma"] is None else "%.3f" % r["mean_abs_gamma"]
        run = r["run"] + ("" if r["complete"] else " (no report: its logs up to mean shift's fine-tuning)")
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["network"], sci(r["sparsity"]), ep, pct(r["base_acc"]), gamma, cut, pct(r["acc_before_ft"]),
            pct(r["acc_after_ft"]), delta, pct(r["slimming_acc"]), lat, run))
    if out_json:
        tmp = out_json + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"format": "msprune-strength-table", "rows": rows}, f, indent=1)
        os.replace(tmp, out_json)


if __name__ == "__main__":
    main(sys.argv[1:])
