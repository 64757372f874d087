#!/usr/bin/env bash
# Builds msprune against the GPU machine's CUDA LibTorch (the PyTorch wheel's)
# and runs `msprune pipeline --preset paper --device cuda` on a SHORTENED
# schedule. See docs/gpu.md for the device-tool call and the budget.
#
# Run THERE, from the repository root, after scripts/gpu/prepare.sh ran HERE
# and with .gpu-deps and .gpu-data carried:
#
#   scripts/gpu/run_paper.sh [--out DIR] [--epochs E] [--finetune-epochs F] [--budget-s S] ...
#
#   --out DIR            what comes back (default: $OUT): log, env.txt, summary.txt,
#                        report.md, report.json, run-files.tar.gz, meanshift.msm (7 files)
#   --epochs E           sparsity-training epochs (default 10; the paper: 160)
#   --finetune-epochs F  fine-tuning epochs (default 5; the paper: 160)
#   --arch A             vgg (default), preresnet or densenet (the paper preset's depth)
#   --data DIR           a CIFAR-10 folder (default: .gpu-data unpacked into /tmp)
#   --train-subset N, --test-subset M   passed to the pipeline (default: all records in DIR)
#   --budget-s S         wall-clock seconds for this whole script (default 540); the
#                        pipeline is stopped in time to collect its outputs
#   --resume             continue the run folder left by an earlier call (warm machine)
#   --fresh              delete that run folder first
#   --run-dir DIR        the pipeline's folder (default runs/gpu-paper-ARCH; not under
#                        --out, which is emptied each call and returns only 8 files)
#   --build-dir DIR      (default build-gpu)     --deps-prefix DIR  (default /tmp/gpudeps)
#   --torch-prefix P     CMake prefix of LibTorch (default: python3's torch.utils.cmake_prefix_path)
#   --device D           (default cuda)          --threads N (default 8)   --jobs N (default nproc)
#   --configure-only     unpack and configure, then stop (to check the set-up without a GPU)
#   --skip-build         neither configure nor build: run the programs already in --build-dir
#   -- ARGS...           more arguments for `msprune pipeline` (e.g. -- --width 0.5)
#
# The build uses the carried Debian 12 packages, unpacked with dpkg -x into
# --deps-prefix (never into /): headers and CMake files from there, and the
# executables get a DT_RPATH (not RUNPATH) to its library folder so that
# libcurl's own dependencies resolve there too; the image's glibc and libstdc++
# are used. Only the `msprune` and `msprune-enclave` targets are built.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
T0=$SECONDS

OUTDIR=${OUT:-}
ARCH=vgg
EPOCHS=10
FT_EPOCHS=5
DATA=""
TRAIN_SUBSET=""
TEST_SUBSET=""
BUDGET=540
RESUME=0
FRESH=0
RUN=""
BUILD=build-gpu
PFX=/tmp/gpudeps
TORCH_PREFIX=""
DEVICE=cuda
THREADS=8
JOBS=$(nproc)
CONFIGURE_ONLY=0
SKIP_BUILD=0
EXTRA=()
RESERVE=30  # seconds kept for collecting the outputs

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --out) OUTDIR=$2; shift 2 ;;
    --arch) ARCH=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --finetune-epochs) FT_EPOCHS=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --train-subset) TRAIN_SUBSET=$2; shift 2 ;;
    --test-subset) TEST_SUBSET=$2; shift 2 ;;
    --budget-s) BUDGET=$2; shift 2 ;;
    --resume) RESUME=1; shift ;;
    --fresh) FRESH=1; shift ;;
    --run-dir) RUN=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --deps-prefix) PFX=$2; shift 2 ;;
    --torch-prefix) TORCH_PREFIX=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --configure-only) CONFIGURE_ONLY=1; shift ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_paper: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$OUTDIR" ]] || { echo "run_paper: no output folder: give --out DIR or set OUT" >&2; exit 2; }
[[ -n "$RUN" ]] || RUN=runs/gpu-paper-$ARCH
for v in EPOCHS FT_EPOCHS BUDGET THREADS JOBS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "run_paper: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((RESUME && FRESH)) && { echo "run_paper: --resume and --fresh exclude each other" >&2; exit 2; }

mkdir -p "$OUTDIR" || exit 1
OUTDIR=$(cd "$OUTDIR" && pwd)
LOG=$OUTDIR/log
exec > >(tee -a "$LOG") 2>&1
TEE_PID=$!

