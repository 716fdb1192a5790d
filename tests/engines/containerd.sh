#!/usr/bin/env bash
# containerd (through ctr and the io.containerd.runc.v2 shim) driving the runtime under test
# (HRUN_BIN, given to the shim as its runc binary). A private containerd keeps everything under a
# temp dir; the image is an OCI layout made offline from busybox-static.
# Ends with "N passed, N failed, N skipped"; exits non-zero if a check failed.
# shellcheck disable=SC2016 # the single-quoted snippets are expanded by the container's shell
SUITE=containerd
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

resolve_runtime || { fail "$SUITE" "no runtime binary to test"; summary; exit 1; }
[[ -x $BUSYBOX ]] || ensure_packages busybox busybox-static || skip_suite "busybox-static cannot be installed"
ensure_packages containerd containerd || skip_suite "containerd cannot be installed with apt-get"
command -v ctr >/dev/null || skip_suite "containerd is installed but ctr is missing"
command -v containerd-shim-runc-v2 >/dev/null || skip_suite "containerd-shim-runc-v2 is missing"

C=$ENGINE_TMP/containerd
export CONTAINERD_ADDRESS=$C/containerd.sock
export CONTAINERD_NAMESPACE=hrun-test
IMG=docker.io/library/hrun-busybox:test
RUNC_ROOT=$ENGINE_TMP/runtime-root # the shim runs the runtime with --root $RUNC_ROOT/<namespace>
FIFOS=$ENGINE_TMP/fifo
SHARED=$ENGINE_TMP/shared
IDS_FILE=$ENGINE_TMP/ctr-ids
mkdir -p "$FIFOS" "$SHARED"
chmod 777 "$SHARED"

if overlay_works; then SNAPSHOTTER=overlayfs; else SNAPSHOTTER=native; fi
SNAPSHOTTER=${CONTAINERD_SNAPSHOTTER_NAME:-$SNAPSHOTTER}

# ctr_opts ID: sets OPTS, the ctr run flags for the runtime under test and its state in the temp dir.
ctr_opts() {
  local id=$1
  echo "$id" >>"$IDS_FILE"
  OPTS=(--runtime io.containerd.runc.v2 --runc-binary "$HRUN_BIN" --runc-root "$RUNC_ROOT"
    --snapshotter "$SNAPSHOTTER" --fifo-dir "$FIFOS" --cgroup "/$ENGINE_CGROUP_PARENT/$id")
}
ctr_run() { # ctr_run ID [RUN-FLAGS...] -- CMD...
  local id=$1 flags=()
  shift
  while [[ $1 != -- ]]; do flags+=("$1"); shift; done
  shift
  ctr_opts "$id"
  ctr run "${OPTS[@]}" "${flags[@]}" "$IMG" "$id" "$@"
}

all_ids() { sort -u "$IDS_FILE" 2>/dev/null; }

task_pid() { ctr task ls | awk -v id="$1" '$1 == id { print $2 }'; }
task_status() { ctr task ls | awk -v id="$1" '$1 == id { print $3 }'; }

containerd_cleanup() {
  local id
  for id in $(ctr task ls -q 2>/dev/null); do ctr task kill -s KILL "$id"; done
  sleep 0.5
  for id in $(ctr task ls -q 2>/dev/null); do ctr task delete --force "$id"; done
  for id in $(ctr container ls -q 2>/dev/null); do ctr container delete "$id"; done
  ctr image rm "$IMG"
}
add_cleanup containerd_cleanup

# ---------------------------------------------------------------------------------------------
# Daemon and image

t_start() {
  track_host_path /run/containerd/fifo
  start_containerd containerd "$C"
}
if ! check_here "containerd starts (state under $ENGINE_TMP)" t_start; then
  summary
  exit 1
fi

t_import() {
  build_oci_archive "$ENGINE_TMP/image.tar" "$IMG" || return 1
  ctr image import "$ENGINE_TMP/image.tar" || return 1
  ctr image ls -q | grep -qxF "$IMG" || { echo "image $IMG not listed:"; ctr image ls; return 1; }
}
check "ctr image import (OCI layout made offline)" t_import || { summary; exit 1; }
note "snapshotter: $SNAPSHOTTER, runtime: $HRUN_BIN"

# ---------------------------------------------------------------------------------------------
# Checks

