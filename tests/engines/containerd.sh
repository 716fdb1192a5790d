#!/usr/bin/env bash
# containerd (through ctr and the io.containerd.runc.v2 shim) driving the runtime under test
# (HRUN_BIN, given to the shim as its runc binary). A private containerd keeps everything under a
# temp dir, in a private mount namespace with its own /run; the image is an OCI layout made
# offline from busybox-static. ctr 1.6 has no flag for some settings (--user, --pids-limit,
# dropping every capability): those checks run a full OCI spec with `ctr run --config`, made from
# `ctr oci spec` (containerd's own default spec).
# Ends with "N passed, N failed, N skipped"; exits non-zero if a check failed.
# shellcheck disable=SC2016 # the single-quoted snippets are expanded by the container's shell
SUITE=containerd
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

resolve_runtime || { fail runtime "no runtime binary to test"; summary; exit 1; }
[[ -x $BUSYBOX ]] || ensure_packages busybox busybox-static || skip_suite "busybox-static cannot be installed"
ensure_packages containerd containerd || skip_suite "containerd cannot be installed with apt-get"
command -v ctr >/dev/null || skip_suite "containerd is installed but ctr is missing"
command -v containerd-shim-runc-v2 >/dev/null || skip_suite "containerd-shim-runc-v2 is missing"
command -v jq >/dev/null || ensure_packages jq jq || skip_suite "jq cannot be installed"
command -v script >/dev/null || ensure_packages script bsdutils || skip_suite "script(1) cannot be installed"

enter_private_namespace # on the host, this does not return

C=$ENGINE_TMP/containerd
export CONTAINERD_ADDRESS=$C/containerd.sock
export CONTAINERD_NAMESPACE=hrun-test
CTR_BIN=$(command -v ctr)
IMG=docker.io/library/hrun-busybox:test
RUNC_ROOT=$ENGINE_TMP/runtime-root # the shim runs the runtime with --root $RUNC_ROOT/<namespace>
STATE_ROOT=$RUNC_ROOT/$CONTAINERD_NAMESPACE
FIFOS=$ENGINE_TMP/fifo
SHARED=$ENGINE_TMP/shared
SPECS=$ENGINE_TMP/specs
SPEC_ROOTFS=$ENGINE_TMP/spec-rootfs
IDS_FILE=$ENGINE_TMP/ctr-ids
mkdir -p "$FIFOS" "$SHARED" "$SPECS"
chmod 777 "$SHARED"

if overlay_works; then SNAPSHOTTER=overlayfs; else SNAPSHOTTER=native; fi
SNAPSHOTTER=${CONTAINERD_SNAPSHOTTER_NAME:-$SNAPSHOTTER}

ctr() { bounded "$CTR_BIN" "$@"; }

# Container ids carry the run's tag, so that the host-side check can look for cgroups named
# after them without matching anyone else's.
cid() { echo "t$RUN_TAG-$1"; }

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

# spec_run ID JQ-FILTER [RUN-FLAGS...] -- CMD...: ctr run --config with containerd's default
# spec, made runnable (the busybox rootfs read-only, PATH, the cgroup path, the default devices
# that ctr adds when it makes the spec itself), then changed by JQ-FILTER.
spec_run() {
  local id=$1 filter=$2 flags=() spec
  shift 2
  while [[ $1 != -- ]]; do flags+=("$1"); shift; done
  shift
  spec=$SPECS/$id.json
  ctr oci spec | jq --arg root "$SPEC_ROOTFS" --arg cg "/$ENGINE_CGROUP_PARENT/$id" \
    --args '
      .process.args = $ARGS.positional | .process.terminal = false
      | .process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
      | .root = {path: $root, readonly: true} | .linux.cgroupsPath = $cg
      | .linux.resources.devices += [
          {allow: true, type: "c", major: 1, minor: 3, access: "rwm"},
          {allow: true, type: "c", major: 1, minor: 5, access: "rwm"},
          {allow: true, type: "c", major: 1, minor: 7, access: "rwm"},
          {allow: true, type: "c", major: 1, minor: 8, access: "rwm"},
          {allow: true, type: "c", major: 1, minor: 9, access: "rwm"},
          {allow: true, type: "c", major: 5, minor: 0, access: "rwm"},
          {allow: true, type: "c", major: 5, minor: 2, access: "rwm"},
          {allow: true, type: "c", major: 136, access: "rwm"}]
      | '"$filter" -- "$@" >"$spec" || { echo "cannot make $spec"; return 1; }
  echo "$id" >>"$IDS_FILE"
  ctr run --config "$spec" --runtime io.containerd.runc.v2 --runc-binary "$HRUN_BIN" \
    --runc-root "$RUNC_ROOT" --fifo-dir "$FIFOS" "${flags[@]}" "$id"
}

