#!/usr/bin/env bash
# Container escape battery: known ways out of a container, tried from inside one started from the
# config `hrun spec` writes (busybox bundle of scripts/make-bundle.sh, `RUNTIME --root DIR run`).
# Every attempt must fail, and the host must be unchanged afterwards.
#
#   tests/security/escape-battery.sh [--compare]
#
# Environment: HRUN_BIN (default build/hrun), HRUN_PROBE (default: tests/hrun-probe next to
# HRUN_BIN). --compare runs the same checks with runc and crun when installed and prints a table
# (check x runtime: blocked / ESCAPED / n/a / error). Only hrun's results decide the exit status.
#
# hrun runs with its default --policy=hardened (seccomp profile, no_new_privs, AppArmor where
# enforced); runc and crun run the same config.json as written, which has no seccomp section.
# Each runtime runs from a copy of its binary in a temporary directory, so the overwrite attempt of
# CVE-2019-5736 can never reach an installed binary. Needs root.
#
# Prints one line per check ("ok NAME: what happened" or "FAIL NAME: ..."), then
# "N passed, N failed"; exits 1 if a hrun check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

compare=0
for arg in "$@"; do
  case $arg in
    --compare) compare=1 ;;
    *) echo "usage: $0 [--compare]" >&2; exit 2 ;;
  esac
done
((EUID == 0)) || { echo "escape-battery: needs root (containers, cgroups)" >&2; exit 2; }

hrun_bin=$(realpath "${HRUN_BIN:-build/hrun}")
probe_bin=${HRUN_PROBE:-$(dirname "$hrun_bin")/tests/hrun-probe}
[[ -x $hrun_bin ]] || { echo "escape-battery: $hrun_bin not found (build hrun first)" >&2; exit 2; }
[[ -x $probe_bin ]] || { echo "escape-battery: $probe_bin not found (build hrun-probe)" >&2; exit 2; }
for tool in jq sha256sum timeout unshare; do
  command -v $tool >/dev/null || { echo "escape-battery: $tool is required" >&2; exit 2; }
done

work=$(mktemp -d /tmp/hrun-escape-XXXXXX)
tag=esc$$
started_ids=()   # "runtime id" pairs, deleted on exit

runtimes=(hrun)
if ((compare)); then
  for rt in runc crun; do command -v $rt >/dev/null && runtimes+=("$rt"); done
fi

# rt_cmd RT: sets the array `cmd` to the runtime (its copy) with its global options. crun refuses
# a hybrid cgroup host: it runs in a private mount namespace without the cgroup v2 mount, which
# leaves the host's mounts untouched.
rt_cmd() {
  case $1 in
    crun) cmd=(unshare --mount --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh
               "$work/bin/crun/crun" --root "$work/state/crun") ;;
    *) cmd=("$work/bin/$1/$1" --root "$work/state/$1") ;;
  esac
}

