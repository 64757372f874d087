#!/usr/bin/env bash
# Training throughput (images/s) and the share of each step spent in the
# model (forward + backward + optimizer) rather than the input pipeline, for
# the zoo at batch 64. One epoch over the first N training records per model
# (default 3200 = 50 steps), after one warm-up epoch that is not reported.
#
#   bench/train/throughput.sh [--threads T] [--records N] [--data DIR]
# Prints a table; the raw JSON lines go to stderr's log file in $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=2 RECORDS=3200 DATA=${MSPRUNE_DATA:-data/cifar10}
while (($#)); do
  case $1 in
    --threads) THREADS=$2; shift 2 ;;
    --records) RECORDS=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BIN=${MSPRUNE_BIN:-build/msprune}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf "%-18s %8s %10s %12s %10s\n" model threads "img/s" "s/epoch(50k)" "in model"
for m in "vgg 16 1" "vgg 16 0.25" "preresnet 56 1" "densenet 40 1"; do
  set -- $m
  rm -f "$TMP/ck"
  # Warm-up epoch + measured epoch: two epochs, report the second.
  "$BIN" train --arch "$1" --depth "$2" --width "$3" --epochs 2 --batch-size 64 --sparsity 1e-4 \
    --data "$DATA" --train-subset "$RECORDS" --test-subset 64 --threads "$THREADS" --json --quiet \
    --out "$TMP/ck" > "$TMP/log.jsonl"
  line=$(sed -n 2p "$TMP/log.jsonl")
  ips=$(echo "$line" | sed -E 's/.*"images_per_s":([0-9.e+-]+).*/\1/')
  frac=$(echo "$line" | sed -E 's/.*"model_fraction":([0-9.e+-]+).*/\1/')
  awk -v n="$1$2-w$3" -v t="$THREADS" -v i="$ips" -v f="$frac" \
    'BEGIN { printf "%-18s %8s %10.1f %12.1f %9.1f%%\n", n, t, i, 50000 / i, 100 * f }'
done
