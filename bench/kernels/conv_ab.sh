#!/usr/bin/env bash
# A/B timing of the runtime's optimized conv2d and affine: the working tree's kernels
# against those at REV (default HEAD~1), in one program, alternating.
#
#   bench/kernels/conv_ab.sh [REV]
#
# Needs an AVX-512 CPU and a configured build/ (for libmsprune_runtime.a).
set -euo pipefail
cd "$(dirname "$0")/../.."
REV=${1:-HEAD~1}
grep -q avx512f /proc/cpuinfo || { echo "conv_ab: this CPU has no AVX-512" >&2; exit 1; }
cmake --build build --target msprune_runtime >/dev/null
LIB=$(find build -name libmsprune_runtime.a | head -1)
[[ -n "$LIB" ]] || { echo "conv_ab: build/ has no libmsprune_runtime.a" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/old/runtime/kernels" "$tmp/new/runtime/kernels"
git show "$REV:src/runtime/kernels/simd_kernels.h" >"$tmp/old/runtime/kernels/simd_kernels.h" ||
  { echo "conv_ab: no src/runtime/kernels/simd_kernels.h at $REV" >&2; exit 1; }
cp src/runtime/kernels/simd_kernels.h "$tmp/new/runtime/kernels/"
for side in old new; do
  # avx512.cpp with its namespace renamed, including this side's header first.
  sed "s/namespace msprune::rt::avx512 {/namespace msprune::rt::ab_$side {/" src/runtime/kernels/avx512.cpp >"$tmp/$side/k.cpp"
  g++ -O3 -std=c++20 -mavx512f -mfma -Wno-maybe-uninitialized -I"$tmp/$side" -Isrc -c "$tmp/$side/k.cpp" -o "$tmp/$side.o"
done
g++ -O2 -std=c++20 -Isrc bench/kernels/conv_ab.cpp "$tmp/new.o" "$tmp/old.o" "$LIB" -lpthread -o "$tmp/conv_ab"
echo "new: working tree ($(git rev-parse --short HEAD)$(git diff --quiet -- src/runtime/kernels || echo ', modified')); old: $REV ($(git rev-parse --short "$REV"))"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these cores)"
"$tmp/conv_ab"