t_run_output() {
  local out
  out=$(ctr_run run-rm --rm -- echo hello from hrun) || return 1
  expect_eq "output" "hello from hrun" "$out"
}
check "ctr run --rm prints the output" t_run_output

t_exit_code() {
  ctr_run exit3 --rm -- sh -c 'exit 3'
  expect_eq "exit code" 3 "$?"
}
check "ctr run exit code propagates (3)" t_exit_code

t_detached() {
  ctr_opts main
  ctr run -d "${OPTS[@]}" --mount "type=bind,src=$SHARED,dst=/shared,options=rbind:rw" "$IMG" main \
    sh -c 'trap "echo got-usr1 >> /shared/usr1" USR1; trap "echo got-term >> /shared/term; exit 9" TERM; echo ready > /shared/ready; while :; do sleep 0.2; done' || return 1
  retry_until 20 test -s "$SHARED/ready" || { echo "container never wrote /shared/ready"; return 1; }
  expect_eq "task status" RUNNING "$(task_status main)"
}
check "ctr run -d (bind mount, task RUNNING)" t_detached

t_exec() {
  local out
  out=$(ctr task exec --fifo-dir "$FIFOS" --exec-id e1 main echo exec works) || return 1
  expect_eq "exec output" "exec works" "$out" || return 1
  ctr task exec --fifo-dir "$FIFOS" --exec-id e2 main sh -c 'exit 5'
  expect_eq "exec exit code" 5 "$?" || return 1
  out=$(ctr task exec --fifo-dir "$FIFOS" --exec-id e3 --cwd /tmp --user 1000 main sh -c 'id -u; pwd') || return 1
  expect_eq "exec --user --cwd" $'1000\n/tmp' "$out"
}
check "ctr task exec (output, exit code, --user, --cwd)" t_exec

t_ps() {
  local pid out
  pid=$(task_pid main)
  [[ -n $pid && $pid != 0 ]] || { echo "no pid for main"; ctr task ls; return 1; }
  out=$(ctr task ps main) || return 1
  expect_contains "ctr task ps" "$pid" "$out"
}
check "ctr task ps lists the init pid" t_ps

t_kill_usr1() {
  ctr task kill -s SIGUSR1 main || return 1
  retry_until 10 test -s "$SHARED/usr1" || { echo "the trap did not run"; return 1; }
  expect_eq "task status" RUNNING "$(task_status main)"
}
check "ctr task kill -s SIGUSR1 reaches the trap" t_kill_usr1

t_pause() {
  local pid freezer
  pid=$(task_pid main)
  freezer=$(cgroup_of "$pid" freezer) || { echo "no freezer cgroup for $pid"; return 1; }
  expect_eq "cgroup" "/sys/fs/cgroup/freezer/$ENGINE_CGROUP_PARENT/main" "$freezer" || return 1
  ctr task pause main || return 1
  expect_eq "status after pause" PAUSED "$(task_status main)" || return 1
  expect_eq "freezer.state" FROZEN "$(cat "$freezer/freezer.state")" || return 1
  ctr task resume main || return 1
  expect_eq "status after resume" RUNNING "$(task_status main)" || return 1
  expect_eq "freezer.state" THAWED "$(cat "$freezer/freezer.state")" || return 1
  local out
  out=$(ctr task exec --fifo-dir "$FIFOS" --exec-id e4 main echo alive) || return 1
  expect_eq "exec after resume" alive "$out"
}
check "ctr task pause / resume (freezer cgroup)" t_pause

t_kill_term() {
  ctr task kill main || return 1 # SIGTERM by default
  retry_until 10 sh -c "[ \"\$(ctr task ls | awk '\$1 == \"main\" { print \$3 }')\" = STOPPED ]" || {
    echo "task did not stop:"
    ctr task ls
    return 1
  }
  expect_eq "trap output" got-term "$(cat "$SHARED/term" 2>/dev/null)" || return 1
  local out
  out=$(ctr task delete main 2>&1) || { echo "$out"; return 1; }
  expect_contains "exit status reported by ctr task delete" "exit code 9" "$out" || return 1
  ctr container delete main
}
check "ctr task kill (SIGTERM), task delete reports the exit status" t_kill_term

