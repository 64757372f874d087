#!/usr/bin/env bash
# The README's two commands on a machine where nothing was installed by hand.
#
# Builds a minimal Debian root (debootstrap --variant=minbase) from the same
# package source that this machine's apt uses, copies the checkout into it
# (tracked and untracked-but-not-ignored files: no build/, no runs/), and runs
#
#     ./scripts/setup.sh && ./scripts/test.sh
#
# inside it as root, with $MSPRUNE_DATA bound in read-only. Then it removes
# ocl-icd-opencl-dev and oneDNN from that root and builds again
# (MSPRUNE_SKIP_APT=1 ./scripts/setup.sh): a benchmark peer must not break the
# product's build. It prints the packages set-up installed, the disk the root
# grew by, the build time and the test summary, and exits non-zero on any
# failure, including when debootstrap cannot run here (it says why).
#
#   sudo MSPRUNE_DATA=/path/to/cifar10 scripts/check-fresh-setup.sh
#
# Environment: CHECK_ROOT=DIR (where to build the root; default a new folder
# under /var/tmp), KEEP_ROOT=1 (keep it afterwards), MSPRUNE_SKIP_FUZZ=1 (passed
# through to test.sh). Takes about 40 minutes on 2 cores and ~6 GiB of disk.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "check-fresh-setup: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }
now() { date +%s; }
hms() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

[[ $(id -u) == 0 ]] || die "needs root (debootstrap, chroot and mounts); run it with sudo"
. /etc/os-release
[[ "${VERSION_CODENAME:-}" == bookworm ]] ||
  die "this machine is ${PRETTY_NAME:-unknown}; the check builds a bookworm root from this machine's bookworm sources"
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap on this machine"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2 ||
    die "debootstrap is not installed and 'apt-get install debootstrap' failed"
fi

# The package source: the first bookworm 'deb' URI of this machine's apt
# configuration (deb822 .sources files or the one-line sources.list).
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [[ -f "$f" ]] || continue
  mirror=$(awk 'BEGIN{RS=""} /Types:[^\n]*deb( |$|\n)/ && /Suites:[^\n]*bookworm( |\n|$)/ {
                 if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u; exit } }' "$f")
  [[ -n "$mirror" ]] && break
done
if [[ -z "$mirror" && -f /etc/apt/sources.list ]]; then
  mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
fi
[[ -n "$mirror" ]] || die "found no 'deb ... bookworm' source in /etc/apt; cannot tell debootstrap where packages come from"

data=${MSPRUNE_DATA:-}
[[ -n "$data" && -f "$data/test_batch.bin" ]] ||
  die "MSPRUNE_DATA must name a CIFAR-10 folder (with test_batch.bin); the data tests would be skipped otherwise"
data=$(realpath "$data")

root=${CHECK_ROOT:-$(mktemp -d /var/tmp/msprune-fresh.XXXXXX)}
mkdir -p "$root"
mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  if [[ "${KEEP_ROOT:-0}" == 1 ]]; then say "root kept at $root"; else rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT
mnt() { mount "$@"; mounts+=("${!#}"); }

t0=$(now)
say "debootstrap --variant=minbase bookworm $root $mirror"
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1; then
  tail -n 20 "$root.debootstrap.log" >&2
  die "debootstrap failed (log above, whole log in $root.debootstrap.log)"
fi
rm -f "$root.debootstrap.log"
t_boot=$(($(now) - t0))

