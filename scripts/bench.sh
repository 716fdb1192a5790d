#!/usr/bin/env bash
# Times whole `run` invocations of busybox `true` with hrun and, when installed, crun and runc:
# same rootfs, same config, runs interleaved (in a shuffled order) so every runtime sees the same
# machine state.
#
#   scripts/bench.sh [--quick] [-n RUNS]
#
# Variants: plain (the `hrun spec` config), userns (a user namespace mapping 0 -> 100000, size
# 65536, rootfs chowned to match), seccomp (an allowlist of ~340 syscalls, default EPERM).
# Then `exec` of `true` in a running container, and the cost of hrun's sealed re-exec alone.
# Prints median and p10-p90 wall time in ms, the hrun/crun and hrun/runc ratios of medians,
# the peak RSS of each runtime process (GNU time), and the Google Benchmark results when
# build/bench/hrun_bench exists. The tables are markdown, ready for the README.
#
# Environment: HRUN_BUILD_DIR (default build), HRUN (default $HRUN_BUILD_DIR/hrun).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 [--quick] [-n RUNS]" >&2; exit 2; }
args=("$@")
runs=200
quick=0
while (($#)); do
  case $1 in
    --quick) runs=20; quick=1; shift ;;
    -n) (($# >= 2)) || usage; runs=$2; shift 2 ;;
    -h|--help) usage ;;
    *) usage ;;
  esac
done
[[ $runs =~ ^[0-9]+$ ]] && ((runs > 0)) || usage

build=${HRUN_BUILD_DIR:-build}
hrun=${HRUN:-$build/hrun}
if [[ ! -x $hrun ]]; then
  echo "bench: $hrun is not built (cmake --build $build --target hrun)" >&2
  exit 1
fi
hrun=$(realpath "$hrun")

# crun refuses hosts with a hybrid cgroup layout (v1 controllers plus a v2 mount). Benchmark
# every runtime in a private mount namespace without that v2 mount: the host is untouched and
# all runtimes see the same cgroup v1 layout.
if [[ -z ${HRUN_BENCH_PRIVATE_NS:-} ]] && ((EUID == 0)) && command -v crun >/dev/null &&
   grep -q ' /sys/fs/cgroup/unified ' /proc/self/mountinfo && command -v unshare >/dev/null; then
  export HRUN_BENCH_PRIVATE_NS=1
  exec unshare --mount --propagation private "$0" "${args[@]}"
fi
if [[ -n ${HRUN_BENCH_PRIVATE_NS:-} ]]; then
  umount /sys/fs/cgroup/unified 2>/dev/null || true
fi

tmp=$(mktemp -d /tmp/hrun-bench-XXXXXX)
chmod 0755 "$tmp"  # a container root mapped to another uid must reach the rootfs
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

runtimes=(hrun)
for rt in crun runc; do
  command -v "$rt" >/dev/null && runtimes+=("$rt")
done
# runtime_cmd RT: sets the array `cmd` to the runtime and its global options. hrun runs with
# --policy=oci: the others add no seccomp profile or no_new_privs of their own, so hrun's
# hardened defaults would time a different container (the seccomp variant shows what a filter
# costs each runtime).
runtime_cmd() {
  case $1 in
    hrun) cmd=("$hrun" --policy=oci) ;;
    *) cmd=("$(command -v "$1")") ;;
  esac
}

# ---- bundles ----------------------------------------------------------------------------------

HRUN=$hrun scripts/make-bundle.sh "$tmp/rootfs-plain" >/dev/null
scripts/make-bundle.sh "$tmp/rootfs-userns" --chown 100000:100000 >/dev/null
base=$tmp/rootfs-plain/config.json

true_config() {  # $1: rootfs dir; the `hrun spec` config running /bin/true from it
  jq --arg root "$1" '.root.path = $root | .process.args = ["/bin/true"] | .process.terminal = false' "$base"
}

syscall_allowlist() {
  # Every x86_64 syscall below 335 (the long-standing ones) plus the newer calls a modern libc
  # and runtime use after the filter is loaded.
  local header=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
  [[ -r $header ]] || return 1
  awk '/^#define __NR_/ { n = $3 + 0; name = substr($2, 6)
        if (n < 335 || n == 435 || n == 436 || n == 439) print name }' "$header" |
    jq -R . | jq -s .
}

variants=(plain userns)
true_config "$tmp/rootfs-plain/rootfs" >"$tmp/plain.json"
true_config "$tmp/rootfs-userns/rootfs" |
  jq '.linux.namespaces += [{"type": "user"}]
      | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
      | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]' >"$tmp/userns.json"
