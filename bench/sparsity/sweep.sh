#!/usr/bin/env bash
# Sparsity sweep (issue 12): for each configuration, sparsity-train a network,
# then measure what mean shift makes of its |gamma|: the histogram, and the
# channels / parameters / MACs that mean shift removes under each threshold
# policy (min-centre: the paper's; valley), with the pruned network's test
# accuracy before fine-tuning. Two runs at a time, one thread each.
#
#   bench/sparsity/sweep.sh [--data DIR] [--out DIR] [--jobs N] CONFIG...
#
# CONFIG is NAME:ARCH:DEPTH:WIDTH:SPARSITY:SCHEDULE:WARMUP:EPOCHS, e.g.
#   vgg-s1e-3:vgg:16:0.25:1e-3:cosine:0:10
# Each run lives in OUT/NAME/ (base.ckpt, train.jsonl, eval.json, gamma.png,
# ms-<policy>.json, ms-<policy>.ckpt, ms-<policy>-eval.json, plots-<policy>/);
# a finished step is skipped when the script runs again. At the end
# tools/sparsity_table.py prints the table (markdown) and writes OUT/sweep.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${MSPRUNE_DATA:-} OUT=runs/sweep JOBS=2 BIN=${MSPRUNE_BIN:-build/msprune}
one=""
configs=()
while (($#)); do
  case $1 in
    --data) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --one) one=$2; shift 2 ;;
    -*) echo "sweep.sh: unknown option $1" >&2; exit 2 ;;
    *) configs+=("$1"); shift ;;
  esac
done
[[ -n "$DATA" ]] || { echo "sweep.sh: give --data DIR or set MSPRUNE_DATA" >&2; exit 2; }

run_one() {
  IFS=: read -r name arch depth width s sched warm epochs <<<"$1"
  [[ -n "$epochs" ]] || { echo "sweep.sh: malformed config '$1' (want NAME:ARCH:DEPTH:WIDTH:S:SCHEDULE:WARMUP:EPOCHS)" >&2; return 2; }
  local d="$OUT/$name"
  mkdir -p "$d"
  printf '{"name":"%s","arch":"%s","depth":%s,"width":%s,"sparsity":%s,"schedule":"%s","sparsity_warmup":%s,"epochs":%s}\n' \
    "$name" "$arch" "$depth" "$width" "$s" "$sched" "$warm" "$epochs" >"$d/config.json"
  if ! grep -q '"summary"\|"final_acc"' "$d/train.jsonl" 2>/dev/null; then
    local resume=()
    [[ -f "$d/base.ckpt" ]] && resume=(--resume)
    "$BIN" train --arch "$arch" --depth "$depth" --width "$width" --sparsity "$s" --sparsity-warmup "$warm" \
      --schedule "$sched" --epochs "$epochs" --lr 0.1 --threads 1 --data "$DATA" --out "$d/base.ckpt" \
      --json --quiet "${resume[@]}" >>"$d/train.jsonl"
  fi
  # A step is redone when its output is older than the checkpoint it came from
  # (a run resumed to more epochs rewrites base.ckpt).
  fresh() { [[ -s "$1" && "$1" -nt "$2" ]]; }
  fresh "$d/eval.json" "$d/base.ckpt" || "$BIN" eval --model "$d/base.ckpt" --data "$DATA" --threads 1 --json --gamma-hist 40 \
    --gamma-plot "$d/gamma.png" >"$d/eval.json"
  for policy in min-centre valley; do
    fresh "$d/ms-$policy.json" "$d/base.ckpt" || "$BIN" prune --model "$d/base.ckpt" --method meanshift --policy "$policy" \
      --out "$d/ms-$policy.ckpt" --report "$d/ms-$policy.json" --plots "$d/plots-$policy" --quiet >/dev/null
    fresh "$d/ms-$policy-eval.json" "$d/ms-$policy.ckpt" || "$BIN" eval --model "$d/ms-$policy.ckpt" --data "$DATA" --threads 1 \
      --json >"$d/ms-$policy-eval.json"
  done
  echo "sweep.sh: $name done" >&2
}

if [[ -n "$one" ]]; then run_one "$one"; exit; fi
printf '%s\n' "${configs[@]}" | xargs -r -P "$JOBS" -I{} "$0" --data "$DATA" --out "$OUT" --one {}
/usr/bin/python3 tools/sparsity_table.py "$OUT"
