# Sourced by the training benchmarks (throughput.sh, allocator_ab.sh); uses
# their BIN (msprune) and DATA (CIFAR folder).

# second_epoch TMP ARCH DEPTH WIDTH THREADS RECORDS SPARSITY [VAR=VALUE...]
# `msprune train` for two epochs over the first RECORDS training records at
# batch 64 (the first epoch a warm-up), with the given environment; prints
# the second epoch's JSON line.
second_epoch() {
  local tmp=$1 arch=$2 depth=$3 width=$4 threads=$5 records=$6 s=$7
  shift 7
  rm -f "$tmp/ck"
  env "$@" "$BIN" train --arch "$arch" --depth "$depth" --width "$width" --epochs 2 --batch-size 64 --sparsity "$s" \
    --data "$DATA" --train-subset "$records" --test-subset 64 --threads "$threads" --json --quiet \
    --out "$tmp/ck" | sed -n 2p
}

# json_num LINE KEY: the number KEY holds in a one-line JSON object.
json_num() { sed -E "s/.*\"$2\":([0-9.e+-]+).*/\1/" <<<"$1"; }
