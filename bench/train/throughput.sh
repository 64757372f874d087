#!/usr/bin/env bash
# Training throughput (images/s) and the share of each step spent in the
# model (forward + backward + optimizer) rather than the input pipeline, for
# the zoo at batch 64. One epoch over the first N training records per model
# (default 3200 = 50 steps), after one warm-up epoch that is not reported.
#
#   bench/train/throughput.sh [--threads T] [--records N] [--data DIR]
# Prints a table.
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
source bench/train/lib.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf "%-18s %8s %10s %12s %10s\n" model threads "img/s" "s/epoch(50k)" "in model"
for m in "vgg 16 1" "vgg 16 0.25" "preresnet 56 1" "densenet 40 1"; do
  set -- $m
  line=$(second_epoch "$TMP" "$1" "$2" "$3" "$THREADS" "$RECORDS" 1e-4)
  ips=$(json_num "$line" images_per_s)
  frac=$(json_num "$line" model_fraction)
  awk -v n="$1$2-w$3" -v t="$THREADS" -v i="$ips" -v f="$frac" \
    'BEGIN { printf "%-18s %8s %10.1f %12.1f %9.1f%%\n", n, t, i, 50000 / i, 100 * f }'
done
