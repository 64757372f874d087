#!/usr/bin/env bash
# The whole test suite, through CTest, on the Release build in build/.
# Data-dependent tests read CIFAR-10 from $MSPRUNE_DATA (skipped when unset).
#
#   ./scripts/test.sh               # everything
#   ./scripts/test.sh -R Cluster    # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${MSPRUNE_JOBS:-$(nproc)}

[[ -f build/build.ninja || -f build/Makefile ]] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS"
ctest --test-dir build --output-on-failure -j "$JOBS" "$@"
