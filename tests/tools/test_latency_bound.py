#!/usr/bin/env python3
"""tools/latency_bound.py on hand-made profiles whose answer is known."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "latency_bound.py")


def profile(ops):
    return {"model": "m", "loadavg": [0, 0, 0],
            "profile": {"ops": [{"type": t, "macs": m, "ms": {"p50": ms}, "in": [1, 1, 1], "out": [1, 1, 1]}
                                for t, m, ms in ops]}}


class LatencyBound(unittest.TestCase):
    def run_tool(self, base, pruned, *extra):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for name, doc in (("b.json", base), ("p.json", pruned)):
                paths.append(os.path.join(d, name))
                with open(paths[-1], "w") as f:
                    f.write(doc if isinstance(doc, str) else json.dumps(doc))
            return subprocess.run([sys.executable, TOOL, *paths, *extra], capture_output=True, text=True)

    def test_splits_thinned_convs_from_the_rest(self):
        # conv A thinned 1000 -> 250 MACs (1.0 -> 0.5 ms); conv B kept (0.5 ms);
        # an add (0.5 ms). Ideal: 0.5 + 0.5 + 1.0 * 0.25 = 1.25 ms of 2.0.
        base = profile([("conv2d", 1000, 1.0), ("conv2d", 1000, 0.5), ("add", 0, 0.5)])
        pruned = profile([("conv2d", 250, 0.5), ("conv2d", 900, 0.5), ("add", 0, 0.5)])
        r = self.run_tool(base, pruned, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertAlmostEqual(out["mac_cut"], 1 - 1150 / 2000)
        self.assertAlmostEqual(out["latency_ratio"], 1.5 / 2.0)
        self.assertAlmostEqual(out["ideal_pruned_ms"], 1.25)
        self.assertAlmostEqual(out["rest"]["pruned_ms"], 1.0)
        self.assertAlmostEqual(out["target_latency_ratio"], 1 - 0.8 * (1 - 1150 / 2000))
        r = self.run_tool(base, pruned)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pruned 1.2500 ms", r.stdout)

    def test_refuses_mismatched_or_foreign_files(self):
        base = profile([("conv2d", 1000, 1.0), ("add", 0, 0.5)])
        r = self.run_tool(base, profile([("conv2d", 1000, 1.0)]))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("same ops", r.stderr)
        r = self.run_tool(base, "{not json")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not the output of", r.stderr)


if __name__ == "__main__":
    unittest.main()
