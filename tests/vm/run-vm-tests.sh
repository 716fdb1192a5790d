#!/usr/bin/env bash
# Tests that need a cgroup-v2-only, AppArmor-enabled kernel. Run inside the VM lane:
#   scripts/vm-test.sh            (runs this script as root in the guest)
# For now it checks that the guest provides what hrun's cgroup v2 and AppArmor code needs:
# the unified hierarchy with the usual controllers, and AppArmor enforcing a loaded profile.
set -uo pipefail

passed=0
failed=0
check() { # NAME COMMAND...
  local name=$1
  shift
  if "$@"; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    failed=$((failed + 1))
  fi
}

echo "kernel: $(uname -r)"
echo "cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>&1)"
echo "cgroup2 subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control 2>&1)"
echo "LSMs: $(cat /sys/kernel/security/lsm 2>&1)"

# --- cgroup v2 ---------------------------------------------------------------------------------

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

cg=/sys/fs/cgroup/hrun-vmtest
pids_max_is_enforced() {
  mkdir "$cg" || return 1
  echo 3 >"$cg/pids.max" || return 1
  # The shell moves itself in, then forks past the limit: some forks must fail.
  busybox sh -c "echo \$\$ >$cg/cgroup.procs; for i in 1 2 3 4 5; do sleep 1 & done; wait" \
    >/dev/null 2>&1
  grep -q '^max [1-9]' "$cg/pids.events"
}
check "pids.max is enforced" pids_max_is_enforced

memory_max_round_trips() {
  echo 64M >"$cg/memory.max" && [[ $(cat "$cg/memory.max") == 67108864 ]]
}
check "memory.max accepts a limit" memory_max_round_trips
rmdir "$cg" 2>/dev/null

# --- AppArmor ----------------------------------------------------------------------------------

check "apparmor module enabled" grep -qx Y /sys/module/apparmor/parameters/enabled
check "apparmor is an active LSM" grep -qw apparmor /sys/kernel/security/lsm

work=$(mktemp -d /tmp/hrun-vmtest.XXXXXX)
profile=hrun-vmtest-deny
echo allowed >"$work/allowed"
echo secret >"$work/secret"
cat >"$work/profile" <<EOF
abi <abi/3.0>,
profile $profile {
  file,
  deny $work/secret rw,
}
EOF

check "apparmor_parser loads a profile" apparmor_parser -r "$work/profile"
check "the profile is listed" grep -q "^$profile (enforce)" /sys/kernel/security/apparmor/profiles

# Runs busybox ARGS confined by the profile: the shell asks for the profile at its next exec.
confined() {
  local attr=/proc/self/attr/apparmor/exec
  [[ -e $attr ]] || attr=/proc/self/attr/exec
  busybox sh -c "echo 'exec $profile' >$attr && exec busybox \"\$@\"" confined "$@"
}

confined_runs_under_profile() {
  local label
  label=$(confined cat /proc/self/attr/current) || return 1
  [[ $label == "$profile (enforce)" ]] || { echo "  label: $label"; return 1; }
}
check "a confined process runs under the profile" confined_runs_under_profile
unconfined_read() { [[ $(busybox cat "$work/secret") == secret ]]; }
check "an unconfined process reads the denied file" unconfined_read
confined_read_is_denied() {
  local out
  if out=$(confined cat "$work/secret" 2>&1); then
    echo "  read succeeded: $out"
    return 1
  fi
  [[ $out == *"Permission denied"* ]] || { echo "  unexpected error: $out"; return 1; }
}
check "the profile denies the file" confined_read_is_denied
confined_allowed_read() { [[ $(confined cat "$work/allowed") == allowed ]]; }
check "a confined process reads an allowed file" confined_allowed_read

apparmor_parser -R "$work/profile" >/dev/null 2>&1
rm -rf "$work"

echo "$passed passed, $failed failed"
((failed == 0))
