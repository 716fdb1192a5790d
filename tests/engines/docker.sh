#!/usr/bin/env bash
# Docker driving the runtime under test (HRUN_BIN, registered as runtime "hrun").
# A private dockerd and containerd keep everything under a temp dir, in a private mount
# namespace with its own /run; images are imported from a busybox-static rootfs, so no network
# is needed. See common.sh for the environment variables.
# Ends with "N passed, N failed, N skipped"; exits non-zero if a check failed.
# shellcheck disable=SC2016 # the single-quoted snippets are expanded by the container's shell
SUITE=docker
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

resolve_runtime || { fail runtime "no runtime binary to test"; summary; exit 1; }
[[ -x $BUSYBOX ]] || ensure_packages busybox busybox-static || skip_suite "busybox-static cannot be installed"
ensure_packages dockerd docker.io || skip_suite "docker.io cannot be installed with apt-get"
command -v containerd >/dev/null || ensure_packages containerd containerd || skip_suite "containerd cannot be installed"
command -v script >/dev/null || ensure_packages script bsdutils || skip_suite "script(1) cannot be installed"

# The packaged client matches the daemon; a newer one elsewhere on PATH would work too.
if [[ -x /usr/bin/docker ]]; then DOCKER_CLI=/usr/bin/docker; else DOCKER_CLI=$(command -v docker); fi
[[ -n $DOCKER_CLI ]] || skip_suite "no docker client found"

enter_private_namespace # on the host, this does not return

D=$ENGINE_TMP/docker
mkdir -p "$D/cli"
export DOCKER_HOST=unix://$D/docker.sock DOCKER_CONFIG=$D/cli
IMG=hrun-busybox:test
RUN=(--runtime hrun --network none)
# dockerd gives the runtime --root <exec-root>/runtime-<name>/<containerd namespace>; some
# versions use runtime-runc for every runtime, so the name is found after the first container.
runtime_root() {
  local r
  for r in "$D/exec/runtime-hrun/moby" "$D"/exec/runtime-*/moby; do
    [[ -d $r ]] && { echo "$r"; return 0; }
  done
  return 1
}
CIDS=$D/cids
mkdir -p "$CIDS"

docker() { bounded "$DOCKER_CLI" "$@"; }

# drun NAME ARGS...: docker run with the runtime under test, recording the container id.
drun() {
  local name=$1
  shift
  rm -f "$CIDS/$name"
  docker run --cidfile "$CIDS/$name" --name "$name" "${RUN[@]}" "$@"
}

