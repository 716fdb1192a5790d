#!/usr/bin/env bash
# Kubernetes' CRI validation suite (critest v1.26, from the kit in ../shared/cri) through
# containerd 1.6's CRI plugin and the io.containerd.runc.v2 shim, with the runtime under test
# (HRUN_BIN) as the `hrun` runtime handler's BinaryName: the path kubelet takes to a runtime.
# containerd runs in private mount, network, ipc, uts and pid namespaces, with its root, state,
# socket, CNI config and the runtime's state under a temp dir; /run and /var/lib are the
# namespace's own. Then a pod and a container through crictl (runp, create, start, exec, logs,
# stop, rm, rmp) and checks that nothing is left: process, cgroup, mount or runtime state.
# critest's specs count one each (ginkgo's "X Passed | Y Failed | ... | Z Skipped").
# Ends with "N passed, N failed, N skipped"; exits non-zero if a check failed.
# Environment (besides common.sh's):
#   CRI_KIT          the kit (critest.xz, crictl.xz, images.tar); default ../shared/cri from the
#                    repository root (or from the main checkout's, for a git worktree)
#   CRITEST_TIMEOUT  seconds the critest run may take (default 900)
#   CRITEST_FOCUS    a ginkgo focus regexp, to run some specs only (debugging)
#   CRITEST_HRUN_POLICY  hrun's --policy for the run (default: none given, i.e. hrun's own default)
# shellcheck disable=SC2016 # the single-quoted snippets are expanded by the container's shell
SUITE=critest
SUITE_BUDGET=${SUITE_BUDGET:-1200}
# A private network (CNI bridge, port mappings), pid, ipc and uts namespace around containerd.
ENGINE_UNSHARE_FLAGS="--net --ipc --uts --pid --fork --mount-proc"
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

resolve_runtime || { fail runtime "no runtime binary to test"; summary; exit 1; }
# Kubernetes passes its own security settings: the run uses hrun's default policy, which is what
# a RuntimeClass handler gets (docs/kubernetes.md), not the engines' --policy=oci.
if [[ -n ${CRITEST_HRUN_POLICY:-} ]]; then export HRUN_POLICY=$CRITEST_HRUN_POLICY; else unset HRUN_POLICY; fi

find_kit() {
  local c common
  if [[ -n ${CRI_KIT:-} ]]; then
    echo "$CRI_KIT"
    return
  fi
  for c in "$REPO_DIR/../shared/cri" \
    "$(common=$(git -C "$REPO_DIR" rev-parse --path-format=absolute --git-common-dir 2>/dev/null) && dirname "$(dirname "$common")")/shared/cri"; do
    [[ -f $c/critest.xz ]] && { readlink -f "$c"; return; }
  done
  echo "$REPO_DIR/../shared/cri"
}
KIT=$(find_kit)
for f in critest.xz crictl.xz images.tar; do
  [[ -f $KIT/$f ]] || skip_suite "no CRI test kit: $KIT/$f is missing (set CRI_KIT to the directory with critest.xz, crictl.xz, images.tar)"
done
command -v xz >/dev/null || ensure_packages xz xz-utils || skip_suite "xz cannot be installed"
ensure_packages containerd containerd || skip_suite "containerd cannot be installed with apt-get"
command -v containerd-shim-runc-v2 >/dev/null || skip_suite "containerd-shim-runc-v2 is missing"
ensure_packages /usr/lib/cni/bridge containernetworking-plugins ||
  skip_suite "containernetworking-plugins cannot be installed with apt-get"
command -v jq >/dev/null || ensure_packages jq jq || skip_suite "jq cannot be installed"
command -v iptables >/dev/null || ensure_packages iptables iptables || skip_suite "iptables cannot be installed"

enter_private_namespace # on the host, this does not return

C=$ENGINE_TMP/containerd
SOCK=$C/containerd.sock
BIN=$ENGINE_TMP/bin
RUNTIME_ROOT=$ENGINE_TMP/runtime-root # the shim runs the runtime with --root $RUNTIME_ROOT/k8s.io
STATE_ROOT=$RUNTIME_ROOT/k8s.io
CTR_BIN=$(command -v ctr)
ctr() { bounded "$CTR_BIN" --address "$SOCK" -n k8s.io "$@"; }
crictl() { bounded "$BIN/crictl" --runtime-endpoint "unix://$SOCK" --image-endpoint "unix://$SOCK" --timeout 60s "$@"; }

# The ids of every pod sandbox and container the CRI plugin made, from its log (for the cgroup
# checks here and on the host).
all_ids() {
  grep -ohE '(returns sandbox id|returns container id) \\?"[0-9a-f]{64}' "$ENGINE_TMP"/containerd.log 2>/dev/null |
    grep -oE '[0-9a-f]{64}' | sort -u
}

critest_cleanup() {
  local id
  for id in $(crictl ps -aq 2>/dev/null); do crictl rm -f "$id"; done
  for id in $(crictl pods -q 2>/dev/null); do crictl stopp "$id"; crictl rmp -f "$id"; done
}
add_cleanup critest_cleanup