cleanup() {
  local pair rt id
  for pair in "${started_ids[@]}"; do
    read -r rt id <<<"$pair"
    rt_cmd "$rt"
    timeout 20 "${cmd[@]}" delete -f "$id" >/dev/null 2>&1
  done
  # A container mount left behind would make rm fail on a busy mount point: detach first.
  grep -F " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- host state before ----
host_snapshot() {  # host-wide facts that no container may change
  echo "core_pattern=$(cat /proc/sys/kernel/core_pattern)"
  # Kernels without magic SysRq or module support have neither file.
  echo "sysrq=$(cat /proc/sys/kernel/sysrq 2>/dev/null || echo absent)"
  echo "modules=$({ wc -l </proc/modules; } 2>/dev/null || echo absent)"
  echo "hrun_sha=$(sha256sum "$hrun_bin" | cut -d' ' -f1)"
  for rt in runc crun; do
    command -v $rt >/dev/null && echo "${rt}_sha=$(sha256sum "$(command -v $rt)" | cut -d' ' -f1)"
  done
}
# Mount points of the host's mount namespace that belong to this run or to no test at all: other
# test suites create and remove their own mounts under /tmp and /run meanwhile.
host_mounts() {
  awk '{print $5}' /proc/1/mountinfo | grep -v -E '^/(tmp|run|var/lib/(docker|containerd|containers))/' | sort
  grep -F " $work" /proc/1/mountinfo | awk '{print "ours:" $5}' | sort
}
snapshot_before=$(host_snapshot)
mounts_before=$(host_mounts)
host_init_cmdline=$(tr '\0' ' ' </proc/1/cmdline)

# ---- one bundle, copied per check ----
mkdir -p "$work/bin" "$work/state" "$work/b"
for rt in "${runtimes[@]}"; do
  mkdir -p "$work/bin/$rt" "$work/state/$rt"
  if [[ $rt == hrun ]]; then cp "$hrun_bin" "$work/bin/hrun/hrun"; else cp "$(command -v $rt)" "$work/bin/$rt/$rt"; fi
done
HRUN=$hrun_bin scripts/make-bundle.sh "$work/base" --probe "$probe_bin" >/dev/null ||
  { echo "escape-battery: make-bundle.sh failed" >&2; exit 2; }
echo "host-marker" >"$work/host-marker"
mkdir -p "$work/bindsrc" "$work/outside"
echo "inside-marker" >"$work/bindsrc/marker"

nraw=$(jq '[.process.capabilities.bounding[] | select(. == "CAP_NET_RAW")] | length' "$work/base/config.json")

# new_bundle RT NAME [JQ FILTER]: a fresh copy of the base bundle with the filter applied to its
# config; prints its path. runc and crun from Debian know ociVersion 1.1 at most.
new_bundle() {
  local rt=$1 name=$2 filter=${3:-.} dir=$work/b/$1-$2
  cp -a "$work/base" "$dir"
  [[ $rt != hrun ]] && filter="$filter | .ociVersion = \"1.1.0\""
  jq "$filter" "$work/base/config.json" >"$dir/config.json"
  echo "$dir"
}

# run_in RT BUNDLE ARGS...: `run` with process.args = ARGS; output in $out, exit status in $status.
run_in() {
  local rt=$1 bundle=$2 id
  shift 2
  id=$tag-$rt-$(basename "$bundle")
  # One --arg per word: jq would take a positional "-c" for one of its own options.
  local args_json a
  args_json=$(for a in "$@"; do jq -n --arg a "$a" '$a'; done | jq -s -c .)
  jq --argjson a "$args_json" '.process.args = $a' <"$bundle/config.json" >"$bundle/config.tmp" &&
    mv "$bundle/config.tmp" "$bundle/config.json"
  rt_cmd "$rt"
  [[ $rt == hrun && -n ${hrun_policy:-} ]] && cmd+=(--policy "$hrun_policy")
  started_ids+=("$rt $id")
  out=$(timeout -k 5 90 "${cmd[@]}" run --bundle "$bundle" "$id" </dev/null 2>&1)
  status=$?
  timeout 20 "${cmd[@]}" delete -f "$id" >/dev/null 2>&1
}

value() { sed -n "s/^$1=//p" <<<"$out" | tail -n 1; }
oneline() { tr '\n' ' ' <<<"$1" | cut -c1-160; }

# Each check sets `result` (blocked | ESCAPED | n/a | error) and `detail`.
# A syscall is blocked when the kernel or the filter refused it for lack of privilege; any other
# errno means the call got past the permission checks.
syscall_check() {  # RT NAME [JQ FILTER]
  local rt=$1 name=$2 bundle
  bundle=$(new_bundle "$rt" "sys-$name" "${3:-.}")
  run_in "$rt" "$bundle" /bin/hrun-probe syscall "$name"
  local v
  v=$(value syscall)
  case $v in
    "") result=error; detail="no probe output (exit $status): $(oneline "$out")" ;;
    EPERM | EACCES | ENOSYS) result=blocked; detail="$name: $v" ;;
    ok) result=ESCAPED; detail="$name succeeded" ;;
    *) result=ESCAPED; detail="$name got past the privilege checks: $v" ;;
  esac
}

check_mount() { syscall_check "$1" mount; }
check_userns() { syscall_check "$1" userns; }
check_mknod_block() { syscall_check "$1" mknod_blk; }
check_shocker() { syscall_check "$1" open_by_handle_at; }
check_init_module() { syscall_check "$1" init_module; }
check_finit_module() { syscall_check "$1" finit_module; }
check_bpf() { syscall_check "$1" bpf; }
check_perf_event_open() { syscall_check "$1" perf_event_open; }
check_keyctl() { syscall_check "$1" keyctl; }
check_cgroup_v1_mount() { syscall_check "$1" mount_cgroup; }
check_raw_socket() {
  # `hrun spec` leaves CAP_NET_RAW out; should it ever add it, the check drops it itself.
  syscall_check "$1" raw_socket '.process.capabilities |= with_entries(.value |= map(select(. != "CAP_NET_RAW")))'
  ((nraw == 0)) && detail="$detail (hrun spec has no CAP_NET_RAW)" || detail="$detail (CAP_NET_RAW dropped for the check)"
}

