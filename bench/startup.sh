#!/usr/bin/env bash
# Start-up of each class of msprune command: every command below is run RUNS
# times (default 20) and its wall-clock time printed as min and median ms.
# Several build folders are measured side by side, their runs interleaved
# (e.g. a build before and after a change). The commands do little work on
# purpose (a tiny model, 100 test images, one timed run), so the figures are
# mostly start-up: loading the program and its libraries, and for the enclave
# commands starting msprune-enclave. `train --help` stands for the commands
# that need LibTorch (their work takes minutes).
#
#   bench/startup.sh [-n RUNS] BUILD_DIR...      (needs $MSPRUNE_DATA for infer)
set -euo pipefail
runs=20
while getopts "n:" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] BUILD_DIR..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-n RUNS] BUILD_DIR..." >&2; exit 2; }
: "${MSPRUNE_DATA:?set MSPRUNE_DATA to a CIFAR-10 folder (infer reads 100 test images)}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Fixtures per build (a model sealed to that build's enclave): a small VGG,
# 5,000 1-D points for mean shift, a key, a sealed model, a report.
nonce=00112233445566778899aabbccddeeff
i=0
for b in "$@"; do
  w=$work/$i; mkdir -p "$w"
  "$b/tee_make_vgg" --out "$w/m.msm" --cfg 16,M,32,M,64 --seed 1 > /dev/null
  awk 'BEGIN { srand(1); for (i = 0; i < 5000; i++) printf "%.6f\n", (i % 3) + rand() / 2 }' > "$w/points.txt"
  "$b/msprune" keygen --out "$w/k.key" > /dev/null
  "$b/msprune" seal --model "$w/m.msm" --out "$w/m.sealed" --platform-key "$w/k.key" > /dev/null
  "$b/msprune" attest --nonce $nonce --model "$w/m.sealed" --platform-key "$w/k.key" --out "$w/r.json" > /dev/null
  i=$((i + 1))
done

commands=(
  "version"
  "meanshift --input W/points.txt --bin-seeding"
  "inspect W/m.msm"
  "keygen --out W/new.key"
  "seal --model W/m.msm --out W/new.sealed --platform-key W/k.key"
  "attest --nonce $nonce --model W/m.sealed --platform-key W/k.key"
  "verify-report --report W/r.json --nonce $nonce --model W/m.msm --platform-key W/k.key"
  "infer --model W/m.msm --limit 100 --threads 1"
  "infer --tee emu --model W/m.sealed --platform-key W/k.key --limit 100"
  "bench --tee emu --model W/m.msm --epc-mib 0 --runs 1 --warmup 0 --ecall-runs 1"
  "train --help"
)

ms_now() { date +%s%N; }
printf '%9s %9s %6s  %s\n' "min ms" "median ms" "runs" "command   (build folder)"
for c in "${commands[@]}"; do
  declare -A times=()
  for ((r = 0; r < runs; r++)); do
    i=0
    for b in "$@"; do
      w=$work/$i
      rm -f "$w/new.key" "$w/new.sealed"
      read -r -a args <<< "${c//W\//$w/}"
      t0=$(ms_now)
      if ! "$b/msprune" "${args[@]}" > /dev/null 2> "$w/err"; then
        echo "failed: $b/msprune ${args[*]}" >&2; cat "$w/err" >&2; exit 1
      fi
      t1=$(ms_now)
      times[$i]+="$(( (t1 - t0) / 1000 )) "
      i=$((i + 1))
    done
  done
  i=0
  for b in "$@"; do
    # shellcheck disable=SC2086
    printf '%s\n' ${times[$i]} | sort -n | awk -v c="$c" -v b="$b" '
      { t[NR] = $1 / 1000 }
      END { med = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
            printf "%9.1f %9.1f %6d  msprune %s   (%s)\n", t[1], med, NR, c, b }'
    i=$((i + 1))
  done
  unset times
done