all_ids() { sort -u "$IDS_FILE" 2>/dev/null; }

task_pid() { ctr task ls | awk -v id="$1" '$1 == id { print $2 }'; }
task_status() { ctr task ls | awk -v id="$1" '$1 == id { print $3 }'; }
task_stopped() { [[ $(task_status "$1") == STOPPED ]]; }
process_gone() { ! kill -0 "$1" 2>/dev/null; }

# remove_task ID: SIGKILL, wait until stopped, delete task and container.
remove_task() {
  ctr task kill -s SIGKILL "$1"
  retry_until 10 task_stopped "$1" || { ctr task ls; return 1; }
  ctr task delete "$1" >/dev/null && ctr container delete "$1"
}

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

if ! check_here daemon-start "containerd starts (state under $ENGINE_TMP)" start_containerd containerd "$C"; then
  summary
  exit 1
fi

t_import() {
  build_oci_archive "$ENGINE_TMP/image.tar" "$IMG" || return 1
  ctr image import "$ENGINE_TMP/image.tar" || return 1
  ctr image ls -q | grep -qxF "$IMG" || { echo "image $IMG not listed:"; ctr image ls; return 1; }
  build_rootfs "$SPEC_ROOTFS" # for the checks that run a spec of their own
}
check image-import "ctr image import (OCI layout made offline)" t_import || { summary; exit 1; }
note "snapshotter: $SNAPSHOTTER, runtime: $HRUN_BIN"

# ---------------------------------------------------------------------------------------------
# Checks

MAIN=$(cid main)

t_run_output() {
  local out
  out=$(ctr_run "$(cid run-rm)" --rm -- echo hello) || return 1
  expect_eq "output" "hello" "$out"
}
check echo "ctr run --rm IMG echo hello" t_run_output

t_exit_code() {
  ctr_run "$(cid exit3)" --rm -- sh -c 'exit 3'
  expect_eq "exit code of sh -c 'exit 3'" 3 "$?" || return 1
  ctr_run "$(cid exit0)" --rm -- true
  expect_eq "exit code of true" 0 "$?" || return 1
  local id out
  id=$(cid exit-kill)
  ctr_opts "$id"
  ctr run -d "${OPTS[@]}" "$IMG" "$id" sleep 1000 || return 1
  ctr task kill -s SIGKILL "$id" || return 1
  retry_until 10 task_stopped "$id" || { ctr task ls; return 1; }
  out=$(ctr task delete "$id" 2>&1) || { echo "$out"; return 1; }
  expect_contains "exit status after SIGKILL" "exit code 137" "$out" || return 1
  ctr container delete "$id"
}
check exit-code "ctr run exit codes (exit 3, true, killed: 137)" t_exit_code

t_exit_not_found() {
  local out rc id
  id=$(cid missing)
  out=$(ctr_run "$id" --rm -- /no/such/program 2>&1)
  rc=$?
  ((rc != 0)) || { echo "ctr run of a missing program exited 0"; return 1; }
  expect_contains "error (lower case)" "no such file or directory" "$(tr '[:upper:]' '[:lower:]' <<<"$out")" || return 1
  if ctr task ls -q | grep -qxF "$id"; then echo "a task is left"; return 1; fi
  retry_until 10 not ctr container info "$id" || { echo "the container is left"; return 1; }
}
check exit-code-missing "ctr run of a missing program fails, nothing left" t_exit_not_found

t_lifecycle() {
  local id pid out
  id=$(cid life)
  ctr_opts "$id"
  ctr run -d "${OPTS[@]}" "$IMG" "$id" sh -c 'trap "exit 0" TERM; while :; do sleep 0.2; done' || return 1
  expect_eq "task status" RUNNING "$(task_status "$id")" || return 1
  pid=$(task_pid "$id")
  out=$(ctr task exec --fifo-dir "$FIFOS" --exec-id e0 "$id" echo exec works) || return 1
  expect_eq "exec output" "exec works" "$out" || return 1
  ctr task kill "$id" || return 1 # SIGTERM: what a stop does
  retry_until 10 task_stopped "$id" || { echo "task did not stop:"; ctr task ls; return 1; }
  out=$(ctr task delete "$id" 2>&1) || { echo "$out"; return 1; }
  # ctr warns "exit with non-zero exit code N" only when the status is not 0.
  [[ $out != *"exit code"* ]] || { echo "the trap's exit 0 was not the task's status: $out"; return 1; }
  ctr container delete "$id" || return 1
  retry_until 10 process_gone "$pid" || { echo "pid $pid still alive"; return 1; }
  [[ ! -e $STATE_ROOT/$id ]] || { echo "state dir $STATE_ROOT/$id left"; return 1; }
}
check lifecycle "ctr run -d, task exec, kill (TERM), task delete, container delete" t_lifecycle