ARCHDIR=x86_64-linux-gnu
L=$PFX/usr/lib/$ARCHDIR        # libraries (lib/$ARCHDIR is linked into it below)
I=$PFX/usr/include
declare -a PHASES=()           # "name status seconds" for summary.txt
PIPE_RC=""
FINAL_RC=0

elapsed() { echo $((SECONDS - T0)); }
left() { echo $((BUDGET - (SECONDS - T0))); }
say() { echo "run_paper [$(elapsed)s] $*"; }
phase_done() { PHASES+=("$1 $2 $3s"); say "phase $1: $2 ($3 s)"; }

# ---------------------------------------------------------------------------
# Outputs: at most 8 files, 16 MiB each, directly under OUTDIR.
# shellcheck disable=SC2317  # (runs from the EXIT trap)
collect() {
  local rc=$?
  ((FINAL_RC == 0)) && FINAL_RC=$rc
  trap - EXIT
  say "collecting outputs into $OUTDIR"
  local f
  for f in report.md report.json; do
    [[ -f "$RUN/$f" ]] && cp "$RUN/$f" "$OUTDIR/$f"
  done
  local tmp
  tmp=$(mktemp -d)
  mkdir -p "$tmp/run" "$tmp/build"
  if [[ -d "$RUN" ]]; then
    (cd "$RUN" && for f in logs plots prune-meanshift.json prune-slimming.json; do
       [[ -e "$f" ]] && cp -r "$f" "$tmp/run/"
     done)
  fi
  for f in CMakeCache.txt CMakeFiles/CMakeConfigureLog.yaml CMakeFiles/CMakeError.log CMakeFiles/CMakeOutput.log; do
    [[ -f "$BUILD/$f" ]] && cp "$BUILD/$f" "$tmp/build/"
  done
  tar -czf "$OUTDIR/run-files.tar.gz" -C "$tmp" run build 2>/dev/null
  if (($(stat -c %s "$OUTDIR/run-files.tar.gz") > 15 * 1048576)); then
    find "$tmp/run/plots" -name '*.png' -delete 2>/dev/null
    tar -czf "$OUTDIR/run-files.tar.gz" -C "$tmp" run build 2>/dev/null
  fi
  rm -rf "$tmp"
  if [[ -f "$RUN/meanshift.msm" ]] && (($(stat -c %s "$RUN/meanshift.msm") <= 15 * 1048576)); then
    cp "$RUN/meanshift.msm" "$OUTDIR/meanshift.msm"
  fi
  {
    echo "msprune GPU run (scripts/gpu/run_paper.sh), finished $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "SHORTENED SCHEDULE: $EPOCHS sparsity-training + $FT_EPOCHS fine-tuning epochs (the paper: 160 + 160),"
    echo "  preset paper otherwise ($ARCH at the paper's depth and full width, its sparsity, lr 0.1 step schedule)."
    echo "data: $DATA ($(cat "$DATA/.subset-note" 2>/dev/null || echo "as given"))"
    [[ -n "$TRAIN_SUBSET$TEST_SUBSET" ]] && echo "subsets: train ${TRAIN_SUBSET:-all}, test ${TEST_SUBSET:-all}"
    echo "device: $DEVICE; $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi")"
    echo "run folder (on the GPU machine): $RUN"
    echo "phases:"
    local p
    for p in "${PHASES[@]}"; do echo "  $p"; done
    ((${#EXTRA[@]})) && echo "extra pipeline arguments: ${EXTRA[*]}"
    if [[ "$PIPE_RC" == 124 ]]; then
      echo "pipeline exit status: 124: STOPPED at the time budget (continue with --resume on a warm machine)"
    elif [[ -n "$PIPE_RC" ]]; then
      echo "pipeline exit status: $PIPE_RC"
    fi
    echo "pipeline steps (from the log):"
    grep -aoE '\[[0-9]+/[0-9]+\] [a-z0-9-]+: (done in [0-9.ms]+|up to date, skipped)' "$LOG" 2>/dev/null | sed 's/^/  /'
    grep -aE "pipeline step '[^']*' failed" "$LOG" 2>/dev/null | tail -1 | sed 's/^/  /'
    echo "script exit status: $FINAL_RC, $(elapsed) s"
    echo "files here: $(find "$OUTDIR" -mindepth 1 -maxdepth 1 -printf '%f ' | tr '\n' ' ')"
  } >"$OUTDIR/summary.txt"
  cat "$OUTDIR/summary.txt"
  exec 1>&- 2>&-
  wait "$TEE_PID" 2>/dev/null
  exit "$FINAL_RC"
}
trap collect EXIT
fail() { say "FAILED: $*"; FINAL_RC=1; exit 1; }

say "start: arch $ARCH, $EPOCHS + $FT_EPOCHS epochs (SHORTENED; the paper: 160 + 160), budget ${BUDGET}s, out $OUTDIR"

# ---------------------------------------------------------------------------
# 1. The machine.
t=$SECONDS
{
  echo "== date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "== uname: $(uname -srm)"
  echo "== os: $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release 2>/dev/null | tr -d '"')"
  echo "== cpus: $(nproc); memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "== glibc: $(ldd --version 2>&1 | head -1)"
  echo "== c++: $(c++ --version 2>&1 | head -1)"
  echo "== cmake: $(cmake --version 2>&1 | head -1); ninja: $(ninja --version 2>&1 || echo none)"
  echo "== nvcc: $(nvcc --version 2>&1 | tail -2 | tr '\n' ' ' || echo none)"
  echo "== git: $(git rev-parse HEAD 2>/dev/null || echo "no .git") $(git status --short 2>/dev/null | wc -l) changed files"
  echo "== nvidia-smi:"
  if command -v nvidia-smi >/dev/null; then nvidia-smi 2>&1; else echo "(no nvidia-smi)"; fi
  echo "== python3: $(command -v python3)"
  python3 - <<'EOF' 2>&1
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
    print("cuda available:", torch.cuda.is_available(),
          "device:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")
    print("cxx11 abi:", torch.compiled_with_cxx11_abi())
    print("cmake prefix:", torch.utils.cmake_prefix_path)
except Exception as e:
    print("no usable torch in python3:", e)
EOF
} >"$OUTDIR/env.txt" 2>&1
cat "$OUTDIR/env.txt"
[[ "$(uname -m)" == x86_64 ]] || fail "this script expects an x86-64 machine"
phase_done machine ok $((SECONDS - t))

# ---------------------------------------------------------------------------
# 2. The carried Debian packages, into a private prefix (never into /).
t=$SECONDS
[[ -f .gpu-deps/MANIFEST ]] || fail ".gpu-deps/MANIFEST missing: run scripts/gpu/prepare.sh here and carry .gpu-deps"
want=$(sha256sum <.gpu-deps/MANIFEST | cut -d' ' -f1)
if [[ "$(cat "$PFX/.unpacked" 2>/dev/null)" == "$want" ]]; then
  say "deps: $PFX already unpacked"
else
  (cd .gpu-deps && grep -v '^#' MANIFEST | sha256sum --quiet -c -) || fail ".gpu-deps does not match its MANIFEST"
  rm -rf "$PFX"
  mkdir -p "$PFX" || fail "cannot create $PFX"
  for deb in .gpu-deps/*.deb; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$deb" "$PFX" || fail "dpkg-deb -x $deb"
    else  # a .deb is an ar archive holding data.tar.*
      member=$(ar t "$deb" | grep '^data\.tar') || fail "$deb: no data.tar member"
      case "$member" in
        *.xz) z=(-J) ;; *.zst) z=(--zstd) ;; *.gz) z=(-z) ;; *) z=() ;;
      esac
      ar p "$deb" "$member" | tar -x "${z[@]}" -f - -C "$PFX" || fail "unpacking $deb"
    fi
  done
  # Absolute symlinks (libz.so -> /lib/...) must point inside the prefix.
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    [[ "$target" == /* ]] && ln -sfn "$PFX$target" "$link"
  done < <(find "$PFX" -type l -print0)
  # Debian 12 still ships a few libraries in /lib/<arch>: one folder for all.
  if [[ -d "$PFX/lib/$ARCHDIR" ]]; then
    for f in "$PFX/lib/$ARCHDIR"/*; do
      [[ -e "$L/$(basename "$f")" ]] || ln -s "$f" "$L/$(basename "$f")"
    done
  fi
  echo "$want" >"$PFX/.unpacked"
  say "deps: $(find .gpu-deps -name '*.deb' | wc -l) packages unpacked into $PFX"
fi
for f in "$L/libcurl.so" "$L/libcrypto.so" "$L/libcrypto.a" "$L/libseccomp.so" "$L/libseccomp.a" "$L/libz.so" \
         "$I/seccomp.h" "$I/zlib.h" "$I/openssl/evp.h" "$I/$ARCHDIR/curl/curl.h" "$I/$ARCHDIR/openssl/configuration.h" \
         "$L/cmake/GTest/GTestConfig.cmake" "$PFX/usr/share/cmake/CLI11/CLI11Config.cmake" \
         "$PFX/usr/share/cmake/nlohmann_json/nlohmann_jsonConfig.cmake"; do
  [[ -e "$f" ]] || fail "unpacked deps lack $f"
done
phase_done deps ok $((SECONDS - t))

# ---------------------------------------------------------------------------
# 3. The data: .gpu-data (an xz-compressed CIFAR-10 subset) unpacked into /tmp.
t=$SECONDS
if [[ -z "$DATA" ]]; then
  [[ -f .gpu-data/SHA256SUMS ]] || fail "no --data and no .gpu-data: run scripts/gpu/prepare.sh here and carry .gpu-data"
  DATA=/tmp/msprune-cifar10
  if ! (cd "$DATA" 2>/dev/null && sha256sum --quiet -c "$ROOT/.gpu-data/SHA256SUMS" 2>/dev/null); then
    rm -rf "$DATA"
    mkdir -p "$DATA" || fail "cannot create $DATA"
    for x in .gpu-data/*.xz; do
      dst=$DATA/$(basename "$x" .xz)
      if command -v xz >/dev/null; then
        xz -dc "$x" >"$dst" || fail "xz -d $x"
      else
        python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
          "$x" "$dst" || fail "lzma $x"
      fi
    done
    [[ -f .gpu-data/batches.meta.txt ]] && cp .gpu-data/batches.meta.txt "$DATA/"
    (cd "$DATA" && sha256sum --quiet -c "$ROOT/.gpu-data/SHA256SUMS") || fail "the unpacked subset does not match SHA256SUMS"
  fi
  sed -n 's/^source=.* train=\([0-9]*\) test=\([0-9]*\)$/CIFAR-10 SUBSET: the first \1 training and \2 test records, not the full set/p' \
    .gpu-data/PARAMS >"$DATA/.subset-note"
  say "data: $(cat "$DATA/.subset-note") in $DATA"
fi
[[ -d "$DATA" ]] || fail "data folder $DATA does not exist"
phase_done data ok $((SECONDS - t))

# ---------------------------------------------------------------------------
# 4. Configure (skipped with --skip-build).
if ((!CONFIGURE_ONLY)); then
  if [[ -d "$RUN" ]] && [[ -n "$(ls -A "$RUN" 2>/dev/null)" ]] && ((!RESUME)); then
    if ((FRESH)); then
      rm -rf "$RUN"
    else
      fail "$RUN already holds a run: add --resume to continue it or --fresh to start over"
    fi
  fi
fi
GEN=Ninja
command -v ninja >/dev/null || GEN="Unix Makefiles"
[[ -f "$BUILD/build.ninja" || ! -f "$BUILD/Makefile" ]] || GEN="Unix Makefiles"
configure() {
  t=$SECONDS
  if [[ -z "$TORCH_PREFIX" ]]; then
    TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) ||
      fail "python3 cannot import torch; give --torch-prefix"
  fi
  cmake_args=(
    -S . -B "$BUILD" -G "$GEN" -DCMAKE_BUILD_TYPE=Release -DMSPRUNE_BUILD_BENCH=OFF
    "-DCMAKE_PREFIX_PATH=$TORCH_PREFIX;$PFX/usr"
    -DCMAKE_POLICY_VERSION_MINIMUM=3.5  # CMake 4 (the image's may be the pip one): old configs
    "-DGTest_DIR=$L/cmake/GTest"
    "-DCLI11_DIR=$PFX/usr/share/cmake/CLI11"
    "-Dnlohmann_json_DIR=$PFX/usr/share/cmake/nlohmann_json"
    -DCURL_NO_CURL_CMAKE=ON "-DCURL_INCLUDE_DIR=$I/$ARCHDIR" "-DCURL_LIBRARY_RELEASE=$L/libcurl.so"
    "-DZLIB_INCLUDE_DIR=$I" "-DZLIB_LIBRARY_RELEASE=$L/libz.so"
    "-DOPENSSL_ROOT_DIR=$PFX/usr" "-DOPENSSL_INCLUDE_DIR=$I"
    "-DOPENSSL_CRYPTO_LIBRARY=$L/libcrypto.so" "-DOPENSSL_SSL_LIBRARY=$L/libssl.so"
    "-DMSPRUNE_SECCOMP_INCLUDE=$I" "-DMSPRUNE_SECCOMP_LIB=$L/libseccomp.so"
    "-DMSPRUNE_CRYPTO_STATIC=$L/libcrypto.a" "-DMSPRUNE_SECCOMP_STATIC=$L/libseccomp.a"
    # OpenSSL's and curl's multiarch headers (configuration.h, curl/curl.h).
    "-DCMAKE_C_FLAGS=-isystem $I/$ARCHDIR" "-DCMAKE_CXX_FLAGS=-isystem $I/$ARCHDIR"
    # --no-as-needed keeps libtorch_cuda.so (else CUDA may not register);
    # DT_RPATH (not RUNPATH) also serves the carried libraries' own dependencies.
    "-DCMAKE_EXE_LINKER_FLAGS=-Wl,--no-as-needed -Wl,--disable-new-dtags -Wl,-rpath-link,$L -Wl,-rpath,$L"
  )
  NVCC=$(command -v nvcc || true)
  [[ -z "$NVCC" && -x /usr/local/cuda/bin/nvcc ]] && NVCC=/usr/local/cuda/bin/nvcc
  if [[ -n "$NVCC" ]]; then
    # Torch's CMake enables the CUDA language; we compile no CUDA code, so name
    # the H100/H200 architecture rather than let CMake probe for one.
    cmake_args+=("-DCMAKE_CUDA_COMPILER=$NVCC" -DCMAKE_CUDA_ARCHITECTURES=90
                 "-DCUDAToolkit_ROOT=$(dirname "$(dirname "$(realpath "$NVCC")")")")
  fi
  say "configure: cmake ${cmake_args[*]}"
  cmake "${cmake_args[@]}" || fail "cmake configure (see run-files.tar.gz: build/CMakeConfigureLog.yaml)"
  # Every dependency must come from the carried prefix (or LibTorch's).
  say "configure: where each dependency was found:"
  bad=0
  for v in GTest_DIR CLI11_DIR nlohmann_json_DIR CURL_INCLUDE_DIR CURL_LIBRARY_RELEASE ZLIB_INCLUDE_DIR \
           ZLIB_LIBRARY_RELEASE OPENSSL_INCLUDE_DIR OPENSSL_CRYPTO_LIBRARY MSPRUNE_SECCOMP_INCLUDE MSPRUNE_SECCOMP_LIB \
           MSPRUNE_CRYPTO_STATIC MSPRUNE_SECCOMP_STATIC; do
    val=$(sed -n "s/^$v:[A-Z]*=//p" "$BUILD/CMakeCache.txt" | head -1)
    printf '  %-24s %s\n' "$v" "$val"
    [[ "$val" == "$PFX"/* ]] || bad=1
  done
  printf '  %-24s %s\n' Torch_DIR "$(sed -n 's/^Torch_DIR:[A-Z]*=//p' "$BUILD/CMakeCache.txt")"
  ((bad == 0)) || fail "a dependency was found outside $PFX (see above)"
  phase_done configure ok $((SECONDS - t))
}
((SKIP_BUILD)) || configure
if ((CONFIGURE_ONLY)); then
  say "--configure-only: stopping here"
  exit 0
fi

# ---------------------------------------------------------------------------
# 5. Build the two programs the pipeline runs (skipped with --skip-build).
build() {
  t=$SECONDS
  budget_left=$(($(left) - RESERVE))
  ((budget_left > 60)) || fail "no time left to build"
  timeout -k 10 "$budget_left" cmake --build "$BUILD" --target msprune msprune-enclave -j "$JOBS"
  rc=$?
  ((rc == 0)) || { phase_done build "failed(rc=$rc)" $((SECONDS - t)); fail "build (exit status $rc)"; }
  phase_done build ok $((SECONDS - t))
  if [[ "$GEN" == Ninja ]]; then
    # Headers of the carried packages must have come from the prefix, not the image.
    stray=$(ninja -C "$BUILD" -t deps 2>/dev/null | grep -E '/(openssl|curl|CLI|nlohmann|gtest)/|/(seccomp|zlib|zconf)\.h$' |
            grep -v "^ *$PFX/" | grep -v '/linux/seccomp\.h$' | sort -u)
    if [[ -n "$stray" ]]; then
      say "WARNING: headers of carried packages taken from outside $PFX:"; echo "$stray" | head -20
    else
      say "headers: every OpenSSL, curl, CLI11, nlohmann_json, seccomp and zlib header came from $PFX"
    fi
  fi
}
((SKIP_BUILD)) || build
[[ -x "$BUILD/msprune" && -x "$BUILD/msprune-enclave" ]] || fail "no msprune and msprune-enclave in $BUILD"
say "msprune links (NEEDED, RPATH):"
readelf -d "$BUILD/msprune" | grep -E 'NEEDED|RPATH|RUNPATH' | sed 's/^/  /'
readelf -d "$BUILD/msprune" | grep -q 'libtorch_cuda' || say "WARNING: msprune does not link libtorch_cuda.so: --device cuda will fail"
if ldd "$BUILD/msprune" | grep -q 'not found'; then
  ldd "$BUILD/msprune" | grep 'not found'
  say "WARNING: unresolved libraries; adding $L to LD_LIBRARY_PATH"
  export LD_LIBRARY_PATH=$L${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
ldd "$BUILD/msprune-enclave" | sed 's/^/  enclave: /'

# ---------------------------------------------------------------------------
# 6. The pipeline, stopped in time to collect its outputs.
# Plots: the pipeline draws them with gnuplot, which the image lacks (its
# Debian closure alone is about 59 MB). A stand-in writes a 1x1 placeholder
# image so that the steps go on; the .gp scripts (data inline) come back in
# run-files.tar.gz: draw them with `gnuplot FILE.gp` where gnuplot is.
if ! command -v gnuplot >/dev/null; then
  mkdir -p /tmp/msprune-gpu-bin
  cat >/tmp/msprune-gpu-bin/gnuplot <<'EOF'
#!/bin/sh
# Stand-in for gnuplot (scripts/gpu/run_paper.sh): writes a placeholder, not a plot.
out=$(sed -n 's/^set output "\(.*\)"$/\1/p' "$1" | head -1)
[ -n "$out" ] || { echo "gnuplot stand-in: no 'set output' in $1" >&2; exit 1; }
case "$out" in
  *.svg) printf '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40"><text x="5" y="25">placeholder: no gnuplot on the GPU machine; draw %s</text></svg>\n' "$1" >"$out" ;;
  *) printf '%s' 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEAsTj2FAAAAABJRU5ErkJggg==' | base64 -d >"$out" ;;
esac
echo "gnuplot stand-in: $out is a PLACEHOLDER; draw $1 with gnuplot" >&2
EOF
  chmod +x /tmp/msprune-gpu-bin/gnuplot
  export PATH=/tmp/msprune-gpu-bin:$PATH
  say "NOTE: no gnuplot here: plots in this run are 1x1 PLACEHOLDERS (their .gp scripts come back in run-files.tar.gz)"
fi

t=$SECONDS
cmd=("$BUILD/msprune" pipeline --arch "$ARCH" --preset paper --device "$DEVICE" --epochs "$EPOCHS"
     --finetune-epochs "$FT_EPOCHS" --data "$DATA" --out "$RUN" --threads "$THREADS")
[[ -n "$TRAIN_SUBSET" ]] && cmd+=(--train-subset "$TRAIN_SUBSET")
[[ -n "$TEST_SUBSET" ]] && cmd+=(--test-subset "$TEST_SUBSET")
((RESUME)) && cmd+=(--resume)
cmd+=("${EXTRA[@]}")
budget_left=$(($(left) - RESERVE))
((budget_left > 30)) || fail "no time left for the pipeline"
say "pipeline (SHORTENED SCHEDULE: $EPOCHS + $FT_EPOCHS epochs, not the paper's 160 + 160), at most ${budget_left}s:"
say "  ${cmd[*]}"
timeout -k 10 "$budget_left" "${cmd[@]}"
PIPE_RC=$?
if ((PIPE_RC == 124)); then
  phase_done pipeline "stopped-at-budget" $((SECONDS - t))
  FINAL_RC=124
elif ((PIPE_RC != 0)); then
  phase_done pipeline "failed(rc=$PIPE_RC)" $((SECONDS - t))
  FINAL_RC=$PIPE_RC
else
  phase_done pipeline ok $((SECONDS - t))
fi
exit "$FINAL_RC"
