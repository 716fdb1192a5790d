# shellcheck shell=bash
# Shared helpers for the engine tests (docker.sh, containerd.sh, podman.sh).
#
# Source this file from a bash script. It provides:
#   - check KEY NAME CMD... / skip KEY REASON / summary: counted results, one line per check;
#     KEY names the check across engines (e.g. read-only, pids-limit) for run-all.sh's table;
#   - ENGINE_TMP: a private temp dir under /tmp for every daemon's data, socket and pid file;
#   - enter_private_namespace: the engines run in a private mount namespace whose /run is in
#     ENGINE_TMP; once they are gone, the leftovers are checked again from the host;
#   - start_daemon / wait_for_socket: daemons that the cleanup trap stops by pid file;
#   - a cleanup trap (exit, failure, Ctrl-C) that runs the engine's cleanup hooks, stops the
#     daemons, kills whatever still runs from the temp dir, unmounts leftovers, removes the
#     cgroups made under ENGINE_CGROUP_PARENT and deletes the temp dir;
#   - bounded: every engine command runs under timeout(1), so a hung daemon cannot stall a run;
#   - pty_start / pty_send / pty_expect / pty_finish: interactive sessions through a real pty;
#   - build_rootfs_tar / build_oci_archive: a busybox-static image made offline;
#   - leftover checks shared by the engines (runtime processes, state dirs, cgroups).
#
# Environment:
#   HRUN_BIN        runtime binary under test (default: <repo>/build/hrun); any runc-compatible
#                   binary works, e.g. HRUN_BIN=/usr/sbin/runc (RUNTIME_BIN is the same setting).
#   HRUN_POLICY     hrun's --policy for the engines' containers (default oci, as documented for
#                   engines that pass their own profiles).
#   CHECK_TIMEOUT   seconds one check may take before it is killed and failed (default 60).
#   ENGINE_CMD_TIMEOUT  seconds one engine command (docker, ctr, podman) may take (default 90).
#   SUITE_BUDGET    seconds for the checks of one script; checks not started by then fail at
#                   once, so a runtime that hangs cannot eat the CI time (default 300; a healthy
#                   run takes under a minute).
#   ENGINE_RESULTS  file to append "suite passed failed skipped" to (used by run-all.sh).
#   ENGINE_CHECKS   file to append "suite key ok|FAIL|SKIP" to, one line per check (run-all.sh).
#   ENGINE_KEEP_TMP set to 1 to keep the temp dir for debugging (daemons are still stopped).

set -uo pipefail

ENGINES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$ENGINES_DIR/../.." && pwd)
SUITE=${SUITE:-$(basename "$0" .sh)}

# proc_stat_field PID N: field N (as numbered in proc(5)) of /proc/PID/stat; the command name
# (field 2) may hold spaces, so fields are counted after its closing parenthesis.
proc_stat_field() {
  local stat fields
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  read -ra fields <<<"${stat##*) }"
  echo "${fields[$2 - 3]}"
}

# The script's own stdout and stderr, kept on fds 8 and 9: a trap may fire while a check has
# redirected stdout to its output file, and the cleanup must still report to the terminal.
exec 8>&1 9>&2

CHECK_TIMEOUT=${CHECK_TIMEOUT:-60}
ENGINE_CMD_TIMEOUT=${ENGINE_CMD_TIMEOUT:-90}
SUITE_BUDGET=${SUITE_BUDGET:-300}
PASSED=0
FAILED=0
SKIPPED=0

# The script runs twice: first on the host (packages; afterwards the host-side leftover checks),
# then, started by enter_private_namespace, inside a private mount namespace where it starts the
# engines. The second run is handed the first one's temp dir and start time.
if [[ -n ${ENGINE_NS_CHILD:-} ]]; then
  ENGINE_TMP=$ENGINE_NS_CHILD
  [[ -d $ENGINE_TMP ]] || { echo "ENGINE_NS_CHILD=$ENGINE_TMP is not a directory" >&2; exit 2; }
  SUITE_STARTTIME=${ENGINE_SUITE_STARTTIME:-$(proc_stat_field $$ 22)}
else
  # Start time of this shell in clock ticks since boot: runtime processes started later are ours.
  SUITE_STARTTIME=$(proc_stat_field $$ 22)
  ENGINE_TMP=$(mktemp -d /tmp/hrun-engines.XXXXXX) || { echo "cannot create a temp dir" >&2; exit 2; }
  chmod 711 "$ENGINE_TMP"
