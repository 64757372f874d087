#!/usr/bin/env bash
# LibTorch vs the enclave runtime on several checkpoints, best of R medians.
#
#   bench/native/compare.sh [-r ROUNDS] [-p] [-o DIR] MSPRUNE CKPT... [-- BENCH-ARGS...]
#
# Runs `MSPRUNE bench --model CKPT --out DIR/NAME.ROUND.json BENCH-ARGS` for
# every checkpoint, ROUNDS (default 3) rounds, then prints every run's p50s and,
# per checkpoint, the best (lowest) p50 of each side over the rounds and their
# ratio. -p runs each bench under `chrt -f 10` (real-time priority: on a
# shared machine this times the code rather than the scheduler; say so when
# quoting). Each run's full text output is kept next to its JSON.
set -euo pipefail
rounds=3 prio=() out=""
while getopts "r:po:" opt; do
  case $opt in
    r) rounds=$OPTARG ;;
    p) prio=(chrt -f 10) ;;
    o) out=$OPTARG ;;
    *) echo "usage: $0 [-r ROUNDS] [-p] [-o DIR] MSPRUNE CKPT... [-- BENCH-ARGS...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -ge 2 ]] || { echo "usage: $0 [-r ROUNDS] [-p] [-o DIR] MSPRUNE CKPT... [-- BENCH-ARGS...]" >&2; exit 2; }
msprune=$1; shift
ckpts=()
while [[ $# -gt 0 && $1 != "--" ]]; do ckpts+=("$1"); shift; done
[[ ${1:-} == "--" ]] && shift
out=${out:-$(mktemp -d)}
mkdir -p "$out"
echo "results in $out; $(nproc) cores; /proc/loadavg: $(cut -d' ' -f1-3 /proc/loadavg)${prio:+; under ${prio[*]}}"
for ((r = 1; r <= rounds; r++)); do
  for c in "${ckpts[@]}"; do
    n=$(basename "$c" .ckpt)
    "${prio[@]}" "$msprune" bench --model "$c" --out "$out/$n.$r.json" "$@" > "$out/$n.$r.txt" 2> /dev/null
  done
done
python3 - "$out" "$rounds" "${ckpts[@]}" <<'EOF'
import json, os, sys
out, rounds, ckpts = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = []
for c in ckpts:
    n = os.path.basename(c).removesuffix(".ckpt")
    runs = [json.load(open(f"{out}/{n}.{r}.json")) for r in range(1, rounds + 1)]
    for r, j in enumerate(runs, 1):
        l = j["latency_ms"]
        print(f"  {n} round {r}: LibTorch p50 {l['torch']['p50']:.3f} ms, runtime p50 {l['runtime']['p50']:.3f} ms "
              f"(load {j['loadavg']['start']})")
    bt = min(j["latency_ms"]["torch"]["p50"] for j in runs)
    br = min(j["latency_ms"]["runtime"]["p50"] for j in runs)
    j = runs[-1]
    conv = next((t for t in j["profile"]["types"] if t["type"] == "conv2d"), None)
    m = j["memory_bytes"]["runtime"]
    rss = m["rss_growth"] / (m["model"] + m["arena"]) if m["rss_growth"] is not None else float("nan")
    rows.append((j["name"], bt, br, bt / br, 2 * j["macs_per_image"] * j["batch"] / (br * 1e6),
                 conv["gflops"] if conv else float("nan"), rss, j["parity"]["rel"]))
print(f"\nbest of {rounds} medians (batch/threads as given; GFLOP/s = 2 MACs / best runtime p50;"
      " conv GFLOP/s from the last round's op-hook profile; RSS = runtime RSS growth / (model + arena))")
print(f"{'model':16} {'LibTorch ms':>11} {'runtime ms':>10} {'speed-up':>8} {'GFLOP/s':>8} {'conv GFLOP/s':>12}"
      f" {'RSS':>6} {'max|diff|/max|logit|':>21}")
for r in rows:
    print(f"{r[0]:16} {r[1]:11.3f} {r[2]:10.3f} {r[3]:7.2f}x {r[4]:8.1f} {r[5]:12.1f} {r[6]:6.3f} {r[7]:21.2g}")
EOF
