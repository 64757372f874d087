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
        """base, pruned: a profile (dict or raw text) or a list of them."""
        with tempfile.TemporaryDirectory() as d:
            args = []
            for side, docs in (("b", base), ("p", pruned)):
                names = []
                for k, doc in enumerate(docs if isinstance(docs, list) else [docs]):
                    names.append(os.path.join(d, f"{side}{k}.json"))
                    with open(names[-1], "w") as f:
                        f.write(doc if isinstance(doc, str) else json.dumps(doc))
                args.append(",".join(names))
            return subprocess.run([sys.executable, TOOL, *args, *extra], capture_output=True, text=True)

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

    def test_several_profiles_per_side_keep_each_ops_minimum(self):
        # Run 1 caught the base's conv slow, run 2 its add; the pruned side's
        # second profile is slower everywhere. Minimum per op: base 1.0 + 0.5,
        # pruned 0.5 + 0.5.
        b1 = profile([("conv2d", 1000, 1.0), ("add", 0, 0.9)])
        b2 = profile([("conv2d", 1000, 1.6), ("add", 0, 0.5)])
        p1 = profile([("conv2d", 250, 0.5), ("add", 0, 0.5)])
        p2 = profile([("conv2d", 250, 0.8), ("add", 0, 0.7)])
        r = self.run_tool([b1, b2], [p1, p2], "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertAlmostEqual(out["base"]["ms"], 1.5)
        self.assertAlmostEqual(out["pruned"]["ms"], 1.0)
        self.assertEqual(out["base"]["profiles"], 2)
        self.assertEqual([o["base_ms"] for o in out["ops"]], [1.0, 0.5])
        r = self.run_tool([b1, b2], [p1, p2], "--ops")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("smallest p50 over 2 base and 2 pruned profiles", r.stdout)
        self.assertIn("0.50", r.stdout.splitlines()[1])  # op 0's ratio
        # A second profile of another model on the same side is refused.
        r = self.run_tool([b1, profile([("conv2d", 999, 1.0), ("add", 0, 0.5)])], p1)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a profile of the same model", r.stderr)

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
