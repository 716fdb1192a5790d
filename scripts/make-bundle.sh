#!/usr/bin/env bash
# Makes an OCI bundle with a busybox-static rootfs.
#
#   scripts/make-bundle.sh DIR [--probe PATH] [--chown UID:GID] [--rootless]
#
# DIR/rootfs gets /bin/busybox with a symlink per applet, the usual top-level directories and a
# minimal /etc. --probe copies the test probe to rootfs/bin/hrun-probe. --chown gives the rootfs
# to a host uid:gid (for configs that map container root to that id in a user namespace).
# DIR/config.json is written by `hrun spec` when hrun is found ($HRUN, else on PATH); --rootless
# is passed on to it. Otherwise the config is left to the caller. `hrun spec`, like `runc spec`,
# asks for a terminal; the bundles made here run from scripts, tests and CI without one, so
# process.terminal is set false (with jq).
set -euo pipefail

usage() { echo "usage: $0 DIR [--probe PATH] [--chown UID:GID] [--rootless]" >&2; exit 2; }

(($# >= 1)) || usage
dir=$1
shift
probe=
owner=
spec_args=()
while (($#)); do
  case $1 in
    --probe) (($# >= 2)) || usage; probe=$2; shift 2 ;;
    --chown) (($# >= 2)) || usage; owner=$2; shift 2 ;;
    --rootless) spec_args+=(--rootless); shift ;;
    *) usage ;;
  esac
done

busybox=${BUSYBOX:-/bin/busybox}
[[ -x $busybox ]] || { echo "make-bundle: $busybox not found (install busybox-static)" >&2; exit 1; }

rootfs=$dir/rootfs
mkdir -p "$rootfs"
for d in bin proc sys dev tmp etc root mnt; do mkdir -p "$rootfs/$d"; done
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"

cp "$busybox" "$rootfs/bin/busybox"
# Every applet becomes bin/<name> -> busybox, whatever directory busybox would install it to.
# perl (essential on Debian) makes the ~270 links in one process; ln in a loop is the fallback.
mapfile -t applets < <("$busybox" --list | grep -vx busybox)
if command -v perl >/dev/null; then
  perl -e 'my $dir = shift; for (@ARGV) { unlink "$dir/$_"; symlink("busybox", "$dir/$_") or die "$dir/$_: $!\n" }' \
    "$rootfs/bin" "${applets[@]}"
else
  for applet in "${applets[@]}"; do ln -sf busybox "$rootfs/bin/$applet"; done
fi

cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
user:x:1000:
nogroup:x:65534:
GROUP
echo hrun >"$rootfs/etc/hostname"

if [[ -n $probe ]]; then
  install -m 0755 "$probe" "$rootfs/bin/hrun-probe"
fi

if [[ -n $owner ]]; then
  chown -R -h "$owner" "$rootfs"
fi

hrun=${HRUN:-$(command -v hrun || true)}
if [[ -n $hrun ]]; then
  rm -f "$dir/config.json"
  "$hrun" spec "${spec_args[@]}" --bundle "$dir"
  command -v jq >/dev/null || { echo "make-bundle: jq not found (scripts/install-deps.sh)" >&2; exit 1; }
  jq '.process.terminal = false' "$dir/config.json" >"$dir/config.json.new"
  mv "$dir/config.json.new" "$dir/config.json"
fi