t_detached() {
  ctr_opts "$MAIN"
  ctr run -d "${OPTS[@]}" --mount "type=bind,src=$SHARED,dst=/shared,options=rbind:rw" "$IMG" "$MAIN" \
    sh -c 'trap "echo got-usr1 >> /shared/usr1" USR1; trap "echo got-term >> /shared/term; exit 9" TERM; echo ready > /shared/ready; while :; do sleep 0.2; done' || return 1
  retry_until 20 test -s "$SHARED/ready" || { echo "container never wrote /shared/ready"; return 1; }
  expect_eq "task status" RUNNING "$(task_status "$MAIN")"
}
check detached "ctr run -d (bind mount, task RUNNING)" t_detached

t_exec() {
  local out
  out=$(ctr task exec --fifo-dir "$FIFOS" --exec-id e1 "$MAIN" echo exec works) || return 1
  expect_eq "exec output" "exec works" "$out" || return 1
  ctr task exec --fifo-dir "$FIFOS" --exec-id e2 "$MAIN" sh -c 'exit 5'
  expect_eq "exec exit code" 5 "$?" || return 1
  out=$(ctr task exec --fifo-dir "$FIFOS" --exec-id e3 --cwd /tmp --user 1000 "$MAIN" sh -c 'id -u; pwd') || return 1
  expect_eq "exec --user --cwd" $'1000\n/tmp' "$out"
}
check exec "ctr task exec (output, exit code, --user, --cwd)" t_exec

t_ps() {
  local pid out
  pid=$(task_pid "$MAIN")
  [[ -n $pid && $pid != 0 ]] || { echo "no pid for $MAIN"; ctr task ls; return 1; }
  out=$(ctr task ps "$MAIN") || return 1
  expect_contains "ctr task ps" "$pid" "$out"
}
check top "ctr task ps lists the init pid (the runtime's ps)" t_ps

t_metrics() {
  local out usage pids
  out=$(ctr task metrics "$MAIN") || return 1
  usage=$(awk '$1 == "memory.usage_in_bytes" { print $2 }' <<<"$out")
  pids=$(awk '$1 == "pids.current" { print $2 }' <<<"$out")
  at_least "memory.usage_in_bytes" 1 "$usage" || { echo "$out"; return 1; }
  at_least "pids.current" 1 "$pids" || { echo "$out"; return 1; }
}
check stats "ctr task metrics: memory use and pids of a running task" t_metrics

t_kill_usr1() {
  ctr task kill -s SIGUSR1 "$MAIN" || return 1
  retry_until 10 test -s "$SHARED/usr1" || { echo "the trap did not run"; return 1; }
  expect_eq "task status" RUNNING "$(task_status "$MAIN")"
}
check kill-signal "ctr task kill -s SIGUSR1 reaches the trap" t_kill_usr1

t_pause() {
  local pid freezer
  pid=$(task_pid "$MAIN")
  freezer=$(cgroup_of "$pid" freezer) || { echo "no freezer cgroup for $pid"; return 1; }
  expect_eq "cgroup" "/sys/fs/cgroup/freezer/$ENGINE_CGROUP_PARENT/$MAIN" "$freezer" || return 1
  ctr task pause "$MAIN" || return 1
  expect_eq "status after pause" PAUSED "$(task_status "$MAIN")" || return 1
  expect_eq "freezer.state" FROZEN "$(cat "$freezer/freezer.state")" || return 1
  ctr task resume "$MAIN" || return 1
  expect_eq "status after resume" RUNNING "$(task_status "$MAIN")" || return 1
  expect_eq "freezer.state" THAWED "$(cat "$freezer/freezer.state")" || return 1
  local out
  out=$(ctr task exec --fifo-dir "$FIFOS" --exec-id e4 "$MAIN" echo alive) || return 1
  expect_eq "exec after resume" alive "$out"
}
check pause "ctr task pause / resume (freezer cgroup)" t_pause