# Same apt sources and the apt options that make them work here (e.g. a
# snapshot mirror's Check-Valid-Until); name resolution as on this machine.
rm -f "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  [[ -f "$f" ]] && grep -q bookworm "$f" && cp "$f" "$root$f"
done
for f in /etc/apt/apt.conf.d/*; do
  [[ -f "$f" ]] && grep -q '^Acquire::' "$f" && cp "$f" "$root$f"
done
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp /etc/hosts "$root/etc/hosts"
# The npm registry as this machine reaches it: where the network intercepts
# TLS, a machine of this kind trusts the interceptor's CA through
# NODE_EXTRA_CA_CERTS (and /usr/local/share/ca-certificates). That belongs to
# the machine, not to set-up, so the root gets the same (set-up's `npm ci`
# fails with SELF_SIGNED_CERT_IN_CHAIN without it).
node_ca=()
if [[ -n "${NODE_EXTRA_CA_CERTS:-}" && -f "$NODE_EXTRA_CA_CERTS" ]]; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp "$NODE_EXTRA_CA_CERTS" "$root/usr/local/share/ca-certificates/host-extra-ca.crt"
  node_ca=(NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-extra-ca.crt)
fi

mnt -t proc proc "$root/proc"
mnt --bind /dev "$root/dev"
mnt -t tmpfs tmpfs "$root/dev/shm"
mnt -t sysfs sysfs "$root/sys"
mkdir -p "$root/data" "$root/msprune"
mnt --bind -o ro "$data" "$root/data"

(cd "$src" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$root/msprune"
# What was copied, named now (the checkout may move on while the check runs).
copied="$(cd "$src" && git rev-parse --short HEAD)$(cd "$src" && git diff --quiet HEAD || echo ' + uncommitted changes')"
say "copied the checkout ($copied) into $root/msprune"

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  "${node_ca[@]}" LANG=C.UTF-8 MSPRUNE_DATA=/data MSPRUNE_SKIP_FUZZ="${MSPRUNE_SKIP_FUZZ:-0}" /bin/bash -c "cd /msprune && $1"; }

before=$(in_root "dpkg-query -W -f='\${Package}\n' | sort")
kb_before=$(du -sk --one-file-system "$root" | cut -f1)
t0=$(now)
say "running ./scripts/setup.sh in the fresh root"
set +e
in_root "./scripts/setup.sh" 2>&1 | tee "$root/setup.log" |
  grep --line-buffered -E '^(setup:|CMake Error|-- oneDNN|FAILED|ninja: build stopped)' >&2
rc_setup=${PIPESTATUS[0]}
set -e
t_setup=$(($(now) - t0))
if ((rc_setup != 0)); then
  tail -n 40 "$root/setup.log" >&2
  die "./scripts/setup.sh exited $rc_setup in a fresh bookworm root"
fi
after=$(in_root "dpkg-query -W -f='\${Package}\n' | sort")
added=$(comm -13 <(echo "$before") <(echo "$after"))
kb_after=$(du -sk --one-file-system "$root" | cut -f1)
requested=$(grep -o '^setup: installing .*' "$root/setup.log" | sed 's/^setup: installing //' || true)

t0=$(now)
say "running ./scripts/test.sh in the fresh root"
set +e
in_root "./scripts/test.sh" >"$root/test.log" 2>&1
rc_test=$?
set -e
t_test=$(($(now) - t0))

# A benchmark peer must not break the build: remove oneDNN's OpenCL
# dependency, configure and build again; then oneDNN itself.
t0=$(now)
peer_lines=()
for pkg in ocl-icd-opencl-dev libdnnl-dev; do
  in_root "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q $pkg" >>"$root/peers.log" 2>&1 ||
    die "could not remove $pkg in the root (see $root/peers.log)"
  if in_root "MSPRUNE_SKIP_APT=1 ./scripts/setup.sh" >>"$root/peers.log" 2>&1; then
    peer_lines+=("without $pkg: setup.sh passed; configure said: $(grep -- '-- oneDNN' "$root/peers.log" | tail -n 1 | sed 's/^-- //')")
  else
    tail -n 30 "$root/peers.log" >&2
    die "MSPRUNE_SKIP_APT=1 ./scripts/setup.sh failed once $pkg was removed"
  fi
done
t_peers=$(($(now) - t0))

echo "== check-fresh-setup: $(date -u '+%Y-%m-%d %H:%M UTC'), checkout copied: $copied"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "root: debootstrap --variant=minbase bookworm from $mirror ($(hms "$t_boot"), $(echo "$before" | wc -l) packages)"
echo "setup.sh asked apt for: ${requested:-<nothing: all present?>}"
echo "apt installed $(echo "$added" | grep -c .) packages in all (with dependencies); the root grew by $(((kb_after - kb_before) / 1024)) MiB (packages + build/)"
echo "setup.sh (apt + Release build): $(hms "$t_setup")"
grep -E '^-- oneDNN' "$root/setup.log" | sed 's/^/configure: /' || true
echo "test.sh: $(hms "$t_test"), exit status $rc_test"
grep -E 'tests passed|tests failed out of|^(Done|#[0-9]+: DONE)|stat::number_of_executed_units|test.sh:' "$root/test.log" | sed 's/^/  /' || true
printf '%s\n' "${peer_lines[@]}"
echo "peer removal checks: $(hms "$t_peers")"
echo "packages installed by set-up:"
echo "$added" | paste -sd' ' | fold -s -w 100 | sed 's/^/  /'
if ((rc_test != 0)); then
  tail -n 60 "$root/test.log" >&2
  die "./scripts/test.sh exited $rc_test in the fresh root"
fi
echo "check-fresh-setup: PASSED"
