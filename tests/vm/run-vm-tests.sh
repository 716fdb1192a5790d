#!/usr/bin/env bash
# The tests that need a cgroup-v2-only, AppArmor-enabled kernel. Run inside the VM lane:
#   scripts/vm-test.sh            (runs this script as root in the guest)
#
# 1. Checks that the guest provides what the tests rely on (the unified hierarchy with the usual
#    controllers, AppArmor enforcing a loaded profile): a failure here explains the rest.
# 2. The cgroup library's host tests (unit_cgroups HostCgroup.*): clone into a cgroup, the BPF
#    device program, cgroup.freeze, cgroup.kill, v2 memory and pids files.
# 3. hrun's integration tests that exercise cgroup v2 and AppArmor: resource limits on real
#    containers, pause/update/events, the bad resource configs, AppArmor profiles, rootless
#    containers (v2 delegation, AppArmor without root), idmapped mounts and --userns-remap.
#
# HRUN_BUILD_DIR (set by vm-test.sh) holds the binaries; HRUN_VM_GTEST_FILTER replaces the
# integration test filter. Ends with "vm tests: N passed, N failed, N skipped"; exits non-zero
# if anything failed.
set -uo pipefail

build=${HRUN_BUILD_DIR:?HRUN_BUILD_DIR is not set}
passed=0
failed=0
skipped=0
failures=()
started=$SECONDS

check() { # NAME COMMAND...
  local name=$1
  shift
  if "$@"; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    failed=$((failed + 1))
    failures+=("self-check: $name")
  fi
}

echo "kernel: $(uname -r)"
echo "cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>&1)"
echo "cgroup2 subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control 2>&1)"
echo "LSMs: $(cat /sys/kernel/security/lsm 2>&1)"

# --- 1. the guest --------------------------------------------------------------------------------

cgroup2_is_the_only_hierarchy() {
  [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]] || return 1
  ! grep -q ' cgroup ' /proc/mounts || return 1
  [[ $(cat /proc/self/cgroup) == 0::* ]]
}
check "cgroup2 is the only hierarchy" cgroup2_is_the_only_hierarchy

controllers_enabled() {
  local c
  for c in cpu memory pids io cpuset; do
    grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control || { echo "  $c not enabled"; return 1; }
  done
}
check "controllers cpu memory pids io cpuset enabled" controllers_enabled

check "apparmor module enabled" grep -qx Y /sys/module/apparmor/parameters/enabled
check "apparmor is an active LSM" grep -qw apparmor /sys/kernel/security/lsm

work=$(mktemp -d /tmp/hrun-vmtest.XXXXXX)
profile=hrun-vmtest-deny
echo secret >"$work/secret"
cat >"$work/profile" <<EOF
abi <abi/3.0>,
profile $profile {
  file,
  deny $work/secret rw,
}
EOF
check "apparmor_parser loads a profile" apparmor_parser -r "$work/profile"
confined_read_is_denied() {
  local attr=/proc/self/attr/apparmor/exec
  [[ -e $attr ]] || attr=/proc/self/attr/exec
  ! busybox sh -c "echo 'exec $profile' >$attr && exec busybox cat $work/secret" >/dev/null 2>&1 &&
    [[ $(busybox cat "$work/secret") == secret ]]
}
check "a loaded profile denies a file" confined_read_is_denied
apparmor_parser -R "$work/profile" >/dev/null 2>&1
rm -rf "$work"

# The integration tests keep their bundles under /tmp, a tmpfs in the guest. Debian 12's kernel
# (6.1) can idmap mounts of ext4 but not of tmpfs (Linux 6.3+), and the Idmap tests bind and
# idmap bundle directories: /tmp becomes an ext4 file system, as on a host whose /tmp is on its
# root file system. The image lives in /dev/shm and is sparse: it takes memory as files are written.
tmp_is_ext4() {
  local image=/dev/shm/hrun-vm-tmp.ext4 stage=/run/hrun-vm-tmp
  modprobe -q loop && modprobe -q ext4 || return 1
  truncate -s 1G "$image" && mkfs.ext4 -q -F -m 0 "$image" || return 1
  mkdir -p "$stage" && mount -o loop "$image" "$stage" && chmod 1777 "$stage" || return 1
  move_mounts_below /tmp "$stage" || return 1
  mount --move "$stage" /tmp
}

