#!/usr/bin/env bash
# Podman (through conmon) driving the runtime under test (HRUN_BIN, given with --runtime).
# Every podman path (storage, run state, tmp, network config, volumes) is under a temp dir; the
# image is imported from a busybox-static rootfs, so no network is needed.
# Ends with "N passed, N failed, N skipped"; exits non-zero if a check failed.
# shellcheck disable=SC2016 # the single-quoted snippets are expanded by the container's shell
SUITE=podman
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

resolve_runtime || { fail "$SUITE" "no runtime binary to test"; summary; exit 1; }
[[ -x $BUSYBOX ]] || ensure_packages busybox busybox-static || skip_suite "busybox-static cannot be installed"
ensure_packages podman podman || skip_suite "podman cannot be installed with apt-get"
command -v conmon >/dev/null || ensure_packages conmon conmon || skip_suite "conmon cannot be installed"

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
# (e.g. /run/runc). --runtime-flag root=... would not do: podman's exit-time cleanup process
# does not pass it on. The root is found from a running container's state dir.
RUNTIME_ROOT_FILE=$P/runtime-root
find_state_dir() { find /run -mindepth 2 -maxdepth 3 -type d -name "$1" 2>/dev/null | head -n 1; }
runtime_root() { cat "$RUNTIME_ROOT_FILE" 2>/dev/null; }
# The image library keeps a blob cache there whatever --root says.
track_host_path /var/lib/containers /var/lib/containers/cache /var/lib/containers/cache/blob-info-cache-v1.boltdb
# One wrapper with every global flag, usable from functions and from script(1) alike.
cat >"$P/podman" <<EOF
#!/bin/sh
exec podman --root "$P/root" --runroot "$P/run" --tmpdir "$P/tmp" --storage-driver "$DRIVER" \\
  --network-config-dir "$P/net" --volumepath "$P/volumes" \\
  --cgroup-manager cgroupfs --events-backend file --runtime "$HRUN_BIN" "\$@"
EOF
chmod +x "$P/podman"
podman() { "$P/podman" "$@"; }
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

