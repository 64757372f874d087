#!/usr/bin/env python3
"""tools/strength_table.py on a hand-made finished run and a hand-made run without a report."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "strength_table.py")


def write(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        if isinstance(doc, list):
            f.write("progress text\n" + "\n".join(json.dumps(d) for d in doc) + "\n")
        else:
            f.write(json.dumps(doc))


def totals(ch, params, macs):
    return {"channels": {"pruned_ratio": ch}, "params": {"reduction": params}, "macs": {"reduction": macs}}


class StrengthTable(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        # A finished run at s = 1e-3.
        nat = lambda ms: {"native": {"runtime_ms": {"p50": ms}}}
        write(os.path.join(d, "done", "report.json"), {
            "format": "msprune-pipeline-report",
            "settings": {"arch": "preresnet", "depth": 20, "width": 0.5,
                         "preset": {"sparsity": 1e-3, "epochs": 30, "finetune_epochs": 10}},
            "training": {"epochs": [{"epoch": 30, "mean_abs_gamma": 0.25}]},
            "prune": {"meanshift": {"totals": totals(0.5, 0.4, 0.3)}},
            "models": {"base": dict(accuracy=0.70, **nat(0.2)), "meanshift_pruned": {"accuracy": 0.5},
                       "meanshift": dict(accuracy=0.71, **nat(0.1)), "slimming": {"accuracy": 0.69}}})
        # A run with logs only, at s = 1e-4 (sorted first).
        p = os.path.join(d, "partial")
        write(os.path.join(p, "logs", "train.log"),
              [{"epoch": 1, "sparsity": 1e-4, "mean_abs_gamma": 0.9}, {"epoch": 2, "sparsity": 1e-4, "mean_abs_gamma": 0.8}])
        write(os.path.join(p, "logs", "eval-base.log"),
              [{"accuracy": 0.80, "spec": {"arch": "preresnet", "depth": 20, "width": 0.5}}])
        write(os.path.join(p, "prune-meanshift.json"), {"totals": totals(0.2, 0.1, 0.15)})
        write(os.path.join(p, "logs", "eval-meanshift-pruned.log"), [{"accuracy": 0.3}])
        write(os.path.join(p, "logs", "finetune-meanshift.log"), [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}])
        write(os.path.join(p, "logs", "eval-meanshift.log"), [{"accuracy": 0.79}])

    def tearDown(self):
        self.dir.cleanup()

    def run_tool(self, *args):
        return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)

    def test_rows_from_a_report_and_from_logs(self):
        d = self.dir.name
        out = os.path.join(d, "t.json")
        r = self.run_tool(os.path.join(d, "done"), os.path.join(d, "partial"), "--json", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stdout.splitlines() if l.startswith("| preresnet")]
        self.assertEqual(len(lines), 2, r.stdout)
        self.assertIn("| 1e-4 | 2 + 3 | 80.00% | 0.800 | 20.0% / 10.0% / 15.0% | 30.00% | 79.00% | -1.00 pt | - | - |",
                      lines[0])
        self.assertIn("no report", lines[0])
        self.assertIn("| 1e-3 | 30 + 10 | 70.00% | 0.250 | 50.0% / 40.0% / 30.0% | 50.00% | 71.00% | +1.00 pt | 69.00% "
                      "| 0.200 -> 0.100 (2.00x) |", lines[1])
        with open(out) as f:
            doc = json.load(f)
        self.assertEqual(doc["format"], "msprune-strength-table")
        self.assertEqual([row["sparsity"] for row in doc["rows"]], [1e-4, 1e-3])
        self.assertFalse(doc["rows"][0]["complete"])

    def test_refuses_what_is_not_a_run(self):
        d = self.dir.name
        r = self.run_tool(os.path.join(d, "nowhere"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("nowhere", r.stderr)
        os.makedirs(os.path.join(d, "empty"))
        r = self.run_tool(os.path.join(d, "empty"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("neither a report.json nor", r.stderr)
        write(os.path.join(d, "other", "report.json"), {"format": "something-else"})
        r = self.run_tool(os.path.join(d, "other"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a msprune pipeline report", r.stderr)


if __name__ == "__main__":
    unittest.main()
