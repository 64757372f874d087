#!/usr/bin/env bash
# Prepares what a GPU run (scripts/gpu/run_paper.sh) needs and the GPU machine
# cannot fetch: it reaches nothing outside itself, and only the working tree
# plus up to 8 git-ignored "carry" paths travel there, 64 MiB in all.
#
# Run HERE, on Debian 12, from anywhere in the repository:
#
#   scripts/gpu/prepare.sh [--data DIR] [--train N] [--test M] [--no-data] [--limit-mib L] [--force]
#
# Writes two git-ignored folders in the repository root:
#
#   .gpu-deps/  the .deb files of the build dependencies that the GPU image
#               (PyTorch, CUDA, CMake, ninja, a compiler) may lack: the headers
#               and CMake files of GTest, CLI11, nlohmann_json, libcurl,
#               OpenSSL, libseccomp and zlib, plus the shared libraries they
#               need at link and run time (libcurl's whole closure). glibc,
#               libstdc++ and libgcc are NOT included: the image's own are used.
#               run_paper.sh unpacks them with `dpkg -x` into a private prefix.
#   .gpu-data/  a CIFAR-10 SUBSET in the official binary layout, xz-compressed:
#               the first N/5 records of each data_batch_i.bin and the first M
#               records of test_batch.bin (whole 3073-byte records), plus
#               batches.meta.txt, SHA256SUMS of the uncompressed files and a
#               README. The full set (6 x 30,730,000 bytes, about 176 MiB, about
#               135 MiB even under xz) cannot travel within 64 MiB.
#
# The data folder is --data, else $MSPRUNE_DATA. Defaults: N = 15000, M = 2000
# (about 40 MiB of xz). At the end it prints the sizes and the total that a
# device call carrying both folders would send; it fails if that total exceeds
# --limit-mib (default 60, leaving room under the tool's 64 MiB).
set -euo pipefail
cd "$(dirname "$0")/../.."

DATA=${MSPRUNE_DATA:-}
TRAIN=15000
TEST=2000
WITH_DATA=1
LIMIT_MIB=60
FORCE=0
while (($#)); do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --train) TRAIN=$2; shift 2 ;;
    --test) TEST=$2; shift 2 ;;
    --no-data) WITH_DATA=0; shift ;;
    --limit-mib) LIMIT_MIB=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "prepare: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

die() { echo "prepare: $*" >&2; exit 1; }
[[ "$TRAIN" =~ ^[0-9]+$ && "$TEST" =~ ^[0-9]+$ ]] || die "--train and --test take whole numbers"
((TRAIN >= 5 && TEST >= 1)) || die "need --train >= 5 (one record per training file at least) and --test >= 1"

# ---------------------------------------------------------------------------
# Ignore both folders (they must never be committed; the device tool carries
# them only when named in `carry`).
for p in /.gpu-deps/ /.gpu-data/; do
  grep -qxF "$p" .gitignore || die "$p is missing from .gitignore; add it before preparing"
done

# ---------------------------------------------------------------------------
# 1. Build dependencies as .deb files.
#
# What the build finds (CMakeLists.txt, src/*/CMakeLists.txt): GTest (top level,
# tests are always configured), nlohmann_json, CLI11, CURL, ZLIB, OpenSSL
# (libcrypto, also static for the enclave), seccomp.h + libseccomp (shared,
# and static for the enclave). LibTorch comes from the image's PyTorch.
TOP=(libgtest-dev libcli11-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev libseccomp-dev zlib1g-dev)
# Never carried: the C library and compiler runtime (the image's own must be
# used), kernel headers, and packages needed only by libc6-dev.
EXCLUDE='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt1|libcrypt-dev|libgcc-s1|gcc-[0-9]+-base|libstdc\+\+6|libnsl2|libnsl-dev|libtirpc3|libtirpc-dev|libtirpc-common|rpcsvc-proto|googletest|debconf|perl-base|dpkg|tar)$'

