#!/usr/bin/env bash
# Reproduces the enclave measurements in docs/tee.md:
#   1. a VGG-16 at width 1 with random weights (~59 MB) and a smaller "pruned"
#      one (same graph, last six convolutions at 256 channels), via tee_make_vgg
#   2. msprune bench --tee emu over both: EPC 16/32/64/93.5 MiB and unlimited,
#      paging and weight streaming, +13 us/fault projection, ECALL round trip.
#
#   bench/tee/run.sh [BUILD_DIR] [OUT_DIR]      (defaults: build, runs/tee-bench)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
OUT=${2:-runs/tee-bench}
mkdir -p "$OUT"
"$B/tee_make_vgg" --out "$OUT/vgg16.msm" --seed 1
"$B/tee_make_vgg" --out "$OUT/vgg16-pruned.msm" --seed 2 \
  --cfg 64,64,M,128,128,M,256,256,256,M,256,256,256,M,256,256,256
"$B/msprune" bench --tee emu --model "$OUT/vgg16.msm,$OUT/vgg16-pruned.msm" \
  --epc-mib 16,32,64,93.5,0 --stream-weights --fault-cost-us 13 --runs "${RUNS:-30}" --warmup 3 \
  --plot "$OUT/tee-bench.png" --out "$OUT/tee-bench.json" | tee "$OUT/tee-bench.txt"