# Opening for writing is the attack; the probe writes no bytes, so a failure does no harm.
write_check() {  # RT NAME PATH
  local bundle v
  bundle=$(new_bundle "$1" "write-$2")
  run_in "$1" "$bundle" /bin/hrun-probe write "$3"
  v=$(value write)
  case $v in
    "") result=error; detail="no probe output (exit $status): $(oneline "$out")" ;;
    ok) result=ESCAPED; detail="$3 opened for writing" ;;
    *) result=blocked; detail="$3: $v" ;;
  esac
}
check_core_pattern() { write_check "$1" core_pattern /proc/sys/kernel/core_pattern; }
check_sysrq_trigger() {
  write_check "$1" sysrq_trigger /proc/sysrq-trigger
  [[ -e /proc/sysrq-trigger ]] || detail="$detail (this kernel has no SysRq)"
}

check_readonly_rootfs() {
  local bundle
  bundle=$(new_bundle "$1" rofs)
  run_in "$1" "$bundle" /bin/sh -c '/bin/hrun-probe write /; /bin/hrun-probe write /bin/busybox'
  local n_ok n_all
  n_all=$(grep -c '^write=' <<<"$out")
  n_ok=$(grep -c '^write=ok' <<<"$out")
  if ((n_all != 2)); then result=error; detail="exit $status: $(oneline "$out")"
  elif ((n_ok > 0)); then result=ESCAPED; detail="wrote to the rootfs"
  else result=blocked; detail="/ and /bin/busybox: $(grep '^write=' <<<"$out" | sed 's/write=//' | tr '\n' ' ')"; fi
}

check_release_agent() {
  local bundle
  bundle=$(new_bundle "$1" relagent)
  run_in "$1" "$bundle" /bin/sh -c 'n=0; for f in /sys/fs/cgroup/release_agent /sys/fs/cgroup/*/release_agent; do
      [ -e "$f" ] || continue; n=$((n+1)); /bin/hrun-probe write "$f"; done; echo found=$n'
  local found
  found=$(value found)
  if [[ -z $found ]]; then result=error; detail="exit $status: $(oneline "$out")"
  elif grep -q '^write=ok' <<<"$out"; then result=ESCAPED; detail="a release_agent opened for writing"
  else result=blocked; detail="$found release_agent files visible, none writable"; fi
}

check_host_pids_hidden() {
  local bundle
  bundle=$(new_bundle "$1" pids)
  run_in "$1" "$bundle" /bin/sh -c 'echo init=$(tr "\0" " " </proc/1/cmdline); echo procs=$(ls -d /proc/[0-9]* | wc -l)'
  local init procs
  init=$(value init)
  procs=$(value procs)
  if [[ -z $procs ]]; then result=error; detail="exit $status: $(oneline "$out")"
  elif [[ "$init" == "$host_init_cmdline" ]] || ((procs > 10)); then result=ESCAPED; detail="host processes visible ($procs pids, pid 1 = $init)"
  else result=blocked; detail="$procs pids visible, pid 1 is the container's"; fi
}

check_setuid_nnp() {
  local bundle euid control
  bundle=$(new_bundle "$1" suid '.process.user = {uid: 1000, gid: 1000}')
  install -m 4755 -o root -g root "$probe_bin" "$bundle/rootfs/bin/suid-probe"
  run_in "$1" "$bundle" /bin/suid-probe
  euid=$(value euid)
  # The same binary without no_new_privs shows that the setuid bit works on this rootfs at all
  # (hrun with --policy=oci: its default policy would set no_new_privs anyway).
  bundle=$(new_bundle "$1" suid-control '.process.user = {uid: 1000, gid: 1000} | .process.noNewPrivileges = false')
  install -m 4755 -o root -g root "$probe_bin" "$bundle/rootfs/bin/suid-probe"
  local keep_out=$out
  hrun_policy=oci run_in "$1" "$bundle" /bin/suid-probe
  control=$(value euid)
  out=$keep_out
  if [[ -z $euid ]]; then result=error; detail="exit $status: $(oneline "$out")"
  elif [[ $euid != 1000 ]]; then result=ESCAPED; detail="setuid-root binary ran with euid $euid"
  else result=blocked; detail="euid stays 1000 (without noNewPrivileges: euid ${control:-?})"; fi
}

