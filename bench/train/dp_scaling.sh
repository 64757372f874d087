#!/usr/bin/env bash
# Data-parallel scaling on this machine: images/s of one process (batch 64,
# one thread) against N processes (`train --nproc N`, batch 64/N each, so the
# same global batch; one thread each), for VGG-16 x0.25 and PreResNet-20 x1,
# one epoch over the first RECORDS training images (the epoch's images/s,
# which includes the first steps' warm-up), and the scaling efficiency
# (img/s with N) / (img/s with 1) / N. Prints `uptime` before and after: on
# a shared machine the figures are bound by the load. With --sync-bn, a third
# row per model: N processes with `--sync-bn` (SyncBatchNorm), its efficiency
# against one process like the others'.
#
#   bench/train/dp_scaling.sh [--nproc N] [--records 5000] [--epochs 1] [--data DIR] [--sync-bn]
set -euo pipefail
cd "$(dirname "$0")/../.."
NPROC=2 RECORDS=5000 EPOCHS=1 DATA=${MSPRUNE_DATA:-data/cifar10} SYNC_BN=0
while (($#)); do
  case $1 in
    --nproc) NPROC=$2; shift 2 ;;
    --records) RECORDS=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --sync-bn) SYNC_BN=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BIN=${MSPRUNE_BIN:-build/msprune}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "load before: $(uptime)"
printf "%-18s %10s %8s %10s %10s\n" model procs threads "img/s" efficiency
runs=(1 "$NPROC")
((SYNC_BN)) && runs+=("$NPROC+sync-bn")
for m in "vgg 16 0.25" "preresnet 20 1"; do
  set -- $m
  base=""
  for run in "${runs[@]}"; do
    n=${run%%+*}
    rm -f "$TMP/ck"
    dp=()
    ((n > 1)) && dp=(--nproc "$n")
    [[ $run == *+sync-bn ]] && dp+=(--sync-bn)
    "$BIN" train --arch "$1" --depth "$2" --width "$3" --epochs "$EPOCHS" --batch-size $((64 / n)) --sparsity 1e-4 \
      --data "$DATA" --train-subset "$RECORDS" --test-subset 100 --threads 1 --json --quiet "${dp[@]}" \
      --out "$TMP/ck" > "$TMP/log.jsonl"
    # The last epoch line (not the summary).
    line=$(grep '"epoch"' "$TMP/log.jsonl" | tail -1)
    ips=$(echo "$line" | sed -E 's/.*"images_per_s":([0-9.e+-]+).*/\1/')
    [[ -z $base ]] && base=$ips
    awk -v m="$1$2-w$3" -v r="$run" -v n="$n" -v i="$ips" -v b="$base" \
      'BEGIN { printf "%-18s %10s %8d %10.1f %9.1f%%\n", m, r, 1, i, 100 * i / b / n }'
  done
done
echo "load after:  $(uptime)"