if allow=$(syscall_allowlist); then
  true_config "$tmp/rootfs-plain/rootfs" |
    jq --argjson names "$allow" '.linux.seccomp = {
          "defaultAction": "SCMP_ACT_ERRNO",
          "architectures": ["SCMP_ARCH_X86_64"],
          "syscalls": [{"names": $names, "action": "SCMP_ACT_ALLOW"}]}' >"$tmp/seccomp.json"
  variants+=(seccomp)
  seccomp_names=$(jq length <<<"$allow")
fi

# One bundle directory per variant and runtime; all share the rootfs (absolute root.path) and
# get the same config. A runtime that refuses it gets the smallest change it accepts: older
# crun releases only know ociVersion up to 1.1.x, so it is lowered for them (the fields used
# here all exist in 1.1).
compat_filter='.ociVersion = "1.1.0"'

smoke() {  # $1 variant, $2 runtime: one run; prints its output on failure
  runtime_cmd "$2"
  "${cmd[@]}" --root "$tmp/state-$2" run --bundle "$tmp/bundle-$1-$2" "smoke-$1-$2-$$" </dev/null 2>&1
}

declare -A usable reason adapted
for v in "${variants[@]}"; do
  for rt in "${runtimes[@]}"; do
    b=$tmp/bundle-$v-$rt
    mkdir -p "$b" "$tmp/state-$rt"
    cp "$tmp/$v.json" "$b/config.json"
    usable[$v,$rt]=1
    # Smoke run: a runtime that cannot run this variant here is reported, not timed.
    if out=$(smoke "$v" "$rt"); then continue; fi
    if [[ $rt != hrun ]]; then
      jq "$compat_filter" "$tmp/$v.json" >"$b/config.json"
      if smoke "$v" "$rt" >/dev/null; then adapted[$rt]=1; continue; fi
    fi
    usable[$v,$rt]=0
    reason[$v,$rt]=$(head -c 300 <<<"$out" | tr '\n' ' ')
  done
done

# ---- timing -----------------------------------------------------------------------------------

declare -A failures
for v in "${variants[@]}"; do
  for rt in "${runtimes[@]}"; do : >"$tmp/times-$v-$rt"; failures[$v,$rt]=0; done
done