fi
# Every cgroup the engines create goes under this parent, so leftovers are easy to find and to
# remove without touching anyone else's cgroups. The tag also makes container names unique.
RUN_TAG=${ENGINE_TMP##*.}
ENGINE_CGROUP_PARENT=hrun-engines-$RUN_TAG

CLEANUP_HOOKS=()
CLEANING=0

log() { printf '%s\n' "$*"; }
note() { printf '# %s\n' "$*"; }

# bounded CMD...: runs the program CMD under timeout(1) (ENGINE_CMD_TIMEOUT), SIGKILL 10 s later.
# Not for commands that need the terminal: timeout(1) puts them in a background process group.
bounded() { timeout -k 10 "$ENGINE_CMD_TIMEOUT" "$@"; }

# ---------------------------------------------------------------------------------------------
# Results

# kill_tree PID: kills PID and all its descendants (children first so none is re-parented).
kill_tree() {
  local pid=$1 child
  for child in $(pgrep -P "$pid" 2>/dev/null); do kill_tree "$child"; done
  kill -KILL "$pid" 2>/dev/null || true
}

# run_bounded SECONDS CMD...: runs CMD (a command or a shell function) in a subshell; kills it
# and its descendants after SECONDS. Returns CMD's status, or 124 on timeout.
BOUNDED_PID=""
run_bounded() {
  local limit=$1
  shift
  ("$@") &
  local pid=$! waited=0
  BOUNDED_PID=$pid # for the cleanup, should Ctrl-C come while this runs
  while kill -0 "$pid" 2>/dev/null && [[ $(proc_stat_field "$pid" 3) != Z ]]; do
    if ((waited >= limit * 10)); then
      echo "timed out after ${limit}s: $*"
      kill_tree "$pid"
      wait "$pid" 2>/dev/null
      return 124
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  wait "$pid"
}

# record KEY STATUS: appends "suite key status" to ENGINE_CHECKS (run-all.sh's table).
record() {
  [[ -n ${ENGINE_CHECKS:-} ]] && printf '%s %s %s\n' "$SUITE" "$1" "$2" >>"$ENGINE_CHECKS"
  return 0
}

# check KEY NAME CMD...: runs CMD (bounded by CHECK_TIMEOUT); prints "ok KEY: NAME" or
# "FAIL KEY: NAME" and CMD's output. CMD exits with SKIP_RC (77) when what it tests cannot run
# on this host (the engine itself refuses): that prints "SKIP KEY: NAME: <CMD's last line>".
SKIP_RC=77
check() {
  local key=$1 name=$2
  shift 2
  local out=$ENGINE_TMP/check.out rc limit=$CHECK_TIMEOUT left=$((SUITE_BUDGET - SECONDS))
  if ((left <= 0)); then
    FAILED=$((FAILED + 1))
    log "FAIL $key: $name (not run: the script's ${SUITE_BUDGET}s budget is spent)"
    record "$key" FAIL
    return 1
  fi
  ((left < limit)) && limit=$left
  run_bounded "$limit" "$@" >"$out" 2>&1
  rc=$?
  if ((rc == 0)); then
    PASSED=$((PASSED + 1))
    log "ok   $key: $name"
    record "$key" ok
  elif ((rc == SKIP_RC)); then
    skip "$key" "$name: $(tail -n 1 "$out")"
  else
    FAILED=$((FAILED + 1))
    log "FAIL $key: $name (exit $rc)"
    record "$key" FAIL
    sed 's/^/    | /' "$out" | head -n 60
  fi
  return "$rc"
}

# check_here KEY NAME CMD...: like check, but CMD runs in this shell (not in a subshell, and
# without CHECK_TIMEOUT: CMD must bound itself). For starting daemons: this shell stays their
# parent, so it can stop and reap them.
check_here() {
  local key=$1 name=$2
  shift 2
  local out=$ENGINE_TMP/check.out rc
  "$@" >"$out" 2>&1
  rc=$?
  if ((rc == 0)); then
    PASSED=$((PASSED + 1))
    log "ok   $key: $name"
    record "$key" ok
  else
    FAILED=$((FAILED + 1))
    log "FAIL $key: $name (exit $rc)"
    record "$key" FAIL
    sed 's/^/    | /' "$out" | head -n 60
  fi
  return "$rc"
}

# skip KEY REASON: a check that cannot run here, with the reason printed.
skip() {
  SKIPPED=$((SKIPPED + 1))
  log "SKIP $1: $2"
  record "$1" SKIP
}

# fail KEY REASON: a failure found outside check (e.g. a daemon that does not start).
fail() {
  FAILED=$((FAILED + 1))
  log "FAIL $1: $2"
  record "$1" FAIL
}

# summary: prints the counts; returns non-zero if anything failed. In the private namespace the
# counts go to a file instead, for the host-side run to add its own checks to.
SUMMARY_DONE=0
summary() {
  SUMMARY_DONE=1
  if [[ -n ${ENGINE_NS_CHILD:-} ]]; then
    echo "$PASSED $FAILED $SKIPPED" >"$ENGINE_TMP/ns-counts"
    note "in the private namespace: $PASSED passed, $FAILED failed, $SKIPPED skipped"
    ((FAILED == 0))
    return
  fi
  local prefix=""
  [[ -n ${ENGINE_RESULTS:-} ]] && prefix="$SUITE: "
  log "${prefix}$PASSED passed, $FAILED failed, $SKIPPED skipped"
  if [[ -n ${ENGINE_RESULTS:-} ]]; then
    echo "$SUITE $PASSED $FAILED $SKIPPED" >>"$ENGINE_RESULTS"
  fi
  ((FAILED == 0))
}

# skip_suite REASON: the whole suite cannot run here (e.g. its package cannot be installed).
skip_suite() {
  skip suite "$SUITE: $1"
  summary
  exit 0
}

# Assertions for use inside checks (they print what differed).
expect_eq() { # expect_eq WHAT EXPECTED ACTUAL
  if [[ $2 == "$3" ]]; then return 0; fi
  printf '%s: expected [%s], got [%s]\n' "$1" "$2" "$3"
  return 1
}
expect_contains() { # expect_contains WHAT NEEDLE HAYSTACK
  if [[ $3 == *"$2"* ]]; then return 0; fi
  printf '%s: expected to contain [%s], got [%s]\n' "$1" "$2" "$3"
  return 1
}

not() { ! "$@"; }

# retry_until SECONDS CMD...: polls CMD every 0.2 s until it succeeds, for SECONDS of wall time
# (however long each try takes); then runs it once more with its output shown.
retry_until() {
  local end=$((SECONDS + $1))
  shift
  while ((SECONDS < end)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  "$@"
}

# at_least WHAT MIN VALUE: VALUE is an integer >= MIN.
at_least() {
  [[ $3 =~ ^[0-9]+$ ]] && (($3 >= $2)) && return 0
  printf '%s: expected a number >= %s, got [%s]\n' "$1" "$2" "$3"
  return 1
}

# cgroup_file_is FILE VALUE: FILE (a cgroup control file) holds VALUE.
cgroup_file_is() { expect_eq "$1" "$2" "$(cat "$1" 2>&1)"; }

# ---------------------------------------------------------------------------------------------
# Runtime under test

resolve_runtime() {
  HRUN_BIN=${HRUN_BIN:-${RUNTIME_BIN:-$REPO_DIR/build/hrun}}
  if [[ ! -x $HRUN_BIN ]]; then
    echo "HRUN_BIN=$HRUN_BIN is not an executable (build hrun or set HRUN_BIN)" >&2
    return 1
  fi
  HRUN_BIN=$(readlink -f "$HRUN_BIN")
  export HRUN_BIN
  # Engines pass their own seccomp and AppArmor profiles and expect the config to be run as
  # written: hrun is registered with --policy=oci, given through the environment the daemons,
  # shims and conmon pass on (containerd's runc shim has no way to add options). runc ignores it.
  export HRUN_POLICY=${HRUN_POLICY:-oci}
}

# ---------------------------------------------------------------------------------------------
# Packages

# ensure_packages CMD PKG...: installs PKG... with apt-get unless CMD is already on PATH.
# Services the packages ship are not started (policy-rc.d), so nothing runs outside the temp dir.
ensure_packages() {
  local cmd=$1
  shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  note "installing $* with apt-get"
  local policy=/usr/sbin/policy-rc.d made_policy=0 rc
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
  fi
  # Bounded: a stuck mirror or dpkg lock must not stall the run.
  {
    DEBIAN_FRONTEND=noninteractive timeout -k 30 900 apt-get install -y -q --no-install-recommends "$@" ||
      { timeout -k 30 300 apt-get update -q &&
        DEBIAN_FRONTEND=noninteractive timeout -k 30 900 apt-get install -y -q --no-install-recommends "$@"; }
  } </dev/null >"$ENGINE_TMP/apt-$cmd.log" 2>&1
  rc=$?
  ((made_policy)) && rm -f "$policy"
  if ((rc != 0)) || ! command -v "$cmd" >/dev/null 2>&1; then
    tail -n 5 "$ENGINE_TMP/apt-$cmd.log" | sed 's/^/    | /'
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Daemons

# start_daemon NAME CMD...: starts CMD in its own session with output in $ENGINE_TMP/NAME.log
# and its pid in $ENGINE_TMP/NAME.pid; the cleanup trap stops it.
start_daemon() {
  local name=$1
  shift
  setsid "$@" </dev/null >"$ENGINE_TMP/$name.log" 2>&1 8>&- 9>&- &
  echo $! >"$ENGINE_TMP/$name.pid"
  # Recorded in a file, so that it works from a subshell too. The name sorts by start time:
  # the cleanup stops daemons in reverse order of start.
  mkdir -p "$ENGINE_TMP/daemons"
  ln -s "$ENGINE_TMP/$name.pid" "$ENGINE_TMP/daemons/$(date +%s%N)-$name"
}

process_alive() { # process_alive PID: true if running (a zombie counts as gone)
  [[ -e /proc/$1 ]] && [[ $(proc_stat_field "$1" 3) != Z ]]
}

# wait_for_socket NAME SOCKET SECONDS: waits until the daemon NAME listens on SOCKET.
wait_for_socket() {
  local name=$1 sock=$2 limit=$3 i pid
  pid=$(cat "$ENGINE_TMP/$name.pid")
  for ((i = 0; i < limit * 10; i++)); do
    [[ -S $sock ]] && return 0
    if ! process_alive "$pid"; then
      echo "$name exited before creating $sock; last lines of its log:"
      tail -n 20 "$ENGINE_TMP/$name.log" | sed 's/^/    | /'
      return 1
    fi
    sleep 0.1
  done
  echo "$name did not create $sock within ${limit}s; last lines of its log:"
  tail -n 20 "$ENGINE_TMP/$name.log" | sed 's/^/    | /'
  return 1
}

# stop_daemon PIDFILE: SIGTERM, up to 30 s, then SIGKILL.
stop_daemon() {
  local pidfile=$1 pid start=$SECONDS
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  [[ -n $pid ]] || return 0
  if process_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    while process_alive "$pid" && ((SECONDS - start < 30)); do
      sleep 0.1
    done
    if process_alive "$pid"; then
      note "$(basename "$pidfile" .pid) ignored SIGTERM for 30s: killing it"
      kill -KILL "$pid" 2>/dev/null
      sleep 0.2
    fi
  fi
  wait "$pid" 2>/dev/null
  rm -f "$pidfile"
}

# add_cleanup FUNCTION: the cleanup trap calls FUNCTION (bounded to 30 s) before stopping daemons.
add_cleanup() { CLEANUP_HOOKS+=("$1"); }

# ---------------------------------------------------------------------------------------------
# Leftovers

# pids_from_tmp: processes tied to the temp dir: their root, cwd or command line is under it
# (container processes, runtime processes given --root in it, shims, conmon).
pids_from_tmp() {
  local p pid root cwd
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    root=$(readlink "$p/root" 2>/dev/null) || continue
    cwd=$(readlink "$p/cwd" 2>/dev/null)
    if [[ $root == "$ENGINE_TMP"/* || $cwd == "$ENGINE_TMP"/* ]] ||
      tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF "$ENGINE_TMP"; then
      echo "$pid"
    fi
  done
}

# runtime_pids: processes running the runtime binary that started after this script.
runtime_pids() {
  local p exe start
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    [[ $exe == "$HRUN_BIN" ]] || continue
    start=$(proc_stat_field "${p#/proc/}" 22) || continue
    ((start >= SUITE_STARTTIME)) && echo "${p#/proc/}"
  done
}

describe_pids() {
  local pid
  for pid in "$@"; do
    printf '  pid %s: %s (root %s)\n' "$pid" "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" \
      "$(readlink "/proc/$pid/root" 2>/dev/null)"
  done
}

# assert_no_runtime_processes: no runtime process and no process inside a container of ours.
assert_no_runtime_processes() {
  local pids p exe keep=()
  pids=$( (pids_from_tmp; runtime_pids) | sort -un)
  for p in $pids; do
    exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
    # The daemons the script started run until cleanup; anything else is a leftover.
    case $exe in
      */dockerd | */containerd) continue ;;
    esac
    keep+=("$p")
  done
  if ((${#keep[@]} == 0)); then return 0; fi
  echo "processes left behind:"
  describe_pids "${keep[@]}"
  return 1
}

# assert_no_state_dirs ROOT: the runtime's state root has no container directory left.
assert_no_state_dirs() {
  local root=$1 left
  if [[ ! -d $root ]]; then
    echo "runtime root $root does not exist (was the runtime ever called with it?)"
    return 1
  fi
  left=$(find "$root" -mindepth 1 -maxdepth 1 2>/dev/null)
  if [[ -z $left ]]; then return 0; fi
  echo "state left in $root:"
  echo "$left"
  return 1
}

# assert_no_cgroups ID...: no cgroup directory in any hierarchy names one of the ids.
assert_no_cgroups() {
  local id found=""
  for id in "$@"; do
    [[ -n $id ]] || continue
    found+=$(find /sys/fs/cgroup -mindepth 1 -type d -name "*$id*" 2>/dev/null)
  done
  if [[ -z $found ]]; then return 0; fi
  echo "cgroups left behind:"
  echo "$found"
  return 1
}

# assert_cgroup_parent_empty [NAME...]: no cgroup left under ENGINE_CGROUP_PARENT in any
# hierarchy, except the named ones (an engine's own shared cgroups), which must hold no process.
assert_cgroup_parent_empty() {
  local h d found="" allowed name
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [[ -d $h$ENGINE_CGROUP_PARENT ]] || continue
    while read -r d; do
      [[ -n $d ]] || continue
      allowed=0
      for name in "$@"; do
        [[ $d == "$h$ENGINE_CGROUP_PARENT/$name" && -z $(cat "$d/cgroup.procs" 2>/dev/null) ]] && allowed=1
      done
      ((allowed)) || found+="$d"$'\n'
    done < <(find "$h$ENGINE_CGROUP_PARENT" -mindepth 1 -type d 2>/dev/null)
  done
  if [[ -z $found ]]; then return 0; fi
  echo "cgroups left under $ENGINE_CGROUP_PARENT:"
  printf '%s' "$found"
  return 1
}

# cgroup_of PID CONTROLLER: the host path of PID's cgroup in a v1 hierarchy.
cgroup_of() {
  local rel
  rel=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
  [[ -n $rel ]] || return 1
  echo "/sys/fs/cgroup/$2$rel"
}

# track_host_path PATH...: paths outside the temp dir that a daemon creates by itself (e.g.
# dockerd's /etc/docker/key.json, the shims' /run/containerd/s). Those that do not exist now are
# removed by the cleanup (directories only if empty). Give parents before children.
# (Recorded in a file: this may run inside a check's subshell.)
track_host_path() {
  local p
  for p in "$@"; do
    [[ -e $p || -L $p ]] || grep -qxF "$p" "$ENGINE_TMP/host-paths" 2>/dev/null || echo "$p" >>"$ENGINE_TMP/host-paths"
  done
}

remove_tracked_host_paths() {
  local p
  [[ -f $ENGINE_TMP/host-paths ]] || return 0
  tac "$ENGINE_TMP/host-paths" | while read -r p; do
    if [[ -d $p && ! -L $p ]]; then
      rmdir "$p" 2>/dev/null || note "left $p (not empty)"
    elif [[ -e $p || -L $p ]]; then
      rm -f "$p"
    fi
  done
}

# shim_socket PID: if PID is a containerd shim, the socket it made, which is named by the
# sha256 of "<containerd address>/<namespace>/<id>" under /run/containerd/s.
shim_socket() {
  local -a argv
  local i ns="" id="" addr=""
  [[ $(readlink "/proc/$1/exe" 2>/dev/null) == */containerd-shim* ]] || return 0
  mapfile -d '' argv 2>/dev/null <"/proc/$1/cmdline" || return 0
  for ((i = 0; i < ${#argv[@]} - 1; i++)); do
    case ${argv[i]} in
      -namespace | --namespace) ns=${argv[i + 1]} ;;
      -id | --id) id=${argv[i + 1]} ;;
      -address | --address) addr=${argv[i + 1]} ;;
    esac
  done
  [[ -n $ns && -n $id && -n $addr ]] || return 0
  echo "/run/containerd/s/$(printf '%s' "$addr/$ns/$id" | sha256sum | cut -d' ' -f1)"
}

# ---------------------------------------------------------------------------------------------
# Private mount namespace

# enter_private_namespace: runs this script again in a private mount namespace (unshare --mount,
# private propagation) whose /run is $ENGINE_TMP/run, and, on the host, waits for it. There the
# engines' sockets and pid files, the shims' sockets (/run/containerd/s), the runtime's default
# state root (/run/hrun, /run/runc) and every mount the engines make are the test's own: the
# host's /run is neither read nor written, and no mount shows on the host. Once that run has
# stopped everything it started, this one checks from the host that nothing is left: no
# process, no mount namespace, no cgroup, no file outside the temp dir. Call it once the
# packages are installed, before anything is started; on the host it does not return.
NS_SIGNALLED=0
NS_INTERRUPTED=0
enter_private_namespace() {
  if [[ -n ${ENGINE_NS_CHILD:-} ]]; then
    if ! { mkdir -p "$ENGINE_TMP/run" && chmod 755 "$ENGINE_TMP/run" &&
      mount --bind "$ENGINE_TMP/run" /run && mkdir -p /run/lock && chmod 1777 /run/lock; }; then
      fail private-ns "cannot mount $ENGINE_TMP/run on /run in the private mount namespace"
      summary
      exit 1
    fi
    note "private mount namespace: /run is $ENGINE_TMP/run"
    return 0
  fi
  if ! command -v unshare >/dev/null 2>&1; then
    fail private-ns "unshare(1) is missing (util-linux): cannot make a private mount namespace"
    summary
    exit 1
  fi
  # The run in the namespace is a background job (so this shell can forward signals to it): it
  # ignores SIGINT as such jobs do, so Ctrl-C and SIGTERM reach it as SIGTERM, from here.
  trap 'NS_SIGNALLED=1' INT TERM
  # ENGINE_UNSHARE_FLAGS: more namespaces for a script that needs them (critest.sh: net, ipc,
  # uts, pid), as unshare(1) options.
  # shellcheck disable=SC2086 # a list of options
  ENGINE_NS_CHILD=$ENGINE_TMP ENGINE_SUITE_STARTTIME=$SUITE_STARTTIME \
    unshare --mount --propagation private ${ENGINE_UNSHARE_FLAGS:-} -- bash "$0" &
  local child=$! rc
  while :; do
    wait "$child"
    rc=$?
    if ((NS_SIGNALLED)); then
      NS_SIGNALLED=0
      NS_INTERRUPTED=1
      kill -TERM "$child" 2>/dev/null
      continue
    fi
    break
  done
  trap 'log "interrupted" >&8; exit 130' INT
  trap 'log "terminated" >&8; exit 143' TERM
  SECONDS=0 # the host-side checks have a budget of their own

  local p=0 f=0 s=0
  if [[ -f $ENGINE_TMP/ns-counts ]]; then
    read -r p f s <"$ENGINE_TMP/ns-counts"
    PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + s))
    ((rc == 0 || f > 0)) || fail suite "the run in the private namespace exited $rc although no check failed"
  else
    fail suite "the run in the private namespace ended (exit $rc) without a summary"
  fi
  host_leftover_checks
  if ((NS_INTERRUPTED)); then
    log "interrupted"
    exit 130
  fi
  summary
  exit
}

# host_leftover_checks: run on the host once the namespace is gone.
host_leftover_checks() {
  check cleanup-processes "host: no daemon, shim, runtime or container process left" \
    retry_until 10 host_assert_no_processes
  check cleanup-mounts "host: no mount namespace or mount left that uses $ENGINE_TMP" \
    retry_until 10 host_assert_no_mounts
  check cleanup-cgroups "host: no cgroup left under $ENGINE_CGROUP_PARENT or named after a container" \
    host_assert_no_cgroups
  check cleanup-host-paths "host: no file left outside the temp dir" host_assert_no_host_paths
}

host_assert_no_processes() {
  local pids
  mapfile -t pids < <( (pids_from_tmp; runtime_pids) | sort -un)
  if ((${#pids[@]} == 0)); then return 0; fi
  echo "processes left behind:"
  describe_pids "${pids[@]}"
  return 1
}

# Any process whose mount table mentions the temp dir still holds the private namespace (or a
# namespace made from it, like a container's).
host_assert_no_mounts() {
  local f left=()
  for f in /proc/[0-9]*/mountinfo; do
    grep -qF "$ENGINE_TMP" "$f" 2>/dev/null && left+=("$(basename "$(dirname "$f")")")
  done
  if ((${#left[@]})); then
    echo "processes still in a mount namespace that uses $ENGINE_TMP:"
    describe_pids "${left[@]}"
    return 1
  fi
  if [[ -n $(mounts_under "$ENGINE_TMP") ]]; then
    echo "mounts under $ENGINE_TMP on the host:"
    mounts_under "$ENGINE_TMP"
    return 1
  fi
}

host_assert_no_cgroups() {
  local h found="" ids=()
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [[ -d $h$ENGINE_CGROUP_PARENT ]] && found+="$h$ENGINE_CGROUP_PARENT"$'\n'
  done
  [[ -z $found ]] || { echo "cgroup parent left:"; printf '%s' "$found"; return 1; }
  [[ -f $ENGINE_TMP/container-ids ]] && mapfile -t ids <"$ENGINE_TMP/container-ids"
  ((${#ids[@]})) || { echo "no container ids were recorded: nothing to look for"; return 1; }
  assert_no_cgroups "${ids[@]}"
}

host_assert_no_host_paths() {
  local p remaining=""
  [[ -f $ENGINE_TMP/host-paths ]] || return 0
  while read -r p; do
    [[ -e $p || -L $p ]] && remaining+="$p"$'\n'
  done <"$ENGINE_TMP/host-paths"
  [[ -z $remaining ]] || { echo "left outside the temp dir:"; printf '%s' "$remaining"; return 1; }
}

# ---------------------------------------------------------------------------------------------
# Interactive sessions through a real pty

# pty_start CMD: runs the shell command CMD under script(1), so that CMD's stdin, stdout and
# stderr are the slave side of a new pty, as in a terminal, with a 33x101 window (engines pass
# the size on to the container's console). What is typed (pty_send) goes through a fifo to
# script(1), which writes it to the pty's master; what CMD prints is collected in PTY_LOG, where
# pty_expect waits for it. CMD must not be wrapped in timeout(1) (that would take it off the
# terminal's foreground): pty_expect and pty_finish bound the session.
PTY_PID=""
PTY_FD=""
PTY_LOG=""
PTY_MARK=0
pty_start() {
  local dir
  dir=$(mktemp -d "$ENGINE_TMP/pty.XXXXXX") && mkfifo "$dir/in" || return 1
  PTY_LOG=$dir/log
  PTY_MARK=0
  : >"$PTY_LOG"
  script -qefc "stty rows 33 cols 101; exec $1" "$PTY_LOG" <"$dir/in" >/dev/null 2>&1 &
  PTY_PID=$!
  exec {PTY_FD}>"$dir/in"
}

# pty_send TEXT: types TEXT (use $'...\r' for Enter, $'\003' for Ctrl-C).
pty_send() { printf '%s' "$1" >&"$PTY_FD"; }

# pty_expect TEXT [SECONDS]: waits (default 20 s) until TEXT shows in the output after what the
# previous pty_expect matched.
pty_expect() {
  local text=$1 end=$((SECONDS + ${2:-20})) at
  while :; do
    at=$(tail -c "+$((PTY_MARK + 1))" "$PTY_LOG" | LC_ALL=C grep -boF -- "$text" | head -n 1 | cut -d: -f1)
    if [[ -n $at ]]; then
      PTY_MARK=$((PTY_MARK + at + $(printf '%s' "$text" | wc -c)))
      return 0
    fi
    if ! process_alive "$PTY_PID"; then
      echo "the session ended without printing [$text]"
      pty_transcript
      return 1
    fi
    if ((SECONDS >= end)); then
      echo "no [$text] within ${2:-20}s"
      pty_transcript
      return 1
    fi
    sleep 0.1
  done
}

# interactive_session STATUS: drives a shell started with pty_start whose prompt (PS1) is
# "pty-ready>": a typed command and its output, the tty and its window size, Ctrl-C stopping a
# foreground sleep (the signal goes through the console's line discipline), then "exit STATUS",
# which must be the status of the whole session.
interactive_session() {
  local status=$1 rc
  pty_expect "pty-ready>" 30 || return 1
  pty_send $'echo typed-$((6*7)); tty; stty size\r'
  pty_expect "typed-42" || return 1
  pty_expect "/dev/pts/" || return 1
  pty_expect "33 101" || return 1
  pty_expect "pty-ready>" || return 1
  pty_send $'echo sleeping-$((2+2)); sleep 30\r'
  pty_expect "sleeping-4" || return 1
  sleep 0.5
  pty_send $'\003'
  pty_expect "pty-ready>" 10 || { echo "Ctrl-C did not interrupt sleep"; return 1; }
  pty_send "exit $status"$'\r'
  pty_finish 20
  rc=$?
  expect_eq "exit status of the session" "$status" "$rc"
}

pty_transcript() {
  echo "--- what the session printed (cat -v):"
  cat -v "$PTY_LOG" | tail -n 30
  echo "---"
}

# pty_finish [SECONDS]: waits (default 20 s) for the session to end; returns its exit status
# (script -e gives CMD's), or 124 after killing it.
pty_finish() {
  local limit=${1:-20} end rc
  end=$((SECONDS + limit))
  while process_alive "$PTY_PID" && ((SECONDS < end)); do sleep 0.1; done
  exec {PTY_FD}>&-
  PTY_FD=""
  if process_alive "$PTY_PID"; then
    echo "the session still ran after ${limit}s: killed"
    pty_abort
    return 124
  fi
  wait "$PTY_PID"
  rc=$?
  PTY_PID=""
  return "$rc"
}

# pty_abort: ends the session at once (after a failed expectation).
pty_abort() {
  [[ -n $PTY_PID ]] || return 0
  kill_tree "$PTY_PID"
  wait "$PTY_PID" 2>/dev/null
  if [[ -n $PTY_FD ]]; then exec {PTY_FD}>&-; fi
  PTY_FD=""
  PTY_PID=""
  pty_transcript
}

# ---------------------------------------------------------------------------------------------
# Cleanup

# mounts_under DIR: mount points under DIR, deepest first.
mounts_under() {
  awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | awk '{ print length, $0 }' |
    sort -rn | cut -d' ' -f2-
}

unmount_leftovers() {
  local m
  for _ in 1 2 3; do
    local any=0
    while read -r m; do
      [[ -n $m ]] || continue
      any=1
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(mounts_under "$ENGINE_TMP")
    ((any)) || return 0
  done
  [[ -z $(mounts_under "$ENGINE_TMP") ]]
}

# remove_engine_cgroups: removes (empty) cgroups under ENGINE_CGROUP_PARENT in every hierarchy,
# deepest first.
remove_engine_cgroups() {
  local h d
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [[ -d $h$ENGINE_CGROUP_PARENT ]] || continue
    while read -r d; do
      rmdir "$d" 2>/dev/null || true
    done < <(find "$h$ENGINE_CGROUP_PARENT" -depth -type d 2>/dev/null)
  done
}

cleanup() {
  local rc=$?
  ((CLEANING)) && return
  CLEANING=1
  trap '' INT TERM
  exec 1>&8 2>&9
  # Interrupted or failed early: still report what ran.
  ((SUMMARY_DONE)) || summary
  # A check cut short by Ctrl-C may still run in the background (it ignores SIGINT).
  [[ -n $BOUNDED_PID ]] && process_alive "$BOUNDED_PID" && kill_tree "$BOUNDED_PID"
  [[ -n $PTY_PID ]] && process_alive "$PTY_PID" && kill_tree "$PTY_PID"
  # The container ids, for the host-side check that no cgroup is named after one.
  if [[ -n ${ENGINE_NS_CHILD:-} ]] && declare -F all_ids >/dev/null; then
    all_ids >"$ENGINE_TMP/container-ids" 2>/dev/null
  fi
  local i
  for ((i = ${#CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do
    run_bounded 30 "${CLEANUP_HOOKS[i]}" >/dev/null 2>&1
  done
  local daemons=("$ENGINE_TMP"/daemons/*) # named by start time: stop the last started first
  for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
    [[ -L ${daemons[i]} ]] && stop_daemon "$(readlink "${daemons[i]}")"
  done
  local leftover sockets
  mapfile -t leftover < <(pids_from_tmp)
  if ((${#leftover[@]})); then
    note "killing processes still tied to $ENGINE_TMP:"
    describe_pids "${leftover[@]}" | sed 's/^/# /'
    mapfile -t sockets < <(for i in "${leftover[@]}"; do shim_socket "$i"; done)
    for i in "${leftover[@]}"; do kill -KILL "$i" 2>/dev/null; done
    sleep 0.5
    # A killed shim cannot remove its socket.
    ((${#sockets[@]})) && rm -f "${sockets[@]}"
  fi
  if ! unmount_leftovers; then
    note "mounts left under $ENGINE_TMP (temp dir kept):"
    mounts_under "$ENGINE_TMP" | sed 's/^/#   /'
    remove_engine_cgroups
    exit "$rc"
  fi
  remove_engine_cgroups
  remove_tracked_host_paths
  # In the private namespace: the host-side run checks for leftovers, then deletes the temp dir.
  [[ -n ${ENGINE_NS_CHILD:-} ]] && exit "$rc"
  if [[ ${ENGINE_KEEP_TMP:-0} == 1 ]]; then
    note "temp dir kept: $ENGINE_TMP"
  else
    rm -rf "$ENGINE_TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted" >&8; exit 130' INT
trap 'log "terminated" >&8; exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Images, made offline from busybox-static

BUSYBOX=${BUSYBOX:-/bin/busybox}

# build_rootfs DIR: a minimal root file system: /bin/busybox with every applet linked,
# /etc/passwd and /etc/group (root, nobody and user 1000), empty /tmp, /proc, /sys, /dev.
build_rootfs() {
  local dir=$1 applet
  if [[ ! -x $BUSYBOX ]]; then
    echo "$BUSYBOX is missing (apt-get install busybox-static)"
    return 1
  fi
  if ldd "$BUSYBOX" 2>/dev/null | grep -q '=>'; then
    echo "$BUSYBOX is dynamically linked: the image needs busybox-static"
    return 1
  fi
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root,home/user,run,var/tmp}
  # The image's / must be 0755 (mktemp made it 0700): other users need to traverse it.
  chmod 755 "$dir" "$dir"/{bin,sbin,usr,usr/bin,usr/sbin,etc,proc,sys,dev,home,run,var}
  chmod 700 "$dir/root"
  chmod 1777 "$dir/tmp" "$dir/var/tmp"
  cp "$BUSYBOX" "$dir/bin/busybox"
  while read -r applet; do
    [[ -n $applet && $applet != bin/busybox ]] || continue
    mkdir -p "$dir/$(dirname "$applet")"
    ln -sf /bin/busybox "$dir/$applet"
  done < <("$BUSYBOX" --list-full)
  cat >"$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$dir/etc/group" <<'EOF'
root:x:0:
user:x:1000:
nogroup:x:65534:
EOF
  chown 1000:1000 "$dir/home/user"
  [[ -x $dir/bin/sh ]]
}

# build_rootfs_tar OUT: the rootfs as a plain tar (for docker/podman import).
build_rootfs_tar() {
  local out=$1 dir
  dir=$(mktemp -d "$ENGINE_TMP/rootfs.XXXXXX")
  build_rootfs "$dir" || return 1
  tar --numeric-owner --sort=name -C "$dir" -cf "$out" . && rm -rf "$dir"
}

# build_oci_archive OUT NAME: an OCI image layout tar of the rootfs, whose index names the image
# NAME (e.g. docker.io/library/hrun-busybox:test) for "ctr image import".
build_oci_archive() {
  local out=$1 name=$2 lay layer layer_sha layer_size cfg cfg_sha cfg_size man man_sha man_size
  lay=$(mktemp -d "$ENGINE_TMP/oci.XXXXXX")
  mkdir -p "$lay/blobs/sha256"
  layer=$lay/layer.tar
  build_rootfs_tar "$layer" || return 1
  layer_sha=$(sha256sum "$layer" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$layer")
  mv "$layer" "$lay/blobs/sha256/$layer_sha"

  cfg=$lay/config.json
  printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"hrun engine tests"}]}' \
    "$(oci_arch)" "$layer_sha" >"$cfg"
  cfg_sha=$(sha256sum "$cfg" | cut -d' ' -f1)
  cfg_size=$(stat -c %s "$cfg")
  mv "$cfg" "$lay/blobs/sha256/$cfg_sha"

  man=$lay/manifest.json
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$cfg_sha" "$cfg_size" "$layer_sha" "$layer_size" >"$man"
  man_sha=$(sha256sum "$man" | cut -d' ' -f1)
  man_size=$(stat -c %s "$man")
  mv "$man" "$lay/blobs/sha256/$man_sha"

  printf '{"imageLayoutVersion":"1.0.0"}' >"$lay/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$man_sha" "$man_size" "$name" "${name##*:}" >"$lay/index.json"
  tar --numeric-owner --sort=name -C "$lay" -cf "$out" oci-layout index.json blobs && rm -rf "$lay"
}

oci_arch() {
  case $(uname -m) in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    *) uname -m ;;
  esac
}

# overlay_works: whether an overlay mount works in the temp dir (storage driver choice).
overlay_works() {
  local d=$ENGINE_TMP/overlay-probe ok=1
  mkdir -p "$d"/{lower,upper,work,merged} && echo x >"$d/lower/f"
  if mount -t overlay overlay -o "lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work" "$d/merged" 2>/dev/null; then
    [[ $(cat "$d/merged/f" 2>/dev/null) == x ]] && ok=0
    umount "$d/merged"
  fi
  rm -rf "$d"
  return "$ok"
}

# start_containerd NAME DIR: a containerd with all its data under DIR, listening on
# DIR/containerd.sock, without the CRI plugin.
start_containerd() {
  local name=$1 dir=$2
  mkdir -p "$dir"
  cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$dir/containerd.sock"

[ttrpc]
  address = "$dir/containerd.sock.ttrpc"

[debug]
  address = ""
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
TOML
  # The shims put their sockets in /run/containerd/s whatever the configured state dir is: that
  # is the private /run of enter_private_namespace.
  start_daemon "$name" containerd --config "$dir/config.toml"
  wait_for_socket "$name" "$dir/containerd.sock" 30 || return 1
  retry_until 20 bounded ctr --address "$dir/containerd.sock" version
}
