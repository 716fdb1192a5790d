# Stage 2 of the VM lane's init (see scripts/vm-test.sh), run as PID 1 in the real root by
# /run/hrun-vm-init/busybox sh. Mounts the kernel filesystems the way a cgroup-v2-only,
# AppArmor-enabled host has them, runs the requested command as root in the repository and
# hands its exit status back to the host.

bb=/run/hrun-vm-init/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

finish() { # STATUS
  echo "$1" >/run/hrun-vm/status
  echo "VM-EXIT-STATUS=$1"
  $bb sync
  $bb poweroff -f
}

fail() {
  echo "vm-init: $*"
  finish 125
}

# The unified hierarchy is the only one (cgroup_no_v1=all on the kernel command line).
$bb mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || fail "cannot mount cgroup2"
for controller in $($bb cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$controller" >/sys/fs/cgroup/cgroup.subtree_control ||
    echo "vm-init: cannot enable the $controller controller"
done
$bb mount -t securityfs securityfs /sys/kernel/security || fail "cannot mount securityfs"
$bb mkdir -p /dev/pts /dev/shm /dev/mqueue
# The links udev makes on a normal host; bash's process substitution needs /dev/fd.
$bb ln -sfn /proc/self/fd /dev/fd
$bb ln -sfn /proc/self/fd/0 /dev/stdin
$bb ln -sfn /proc/self/fd/1 /dev/stdout
$bb ln -sfn /proc/self/fd/2 /dev/stderr
$bb mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
$bb mount -t mqueue mqueue /dev/mqueue
$bb hostname hrun-vm
$bb ip link set lo up 2>/dev/null

. /run/hrun-vm/config || fail "cannot read the run configuration"
cd "$VM_REPO" || fail "cannot enter $VM_REPO"

# A child of PID 1, in its own session: PID 1 stays free to reap orphans. util-linux setsid
# (--wait passes the exit status on), from the host's /usr like everything the command uses.
# Nothing types on the console, so stdin is /dev/null rather than a line that never ends.
/usr/bin/setsid --wait /bin/bash /run/hrun-vm/command.sh </dev/null
finish $?
