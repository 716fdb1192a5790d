#!/bin/busybox sh
# /init of the VM lane's initramfs (see scripts/vm-test.sh).
#
# Loads the virtio/9p/overlay modules, builds the real root on a tmpfs from the host's shared
# system directories (read-only) and the shared repository and build directories (read-write),
# then switches to it and hands over to stage 2. The real root must not be the initramfs
# itself: pivot_root(2), which container runtimes use, refuses to move the initial rootfs.

/bin/busybox mkdir -p /dev /proc /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node, so the kernel could not give us stdio: take it now.
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin

die() {
  echo "vm-init: $*"
  echo "VM-EXIT-STATUS=125"
  poweroff -f
}

mount -t proc proc /proc || die "cannot mount /proc"
mount -t sysfs sysfs /sys || die "cannot mount /sys"

# Listed in dependency order by the host script.
while read -r module; do
  [ -n "$module" ] || continue
  insmod "/lib/modules/$module" || die "cannot load $module"
done </etc/modules.order

# Every 9p mount uses the virtio transport and a large message size (fewer round trips).
mount_9p() { # TAG DIR OPTIONS
  tries=0
  until mount -t 9p -o "trans=virtio,version=9p2000.L,msize=262144,$3" "$1" "$2"; do
    # The virtio channel appears when its device has been probed; give it a moment.
    tries=$((tries + 1))
    [ "$tries" -lt 20 ] || return 1
    sleep 0.1
  done
}

mkdir -p /vmrun
mount_9p hrunvm /vmrun cache=none || die "cannot mount the run directory share"
. /vmrun/config || die "cannot read /vmrun/config"

root=/newroot
mkdir -p "$root"
mount -t tmpfs -o mode=0755 root "$root" || die "cannot mount the root tmpfs"
for d in proc sys dev run tmp root mnt home opt srv var/tmp var/lib var/cache var/log; do
  mkdir -p "$root/$d"
done
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 0700 "$root/root"
ln -s ../run "$root/var/run"
ln -s ../run/lock "$root/var/lock"

# Top-level links of a merged-/usr host (bin -> usr/bin, ...).
for link in $VM_ROOT_LINKS; do
  ln -s "${link#*=}" "$root/${link%%=*}"
done

# Host system directories: read-only and unchanging during the run, so cached aggressively.
for d in $VM_SYSTEM_DIRS; do
  [ "$d" = etc ] && continue
  mkdir -p "$root/$d"
  mount_9p "sys_$d" "$root/$d" ro,cache=loose || die "cannot mount /$d"
done

# /etc is writable (tests may edit passwd, subuid, ...): an overlay with a tmpfs upper layer,
# changes vanish at power-off. Overlayfs keeps private clones of its layers, so the staging
# mounts can be detached right away.
mkdir -p /lower/etc /upper "$root/etc"
mount_9p sys_etc /lower/etc ro,cache=loose || die "cannot mount /etc"
if ! { mount -t tmpfs -o mode=0755 upper /upper && mkdir -p /upper/etc /upper/work &&
  mount -t overlay -o lowerdir=/lower/etc,upperdir=/upper/etc,workdir=/upper/work etc "$root/etc"; }
then
  echo "vm-init: overlay on /etc failed, /etc stays read-only"
  mount --bind /lower/etc "$root/etc" || die "cannot bind /etc"
fi
umount -l /upper 2>/dev/null
umount -l /lower/etc

# The writable tmpfs directories come before the shares: the repository or the build directory
# may live under /tmp on the host.
mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$root/tmp" || die "cannot mount /tmp"
mount -t tmpfs -o mode=0755,nosuid,nodev run "$root/run" || die "cannot mount /run"
mkdir -p "$root/run/hrun-vm" "$root/run/hrun-vm-init" "$root/run/lock"

# The repository and the build directory, read-write, at the same absolute paths as on the host.
# cache=mmap keeps the guest coherent with the host and allows shared writable mappings.
mkdir -p "$root$VM_REPO"
mount_9p repo "$root$VM_REPO" cache=mmap || die "cannot mount $VM_REPO"
if [ -n "$VM_BUILD_SHARED" ]; then
  mkdir -p "$root$VM_BUILD"
  mount_9p build "$root$VM_BUILD" cache=mmap || die "cannot mount $VM_BUILD"
fi

mount --move /vmrun "$root/run/hrun-vm" || die "cannot move the run directory share"
cp /bin/busybox /etc/stage2.sh "$root/run/hrun-vm-init/" || die "cannot install stage 2"

for fs in dev proc sys; do
  mount --move "/$fs" "$root/$fs" || die "cannot move /$fs"
done
exec switch_root "$root" /run/hrun-vm-init/busybox sh /run/hrun-vm-init/stage2.sh