# The repository and build shares sit below /tmp when the host's clone does (a CI checkout in
# /tmp): they move onto the new file system at the same paths. Only the outermost mounts move;
# the mounts below them come along.
move_mounts_below() { # FROM TO
  local m p moved=()
  while read -r m; do
    for p in "${moved[@]}"; do [[ $m == "$p"/* ]] && continue 2; done
    mkdir -p "$2${m#"$1"}" && mount --move "$m" "$2${m#"$1"}" || return 1
    moved+=("$m")
  done < <(awk -v from="$1/" 'index($5, from) == 1 { print $5 }' /proc/self/mountinfo | sort)
}
check "/tmp on ext4 (idmapped mounts)" tmp_is_ext4

# --- 2 and 3. hrun's tests -----------------------------------------------------------------------

# Runs a gtest binary; adds its passed/failed/skipped counts from gtest's own summary.
run_gtest() { # NAME BINARY ARGS...
  local name=$1 binary=$2
  shift 2
  echo
  echo "=== $name: ${binary##*/} $* ==="
  if [[ ! -x $binary ]]; then
    echo "FAIL $name: $binary is missing (build it first)"
    failed=$((failed + 1))
    failures+=("$name: $binary missing")
    return
  fi
  local log t0=$SECONDS
  log=$(mktemp /tmp/hrun-vm-gtest.XXXXXX)
  "$binary" --gtest_color=no "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local p f s
  p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\..*/\1/p' "$log" | tail -n 1)
  f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) tests?, listed below:.*/\1/p' "$log" | tail -n 1)
  s=$(sed -nE 's/^\[  SKIPPED \] ([0-9]+) tests?, listed below:.*/\1/p' "$log" | tail -n 1)
  p=${p:-0} f=${f:-0} s=${s:-0}
  if [[ -z $(grep -E '^\[==========\] [0-9]+ tests? from .* ran\.' "$log") ]]; then
    # Crashed or hung before its summary: count the binary as one failure.
    f=$((f + 1))
    failures+=("$name: no gtest summary (exit $rc)")
  elif ((rc != 0 && f == 0)); then
    f=1
    failures+=("$name: exit $rc without a failed test")
  fi
  while read -r t; do failures+=("$name: $t"); done < <(sed -nE 's/^\[  FAILED  \] ([^ ,]+\.[^ ,]+).*/\1/p' "$log" | sort -u)
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
  echo "--- $name: $p passed, $f failed, $s skipped in $((SECONDS - t0)) s"
  rm -f "$log"
}

run_gtest "cgroup library on cgroup v2" "$build/tests/unit_cgroups" --gtest_filter='HostCgroup.*'

# Resources.*: limits on real containers; AppArmor.*: profiles; the Lifecycle and BadConfigs
# cases are the ones whose code paths differ on cgroup v2 (freeze, update, events, unified keys).
default_filter='Resources.*:AppArmor.*:AppArmorDefault.*:Policy.*'
# Rootless.*: delegation follows v2's rules there; Idmap.*: idmapped mounts on the guest's kernel.
default_filter+=':Rootless.*:Idmap.*'
# Born in the cgroup (CLONE_INTO_CGROUP) when hrun is killed at any moment; pause deadlines; set-uid
# files through an idmapped rootfs.
default_filter+=':ExecKilledAnywhere.*:CreateKilledAnywhere.*:PauseBounded.*:IdmapSetuid.*'
default_filter+=':Lifecycle.PauseResumeAndUpdate:Lifecycle.EventsStatsAndOom:Lifecycle.CreateStartStateKillDelete'
default_filter+=':Table/BadConfigs.*/*Cgroups*:Table/BadConfigs.*/Unified*:Table/BadConfigs.*/*Negative'
default_filter+=':BadConfigsBaseline.UnmodifiedConfigRuns'
# Left to the host lane: refusals decided before any kernel call, the same on every kernel.
default_filter+='-Idmap.*IsRefused:Rootless.SpecMaps*:Rootless.ARangeNotInSubuid*'
run_gtest "hrun on cgroup v2 + AppArmor" "$build/tests/integration_tests" \
  --gtest_filter="${HRUN_VM_GTEST_FILTER:-$default_filter}"

echo
echo "=== VM tests done in $((SECONDS - started)) s ==="
if ((${#failures[@]})); then
  echo "failures:"
  for f in "${failures[@]}"; do echo "  $f"; done
fi
echo "vm tests: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
