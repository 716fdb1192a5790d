#!/usr/bin/env bash
# Podman (through conmon) driving the runtime under test (HRUN_BIN, given with --runtime).
# Every podman path (storage, run state, tmp, network config, volumes) is under a temp dir, in a
# private mount namespace with its own /run; the image is imported from a busybox-static rootfs,
# so no network is needed.
# Ends with "N passed, N failed, N skipped"; exits non-zero if a check failed.
# shellcheck disable=SC2016 # the single-quoted snippets are expanded by the container's shell
SUITE=podman
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

resolve_runtime || { fail runtime "no runtime binary to test"; summary; exit 1; }
[[ -x $BUSYBOX ]] || ensure_packages busybox busybox-static || skip_suite "busybox-static cannot be installed"
ensure_packages podman podman || skip_suite "podman cannot be installed with apt-get"
command -v conmon >/dev/null || ensure_packages conmon conmon || skip_suite "conmon cannot be installed"
command -v script >/dev/null || ensure_packages script bsdutils || skip_suite "script(1) cannot be installed"

enter_private_namespace # on the host, this does not return

P=$ENGINE_TMP/podman
mkdir -p "$P"/{root,run,tmp,net,volumes,conf}
IMG=localhost/hrun-busybox:test
CIDS=$P/cids
mkdir -p "$CIDS"
if overlay_works; then DRIVER=overlay; else DRIVER=vfs; fi
DRIVER=${PODMAN_STORAGE_DRIVER:-$DRIVER}
# Our own containers.conf and storage.conf keep the host's configuration out of the test.
: >"$P/conf/containers.conf"
# Podman's default rlimits (nofile 1048576, nproc above the caller's hard limit) can only be set
# with CAP_SYS_RESOURCE, which a sandboxed root may lack: then ask for limits below any hard one.
cap_eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
if (((0x$cap_eff >> 24 & 1) == 0)); then
  note "no CAP_SYS_RESOURCE here: containers get nofile and nproc 4096 instead of podman's defaults"
  printf '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n' >"$P/conf/containers.conf"
fi
printf '[storage]\ndriver = "%s"\nrunroot = "%s"\ngraphroot = "%s"\n' "$DRIVER" "$P/run" "$P/root" >"$P/conf/storage.conf"
export CONTAINERS_CONF=$P/conf/containers.conf CONTAINERS_STORAGE_CONF=$P/conf/storage.conf
export TMPDIR=$P/tmp # image import unpacks through it

# Podman calls the runtime without --root, so the runtime keeps its state in its default root
# (e.g. /run/runc: the private /run). --runtime-flag root=... would not do: podman's exit-time
# cleanup process does not pass it on. The root is found from a running container's state dir.
RUNTIME_ROOT_FILE=$P/runtime-root
find_state_dir() { find /run -mindepth 2 -maxdepth 3 -type d -name "$1" 2>/dev/null | head -n 1; }
runtime_root() { cat "$RUNTIME_ROOT_FILE" 2>/dev/null; }
# The image library keeps a blob cache there whatever --root says.
track_host_path /var/lib/containers /var/lib/containers/cache /var/lib/containers/cache/blob-info-cache-v1.boltdb
# conmon does not pass its environment on to the runtime, so HRUN_POLICY does not reach hrun
# here: podman's containers get hrun's default policy, hardened (see t_no_new_privs).
# One wrapper with every global flag, usable from functions and from script(1) alike.
cat >"$P/podman" <<EOF
#!/bin/sh
exec podman --root "$P/root" --runroot "$P/run" --tmpdir "$P/tmp" --storage-driver "$DRIVER" \\
  --network-config-dir "$P/net" --volumepath "$P/volumes" \\
  --cgroup-manager cgroupfs --events-backend file --runtime "$HRUN_BIN" "\$@"
