#!/usr/bin/env python3
"""The paper-form table of docs/results.md, from pipeline reports.

    tools/results_table.py runs/cpu-vgg/report.json [runs/cpu-preresnet/report.json ...]

One row per network and method (the network's cell names the preset, its
sparsity s and its training + fine-tuning epochs) (base, mean shift fine-tuned, Network Slimming
at the same ratio fine-tuned): test accuracy, parameters, MACs, native
batch-1 latency (LibTorch and the msprune runtime, p50), and the emulated
enclave's p50 latency (one ECALL per image, measured by the host: the
round trip a caller sees) at SGX1's 93.5 MiB EPC and at the tight EPC of the
sweep (the size between the pruned and the base model, where only the pruned
ones fit), with speed-ups against the base at the same EPC. Prints Markdown.
Standard library only.
"""
import json
import sys

from runfiles import sci

METHODS = [("base", "base"), ("meanshift", "mean shift + FT"), ("slimming", "Network Slimming, same ratio, + FT")]


def fail(msg):
    sys.stderr.write("results_table: error: " + msg + "\n")
    sys.exit(1)


def load(path):
    try:
        with open(path) as f:
            rep = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (path, e))
    if rep.get("format") != "msprune-pipeline-report":
        fail("%s: not a msprune pipeline report" % path)
    return rep


def human(n):
    for unit, div in (("M", 1e6), ("K", 1e3)):
        if n >= div:
            return "%.2f%s" % (n / div, unit)
    return str(n)


def cells_by(rep):
    out = {}
    for c in rep.get("enclave", {}).get("cells", []):
        if c.get("mode") == "paging":
            out[(c["model"], c["epc_mib"])] = c
    return out


def main(paths):
    if not paths:
        fail("give one or more runs/NAME/report.json files")
    print("| network (preset) | method | test acc. | params | removed | MACs | removed "
          "| LibTorch p50 ms | runtime p50 ms | enclave p50 ms @ 93.5 MiB | vs base "
          "| tight EPC | enclave p50 ms @ tight | vs base |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in paths:
        rep = load(path)
        s = rep["settings"]
        pr = s["preset"]
        net = "%s-%d x%g (%s: s = %s, %d + %d epochs, %d test images)" % (
            s["arch"], s["depth"], s.get("width", pr.get("width", 1)), pr["name"], sci(pr.get("sparsity", 0)),
            pr.get("epochs", 0), pr.get("finetune_epochs", 0), rep["models"]["base"].get("test_records", 0))
        cells = cells_by(rep)
        epcs = sorted({e for (_, e) in cells})
        tight = None
        if len(epcs) >= 3:
            tight = epcs[len(epcs) // 2]  # the sweep: half, between, 93.5
        models = rep["models"]
        base = models["base"]
        for key, label in METHODS:
            m = models.get(key)
            if m is None:
                continue
            nat = m.get("native", {})
            lt = nat.get("libtorch_ms", {}).get("p50")
            rt = nat.get("runtime_ms", {}).get("p50")
            row = [net if key == "base" else "", label, "%.2f%%" % (100 * m["accuracy"]),
                   human(m["params"]), "%.1f%%" % (100 * (1 - m["params"] / base["params"])),
                   human(m["macs"]), "%.1f%%" % (100 * (1 - m["macs"] / base["macs"])),
                   "%.3f" % lt if lt else "-", "%.3f" % rt if rt else "-"]
            for epc in (93.5, tight):
                c = cells.get((key, epc)) if epc is not None else None
                b = cells.get(("base", epc)) if epc is not None else None
                if epc == tight:
                    row.append("%g MiB" % epc if epc is not None else "-")
                if c is None:
                    row += ["-", "-"]
                    continue
                p = c["host_ms"]["p50"]
                row.append("%.3f" % p)
                row.append("%.2fx" % (b["host_ms"]["p50"] / p) if b else "-")
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