all_ids() { cat "$CIDS"/* 2>/dev/null; }
logs_contain() { docker logs "$1" 2>&1 | grep -q "$2"; }
container_pid() { docker inspect -f '{{.State.Pid}}' "$1"; }
is_gone() { ! docker inspect "$1" >/dev/null 2>&1; }
process_gone() { ! kill -0 "$1" 2>/dev/null; }

docker_cleanup() {
  local ids
  mapfile -t ids < <(docker ps -aq 2>/dev/null)
  ((${#ids[@]})) && docker rm -f "${ids[@]}"
  docker rmi -f "$IMG"
}
add_cleanup docker_cleanup

# ---------------------------------------------------------------------------------------------
# Daemons

# overlay2 when overlay mounts work here (they may not inside some containers), else vfs.
STORAGE_DRIVER=${DOCKER_STORAGE_DRIVER:-}
if [[ -z $STORAGE_DRIVER ]]; then
  if overlay_works; then STORAGE_DRIVER=overlay2; else STORAGE_DRIVER=vfs; fi
fi
note "runtime: $HRUN_BIN"

# start_dockerd DRIVER: dockerd with data and exec roots in the temp dir, on our containerd.
start_dockerd() {
  local driver=$1
  echo '{}' >"$D/daemon.json"
  local args=(
    --config-file "$D/daemon.json"
    --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/dockerd.pid"
    -H "unix://$D/docker.sock"
    --containerd "$ENGINE_TMP/containerd/containerd.sock"
    --iptables=false --ip-forward=false --ip-masq=false --bridge=none --userland-proxy=false
    --storage-driver "$driver"
    --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$ENGINE_CGROUP_PARENT"
    --add-runtime "hrun=$HRUN_BIN"
  )
  # --ip6tables only exists in some versions (and is experimental in others).
  if bounded dockerd --help 2>&1 | grep -q -- '--ip6tables'; then args+=(--ip6tables=false); fi
  start_daemon dockerd dockerd "${args[@]}"
  wait_for_socket dockerd "$D/docker.sock" 60 || return 1
  retry_until 30 docker version
}

start_daemons() {
  # dockerd writes its key there whatever its data and exec roots are (/run is private).
  track_host_path /etc/docker /etc/docker/key.json
  start_containerd docker-containerd "$ENGINE_TMP/containerd" || return 1
  start_dockerd "$STORAGE_DRIVER" && return 0
  # An overlay mount may work while docker's overlay2 driver still refuses: fall back to vfs.
  [[ -z ${DOCKER_STORAGE_DRIVER:-} && $STORAGE_DRIVER != vfs ]] || return 1
  echo "dockerd failed with $STORAGE_DRIVER; trying vfs"
  stop_daemon "$ENGINE_TMP/dockerd.pid"
  rm -f "$D/docker.sock"
  STORAGE_DRIVER=vfs
  start_dockerd vfs
}

import_image() {
  build_rootfs_tar "$D/rootfs.tar" || return 1
  docker import -c 'CMD ["sh"]' -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$D/rootfs.tar" "$IMG" >/dev/null || return 1
  docker image inspect "$IMG" >/dev/null
}

if ! check_here daemon-start "dockerd starts (containerd and dockerd under $ENGINE_TMP)" start_daemons; then
  summary
  exit 1
fi
check image-import "docker import busybox rootfs" import_image || { summary; exit 1; }
note "storage driver in use: $(docker info -f '{{.Driver}}')"

# ---------------------------------------------------------------------------------------------
# Checks

t_run_output() {
  local out
  out=$(drun run-rm --rm "$IMG" echo hello) || return 1
  expect_eq "output" "hello" "$out" || return 1
  retry_until 10 is_gone run-rm || { echo "--rm did not remove the container"; return 1; }
}
check echo "docker run --rm IMG echo hello: output, container removed" t_run_output

t_exit_code() {
  drun exit3 --rm "$IMG" sh -c 'exit 3'
  expect_eq "exit code of sh -c 'exit 3'" 3 "$?" || return 1
  drun exit0 --rm "$IMG" true
  expect_eq "exit code of true" 0 "$?" || return 1
  # Killed from outside (pid 1 of a pid namespace cannot be killed from inside): 128 + 9.
  drun exit-kill -d "$IMG" sleep 1000 >/dev/null || return 1
  docker kill exit-kill >/dev/null || return 1
  expect_eq "docker wait after SIGKILL" 137 "$(docker wait exit-kill)" || return 1
  expect_eq "State.ExitCode after SIGKILL" 137 "$(docker inspect -f '{{.State.ExitCode}}' exit-kill)"
}
check exit-code "docker run exit codes (exit 3, true, killed: 137)" t_exit_code

t_exit_not_found() {
  local out rc
  out=$(drun exit-missing --rm "$IMG" /no/such/program 2>&1)
  rc=$?
  expect_eq "exit code of a missing program" 127 "$rc" || { echo "$out"; return 1; }
}
check exit-code-missing "docker run of a missing program exits 127" t_exit_not_found

t_lifecycle() {
  drun life -d "$IMG" sh -c 'trap "exit 0" TERM; while :; do sleep 0.2; done' >/dev/null || return 1
  local pid id out root
  pid=$(container_pid life)
  id=$(cat "$CIDS/life")
  expect_eq "running" true "$(docker inspect -f '{{.State.Running}}' life)" || return 1
  out=$(docker exec life sh -c 'echo exec in $(hostname)') || return 1
  expect_eq "exec output" "exec in ${id:0:12}" "$out" || return 1
  docker stop -t 20 life >/dev/null || return 1
  expect_eq "exit code after stop" 0 "$(docker inspect -f '{{.State.ExitCode}}' life)" || return 1
  retry_until 10 process_gone "$pid" || { echo "pid $pid still alive after stop"; return 1; }
  docker rm life >/dev/null || return 1
  retry_until 10 is_gone life || { echo "container still listed after rm"; return 1; }
  root=$(runtime_root) || { echo "no runtime root under $D/exec"; return 1; }
  [[ ! -e $root/$id ]] || { echo "state dir $root/$id left after rm"; return 1; }
}
check lifecycle "docker run -d, exec, stop, rm (process and state gone)" t_lifecycle

t_detached_exec() {
  drun main -d "$IMG" sh -c 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.2; done' >/dev/null || return 1
  retry_until 20 logs_contain main ready || { echo "container never printed ready"; return 1; }
  local out
  out=$(docker exec main echo exec works) || return 1
  expect_eq "exec output" "exec works" "$out" || return 1
  docker exec main sh -c 'exit 5'
  expect_eq "exec exit code" 5 "$?" || return 1
  out=$(docker exec -u 1000:1000 -w /tmp main sh -c 'id -u; pwd') || return 1
  expect_eq "exec -u -w" $'1000\n/tmp' "$out"
}
check exec "docker run -d + docker exec (output, exit code, -u, -w)" t_detached_exec

t_kill_usr1() {
  docker kill -s USR1 main >/dev/null || return 1
  retry_until 10 logs_contain main got-usr1 || { echo "no got-usr1 in logs:"; docker logs main; return 1; }
  expect_eq "still running" true "$(docker inspect -f '{{.State.Running}}' main)"
}
check kill-signal "docker kill -s USR1 reaches the container's trap" t_kill_usr1

t_top() {
  local out
  out=$(docker top main) || return 1
  expect_contains "docker top" "while :" "$out" || return 1
  # The container's pid 1 is the host pid docker reports.
  local pid
  pid=$(container_pid main)
  expect_contains "docker top pid" " $pid " "$out"
}
check top "docker top lists the container's processes" t_top

t_stats() {
  local out mem pids
  out=$(docker stats --no-stream --format '{{.MemUsage}}|{{.PIDs}}' main) || return 1
  mem=${out%%|*}
  pids=${out##*|}
  if [[ ! $mem =~ ^[0-9.]+[KMG]i?B || $mem =~ ^0B ]]; then echo "memory usage: [$mem]"; return 1; fi
  at_least "pids" 1 "$pids"
}
check stats "docker stats --no-stream: memory use and pids of a running container" t_stats

t_pause() {
  local pid freezer
  pid=$(container_pid main)
  freezer=$(cgroup_of "$pid" freezer) || { echo "no freezer cgroup for $pid"; return 1; }
  docker pause main >/dev/null || return 1
  expect_eq "status after pause" paused "$(docker inspect -f '{{.State.Status}}' main)" || return 1
  expect_eq "freezer.state" FROZEN "$(cat "$freezer/freezer.state")" || return 1
  docker unpause main >/dev/null || return 1
  expect_eq "status after unpause" running "$(docker inspect -f '{{.State.Status}}' main)" || return 1
  expect_eq "freezer.state" THAWED "$(cat "$freezer/freezer.state")" || return 1
  local out
  out=$(docker exec main echo alive) || return 1
  expect_eq "exec after unpause" alive "$out"
}
check pause "docker pause / unpause (freezer cgroup)" t_pause

t_update_memory() {
  local pid mem
  pid=$(container_pid main)
  mem=$(cgroup_of "$pid" memory) || { echo "no memory cgroup for $pid"; return 1; }
  docker update --memory 64m --memory-swap 128m main >/dev/null || return 1
  expect_eq "memory.limit_in_bytes" $((64 << 20)) "$(cat "$mem/memory.limit_in_bytes")" || return 1
  if [[ -e $mem/memory.memsw.limit_in_bytes ]]; then
    expect_eq "memory.memsw.limit_in_bytes" $((128 << 20)) "$(cat "$mem/memory.memsw.limit_in_bytes")" || return 1
  fi
  expect_eq "HostConfig.Memory" $((64 << 20)) "$(docker inspect -f '{{.HostConfig.Memory}}' main)"
}
check update-memory "docker update --memory changes the cgroup limit" t_update_memory

t_cgroup_parent() {
  local pid cg
  pid=$(container_pid main)
  cg=$(cgroup_of "$pid" pids) || { echo "no pids cgroup for $pid"; return 1; }
  expect_eq "pids cgroup" "/sys/fs/cgroup/pids/$ENGINE_CGROUP_PARENT/$(cat "$CIDS/main")" "$cg"
}
check cgroup-parent "container cgroup is <cgroup-parent>/<id>" t_cgroup_parent

t_stop_graceful() {
  drun graceful -d "$IMG" sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.2; done' >/dev/null || return 1
  retry_until 20 logs_contain graceful ready || return 1
  local start=$SECONDS
  docker stop -t 30 graceful >/dev/null || return 1
  ((SECONDS - start < 20)) || { echo "stop took $((SECONDS - start))s: SIGTERM was not delivered"; return 1; }
  expect_eq "exit code" 7 "$(docker inspect -f '{{.State.ExitCode}}' graceful)" || return 1
  expect_contains "logs" got-term "$(docker logs graceful)"
}
check stop-term "docker stop: SIGTERM handled by the container" t_stop_graceful

t_stop_kill() {
  # pid 1 without a handler ignores SIGTERM: docker must fall back to SIGKILL.
  drun stubborn -d "$IMG" sleep 1000 >/dev/null || return 1
  local start=$SECONDS
  docker stop -t 2 stubborn >/dev/null || return 1
  ((SECONDS - start >= 2)) || { echo "stop returned before the timeout: sleep got SIGTERM as pid 1?"; return 1; }
  expect_eq "running" false "$(docker inspect -f '{{.State.Running}}' stubborn)" || return 1
  expect_eq "exit code" 137 "$(docker inspect -f '{{.State.ExitCode}}' stubborn)"
}
check stop-kill "docker stop: SIGKILL after the timeout" t_stop_kill

t_restart_stopped() {
  docker start stubborn >/dev/null || return 1
  expect_eq "running after start" true "$(docker inspect -f '{{.State.Running}}' stubborn)" || return 1
  docker kill stubborn >/dev/null
}
check restart "docker start of a stopped container" t_restart_stopped

t_read_only() {
  local out rc
  out=$(drun ro --rm --read-only "$IMG" sh -c 'touch /newfile' 2>&1)
  rc=$?
  ((rc != 0)) || { echo "touch / succeeded on a read-only rootfs"; return 1; }
  expect_contains "error" "Read-only file system" "$out" || return 1
  out=$(drun rw --rm "$IMG" sh -c 'touch /newfile && echo wrote') || return 1
  expect_eq "writable rootfs without --read-only" wrote "$out"
}
check read-only "docker run --read-only" t_read_only

t_user() {
  local out
  out=$(drun user --rm --user 1000 "$IMG" sh -c 'id -u; id -g; touch / 2>/dev/null || echo denied') || return 1
  expect_eq "id -u, id -g (group from the image's /etc/passwd)" $'1000\n1000\ndenied' "$out" || return 1
  out=$(drun user-group --rm --user 1000:1000 "$IMG" sh -c 'id -u; id -g') || return 1
  expect_eq "--user 1000:1000" $'1000\n1000' "$out"
}
check user "docker run --user 1000 (and 1000:1000)" t_user

t_cap_drop() {
  local out
  out=$(drun caps-all --rm --cap-drop ALL "$IMG" sh -c 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status') || return 1
  expect_contains "CapEff" $'CapEff:\t0000000000000000' "$out" || return 1
  expect_contains "CapBnd" $'CapBnd:\t0000000000000000' "$out" || return 1
  out=$(drun caps-default --rm "$IMG" sh -c 'grep CapEff /proc/self/status') || return 1
  [[ $out != *0000000000000000 ]] || { echo "default capabilities are empty too: $out"; return 1; }
  out=$(drun caps-chown --rm --cap-drop ALL "$IMG" sh -c 'chown 1000 /tmp 2>&1 || echo refused') || return 1
  expect_contains "chown without CAP_CHOWN" refused "$out"
}
check cap-drop-all "docker run --cap-drop ALL" t_cap_drop

t_no_new_privs() {
  local out
  out=$(drun nnp --rm --security-opt no-new-privileges "$IMG" grep NoNewPrivs /proc/self/status) || return 1
  expect_eq "with no-new-privileges" $'NoNewPrivs:\t1' "$out" || return 1
  out=$(drun nnp-default --rm "$IMG" grep NoNewPrivs /proc/self/status) || return 1
  expect_eq "without" $'NoNewPrivs:\t0' "$out"
}
check no-new-privileges "docker run --security-opt no-new-privileges" t_no_new_privs

t_memory() {
  drun oom --memory 32m --memory-swap 32m "$IMG" dd if=/dev/zero of=/dev/null bs=128M count=1
  local rc=$?
  expect_eq "exit code" 137 "$rc" || return 1
  expect_eq "State.OOMKilled" true "$(docker inspect -f '{{.State.OOMKilled}}' oom)"
}
check memory "docker run --memory 32m: OOM kill shows in inspect" t_memory

t_pids_limit() {
  drun pids -d --pids-limit 20 "$IMG" sleep 1000 >/dev/null || return 1
  local pid cg out
  pid=$(container_pid pids)
  cg=$(cgroup_of "$pid" pids) || { echo "no pids cgroup for $pid"; return 1; }
  cgroup_file_is "$cg/pids.max" 20 || return 1
  # 40 more processes cannot all start under a limit of 20.
  out=$(docker exec pids sh -c 'for i in $(seq 40); do sleep 5 & done 2>&1; echo started') || true
  expect_contains "forks over the limit" "can't fork" "$out" || return 1
  docker rm -f pids >/dev/null
}
check pids-limit "docker run --pids-limit 20: pids.max set and enforced" t_pids_limit

t_network_none() {
  local out host_ns
  host_ns=$(readlink /proc/self/ns/net)
  out=$(drun net --rm "$IMG" sh -c 'readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "') || return 1
  [[ ${out%%$'\n'*} != "$host_ns" ]] || { echo "the container shares the host's network namespace"; return 1; }
  expect_eq "interfaces" lo "${out#*$'\n'}"
}
check network-none "docker run --network none: own netns with only lo" t_network_none # in RUN

t_tty() {
  local out
  out=$(drun tty --rm -t "$IMG" sh -c 'tty; echo hi') || return 1
  expect_contains "tty" /dev/pts/ "$out" || return 1
  expect_contains "output" $'hi\r' "$out"
}
check tty "docker run -t (tty without stdin)" t_tty

# An interactive shell on the container's console, typed into through a real pty (see
# interactive_session in common.sh).
t_tty_interactive() {
  pty_start "$DOCKER_CLI run --cidfile $CIDS/tty-i --name tty-i --rm -it ${RUN[*]} -e PS1=pty-ready\> $IMG sh" || return 1
  interactive_session 4 || { pty_abort; return 1; }
}
check tty-interactive "docker run -it: interactive shell through a pty (input, size, Ctrl-C, exit 4)" t_tty_interactive

t_exec_interactive() {
  pty_start "$DOCKER_CLI exec -it -e PS1=pty-ready\> main sh" || return 1
  interactive_session 6 || { pty_abort; return 1; }
}
check tty-exec "docker exec -it: interactive shell through a pty" t_exec_interactive

t_env_workdir() {
  local out
  out=$(drun env --rm -e FOO=bar -w /tmp --hostname hrun-test "$IMG" sh -c 'echo "$FOO"; pwd; hostname') || return 1
  expect_eq "env, cwd, hostname" $'bar\n/tmp\nhrun-test' "$out"
}
check env "docker run -e -w --hostname" t_env_workdir

t_rm_force() {
  drun doomed -d "$IMG" sleep 1000 >/dev/null || return 1
  local pid id
  pid=$(container_pid doomed)
  id=$(cat "$CIDS/doomed")
  docker rm -f doomed >/dev/null || return 1
  if ! is_gone doomed; then echo "container still exists"; return 1; fi
  retry_until 10 process_gone "$pid" || { echo "process $pid still alive"; return 1; }
  local root
  root=$(runtime_root) || { echo "no runtime root under $D/exec"; return 1; }
  [[ ! -e $root/$id ]] || { echo "state dir $root/$id left"; return 1; }
}
check rm-force "docker rm -f of a running container" t_rm_force

# ---------------------------------------------------------------------------------------------
# Nothing left behind

no_containers() { [[ -z $(docker ps -aq) ]]; }
t_remove_all() {
  local ids
  mapfile -t ids < <(docker ps -aq)
  ((${#ids[@]} == 0)) || docker rm -f "${ids[@]}" >/dev/null || return 1
  retry_until 10 no_containers
}
check remove-all "docker rm -f of every container" t_remove_all

RUNTIME_ROOT=$(runtime_root)
t_runtime_was_used() {
  # Guards the leftover checks against passing vacuously: the runtime really ran with this root.
  [[ -n $RUNTIME_ROOT ]] || { echo "no runtime-*/moby under $D/exec: was the runtime ever called?"; ls "$D/exec"; return 1; }
  [[ -n $(all_ids) ]] || { echo "no container ids recorded"; return 1; }
}
check state-root "runtime state root found (${RUNTIME_ROOT:-none})" t_runtime_was_used
check leftover-processes "no runtime process or container process left" retry_until 10 assert_no_runtime_processes
check leftover-state "no container state dir left in the runtime root" retry_until 10 assert_no_state_dirs "$RUNTIME_ROOT"
mapfile -t ids < <(all_ids)
check leftover-cgroups "no cgroup left for the containers" retry_until 10 assert_no_cgroups "${ids[@]}"
check leftover-cgroup-parent "no cgroup left under the cgroup parent" retry_until 10 assert_cgroup_parent_empty

summary
