#!/usr/bin/env bash
# The trusted computing base we wrote, in lines: every source file the
# enclave program is built from (src/runtime/ and src/tee/enclave/; the test
# tests/tee/test_enclave_purity.cpp checks that the build takes nothing from
# elsewhere), one line per file, a subtotal per folder and the total.
# Not counted: what the enclave links from the system (glibc, libstdc++,
# libcrypto, libseccomp; docs/threat-model.md).
#
#   scripts/tcb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
total=0
for dir in src/runtime src/tee/enclave; do
  sub=0
  while IFS= read -r f; do
    n=$(wc -l < "$f")
    printf '%6d  %s\n' "$n" "$f"
    sub=$((sub + n))
  done < <(find "$dir" -type f \( -name '*.h' -o -name '*.cpp' -o -name '*.inc' \) | LC_ALL=C sort)
  printf '%6d  %s/ (subtotal)\n' "$sub" "$dir"
  total=$((total + sub))
done
printf '%6d  total\n' "$total"