podman_cleanup() {
  podman rm -af -t 0
  podman rmi -af
  # State the runtime kept for our containers in its default root (after a failed cleanup).
  local root id
  root=$(runtime_root)
  if [[ -n $root ]]; then
    for id in $(all_ids); do
      [[ -d $root/$id ]] && "$HRUN_BIN" --root "$root" delete --force "$id"
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
check "podman info (storage $DRIVER, runtime under test, cgroupfs)" t_info || { summary; exit 1; }

t_import() {
  build_rootfs_tar "$P/rootfs.tar" || return 1
  podman import -q -c 'CMD ["sh"]' -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$P/rootfs.tar" "$IMG" >/dev/null || return 1
  podman image exists "$IMG"
}
check "podman import busybox rootfs" t_import || { summary; exit 1; }

t_run_output() {
  local out
  out=$(prun run-rm --rm "$IMG" echo hello from hrun) || return 1
  expect_eq "output" "hello from hrun" "$out" || return 1
  retry_until 10 not podman container exists run-rm || { echo "--rm did not remove the container"; return 1; }
}
check "podman run --rm prints the output and removes the container" t_run_output

t_exit_code() {
  prun exit3 --rm "$IMG" sh -c 'exit 3'
  expect_eq "exit code" 3 "$?"
}
check "podman run exit code propagates (3)" t_exit_code

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
check "podman run -d + podman exec (output, exit code, -u, -w)" t_detached_exec

t_state_root() {
  local id dir
  id=$(cat "$CIDS/main") || return 1
  dir=$(find_state_dir "$id")
  [[ -n $dir ]] || { echo "no state dir named $id under /run: where does the runtime keep it?"; return 1; }
  dirname "$dir" >"$RUNTIME_ROOT_FILE"
  echo "runtime root: $(runtime_root)"
}
check "runtime keeps the container's state in its default root" t_state_root
note "runtime state root: $(runtime_root)"

t_kill_usr1() {
  podman kill -s USR1 main >/dev/null || return 1
  retry_until 10 logs_contain main got-usr1 || { echo "no got-usr1 in logs:"; podman logs main; return 1; }
  expect_eq "still running" true "$(podman inspect -f '{{.State.Running}}' main)"
}
check "podman kill -s USR1 reaches the container's trap" t_kill_usr1

t_cgroup_parent() {
  local pid cg
  pid=$(podman inspect -f '{{.State.Pid}}' main)
  cg=$(cgroup_of "$pid" pids) || { echo "no pids cgroup for $pid"; return 1; }
  expect_contains "pids cgroup" "/sys/fs/cgroup/pids/$ENGINE_CGROUP_PARENT/" "$cg" || return 1
  expect_contains "pids cgroup" "$(cat "$CIDS/main")" "$cg"
}
check "container cgroup is under the cgroup parent" t_cgroup_parent

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
check "podman pause / unpause (freezer cgroup)" t_pause

t_top() {
  local out
  out=$(podman top main pid args) || return 1
  expect_contains "podman top" "while :" "$out"
}
check "podman top lists the container's processes" t_top

t_stop_graceful() {
  prun graceful -d "$IMG" sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.2; done' >/dev/null || return 1
  retry_until 20 logs_contain graceful ready || return 1
  local start=$SECONDS
  podman stop -t 30 graceful >/dev/null || return 1
  ((SECONDS - start < 20)) || { echo "stop took $((SECONDS - start))s: SIGTERM was not delivered"; return 1; }
  expect_eq "exit code" 7 "$(podman inspect -f '{{.State.ExitCode}}' graceful)" || return 1
  expect_contains "logs" got-term "$(podman logs graceful)"
}
check "podman stop: SIGTERM handled by the container" t_stop_graceful

t_stop_kill() {
  prun stubborn -d "$IMG" sleep 1000 >/dev/null || return 1
  local start=$SECONDS
  podman stop -t 2 stubborn >/dev/null || return 1
  ((SECONDS - start >= 2)) || { echo "stop returned before the timeout: sleep got SIGTERM as pid 1?"; return 1; }
  expect_eq "running" false "$(podman inspect -f '{{.State.Running}}' stubborn)" || return 1
  expect_eq "exit code" 137 "$(podman inspect -f '{{.State.ExitCode}}' stubborn)"
}
check "podman stop: SIGKILL after the timeout" t_stop_kill

t_tty() {
  local out
  out=$(prun tty --rm -t "$IMG" sh -c 'tty; echo hi' </dev/null) || { echo "$out"; return 1; }
  expect_contains "tty" /dev/pts/ "$out" || return 1
  expect_contains "output" hi "$out"
}
check "podman run -t (tty without stdin)" t_tty

t_tty_interactive() {
  local out
  out=$(script -qec "$P/podman run --cidfile $CIDS/tty-i --name tty-i ${PRUN_FLAGS[*]} --rm -it $IMG sh -c 'tty; stty size; echo done'" /dev/null </dev/null) || {
    echo "$out"
    return 1
  }
  expect_contains "tty" /dev/pts/ "$out" || return 1
  expect_contains "output" "done" "$out" || return 1
  out=$(script -qec "$P/podman exec -t main tty" /dev/null </dev/null) || { echo "$out"; return 1; }
  expect_contains "exec -t" /dev/pts/ "$out"
}
check "podman run -it / exec -t under script(1)" t_tty_interactive

t_read_only() {
  local out rc
  out=$(prun ro --rm --read-only "$IMG" sh -c 'touch /newfile' 2>&1)
  rc=$?
  ((rc != 0)) || { echo "touch / succeeded on a read-only rootfs"; return 1; }
  expect_contains "error" "Read-only file system" "$out" || return 1
  out=$(prun rw --rm "$IMG" sh -c 'touch /newfile && echo wrote') || return 1
  expect_eq "writable rootfs without --read-only" wrote "$out"
}
check "podman run --read-only" t_read_only

t_user() {
  local out
  out=$(prun user --rm --user 1000:1000 "$IMG" sh -c 'id -u; id -g; touch / 2>/dev/null || echo denied') || return 1
  expect_eq "id" $'1000\n1000\ndenied' "$out"
}
check "podman run --user 1000:1000" t_user

t_cap_drop() {
  local out
  out=$(prun caps --rm --cap-drop ALL "$IMG" sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status') || return 1
  expect_contains "CapEff" $'CapEff:\t0000000000000000' "$out" || return 1
  expect_contains "CapBnd" $'CapBnd:\t0000000000000000' "$out"
}
check "podman run --cap-drop ALL" t_cap_drop

t_rm_force() {
  prun doomed -d "$IMG" sleep 1000 >/dev/null || return 1
  local pid
  pid=$(podman inspect -f '{{.State.Pid}}' doomed)
  podman rm -f -t 0 doomed >/dev/null || return 1
  if podman container exists doomed; then echo "container still exists"; return 1; fi
  local i
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  echo "process $pid still alive"
  return 1
}
check "podman rm -f of a running container" t_rm_force

# ---------------------------------------------------------------------------------------------
# Nothing left behind

t_remove_all() {
  podman rm -af -t 0 >/dev/null || return 1
  local left
  left=$(podman ps -aq)
  [[ -z $left ]] || { echo "containers left: $left"; return 1; }
}
check "podman rm -af of every container" t_remove_all

t_no_state_left() {
  local root id left=""
  root=$(runtime_root)
  [[ -n $root ]] || { echo "the runtime's state root was never found"; return 1; }
  for id in $(all_ids); do
    [[ -e $root/$id ]] && left+=" $id"
  done
  [[ -z $left ]] || { echo "state left in $root for:$left"; return 1; }
}
check "no runtime, conmon or container process left" retry_until 10 assert_no_runtime_processes
check "no container state dir left in the runtime root" retry_until 10 t_no_state_left
mapfile -t ids < <(all_ids)
check "no cgroup left for the containers" retry_until 10 assert_no_cgroups "${ids[@]}"
# Podman keeps one shared <parent>/conmon cgroup for its monitors; it must be empty by now.
check "no cgroup left under the cgroup parent" retry_until 10 assert_cgroup_parent_empty conmon

summary
