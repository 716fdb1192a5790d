#!/usr/bin/env bash
# The VM lane: runs a command as root inside a Debian-kernel VM that has cgroup v2 as its only
# cgroup hierarchy and AppArmor enabled, for the tests the host kernel cannot run.
#
#   scripts/vm-test.sh [--timeout DURATION] [--build-dir DIR] [--] [COMMAND [ARG...]]
#
# Without a command it runs tests/vm/run-vm-tests.sh. The command runs in the repository
# directory, which the guest sees read-write at the same absolute path, like the build directory;
# the host's /usr and /etc are shared read-only, so programs built on the host run unchanged.
# The script exits with the command's exit status, 124 when the run timed out, 125 when the VM
# failed before reporting a status.
#
# Environment: HRUN_BUILD_DIR (default <repo>/build), HRUN_VM_TIMEOUT (default 20m, any
# timeout(1) duration), HRUN_VM_MEMORY (MiB, default 2048), HRUN_VM_CPUS (default 2),
# HRUN_VM_KERNEL (a kernel version under /lib/modules, default the newest with a /boot/vmlinuz).
# Variables named HRUN_* are passed on to the command.
#
# Needs root (the shares use security_model=passthrough so the guest's root owns what it
# creates). Installs linux-image-amd64, qemu-system-x86, apparmor, busybox-static and cpio with
# apt-get when they are missing. The kernel runs under plain TCG emulation: expect the guest to
# run code several times slower than the host.
set -euo pipefail

started=$SECONDS
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
vm_dir=$repo/scripts/vm

usage() {
  echo "usage: $0 [--timeout DURATION] [--build-dir DIR] [--] [COMMAND [ARG...]]" >&2
  exit 2
}