# (uid_t)-1 as the process's uid and gid: setresuid/setresgid read it as "unchanged", so a runtime
# that passes it on leaves the process root.
check_uid_minus_one() {
  local bundle euid
  bundle=$(new_bundle "$1" uidm1 '.process.user = {uid: 4294967295, gid: 4294967295}')
  run_in "$1" "$bundle" /bin/hrun-probe
  euid=$(value euid)
  if [[ $euid == 0 ]]; then result=ESCAPED; detail="uid 4294967295 ran with euid 0"
  elif [[ -z $euid && $status != 0 ]]; then result=blocked; detail="refused: $(oneline "$out")"
  else result=blocked; detail="ran with euid $euid"; fi
}

# CVE-2024-21626: a descriptor of the runtime leaked into the container as its working directory.
check_cwd_leak() {
  local rt=$1 n bundle refused=0 inside=0 leaked=""
  for n in 3 4 5 6 7 8 9; do
    bundle=$(new_bundle "$rt" "cwd$n" ".process.cwd = \"/proc/self/fd/$n\"")
    run_in "$rt" "$bundle" /bin/sh -c "cat ../../../../../../../..$work/host-marker 2>/dev/null; echo cwd=\$(pwd)"
    if grep -q '^host-marker' <<<"$out"; then leaked+=" fd$n"
    elif grep -q '^cwd=' <<<"$out"; then inside=$((inside + 1))
    else refused=$((refused + 1)); fi
  done
  if [[ -n $leaked ]]; then result=ESCAPED; detail="host files reached through cwd$leaked"
  else result=blocked; detail="fd 3-9: $refused refused, $inside started inside the container"; fi
}

# CVE-2024-21626 "attack 3": the image's entrypoint is a script whose `#!` interpreter is reached
# through a descriptor the runtime may still hold at execve. The interpreter named is a host-only
# copy of the static busybox as `sh`: if it runs, it runs the script's body.
check_fd_interpreter() {
  local rt=$1 n bundle refused=0 leaked="" ups
  mkdir -p "$work/hostsh"
  [[ -x $work/hostsh/sh ]] || cp /bin/busybox "$work/hostsh/sh"
  ups=$(printf '../%.0s' $(seq 16))
  bundle=$(new_bundle "$rt" fdinterp)
  for n in $(seq 3 20); do
    printf '#!/proc/self/fd/%s/%s%s\necho host-shell-ran\n' "$n" "$ups" "${work#/}/hostsh/sh" >"$bundle/rootfs/entry-$n"
    chmod 755 "$bundle/rootfs/entry-$n"
  done
  for n in $(seq 3 20); do
    run_in "$rt" "$bundle" "/entry-$n"
    if grep -q '^host-shell-ran' <<<"$out"; then leaked+=" fd$n"; else refused=$((refused + 1)); fi
  done
  if [[ -n $leaked ]]; then result=ESCAPED; detail="host binary ran as the interpreter through$leaked"
  else result=blocked; detail="fd 3-20: $refused refused"; fi
}

# CVE-2021-30465 class: a mount destination that is a symlink pointing out of the rootfs.
check_mount_symlink() {
  local bundle
  bundle=$(new_bundle "$1" mntlink ".mounts += [{destination: \"/mnt/evil\", type: \"bind\", source: \"$work/bindsrc\", options: [\"rbind\", \"ro\"]}]")
  ln -s "../../../../../../../../..$work/outside" "$bundle/rootfs/mnt/evil"
  run_in "$1" "$bundle" /bin/sh -c 'cat /mnt/evil/marker 2>/dev/null || echo marker=missing'
  if grep -qF "$work/outside" /proc/1/mountinfo; then result=ESCAPED; detail="bind-mounted onto the host path"
  elif grep -q '^inside-marker' <<<"$out"; then result=blocked; detail="mount stayed inside the rootfs"
  elif grep -q '^marker=missing' <<<"$out"; then result=ESCAPED; detail="container started, the mount went outside its rootfs"
  else result=blocked; detail="refused (exit $status): $(oneline "$out" | cut -c1-100)"; fi
}