t_kill_sigkill() {
  ctr_opts stubborn
  ctr run -d "${OPTS[@]}" "$IMG" stubborn sleep 1000 || return 1
  ctr task kill -s SIGKILL stubborn || return 1
  retry_until 10 sh -c "[ \"\$(ctr task ls | awk '\$1 == \"stubborn\" { print \$3 }')\" = STOPPED ]" || { ctr task ls; return 1; }
  ctr task delete stubborn >/dev/null || return 1
  ctr container delete stubborn
}
check "ctr task kill -s SIGKILL of a running task" t_kill_sigkill

t_tty() {
  local out
  ctr_opts tty
  out=$(script -qec "ctr run --rm -t ${OPTS[*]} $IMG tty sh -c 'tty; stty size; echo done'" /dev/null </dev/null) || {
    echo "$out"
    return 1
  }
  expect_contains "tty" /dev/pts/ "$out" || return 1
  expect_contains "output" "done" "$out"
}
check "ctr run -t under script(1)" t_tty

t_exec_tty() {
  ctr_opts tty-exec
  ctr run -d "${OPTS[@]}" "$IMG" tty-exec sleep 1000 || return 1
  local out
  out=$(script -qec "ctr task exec --fifo-dir $FIFOS -t --exec-id t1 tty-exec tty" /dev/null </dev/null) || { echo "$out"; return 1; }
  expect_contains "exec -t" /dev/pts/ "$out" || return 1
  ctr task kill -s SIGKILL tty-exec
  retry_until 10 sh -c "[ \"\$(ctr task ls | awk '\$1 == \"tty-exec\" { print \$3 }')\" = STOPPED ]"
  ctr task delete tty-exec >/dev/null && ctr container delete tty-exec
}
check "ctr task exec -t under script(1)" t_exec_tty

t_read_only() {
  local out rc
  out=$(ctr_run ro --rm --read-only -- sh -c 'touch /newfile' 2>&1)
  rc=$?
  ((rc != 0)) || { echo "touch / succeeded on a read-only rootfs"; return 1; }
  expect_contains "error" "Read-only file system" "$out"
}
check "ctr run --read-only" t_read_only

t_cap_drop() {
  local out
  out=$(ctr_run caps --rm --cap-drop CAP_CHOWN -- sh -c 'chown 1000 /tmp 2>&1 || echo refused') || return 1
  expect_contains "chown without CAP_CHOWN" refused "$out" || return 1
  out=$(ctr_run caps-default --rm -- sh -c 'chown 1000 /tmp && echo allowed') || return 1
  expect_eq "chown with the default capabilities" allowed "$out"
}
check "ctr run --cap-drop CAP_CHOWN" t_cap_drop

t_memory_limit() {
  ctr_run oom --rm --memory-limit $((32 << 20)) -- dd if=/dev/zero of=/dev/null bs=128M count=1
  expect_eq "exit code of a task over its memory limit" 137 "$?"
}
check "ctr run --memory-limit: the kernel kills the task" t_memory_limit

t_env_cwd() {
  local out
  out=$(ctr_run env --rm --env FOO=bar --cwd /tmp -- sh -c 'echo $FOO; pwd') || return 1
  expect_eq "env, cwd" $'bar\n/tmp' "$out"
}
check "ctr run --env --cwd" t_env_cwd

# ---------------------------------------------------------------------------------------------
# Nothing left behind

t_nothing_listed() {
  local tasks containers
  tasks=$(ctr task ls -q)
  containers=$(ctr container ls -q)
  [[ -z $tasks && -z $containers ]] && return 0
  echo "tasks: $tasks"
  echo "containers: $containers"
  return 1
}
check "no task or container left in containerd" t_nothing_listed

t_runtime_was_used() {
  [[ -d $RUNC_ROOT/$CONTAINERD_NAMESPACE ]] || { echo "no $RUNC_ROOT/$CONTAINERD_NAMESPACE: the runtime never used it"; return 1; }
  [[ -n $(all_ids) ]] || { echo "no container ids recorded"; return 1; }
}
check "runtime state root is $RUNC_ROOT/$CONTAINERD_NAMESPACE" t_runtime_was_used
check "no runtime process or container process left" retry_until 10 assert_no_runtime_processes
check "no container state dir left in the runtime root" retry_until 10 assert_no_state_dirs "$RUNC_ROOT/$CONTAINERD_NAMESPACE"
check "no cgroup left for the containers" retry_until 10 assert_cgroup_parent_empty

summary
