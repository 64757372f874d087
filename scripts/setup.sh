#!/usr/bin/env bash
# Set-up: installs the Debian packages the build needs (only those missing),
# then configures and builds msprune in Release into build/.
#
#   ./scripts/setup.sh            # packages + build/
#   MSPRUNE_SKIP_APT=1 ./scripts/setup.sh   # build only
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-pthread      # LibTorch 1.13 + a fast BLAS
  libgloo-dev                            # Gloo's headers, for c10d's ProcessGroupGloo (data-parallel
                                         # training; libtorch_cpu already links libgloo0)
  libdnnl-dev ocl-icd-opencl-dev         # oneDNN: benchmark peer (optional in CMake; its
                                         # CMake config needs OpenCL, only "recommended")
  libssl-dev libseccomp-dev              # sealing/attestation, enclave sandbox
  libcurl4-openssl-dev zlib1g-dev        # `msprune data fetch`
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libhwy-dev
  gnuplot-nox                            # plots
  clang libfuzzer-14-dev libclang-rt-14-dev  # fuzzing, sanitizers
  python3 python3-sklearn python3-numpy  # mean-shift reference (golden files), results table
  python3-torch python3-onnx             # interop tests: PyTorch checkpoints in the authors' layout,
                                         # the ONNX checker
  libonnx-dev libprotobuf-dev            # ONNX export/import (ONNX's own protobuf definitions;
                                         # its headers include protobuf's, which libonnx-dev omits)
)

if [[ "${MSPRUNE_SKIP_APT:-0}" != 1 ]]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    [[ "$p" == \#* ]] && continue
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""
    [[ $(id -u) == 0 ]] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: all ${#PACKAGES[@]} packages already installed" >&2
  fi
  # Node.js + npm, for ONNX Runtime (below). Only when missing: a machine may
  # have another Node.js (e.g. NodeSource's, which bundles npm).
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "setup: installing nodejs npm" >&2
    SUDO=""
    [[ $(id -u) == 0 ]] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nodejs npm
  fi
fi

# ONNX Runtime's CPU build from npm (onnxruntime-node, pinned in
# tools/ort/package-lock.json) into tools/ort/node_modules. --ignore-scripts:
# its install script downloads GPU extras and fails offline; the bundled CPU
# library needs none. Skipped when already installed at the pinned version.
if command -v npm >/dev/null 2>&1; then
  if ! node -e 'process.exit(require("./tools/ort/node_modules/onnxruntime-node/package.json").version === "1.30.0" ? 0 : 1)' 2>/dev/null; then
    echo "setup: npm ci onnxruntime-node (tools/ort)" >&2
    (cd tools/ort && npm ci --ignore-scripts --no-audit --no-fund)
  fi
else
  echo "setup: npm not found: ONNX Runtime tests and benchmarks will be skipped" >&2
fi

JOBS=${MSPRUNE_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS"
echo "setup: built into build/ (try: build/msprune --help)" >&2