# CVE-2025-31133 class: /dev/null, the source of every masked file, is a symlink to a host file.
# The real attack points it at /proc/sys/kernel/core_pattern; the battery points it at a decoy
# file of its own instead, so that a runtime that follows the link cannot damage the host.
check_masked_symlink() {
  local bundle decoy=$work/decoy-$1
  echo decoy >"$decoy"
  bundle=$(new_bundle "$1" masklink 'del(.mounts[] | select(.destination == "/dev" or (.destination | startswith("/dev/"))))')
  rm -f "$bundle/rootfs/dev/null"
  ln -s "$decoy" "$bundle/rootfs/dev/null"
  run_in "$1" "$bundle" /bin/sh -c 'echo overwritten >/dev/null; /bin/hrun-probe read /proc/timer_list; /bin/hrun-probe stat /proc/timer_list'
  local size type
  size=$(value size)
  type=$(value stat.type)
  if [[ $(cat "$decoy") != decoy ]]; then result=ESCAPED; detail="the host file behind the /dev/null symlink was written"
  elif [[ -z $type ]]; then result=blocked; detail="refused (exit $status): $(oneline "$out" | cut -c1-100)"
  elif [[ ${size:-0} != 0 ]]; then result=ESCAPED; detail="/proc/timer_list (masked) shows $size bytes"
  else result=blocked; detail="/proc/timer_list still masked ($type, reads empty)"; fi
}

check_fork_bomb() {
  local bundle forked limit
  bundle=$(new_bundle "$1" forkbomb)
  limit=$(jq '.linux.resources.pids.limit // "none"' "$bundle/config.json")
  run_in "$1" "$bundle" /bin/hrun-probe forkbomb 5000
  forked=$(value forked)
  if [[ -z $forked ]]; then result=error; detail="exit $status: $(oneline "$out")"
  elif ((forked >= 5000)); then result=ESCAPED; detail="5000 processes forked (pids limit $limit)"
  else result=blocked; detail="fork failed after $forked ($(value fork); pids limit $limit)"; fi
}

check_memory_bomb() {
  local bundle limit last
  bundle=$(new_bundle "$1" membomb)
  limit=$(jq '.linux.resources.memory.limit // "none"' "$bundle/config.json")
  run_in "$1" "$bundle" /bin/hrun-probe membomb 2048
  last=$(value membomb.mib)
  if grep -q '^membomb=done' <<<"$out"; then result=ESCAPED; detail="2 GiB touched (memory limit $limit)"
  elif [[ -z $last ]]; then result=error; detail="exit $status: $(oneline "$out")"
  else result=blocked; detail="stopped at ${last} MiB, exit $status (memory limit $limit)"; fi
}

# CVE-2019-5736: while `exec` joins the container again and again, the container opens every
# /proc/PID/exe for writing and tries PTRACE_ATTACH on the runtime's processes.
check_exec_exe_overwrite() {
  local rt=$1 bundle id execs=0 sha_before sha_after t_end
  bundle=$(new_bundle "$rt" exeover)
  jq '.process.args = ["/bin/hrun-probe", "exe-scan", "8", "'"$rt"'"]' "$bundle/config.json" >"$bundle/c" && mv "$bundle/c" "$bundle/config.json"
  id=$tag-$rt-exeover
  rt_cmd "$rt"
  started_ids+=("$rt $id")
  sha_before=$(sha256sum "$work/bin/$rt/$rt" | cut -d' ' -f1)
  if ! timeout 30 "${cmd[@]}" create --bundle "$bundle" "$id" </dev/null >"$work/exeover-$rt.out" 2>&1 ||
     ! timeout 30 "${cmd[@]}" start "$id" >/dev/null 2>&1; then
    result=error; detail="create/start failed: $(oneline "$(cat "$work/exeover-$rt.out")")"
    timeout 20 "${cmd[@]}" delete -f "$id" >/dev/null 2>&1
    return
  fi
  t_end=$((SECONDS + 7))
  while ((SECONDS < t_end)); do
    timeout 10 "${cmd[@]}" exec "$id" /bin/true </dev/null >/dev/null 2>&1 && execs=$((execs + 1))
  done
  for _ in $(seq 40); do
    grep -q '^scan.attached=' "$work/exeover-$rt.out" && break
    sleep 0.25
  done
  timeout 20 "${cmd[@]}" delete -f "$id" >/dev/null 2>&1
  sha_after=$(sha256sum "$work/bin/$rt/$rt" | cut -d' ' -f1)
  out=$(cat "$work/exeover-$rt.out")
  local opened attached seen
  opened=$(value scan.opened)
  attached=$(value scan.attached)
  seen=$(value scan.runtime_seen)
  if [[ $sha_before != "$sha_after" ]]; then result=ESCAPED; detail="runtime binary overwritten"
  elif [[ -z $opened ]] || ((execs == 0)); then result=error; detail="$execs execs, scan output: $(oneline "$out")"
  elif ((opened > 0 || attached > 0)); then result=ESCAPED; detail="$opened exe opened for writing, $attached ptrace attaches"
  else result=blocked; detail="$execs execs, runtime seen $seen times, 0 opened, 0 attached, hash unchanged"; fi
}