# ctr 1.6 has no update command; containerd's shim changes a running task's resources by running
# `<runtime> --root <root> update --resources - <id>` with the JSON on stdin: that call is made
# here, on a task the shim started.
t_update_memory() {
  local pid mem out
  pid=$(task_pid "$MAIN")
  mem=$(cgroup_of "$pid" memory) || { echo "no memory cgroup for $pid"; return 1; }
  printf '{"memory":{"limit":%d}}' $((64 << 20)) |
    bounded "$HRUN_BIN" --root "$STATE_ROOT" update --resources - "$MAIN" || return 1
  cgroup_file_is "$mem/memory.limit_in_bytes" $((64 << 20)) || return 1
  out=$(ctr task exec --fifo-dir "$FIFOS" --exec-id e5 "$MAIN" echo alive) || return 1
  expect_eq "exec after update" alive "$out"
}
check update-memory "runtime update --resources - (as the shim runs it) sets the memory limit" t_update_memory

t_kill_term() {
  ctr task kill "$MAIN" || return 1 # SIGTERM by default
  retry_until 10 task_stopped "$MAIN" || { echo "task did not stop:"; ctr task ls; return 1; }
  expect_eq "trap output" got-term "$(cat "$SHARED/term" 2>/dev/null)" || return 1
  local out
  out=$(ctr task delete "$MAIN" 2>&1) || { echo "$out"; return 1; }
  expect_contains "exit status reported by ctr task delete" "exit code 9" "$out" || return 1
  ctr container delete "$MAIN"
}
check stop-term "ctr task kill (SIGTERM), task delete reports the exit status" t_kill_term

t_tty() {
  local out id
  id=$(cid tty)
  ctr_opts "$id"
  out=$(script -qec "$CTR_BIN run --rm -t ${OPTS[*]} $IMG $id sh -c 'tty; echo done'" /dev/null </dev/null) || {
    echo "$out"
    return 1
  }
  expect_contains "tty" /dev/pts/ "$out" || return 1
  expect_contains "output" "done" "$out"
}
check tty "ctr run -t (no input)" t_tty

# An interactive shell on the container's console, typed into through a real pty (see
# interactive_session in common.sh).
t_tty_interactive() {
  local id
  id=$(cid tty-i)
  ctr_opts "$id"
  pty_start "$CTR_BIN run --rm -t ${OPTS[*]} --env PS1=pty-ready\> $IMG $id sh" || return 1
  interactive_session 4 || { pty_abort; return 1; }
}
check tty-interactive "ctr run -t: interactive shell through a pty (input, size, Ctrl-C, exit 4)" t_tty_interactive

t_exec_interactive() {
  local id
  id=$(cid tty-exec)
  ctr_opts "$id"
  ctr run -d "${OPTS[@]}" --env 'PS1=pty-ready>' "$IMG" "$id" sleep 1000 || return 1
  pty_start "$CTR_BIN task exec --fifo-dir $FIFOS -t --exec-id t1 $id sh" || return 1
  interactive_session 6 || { pty_abort; return 1; }
  remove_task "$id"
}
check tty-exec "ctr task exec -t: interactive shell through a pty" t_exec_interactive

t_read_only() {
  local out rc
  out=$(ctr_run "$(cid ro)" --rm --read-only -- sh -c 'touch /newfile' 2>&1)
  rc=$?
  ((rc != 0)) || { echo "touch / succeeded on a read-only rootfs"; return 1; }
  expect_contains "error" "Read-only file system" "$out" || return 1
  out=$(ctr_run "$(cid rw)" --rm -- sh -c 'touch /newfile && echo wrote') || return 1
  expect_eq "writable rootfs without --read-only" wrote "$out"
}
check read-only "ctr run --read-only" t_read_only