mapfile -t CLOSURE < <(
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances "${TOP[@]}" 2>/dev/null | grep -v '^ ' | grep -v '^<' | sort -u | grep -Ev "$EXCLUDE")
((${#CLOSURE[@]} >= ${#TOP[@]})) || die "apt-cache found too few packages; run apt-get update?"
for t in "${TOP[@]}"; do
  printf '%s\n' "${CLOSURE[@]}" | grep -qxF "$t" || die "package $t missing from the closure"
done

mkdir -p .gpu-deps
if ((FORCE)) || [[ ! -f .gpu-deps/MANIFEST ]] || [[ "$(sed -n 's/^# packages: //p' .gpu-deps/MANIFEST)" != "${CLOSURE[*]}" ]]; then
  rm -f .gpu-deps/*.deb .gpu-deps/MANIFEST
  echo "prepare: downloading ${#CLOSURE[@]} packages: ${CLOSURE[*]}" >&2
  (cd .gpu-deps && apt-get download -q -o APT::Sandbox::User=root "${CLOSURE[@]}")
  {
    echo "# .deb files for scripts/gpu/run_paper.sh (unpacked with dpkg -x into a private prefix)"
    echo "# made by scripts/gpu/prepare.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(sed -n "s/^PRETTY_NAME=//p" /etc/os-release | tr -d \")"
    echo "# packages: ${CLOSURE[*]}"
    (cd .gpu-deps && sha256sum -- *.deb)
  } >.gpu-deps/MANIFEST.tmp
  mv .gpu-deps/MANIFEST.tmp .gpu-deps/MANIFEST
else
  echo "prepare: .gpu-deps already holds the same ${#CLOSURE[@]} packages (--force to download again)" >&2
  (cd .gpu-deps && grep -v '^#' MANIFEST | sha256sum --quiet -c -) || die ".gpu-deps does not match its MANIFEST; re-run with --force"
fi

# ---------------------------------------------------------------------------
# 2. A CIFAR-10 subset, compressed.
REC=3073  # 1 label byte + 3x32x32 pixels
if ((WITH_DATA)); then
  [[ -n "$DATA" ]] || die "no data folder: give --data DIR or set MSPRUNE_DATA (or --no-data)"
  SRC=$DATA
  [[ -f "$SRC/data_batch_1.bin" ]] || SRC=$DATA/cifar-10-batches-bin
  for f in data_batch_{1..5}.bin test_batch.bin; do
    [[ -f "$SRC/$f" ]] || die "$DATA: $f not found (need the CIFAR-10 binary layout)"
    sz=$(stat -c %s "$SRC/$f")
    ((sz % REC == 0)) || die "$SRC/$f: $sz bytes is not a whole number of $REC-byte records"
  done
  per=$((TRAIN / 5)) extra=$((TRAIN % 5))
  per_text=$per
  ((extra == 0)) || per_text="$per or $((per + 1))"
  stamp="source=$(realpath "$SRC") train=$TRAIN test=$TEST"
  if ((FORCE)) || [[ "$(cat .gpu-data/PARAMS 2>/dev/null)" != "$stamp" ]] ||
     ! (cd .gpu-data && ls data_batch_{1..5}.bin.xz test_batch.bin.xz SHA256SUMS >/dev/null 2>&1); then
    rm -rf .gpu-data.tmp && mkdir -p .gpu-data.tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    for i in 1 2 3 4 5; do
      n=$((per + (i <= extra ? 1 : 0)))
      avail=$(($(stat -c %s "$SRC/data_batch_$i.bin") / REC))
      ((n <= avail)) || die "data_batch_$i.bin holds $avail records, $n asked"
      head -c $((n * REC)) "$SRC/data_batch_$i.bin" >"$tmp/data_batch_$i.bin"
    done
    avail=$(($(stat -c %s "$SRC/test_batch.bin") / REC))
    ((TEST <= avail)) || die "test_batch.bin holds $avail records, $TEST asked"
    head -c $((TEST * REC)) "$SRC/test_batch.bin" >"$tmp/test_batch.bin"
    if [[ -f "$SRC/batches.meta.txt" ]]; then cp "$SRC/batches.meta.txt" "$tmp/"; fi
    (cd "$tmp" && sha256sum -- *.bin) >.gpu-data.tmp/SHA256SUMS
    echo "prepare: compressing the subset with xz -9 (about a minute)" >&2
    for f in "$tmp"/*.bin; do
      nice xz -9 -c "$f" >".gpu-data.tmp/$(basename "$f").xz"
    done
    if [[ -f "$tmp/batches.meta.txt" ]]; then cp "$tmp/batches.meta.txt" .gpu-data.tmp/; fi
    counts=""
    if command -v python3 >/dev/null; then
      counts=$(python3 - "$tmp" "$REC" <<'EOF'
import sys, glob
d, rec = sys.argv[1], int(sys.argv[2])
for name, files in (("train", sorted(glob.glob(d + "/data_batch_*.bin"))), ("test", [d + "/test_batch.bin"])):
    c = [0] * 10
    for f in files:
        b = open(f, "rb").read()
        for i in range(0, len(b), rec):
            c[b[i]] += 1
    print(f"{name} records per class (0..9): {' '.join(map(str, c))}")
EOF
)
    fi
    cat >.gpu-data.tmp/README.txt <<EOF
A CIFAR-10 subset for scripts/gpu/run_paper.sh, made by scripts/gpu/prepare.sh
on $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(realpath "$SRC").

The official binary layout (data_batch_1..5.bin, test_batch.bin), each file
xz-compressed, each the FIRST records of the source file, whole $REC-byte
records: $per_text training records from each data_batch file ($TRAIN in all), the
first $TEST of test_batch.bin. SHA256SUMS holds the sums of the uncompressed
files. If the source is the JPEG-re-encoded copy in ../shared/data (see its
README), accuracy is close to, not equal to, the published CIFAR-10 figures;
on a subset this small it is lower still. Not the paper's data set.
$counts
EOF
    echo "$stamp" >.gpu-data.tmp/PARAMS
    rm -rf .gpu-data && mv .gpu-data.tmp .gpu-data
  else
    echo "prepare: .gpu-data already holds this subset (--force to make it again)" >&2
  fi
fi

# ---------------------------------------------------------------------------
# 3. Sizes. What travels: tracked files, untracked files git does not ignore,
# and the carried folders.
tree_bytes=$( (git ls-files -z --cached --others --exclude-standard) |
  while IFS= read -r -d '' f; do [[ -f "$f" && ! -L "$f" ]] && printf '%s\0' "$f"; done |
  du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
deps_bytes=$(du -sb .gpu-deps | cut -f1)
data_bytes=0
[[ -d .gpu-data ]] && data_bytes=$(du -sb .gpu-data | cut -f1)
total=$((tree_bytes + deps_bytes + data_bytes))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "prepare: .gpu-deps  $(mib "$deps_bytes") ($(find .gpu-deps -name '*.deb' | wc -l) .deb files)"
if [[ -d .gpu-data ]]; then
  echo "prepare: .gpu-data  $(mib "$data_bytes") ($(sed -n 's/^source=.* train=\([0-9]*\) test=\([0-9]*\)$/\1 training + \2 test records/p' .gpu-data/PARAMS), xz)"
fi
echo "prepare: working tree $(mib "$tree_bytes")"
echo "prepare: a device call carrying [\".gpu-deps\", \".gpu-data\"] sends about $(mib "$total") of 64 MiB"
if ((total > LIMIT_MIB * 1048576)); then
  die "that is over --limit-mib $LIMIT_MIB: make a smaller subset (--train/--test)"
fi