EOF
chmod +x "$P/podman"
podman() { bounded "$P/podman" "$@"; }
PRUN_FLAGS=(--network none --cgroup-parent "/$ENGINE_CGROUP_PARENT")
# prun NAME ARGS...: podman run with the runtime under test, recording the container id.
prun() {
  local name=$1
  shift
  rm -f "$CIDS/$name"
  podman run --cidfile "$CIDS/$name" --name "$name" "${PRUN_FLAGS[@]}" "$@"
}
logs_contain() { podman logs "$1" 2>&1 | grep -q "$2"; }
all_ids() { cat "$CIDS"/* 2>/dev/null; }
container_pid() { podman inspect -f '{{.State.Pid}}' "$1"; }
is_gone() { ! podman container exists "$1"; }
process_gone() { ! kill -0 "$1" 2>/dev/null; }

podman_cleanup() {
  podman rm -af -t 0
  podman rmi -af
  # State the runtime kept for our containers in its default root (after a failed cleanup).
  local root id
  root=$(runtime_root)
  if [[ -n $root ]]; then
    for id in $(all_ids); do
      [[ -d $root/$id ]] && bounded "$HRUN_BIN" --root "$root" delete --force "$id"
    done
  fi
}
add_cleanup podman_cleanup

t_info() {
  local out
  out=$(podman info --format '{{.Store.GraphDriverName}} {{.Host.OCIRuntime.Path}} {{.Host.CgroupManager}}') || return 1
  expect_eq "podman info" "$DRIVER $HRUN_BIN cgroupfs" "$out"
}
note "storage driver: $DRIVER, runtime: $HRUN_BIN"
check daemon-start "podman info (storage $DRIVER, runtime under test, cgroupfs)" t_info || { summary; exit 1; }

t_import() {
  build_rootfs_tar "$P/rootfs.tar" || return 1
  podman import -q -c 'CMD ["sh"]' -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$P/rootfs.tar" "$IMG" >/dev/null || return 1
  podman image exists "$IMG"
}
check image-import "podman import busybox rootfs" t_import || { summary; exit 1; }

t_run_output() {
  local out
  out=$(prun run-rm --rm "$IMG" echo hello) || return 1
  expect_eq "output" "hello" "$out" || return 1
  retry_until 10 is_gone run-rm || { echo "--rm did not remove the container"; return 1; }
}
check echo "podman run --rm IMG echo hello: output, container removed" t_run_output

t_exit_code() {
  prun exit3 --rm "$IMG" sh -c 'exit 3'
  expect_eq "exit code of sh -c 'exit 3'" 3 "$?" || return 1
  prun exit0 --rm "$IMG" true
  expect_eq "exit code of true" 0 "$?" || return 1
  # Killed from outside (pid 1 of a pid namespace cannot be killed from inside): 128 + 9.
  prun exit-kill -d "$IMG" sleep 1000 >/dev/null || return 1
  podman kill exit-kill >/dev/null || return 1
  expect_eq "podman wait after SIGKILL" 137 "$(podman wait exit-kill)" || return 1
  expect_eq "State.ExitCode after SIGKILL" 137 "$(podman inspect -f '{{.State.ExitCode}}' exit-kill)"
}
check exit-code "podman run exit codes (exit 3, true, killed: 137)" t_exit_code

t_exit_not_found() {
  local out rc
  out=$(prun exit-missing --rm "$IMG" /no/such/program 2>&1)
  rc=$?
  expect_eq "exit code of a missing program" 127 "$rc" || { echo "$out"; return 1; }
}
check exit-code-missing "podman run of a missing program exits 127" t_exit_not_found

t_lifecycle() {
  prun life -d "$IMG" sh -c 'trap "exit 0" TERM; while :; do sleep 0.2; done' >/dev/null || return 1
  local pid id out root
  pid=$(container_pid life)
  id=$(cat "$CIDS/life")
  expect_eq "running" true "$(podman inspect -f '{{.State.Running}}' life)" || return 1
  out=$(podman exec life echo exec works) || return 1
  expect_eq "exec output" "exec works" "$out" || return 1
  podman stop -t 20 life >/dev/null || return 1
  expect_eq "exit code after stop" 0 "$(podman inspect -f '{{.State.ExitCode}}' life)" || return 1
  retry_until 10 process_gone "$pid" || { echo "pid $pid still alive after stop"; return 1; }
  podman rm life >/dev/null || return 1
  retry_until 10 is_gone life || { echo "container still listed after rm"; return 1; }
  root=$(find_state_dir "$id")
  [[ -z $root ]] || { echo "state dir $root left after rm"; return 1; }
}
check lifecycle "podman run -d, exec, stop, rm (process and state gone)" t_lifecycle

t_detached_exec() {
  prun main -d "$IMG" sh -c 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.2; done' >/dev/null || return 1
  retry_until 20 logs_contain main ready ||
    { echo "container never printed ready"; podman logs main; return 1; }
  local out
  out=$(podman exec main echo exec works) || return 1
  expect_eq "exec output" "exec works" "$out" || return 1
  podman exec main sh -c 'exit 5'
  expect_eq "exec exit code" 5 "$?" || return 1
  out=$(podman exec -u 1000:1000 -w /tmp main sh -c 'id -u; pwd') || return 1
  expect_eq "exec -u -w" $'1000\n/tmp' "$out"
}
check exec "podman run -d + podman exec (output, exit code, -u, -w)" t_detached_exec

t_state_root() {
  local id dir
  id=$(cat "$CIDS/main") || return 1
  dir=$(find_state_dir "$id")
  [[ -n $dir ]] || { echo "no state dir named $id under /run: where does the runtime keep it?"; return 1; }
  dirname "$dir" >"$RUNTIME_ROOT_FILE"
  echo "runtime root: $(runtime_root)"
}
check state-root "runtime keeps the container's state in its default root" t_state_root
note "runtime state root: $(runtime_root)"

t_kill_usr1() {
  podman kill -s USR1 main >/dev/null || return 1
  retry_until 10 logs_contain main got-usr1 || { echo "no got-usr1 in logs:"; podman logs main; return 1; }
  expect_eq "still running" true "$(podman inspect -f '{{.State.Running}}' main)"
}
check kill-signal "podman kill -s USR1 reaches the container's trap" t_kill_usr1

t_cgroup_parent() {
  local pid cg
  pid=$(podman inspect -f '{{.State.Pid}}' main)
  cg=$(cgroup_of "$pid" pids) || { echo "no pids cgroup for $pid"; return 1; }
  expect_contains "pids cgroup" "/sys/fs/cgroup/pids/$ENGINE_CGROUP_PARENT/" "$cg" || return 1
  expect_contains "pids cgroup" "$(cat "$CIDS/main")" "$cg"
}
check cgroup-parent "container cgroup is under the cgroup parent" t_cgroup_parent

t_pause() {
  local pid freezer out
  pid=$(podman inspect -f '{{.State.Pid}}' main)
  freezer=$(cgroup_of "$pid" freezer) || { echo "no freezer cgroup for $pid"; return 1; }
  out=$(podman pause main 2>&1) || {
    echo "$out"
    # Some podman versions refuse to pause on cgroup v1 or hybrid hosts: not the runtime's fault.
    if grep -qiE 'not supported|cgroups? ?v2|cgroupv2' <<<"$out"; then
      echo "podman refuses to pause on this host: $(tail -n 1 <<<"$out")"
      return "$SKIP_RC"
    fi
    return 1
  }
  expect_eq "status after pause" paused "$(podman inspect -f '{{.State.Status}}' main)" || return 1
  expect_eq "freezer.state" FROZEN "$(cat "$freezer/freezer.state")" || return 1
  podman unpause main >/dev/null || return 1
  expect_eq "status after unpause" running "$(podman inspect -f '{{.State.Status}}' main)" || return 1
  expect_eq "freezer.state" THAWED "$(cat "$freezer/freezer.state")" || return 1
  out=$(podman exec main echo alive) || return 1
  expect_eq "exec after unpause" alive "$out"
}
check pause "podman pause / unpause (freezer cgroup)" t_pause

t_top() {
  local out
  out=$(podman top main pid args) || return 1
  expect_contains "podman top" "while :" "$out"
}
check top "podman top lists the container's processes" t_top

t_stats() {
  local out mem pids
  out=$(podman stats --no-stream --format '{{.MemUsage}}|{{.PIDs}}' main) || return 1
  mem=${out%%|*}
  pids=${out##*|}
  if [[ ! $mem =~ ^[0-9.]+[kKMG]i?B || $mem =~ ^0B ]]; then echo "memory usage: [$mem]"; return 1; fi
  at_least "pids" 1 "$pids"
}
check stats "podman stats --no-stream: memory use and pids of a running container" t_stats

t_update_memory() {
  local pid mem
  pid=$(container_pid main)
  mem=$(cgroup_of "$pid" memory) || { echo "no memory cgroup for $pid"; return 1; }
  podman update --memory 64m main >/dev/null || return 1
  cgroup_file_is "$mem/memory.limit_in_bytes" $((64 << 20)) || return 1
  local out
  out=$(podman exec main echo alive) || return 1
  expect_eq "exec after update" alive "$out"
}
check update-memory "podman update --memory changes the cgroup limit" t_update_memory

t_stop_graceful() {
  prun graceful -d "$IMG" sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.2; done' >/dev/null || return 1
  retry_until 20 logs_contain graceful ready || return 1
  local start=$SECONDS
  podman stop -t 30 graceful >/dev/null || return 1
  ((SECONDS - start < 20)) || { echo "stop took $((SECONDS - start))s: SIGTERM was not delivered"; return 1; }
  expect_eq "exit code" 7 "$(podman inspect -f '{{.State.ExitCode}}' graceful)" || return 1
  expect_contains "logs" got-term "$(podman logs graceful)"
}
check stop-term "podman stop: SIGTERM handled by the container" t_stop_graceful

t_stop_kill() {
  prun stubborn -d "$IMG" sleep 1000 >/dev/null || return 1
  local start=$SECONDS
  podman stop -t 2 stubborn >/dev/null || return 1
  ((SECONDS - start >= 2)) || { echo "stop returned before the timeout: sleep got SIGTERM as pid 1?"; return 1; }
  expect_eq "running" false "$(podman inspect -f '{{.State.Running}}' stubborn)" || return 1
  expect_eq "exit code" 137 "$(podman inspect -f '{{.State.ExitCode}}' stubborn)"
}
check stop-kill "podman stop: SIGKILL after the timeout" t_stop_kill

t_tty() {
  local out
  out=$(prun tty --rm -t "$IMG" sh -c 'tty; echo hi' </dev/null) || { echo "$out"; return 1; }
  expect_contains "tty" /dev/pts/ "$out" || return 1
  expect_contains "output" hi "$out"
}
check tty "podman run -t (tty without stdin)" t_tty

# An interactive shell on the container's console, typed into through a real pty (see
# interactive_session in common.sh).
t_tty_interactive() {
  pty_start "$P/podman run --cidfile $CIDS/tty-i --name tty-i ${PRUN_FLAGS[*]} --rm -it -e PS1=pty-ready\> $IMG sh" || return 1
  interactive_session 4 || { pty_abort; return 1; }
}
check tty-interactive "podman run -it: interactive shell through a pty (input, size, Ctrl-C, exit 4)" t_tty_interactive

t_exec_interactive() {
  pty_start "$P/podman exec -it -e PS1=pty-ready\> main sh" || return 1
  interactive_session 6 || { pty_abort; return 1; }
}
check tty-exec "podman exec -it: interactive shell through a pty" t_exec_interactive

t_read_only() {
  local out rc
  out=$(prun ro --rm --read-only "$IMG" sh -c 'touch /newfile' 2>&1)
  rc=$?
  ((rc != 0)) || { echo "touch / succeeded on a read-only rootfs"; return 1; }
  expect_contains "error" "Read-only file system" "$out" || return 1
  out=$(prun rw --rm "$IMG" sh -c 'touch /newfile && echo wrote') || return 1
  expect_eq "writable rootfs without --read-only" wrote "$out"
}
check read-only "podman run --read-only" t_read_only

t_user() {
  local out
  out=$(prun user --rm --user 1000 "$IMG" sh -c 'id -u; id -g; touch / 2>/dev/null || echo denied') || return 1
  expect_eq "id -u, id -g (group from the image's /etc/passwd)" $'1000\n1000\ndenied' "$out" || return 1
  out=$(prun user-group --rm --user 1000:1000 "$IMG" sh -c 'id -u; id -g') || return 1
  expect_eq "--user 1000:1000" $'1000\n1000' "$out"
}
check user "podman run --user 1000 (and 1000:1000)" t_user

t_cap_drop() {
  local out
  out=$(prun caps --rm --cap-drop ALL "$IMG" sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status') || return 1
  expect_contains "CapEff" $'CapEff:\t0000000000000000' "$out" || return 1
  expect_contains "CapBnd" $'CapBnd:\t0000000000000000' "$out"
}
check cap-drop-all "podman run --cap-drop ALL" t_cap_drop

t_no_new_privs() {
  local out
  out=$(prun nnp --rm --security-opt no-new-privileges "$IMG" grep NoNewPrivs /proc/self/status) || return 1
  expect_eq "with no-new-privileges" $'NoNewPrivs:\t1' "$out" || return 1
  out=$(prun nnp-default --rm "$IMG" grep NoNewPrivs /proc/self/status) || return 1
  # Without the option the config leaves no_new_privs off: runc runs it so, hrun's default
  # (hardened) policy turns it on (conmon passes no HRUN_POLICY=oci; see the podman wrapper).
  local unset=0
  if "$HRUN_BIN" --help 2>/dev/null | grep -q -- '--policy'; then unset=1; fi
  expect_eq "without" "NoNewPrivs:"$'\t'"$unset" "$out"
}
check no-new-privileges "podman run --security-opt no-new-privileges" t_no_new_privs

# Not State.OOMKilled: conmon's OOM watch misses the kill on this kind of host (hybrid cgroups)
# whatever the runtime, so the limit is read from the cgroup instead.
t_memory() {
  prun mem -d --memory 32m --memory-swap 32m "$IMG" sleep 1000 >/dev/null || return 1
  local pid mem rc
  pid=$(container_pid mem)
  mem=$(cgroup_of "$pid" memory) || { echo "no memory cgroup for $pid"; return 1; }
  cgroup_file_is "$mem/memory.limit_in_bytes" $((32 << 20)) || return 1
  podman rm -f -t 0 mem >/dev/null
  prun oom --rm --memory 32m --memory-swap 32m "$IMG" dd if=/dev/zero of=/dev/null bs=128M count=1
  rc=$?
  expect_eq "exit code of dd asking for 128M" 137 "$rc"
}
check memory "podman run --memory 32m: cgroup limit set, the kernel kills a task over it" t_memory

t_pids_limit() {
  prun pids -d --pids-limit 20 "$IMG" sleep 1000 >/dev/null || return 1
  local pid cg out
  pid=$(container_pid pids)
  cg=$(cgroup_of "$pid" pids) || { echo "no pids cgroup for $pid"; return 1; }
  cgroup_file_is "$cg/pids.max" 20 || return 1
  # 40 more processes cannot all start under a limit of 20.
  out=$(podman exec pids sh -c 'for i in $(seq 40); do sleep 5 & done 2>&1; echo started') || true
  expect_contains "forks over the limit" "can't fork" "$out" || return 1
  podman rm -f -t 0 pids >/dev/null
}
check pids-limit "podman run --pids-limit 20: pids.max set and enforced" t_pids_limit

t_network_none() {
  local out host_ns
  host_ns=$(readlink /proc/self/ns/net)
  out=$(prun net --rm "$IMG" sh -c 'readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "') || return 1
  [[ ${out%%$'\n'*} != "$host_ns" ]] || { echo "the container shares the host's network namespace"; return 1; }
  expect_eq "interfaces" lo "${out#*$'\n'}"
}
check network-none "podman run --network none: own netns with only lo" t_network_none # in PRUN_FLAGS

t_rm_force() {
  prun doomed -d "$IMG" sleep 1000 >/dev/null || return 1
  local pid
  pid=$(podman inspect -f '{{.State.Pid}}' doomed)
  podman rm -f -t 0 doomed >/dev/null || return 1
  if podman container exists doomed; then echo "container still exists"; return 1; fi
  retry_until 10 process_gone "$pid" || { echo "process $pid still alive"; return 1; }
}
check rm-force "podman rm -f of a running container" t_rm_force

# ---------------------------------------------------------------------------------------------
# Nothing left behind

t_remove_all() {
  podman rm -af -t 0 >/dev/null || return 1
  local left
  left=$(podman ps -aq)
  [[ -z $left ]] || { echo "containers left: $left"; return 1; }
}
check remove-all "podman rm -af of every container" t_remove_all

t_no_state_left() {
  local root id left=""
  root=$(runtime_root)
  [[ -n $root ]] || { echo "the runtime's state root was never found"; return 1; }
  for id in $(all_ids); do
    [[ -e $root/$id ]] && left+=" $id"
  done
  [[ -z $left ]] || { echo "state left in $root for:$left"; return 1; }
}
check leftover-processes "no runtime, conmon or container process left" retry_until 10 assert_no_runtime_processes
check leftover-state "no container state dir left in the runtime root" retry_until 10 t_no_state_left
mapfile -t ids < <(all_ids)
check leftover-cgroups "no cgroup left for the containers" retry_until 10 assert_no_cgroups "${ids[@]}"
# Podman keeps one shared <parent>/conmon cgroup for its monitors; it must be empty by now.
check leftover-cgroup-parent "no cgroup left under the cgroup parent" retry_until 10 assert_cgroup_parent_empty conmon

summary