t_cap_drop_all() {
  local out
  out=$(spec_run "$(cid caps-all)" '.process.capabilities = {bounding: [], effective: [], permitted: [], inheritable: [], ambient: []}' \
    --rm -- sh -c 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status; chown 1000 /tmp 2>&1 || echo refused') || return 1
  expect_contains "CapEff" $'CapEff:\t0000000000000000' "$out" || return 1
  expect_contains "CapBnd" $'CapBnd:\t0000000000000000' "$out" || return 1
  expect_contains "chown without CAP_CHOWN" refused "$out" || return 1
  out=$(ctr_run "$(cid caps-chown)" --rm --cap-drop CAP_CHOWN -- sh -c 'chown 1000 /tmp 2>&1 || echo refused') || return 1
  expect_contains "--cap-drop CAP_CHOWN" refused "$out" || return 1
  out=$(ctr_run "$(cid caps-default)" --rm -- sh -c 'chown 1000 /tmp && echo allowed') || return 1
  expect_eq "chown with the default capabilities" allowed "$out"
}
check cap-drop-all "no capabilities (spec with empty capability sets; --cap-drop CAP_CHOWN)" t_cap_drop_all

t_no_new_privs() {
  local out
  out=$(ctr_run "$(cid nnp)" --rm -- grep NoNewPrivs /proc/self/status) || return 1
  expect_eq "ctr's default (no_new_privs set)" $'NoNewPrivs:\t1' "$out" || return 1
  out=$(ctr_run "$(cid nnp-off)" --rm --allow-new-privs -- grep NoNewPrivs /proc/self/status) || return 1
  expect_eq "--allow-new-privs" $'NoNewPrivs:\t0' "$out"
}
check no-new-privileges "ctr run: no_new_privs by default, off with --allow-new-privs" t_no_new_privs

t_memory_limit() {
  ctr_run "$(cid oom)" --rm --memory-limit $((32 << 20)) -- dd if=/dev/zero of=/dev/null bs=128M count=1
  expect_eq "exit code of a task over its memory limit" 137 "$?"
}
check memory "ctr run --memory-limit 32M: the kernel kills the task" t_memory_limit

t_pids_limit() {
  local id pid cg out
  id=$(cid pids)
  spec_run "$id" '.linux.resources.pids = {limit: 20}' -d -- sleep 1000 || return 1
  pid=$(task_pid "$id")
  cg=$(cgroup_of "$pid" pids) || { echo "no pids cgroup for $pid"; return 1; }
  cgroup_file_is "$cg/pids.max" 20 || return 1
  # 40 more processes cannot all start under a limit of 20.
  out=$(ctr task exec --fifo-dir "$FIFOS" --exec-id p1 "$id" sh -c 'for i in $(seq 40); do sleep 5 & done 2>&1; echo started')
  expect_contains "forks over the limit" "can't fork" "$out" || return 1
  remove_task "$id"
}
check pids-limit "pids limit 20 (spec): pids.max set and enforced" t_pids_limit

t_user() {
  local out
  out=$(spec_run "$(cid user)" '.process.user = {uid: 1000, gid: 1000}' --rm -- sh -c 'id -u; id -g; grep -E "^CapEff" /proc/self/status') || return 1
  expect_eq "id -u, id -g, no effective capabilities" $'1000\n1000\nCapEff:\t0000000000000000' "$out"
}
check user "user 1000:1000 (spec)" t_user

t_network_none() {
  local out host_ns
  host_ns=$(readlink /proc/self/ns/net)
  out=$(ctr_run "$(cid net)" --rm -- sh -c 'readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "') || return 1
  [[ ${out%%$'\n'*} != "$host_ns" ]] || { echo "the container shares the host's network namespace"; return 1; }
  expect_eq "interfaces" lo "${out#*$'\n'}"
}
check network-none "ctr run (no --net-host, no CNI): own netns with only lo" t_network_none

t_env_cwd() {
  local out
  out=$(ctr_run "$(cid env)" --rm --env FOO=bar --cwd /tmp -- sh -c 'echo $FOO; pwd') || return 1
  expect_eq "env, cwd" $'bar\n/tmp' "$out"
}
check env "ctr run --env --cwd" t_env_cwd

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
check remove-all "no task or container left in containerd" t_nothing_listed

t_runtime_was_used() {
  [[ -d $STATE_ROOT ]] || { echo "no $STATE_ROOT: the runtime never used it"; return 1; }
  [[ -n $(all_ids) ]] || { echo "no container ids recorded"; return 1; }
}
check state-root "runtime state root is $STATE_ROOT" t_runtime_was_used
check leftover-processes "no runtime process or container process left" retry_until 10 assert_no_runtime_processes
check leftover-state "no container state dir left in the runtime root" retry_until 10 assert_no_state_dirs "$STATE_ROOT"
mapfile -t ids < <(all_ids)
check leftover-cgroups "no cgroup left for the containers" retry_until 10 assert_no_cgroups "${ids[@]}"
check leftover-cgroup-parent "no cgroup left under the cgroup parent" retry_until 10 assert_cgroup_parent_empty

summary