echo "bench: $runs runs per runtime and variant (${runtimes[*]}; ${variants[*]})" >&2
# The runtime order is shuffled for every variant of every round: a run pays for what the run
# before it left to the kernel (namespaces and mounts torn down after exit, RCU grace periods),
# and in a fixed order one runtime would always be timed right after runc and carry its cost.
# (A rotation does not help: each runtime would keep the same predecessor.)
RANDOM=1  # the same sequence of orders on every call
for ((i = 0; i < runs; i++)); do
  for v in "${variants[@]}"; do
    order=("${runtimes[@]}")
    for ((k = ${#order[@]} - 1; k > 0; k--)); do
      j=$((RANDOM % (k + 1)))
      tmp_rt=${order[k]}; order[k]=${order[j]}; order[j]=$tmp_rt
    done
    for rt in "${order[@]}"; do
      ((usable[$v,$rt])) || continue
      runtime_cmd "$rt"
      t0=${EPOCHREALTIME/./}
      if "${cmd[@]}" --root "$tmp/state-$rt" run --bundle "$tmp/bundle-$v-$rt" "b-$v-$i-$$" </dev/null >/dev/null 2>&1; then
        t1=${EPOCHREALTIME/./}
        echo $((t1 - t0)) >>"$tmp/times-$v-$rt"
      else
        failures[$v,$rt]=$((failures[$v,$rt] + 1))
      fi
    done
  done
done

# stats FILE -> "median p10 p90" in ms (nearest rank), or nothing when FILE is empty
stats() {
  sort -n "$1" | awk '{ t[NR] = $1 / 1000 }
    function rank(p) { i = int(p * (NR - 1) + 0.5) + 1; return t[i] }
    END { if (NR > 0) printf "%.2f %.2f %.2f\n", rank(0.5), rank(0.1), rank(0.9) }'
}

peak_rss_kib() {  # $1 variant, $2 runtime
  [[ -x /usr/bin/time ]] || { echo "n/a"; return; }
  runtime_cmd "$2"
  if /usr/bin/time -f %M -o "$tmp/rss" "${cmd[@]}" --root "$tmp/state-$2" run \
       --bundle "$tmp/bundle-$1-$2" "rss-$1-$2-$$" </dev/null >/dev/null 2>&1; then
    tail -n 1 "$tmp/rss"
  else
    echo "n/a"
  fi
}

declare -A median cell
for v in "${variants[@]}"; do
  for rt in "${runtimes[@]}"; do
    if ((usable[$v,$rt])) && s=$(stats "$tmp/times-$v-$rt") && [[ -n $s ]]; then
      read -r med p10 p90 <<<"$s"
      median[$v,$rt]=$med
      cell[$v,$rt]="$med ($p10–$p90)"
      ((failures[$v,$rt] == 0)) || cell[$v,$rt]+=" [${failures[$v,$rt]} failed]"
    else
      cell[$v,$rt]="n/a"
    fi
  done
done

ratio() {  # $1 variant, $2 other runtime
  local a=${median[$1,hrun]:-} b=${median[$1,$2]:-}
  [[ -n $a && -n $b ]] || { echo "n/a"; return; }
  awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

# ---- report -----------------------------------------------------------------------------------

echo
echo "### Container start-to-exit time: \`run\` of busybox \`true\`"
echo
echo "$runs runs each, interleaved in a shuffled order; $(nproc) CPUs, Linux $(uname -r); median (p10–p90) in ms."
[[ -n ${HRUN_BENCH_PRIVATE_NS:-} ]] && echo "Run in a private mount namespace without the cgroup v2 mount (crun rejects hybrid layouts)."
echo "hrun runs with \`--policy=oci\`: the config as written, as crun and runc run it."
echo
header="| variant |"
rule="|---|"
for rt in "${runtimes[@]}"; do header+=" $rt |"; rule+="---|"; done
for rt in "${runtimes[@]:1}"; do header+=" hrun/$rt |"; rule+="---|"; done
echo "$header"
echo "$rule"
for v in "${variants[@]}"; do
  label=$v
  [[ $v == seccomp ]] && label="seccomp ($seccomp_names-name allowlist)"
  [[ $v == userns ]] && label="user namespace"
  line="| $label |"
  for rt in "${runtimes[@]}"; do line+=" ${cell[$v,$rt]} |"; done
  for rt in "${runtimes[@]:1}"; do line+=" $(ratio "$v" "$rt") |"; done
  echo "$line"
done

# ---- exec: a process started in a running container ------------------------------------------
# `exec` enters a pid namespace the container's processes can see, so hrun runs it from a sealed
# memfd copy of itself (src/linux/sealed_exe.hpp), as runc does: its time includes the copy and
# the re-exec. The step alone: `exec` of a container that does not exist (copy, re-exec, then the
# lookup fails) against `state` of one (the same lookup, no re-exec).
exec_runs=$(( runs < 100 ? runs : 100 ))
declare -A exec_cell exec_ready
: >"$tmp/step-sealed"; : >"$tmp/step-plain"
for rt in "${runtimes[@]}"; do
  : >"$tmp/exec-$rt"
  exec_cell[$rt]="n/a"
  exec_ready[$rt]=0
  ((usable[plain,$rt])) || continue
  b=$tmp/bundle-exec-$rt
  mkdir -p "$b"
  jq '.process.args = ["/bin/sleep", "1000"]' "$tmp/bundle-plain-$rt/config.json" >"$b/config.json"
  runtime_cmd "$rt"
  if "${cmd[@]}" --root "$tmp/state-$rt" run --detach --bundle "$b" "exec-$rt-$$" \
       </dev/null >/dev/null 2>&1; then
    exec_ready[$rt]=1
  else
    exec_cell[$rt]="n/a (run --detach failed)"
  fi
done
for ((i = 0; i < exec_runs; i++)); do
  for rt in "${runtimes[@]}"; do
    ((exec_ready[$rt])) || continue
    runtime_cmd "$rt"
    t0=${EPOCHREALTIME/./}
    "${cmd[@]}" --root "$tmp/state-$rt" exec "exec-$rt-$$" /bin/true </dev/null >/dev/null 2>&1 &&
      echo $((${EPOCHREALTIME/./} - t0)) >>"$tmp/exec-$rt"
  done
  runtime_cmd hrun
  t0=${EPOCHREALTIME/./}
  "${cmd[@]}" --root "$tmp/state-hrun" exec "no-such-$$" /bin/true </dev/null >/dev/null 2>&1 ||
    echo $((${EPOCHREALTIME/./} - t0)) >>"$tmp/step-sealed"
  t0=${EPOCHREALTIME/./}
  "${cmd[@]}" --root "$tmp/state-hrun" state "no-such-$$" </dev/null >/dev/null 2>&1 ||
    echo $((${EPOCHREALTIME/./} - t0)) >>"$tmp/step-plain"
done
for rt in "${runtimes[@]}"; do
  runtime_cmd "$rt"
  "${cmd[@]}" --root "$tmp/state-$rt" delete --force "exec-$rt-$$" >/dev/null 2>&1 || true
  if ((exec_ready[$rt])) && s=$(stats "$tmp/exec-$rt") && [[ -n $s ]]; then
    read -r med p10 p90 <<<"$s"
    exec_cell[$rt]="$med ($p10–$p90)"
  fi
done

echo
echo "### \`exec\` of busybox \`true\` in a running container (plain variant)"
echo
echo "$exec_runs runs each, interleaved; median (p10–p90) in ms. hrun's includes its sealed copy and re-exec."
echo
header="|"; rule="|"; line="|"
for rt in "${runtimes[@]}"; do header+=" $rt |"; rule+="---|"; line+=" ${exec_cell[$rt]} |"; done
echo "$header"; echo "$rule"; echo "$line"
if s1=$(stats "$tmp/step-sealed") && s2=$(stats "$tmp/step-plain") && [[ -n $s1 && -n $s2 ]]; then
  read -r m1 _ _ <<<"$s1"
  read -r m2 _ _ <<<"$s2"
  echo
  echo "The sealed copy and re-exec alone (hrun, median): \`exec\` of a missing container $m1 ms," \
       "\`state\` of one $m2 ms: $(awk -v a="$m1" -v b="$m2" 'BEGIN { printf "%.2f", a - b }') ms" \
       "($(stat -c %s "$hrun") bytes copied)."
fi

echo
echo "### Peak RSS of the runtime process (KiB, GNU time %M, plain variant)"
echo
header="|"
rule="|"
line="|"
for rt in "${runtimes[@]}"; do
  header+=" $rt |"
  rule+="---|"
  if ((usable[plain,$rt])); then line+=" $(peak_rss_kib plain "$rt") |"; else line+=" n/a |"; fi
done
echo "$header"
echo "$rule"
echo "$line"

# ---- memory: the smallest cgroup memory limit each runtime can start a container under ------
# The container's cgroup is charged for everything the runtime does in the container process
# between clone and exec (runc's Go init re-executes itself there). One run per step of the
# ladder; the first limit at which `run` of `true` exits 0 is reported.
limits_kib=(64 128 192 256 384 512 1024 2048 4096 8192)
echo
echo "### Smallest memory limit (linux.resources.memory.limit) under which \`run\` of \`true\` succeeds"
echo
echo "| runtime | starts under 256 KiB | smallest working limit (KiB, of ${limits_kib[*]}) |"
echo "|---|---|---|"
for rt in "${runtimes[@]}"; do
  ((usable[plain,$rt])) || { echo "| $rt | n/a | n/a |"; continue; }
  b=$tmp/bundle-mem-$rt
  mkdir -p "$b"
  smallest=""
  for kib in "${limits_kib[@]}"; do
    jq --argjson bytes $((kib * 1024)) '.linux.resources.memory = {"limit": $bytes}' \
      "$tmp/bundle-plain-$rt/config.json" >"$b/config.json"
    runtime_cmd "$rt"
    if "${cmd[@]}" --root "$tmp/state-$rt" run --bundle "$b" "mem-$kib-$rt-$$" \
         </dev/null >/dev/null 2>&1; then
      smallest=$kib
      break
    fi
    # A failed run can leave state behind in other runtimes' roots: clear it before the next.
    "${cmd[@]}" --root "$tmp/state-$rt" delete --force "mem-$kib-$rt-$$" >/dev/null 2>&1 || true
  done
  under="no"
  [[ -n $smallest ]] && ((smallest <= 256)) && under="yes"
  echo "| $rt | $under | ${smallest:->${limits_kib[-1]}} |"
done

notes=()
for rt in "${!adapted[@]}"; do
  notes+=("- $rt refused the config as written; it ran it with \`$compat_filter\`.")
done
for v in "${variants[@]}"; do
  for rt in "${runtimes[@]}"; do
    ((usable[$v,$rt])) || notes+=("- $rt cannot run the $v variant here: ${reason[$v,$rt]}")
  done
done
if ((${#notes[@]})); then
  echo
  printf '%s\n' "${notes[@]}"
fi

gbench=$build/bench/hrun_bench
if [[ -x $gbench ]]; then
  echo
  echo "### Google Benchmark ($gbench)"
  echo
  echo '```'
  if ((quick)); then
    "$gbench" --benchmark_min_time=0.01 2>&1 || echo "hrun_bench failed: $?"
  else
    "$gbench" 2>&1 || echo "hrun_bench failed: $?"
  fi
  echo '```'
fi