# ---------------------------------------------------------------------------------------------
# The namespace: loopback up, /var/lib the namespace's own (CNI's cache and IPAM state)

t_namespace() {
  ip link set lo up || return 1
  mkdir -p "$ENGINE_TMP"/varlib/{upper,work} || return 1
  mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$ENGINE_TMP/varlib/upper,workdir=$ENGINE_TMP/varlib/work" /var/lib ||
    { echo "cannot put an overlay on /var/lib"; return 1; }
  mkdir -p "$BIN" && xz -dc "$KIT/critest.xz" >"$BIN/critest" && xz -dc "$KIT/crictl.xz" >"$BIN/crictl" &&
    chmod 755 "$BIN/critest" "$BIN/crictl"
}
check_here namespace "private net/pid namespace, /var/lib overlay, critest and crictl unpacked" t_namespace ||
  { summary; exit 1; }

start_cri_containerd() {
  mkdir -p "$C/cni" "$RUNTIME_ROOT"
  cat >"$C/cni/10-hrun-critest.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "hrun-critest",
  "plugins": [
    {"type": "bridge", "bridge": "cni-critest", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$C/cni-ipam", "ranges": [[{"subnet": "10.88.77.0/24"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
JSON
  cat >"$C/config.toml" <<TOML
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = "$C/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/cri-smoke/pause:1"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "hrun"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hrun]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hrun.options]
        BinaryName = "$HRUN_BIN"
        Root = "$RUNTIME_ROOT"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$C/cni"
TOML
  start_daemon containerd containerd --config "$C/config.toml"
  wait_for_socket containerd "$SOCK" 30 || return 1
  retry_until 30 crictl info >/dev/null || { tail -n 20 "$ENGINE_TMP/containerd.log"; return 1; }
}
if ! check_here daemon-start "containerd with the CRI plugin, handler hrun = $HRUN_BIN" start_cri_containerd; then
  summary
  exit 1
fi

t_import() {
  ctr images import --all-platforms "$KIT/images.tar" >/dev/null || return 1
  crictl images | grep -q 'localhost/cri-smoke/pause' || { crictl images; return 1; }
}
check image-import "the kit's images imported (ctr -n k8s.io images import)" t_import || { summary; exit 1; }

# ---------------------------------------------------------------------------------------------
# critest: every spec counts as one check

t_critest() {
  local args=(--runtime-endpoint "unix://$SOCK" --image-endpoint "unix://$SOCK" --runtime-handler hrun
    --ginkgo.skip "Image Manager" --ginkgo.no-color)
  [[ -n ${CRITEST_FOCUS:-} ]] && args+=(--ginkgo.focus "$CRITEST_FOCUS")
  cd "$ENGINE_TMP" && "$BIN/critest" "${args[@]}"
}

run_critest() {
  local out=$ENGINE_TMP/critest.out rc line p f s limit=${CRITEST_TIMEOUT:-900}
  local left=$((SUITE_BUDGET - SECONDS))
  ((left < limit)) && limit=$left
  note "critest (at most ${limit}s)"
  run_bounded "$limit" t_critest >"$out" 2>&1
  rc=$?
  # ginkgo v2: "Ran 73 of 85 Specs in 312.1 seconds" then
  # "FAIL! -- 68 Passed | 5 Failed | 0 Pending | 12 Skipped" (or "SUCCESS! -- ...").
  line=$(grep -E '[0-9]+ Passed \| [0-9]+ Failed \| [0-9]+ Pending \| [0-9]+ Skipped' "$out" | tail -n 1)
  if [[ -z $line ]]; then
    fail critest "critest ended (exit $rc) without a summary"
    tail -n 40 "$out" | sed 's/^/    | /'
    return
  fi
  read -r p f s < <(sed -E 's/.* ([0-9]+) Passed \| ([0-9]+) Failed \| [0-9]+ Pending \| ([0-9]+) Skipped.*/\1 \2 \3/' <<<"$line")
  grep -E '^Ran [0-9]+ of [0-9]+ Specs' "$out" | tail -n 1 | sed 's/^/# critest: /'
  note "critest: $line (exit $rc)"
  PASSED=$((PASSED + p))
  FAILED=$((FAILED + f))
  SKIPPED=$((SKIPPED + s))
  note "critest: $s specs skipped: Image Manager (needs a registry) and those critest leaves out on Linux"
  if ((f > 0)); then
    record critest FAIL
    log "FAIL critest: $f of $((p + f)) specs failed:"
    sed -n '/^Summarizing [0-9]* Failure/,$p' "$out" | grep -E '^\s*\[FAIL\]' | sed 's/^/    | /'
  else
    record critest ok
    log "ok   critest: $p specs passed"
  fi
  if ((rc != 0 && f == 0)); then fail critest-exit "critest exited $rc although no spec failed"; fi
}
run_critest