timeout_duration=${HRUN_VM_TIMEOUT:-20m}
build_dir=${HRUN_BUILD_DIR:-$repo/build}
memory=${HRUN_VM_MEMORY:-2048}
cpus=${HRUN_VM_CPUS:-2}
while (($#)); do
  case $1 in
    --timeout) (($# >= 2)) || usage; timeout_duration=$2; shift 2 ;;
    --build-dir) (($# >= 2)) || usage; build_dir=$2; shift 2 ;;
    --help | -h) usage ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
  esac
done
(($# > 0)) || set -- tests/vm/run-vm-tests.sh

log() { echo "vm-test: $*" >&2; }
die() { log "$*"; exit 125; }

((EUID == 0)) || die "must run as root (the 9p shares pass file ownership through)"

install_missing_packages() {
  local packages=(linux-image-amd64 qemu-system-x86 apparmor busybox-static cpio util-linux)
  local missing=() p status
  for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$p")
  done
  ((${#missing[@]} > 0)) || return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The newest kernel that has both an image in /boot and its modules.
pick_kernel() {
  if [[ -n ${HRUN_VM_KERNEL:-} ]]; then
    echo "$HRUN_VM_KERNEL"
    return
  fi
  local v best=
  while IFS= read -r v; do
    [[ -f /boot/vmlinuz-$v && -f /lib/modules/$v/modules.dep ]] && best=$v
  done < <(find /lib/modules -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V)
  [[ -n $best ]] || die "no kernel with /boot/vmlinuz-* and /lib/modules/* found"
  echo "$best"
}

# Prints the given modules and everything they depend on, dependencies first, as paths
# relative to /lib/modules/VERSION. Built-in modules are skipped.
resolve_modules() { # VERSION MODULE...
  local moddir=/lib/modules/$1
  shift
  local -A path_of deps_of builtin seen
  local line mod name
  while IFS= read -r line; do
    mod=${line%%:*}
    name=${mod##*/}
    name=${name%%.ko*}
    name=${name//-/_}
    path_of[$name]=$mod
    deps_of[$mod]=${line#*:}
  done <"$moddir/modules.dep"
  if [[ -f $moddir/modules.builtin ]]; then
    while IFS= read -r mod; do
      name=${mod##*/}
      name=${name%%.ko*}
      builtin[${name//-/_}]=1
    done <"$moddir/modules.builtin"
  fi
  visit() {
    local m=$1 d
    [[ -z ${seen[$m]:-} ]] || return 0
    seen[$m]=1
    for d in ${deps_of[$m]}; do visit "$d"; done
    echo "$m"
  }
  for name in "$@"; do
    name=${name//-/_}
    if [[ -n ${path_of[$name]:-} ]]; then
      visit "${path_of[$name]}"
    elif [[ -z ${builtin[$name]:-} ]]; then
      die "kernel $kernel has no module $name"
    fi
  done
}

# The initramfs depends only on the kernel and on the files that describe it, so it is cached
# under the build directory by kernel version and by a digest of those files.
build_initramfs() { # VERSION OUTPUT_DIR -> prints the path
  local version=$1 out_dir=$2
  local modules=(virtio_pci 9pnet_virtio 9p overlay)
  local digest
  digest=$( (cat "$vm_dir/init-stage1.sh" "$vm_dir/init-stage2.sh" "${BASH_SOURCE[0]}" /bin/busybox
    echo "${modules[*]}") | sha256sum | cut -c1-12)
  local image=$out_dir/initramfs-$version-$digest.cpio
  if [[ -f $image ]]; then
    echo "$image"
    return
  fi
  log "building the initramfs for $version"
  mkdir -p "$out_dir"
  local stage
  stage=$(mktemp -d "$out_dir/initramfs.XXXXXX")
  mkdir -p "$stage"/{bin,dev,etc,proc,sys,lib/modules}
  cp /bin/busybox "$stage/bin/busybox"
  install -m 0755 "$vm_dir/init-stage1.sh" "$stage/init"
  install -m 0644 "$vm_dir/init-stage2.sh" "$stage/etc/stage2.sh"
  local order rel file name
  order=$(resolve_modules "$version" "${modules[@]}") || exit
  : >"$stage/etc/modules.order"
  while IFS= read -r rel; do
    file=/lib/modules/$version/$rel
    name=${rel##*/}
    name=${name%%.ko*}.ko
    case $rel in
      *.ko) cp "$file" "$stage/lib/modules/$name" ;;
      *.ko.xz) xz -dc "$file" >"$stage/lib/modules/$name" ;;
      *.ko.zst) zstd -qdc "$file" >"$stage/lib/modules/$name" ;;
      *.ko.gz) gzip -dc "$file" >"$stage/lib/modules/$name" ;;
      *) die "unknown module format: $rel" ;;
    esac
    echo "$name" >>"$stage/etc/modules.order"
  done <<<"$order"
  (cd "$stage" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) >"$image.tmp"
  rm -rf "$stage"
  rm -f "$out_dir"/initramfs-"$version"-*.cpio
  mv "$image.tmp" "$image"
  echo "$image"
}

install_missing_packages
kernel=$(pick_kernel)
[[ -f /boot/vmlinuz-$kernel ]] || die "no /boot/vmlinuz-$kernel"
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd -P)
cache_dir=$build_dir/vm
initramfs=$(build_initramfs "$kernel" "$cache_dir")

# Per-run directory, shared as tag hrunvm: the configuration and the command go in, the exit
# status comes out.
run_dir=$(mktemp -d "$cache_dir/run.XXXXXX")
trap 'rm -rf "$run_dir"' EXIT

shares=()
share() { # TAG PATH [readonly]
  local opts="local,path=$2,mount_tag=$1,security_model=passthrough,multidevs=remap"
  [[ ${3:-} == readonly ]] && opts+=",readonly=on"
  shares+=(-virtfs "$opts")
}
share hrunvm "$run_dir"
share repo "$repo"
build_shared=
if [[ $build_dir != "$repo" && $build_dir != "$repo"/* ]]; then
  share build "$build_dir"
  build_shared=1
fi
share sys_usr /usr readonly
share sys_etc /etc readonly
system_dirs="usr etc"
root_links=
for d in bin sbin lib lib32 lib64 libx32; do
  if [[ -L /$d ]]; then
    root_links+=" $d=$(readlink "/$d")"
  elif [[ -d /$d ]]; then
    share "sys_$d" "/$d" readonly
    system_dirs+=" $d"
  fi
done

{
  printf 'VM_REPO=%q\n' "$repo"
  printf 'VM_BUILD=%q\n' "$build_dir"
  printf 'VM_BUILD_SHARED=%q\n' "$build_shared"
  printf 'VM_SYSTEM_DIRS=%q\n' "$system_dirs"
  printf 'VM_ROOT_LINKS=%q\n' "$root_links"
} >"$run_dir/config"
{
  echo "cd $(printf %q "$repo") || exit 125"
  while IFS='=' read -r name _; do
    printf 'export %s=%q\n' "$name" "${!name}"
  done < <(env | grep -E '^HRUN_[A-Za-z0-9_]*=' || true)
  printf 'export HRUN_BUILD_DIR=%q\n' "$build_dir"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$run_dir/command.sh"

log "kernel $kernel, timeout $timeout_duration, command: ${*@Q}"
cmdline="console=ttyS0 panic=-1 quiet cgroup_no_v1=all apparmor=1 security=apparmor"
set +e
# No -enable-kvm: plain TCG. stdin is /dev/null so QEMU never puts a terminal into raw mode;
# --foreground lets ^C reach QEMU. Serial line endings are CRLF: strip the CR.
timeout --foreground -k 10 "$timeout_duration" \
  qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
  -machine pc -m "$memory" -smp "$cpus" -nic none \
  -kernel "/boot/vmlinuz-$kernel" -initrd "$initramfs" -append "$cmdline" \
  -serial stdio "${shares[@]}" </dev/null 2>&1 |
  sed -u 's/\r$//' | tee "$cache_dir/console.log"
qemu_status=${PIPESTATUS[0]}
set -e

status=
[[ -f $run_dir/status ]] && status=$(<"$run_dir/status")
if [[ ! $status =~ ^[0-9]+$ ]]; then
  if ((qemu_status == 124 || qemu_status == 137)); then
    log "timed out after $timeout_duration"
    status=124
  else
    log "the VM stopped without reporting a status (qemu exit $qemu_status)"
    status=125
  fi
fi
echo "vm lane: $((SECONDS - started)) s"
exit "$status"