checks=(mount userns core_pattern sysrq_trigger mknod_block shocker init_module finit_module bpf
        perf_event_open keyctl host_pids_hidden raw_socket exec_exe_overwrite cwd_leak
        fd_interpreter mount_symlink masked_symlink cgroup_v1_mount release_agent setuid_nnp uid_minus_one
        readonly_rootfs fork_bomb memory_bomb)

declare -A table
passed=0
failed=0
for rt in "${runtimes[@]}"; do
  echo "== $rt =="
  t0=$SECONDS
  for c in "${checks[@]}"; do
    result=error
    detail=""
    "check_$c" "$rt"
    table[$c,$rt]=$result
    if [[ $rt == hrun ]]; then
      if [[ $result == blocked ]]; then echo "ok   $c: $detail"; passed=$((passed + 1))
      else echo "FAIL $c: $result: $detail"; failed=$((failed + 1)); fi
    else
      echo "$( [[ $result == blocked ]] && echo "ok  " || echo "$result") $c: $detail"
    fi
  done
  echo "($rt: $((SECONDS - t0)) s)"
done

# ---- the host afterwards ----
host_check() {
  local after mounts_after new_mounts leftover
  after=$(host_snapshot)
  mounts_after=$(host_mounts)
  new_mounts=$(comm -13 <(echo "$mounts_before") <(echo "$mounts_after"))
  leftover=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "*$tag*" 2>/dev/null | head -5)
  if [[ $after != "$snapshot_before" ]]; then
    echo "FAIL host unchanged: $(diff <(echo "$snapshot_before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')"
    failed=$((failed + 1))
  elif [[ -n $new_mounts ]]; then
    echo "FAIL host unchanged: new host mounts: $(tr '\n' ' ' <<<"$new_mounts")"
    failed=$((failed + 1))
  elif [[ -n $leftover ]]; then
    echo "FAIL host unchanged: cgroups left behind: $(tr '\n' ' ' <<<"$leftover")"
    failed=$((failed + 1))
  else
    echo "ok   host unchanged: core_pattern, sysrq, modules, runtime hashes, host mounts, no cgroups left"
    passed=$((passed + 1))
  fi
}
echo "== host =="
# Containers are deleted before the cgroup check.
for pair in "${started_ids[@]}"; do
  read -r rt id <<<"$pair"; rt_cmd "$rt"; timeout 20 "${cmd[@]}" delete -f "$id" >/dev/null 2>&1
done
started_ids=()
host_check

if ((compare)); then
  echo
  printf '| %-20s |' check
  for rt in "${runtimes[@]}"; do printf ' %-8s |' "$rt"; done
  echo
  printf '|%s|' "----------------------"
  for rt in "${runtimes[@]}"; do printf '%s|' "----------"; done
  echo
  for c in "${checks[@]}"; do
    printf '| %-20s |' "$c"
    for rt in "${runtimes[@]}"; do printf ' %-8s |' "${table[$c,$rt]:-n/a}"; done
    echo
  done
  for rt in runc crun; do [[ " ${runtimes[*]} " == *" $rt "* ]] || echo "($rt not installed: n/a)"; done
  echo "hrun: --policy=hardened (default); runc/crun: the same config.json as written (no seccomp section)."
fi

echo "$passed passed, $failed failed"
((failed == 0))