# ---------------------------------------------------------------------------------------------
# A pod and a container through crictl, and nothing left behind

LIFE=$ENGINE_TMP/crictl-life
POD_CGROUP=/$ENGINE_CGROUP_PARENT/pod-life

t_crictl_lifecycle() {
  local pod ctr out pid i
  mkdir -p "$LIFE/logs"
  cat >"$LIFE/pod.json" <<JSON
{"metadata": {"name": "hrun-life", "namespace": "hrun-test", "uid": "hrun-life-$RUN_TAG", "attempt": 0},
 "log_directory": "$LIFE/logs", "linux": {"cgroup_parent": "$POD_CGROUP"}}
JSON
  cat >"$LIFE/container.json" <<'JSON'
{"metadata": {"name": "life"}, "image": {"image": "localhost/cri-smoke/busybox:1"},
 "command": ["sh", "-c", "echo hello-from-the-log; trap 'exit 0' TERM; while :; do sleep 0.2; done"],
 "log_path": "life.log", "linux": {}}
JSON
  pod=$(crictl runp --runtime hrun "$LIFE/pod.json") || return 1
  echo "pod $pod"
  ctr=$(crictl create "$pod" "$LIFE/container.json" "$LIFE/pod.json") || return 1
  echo "container $ctr"
  crictl start "$ctr" >/dev/null || return 1
  [[ $(crictl inspect -o go-template --template '{{.status.state}}' "$ctr") == CONTAINER_RUNNING ]] ||
    { crictl ps -a; return 1; }
  pid=$(crictl inspect -o go-template --template '{{.info.pid}}' "$ctr")
  out=$(crictl exec "$ctr" sh -c 'echo exec-$((6*7)); cat /proc/self/cgroup | grep -c pod-life') || return 1
  expect_contains "exec output" exec-42 "$out" || return 1
  for ((i = 0; i < 50; i++)); do
    out=$(crictl logs "$ctr" 2>&1)
    [[ $out == *hello-from-the-log* ]] && break
    sleep 0.1
  done
  expect_contains "crictl logs" hello-from-the-log "$out" || return 1
  crictl stop --timeout 10 "$ctr" >/dev/null || return 1
  [[ $(crictl inspect -o go-template --template '{{.status.exitCode}}' "$ctr") == 0 ]] ||
    { echo "exit code after stop (SIGTERM, trap exit 0):"; crictl inspect "$ctr" | grep -i exit; return 1; }
  crictl rm "$ctr" >/dev/null || return 1
  crictl stopp "$pod" >/dev/null && crictl rmp "$pod" >/dev/null || return 1
  retry_until 10 not kill -0 "$pid" 2>/dev/null || { echo "container pid $pid still alive"; return 1; }
  [[ -z $(crictl pods -q --name hrun-life) ]] || { echo "the pod is still listed"; return 1; }
  [[ ! -e $STATE_ROOT/$ctr && ! -e $STATE_ROOT/$pod ]] || { echo "runtime state left:"; ls "$STATE_ROOT"; return 1; }
}
check crictl-lifecycle "crictl runp, create, start, exec, logs, stop, rm, stopp, rmp" t_crictl_lifecycle

# Mounts of the pods (their rootfs, shm, the sandbox's) that are still there.
assert_no_pod_mounts() {
  local left
  left=$(awk -v c="$C/state/" -v r="$RUNTIME_ROOT/" 'index($5, c) == 1 || index($5, r) == 1 { print $5 }' /proc/self/mountinfo)
  [[ -z $left ]] && return 0
  echo "mounts left:"
  echo "$left"
  return 1
}

# Cgroups named after a sandbox or container id, or under the parent of the lifecycle's pod.
assert_no_pod_cgroups() {
  local ids found
  mapfile -t ids < <(all_ids)
  ((${#ids[@]})) || { echo "no sandbox or container id in containerd's log"; return 1; }
  found=$(find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | grep -F -f <(printf '%s\n' "${ids[@]}"))
  [[ -z $found ]] || { echo "cgroups left behind:"; echo "$found"; return 1; }
  # The pod's cgroup parent is kubelet's to make and remove (runtimes make it when missing and
  # leave it): only the runtime's own cgroups below it must be gone.
  assert_cgroup_parent_empty "${POD_CGROUP##*/}"
}

check leftover-pods "no pod or container left in the CRI plugin" \
  retry_until 10 eval '[[ -z $(crictl pods -q) && -z $(crictl ps -aq) ]]'
check leftover-processes "no runtime process or container process left" retry_until 10 assert_no_runtime_processes
check leftover-state "no container state dir left in the runtime root" retry_until 10 assert_no_state_dirs "$STATE_ROOT"
check leftover-mounts "no rootfs, shm or sandbox mount left" retry_until 10 assert_no_pod_mounts
check leftover-cgroups "no cgroup left for a sandbox or container" retry_until 10 assert_no_pod_cgroups

summary
