#!/usr/bin/env bash
# Training throughput with glibc's default malloc settings against msprune's
# (src/util/allocator.h), side by side in one run: for each network of the
# `cpu` preset, `msprune train` over the first N training records, two epochs
# (the first a warm-up), once with MSPRUNE_MALLOC=default and once without,
# in alternating order. Prints the second epoch's img/s and the ratio.
#
#   bench/train/allocator_ab.sh [--records N] [--data DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
RECORDS=3200 DATA=${MSPRUNE_DATA:-data/cifar10}
while (($#)); do
  case $1 in
    --records) RECORDS=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    *) echo "allocator_ab.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
BIN=${MSPRUNE_BIN:-build/msprune}
source bench/train/lib.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; one thread per run, batch 64, $RECORDS records"
ips() {  # MODE ARCH DEPTH WIDTH
  local env=()
  [[ $1 == default ]] && env=(MSPRUNE_MALLOC=default)
  json_num "$(second_epoch "$TMP" "$2" "$3" "$4" 1 "$RECORDS" 1e-3 "${env[@]}")" images_per_s
}
printf "%-20s %14s %14s %8s\n" network "glibc default" "msprune" ratio
for m in "vgg 16 0.25" "preresnet 20 0.5" "densenet 16 0.5"; do
  set -- $m
  d=$(ips default "$@"); t=$(ips tuned "$@")
  t2=$(ips tuned "$@"); d2=$(ips default "$@")  # the other order
  awk -v n="$1$2-w$3" -v d="$d" -v t="$t" -v d2="$d2" -v t2="$t2" \
    'BEGIN { dd = (d + d2) / 2; tt = (t + t2) / 2; printf "%-20s %8.0f img/s %8.0f img/s %7.2fx\n", n, dd, tt, tt / dd }'
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
