#!/usr/bin/env bash
# Builds hrun and runs one container whose process reports what isolates it: hostname, ids,
# namespaces (next to the host's), capabilities, no_new_privs, seccomp, the read-only root,
# its mounts and its pid namespace. Exits with hrun's status.
set -euo pipefail
cd "$(dirname "$0")/.."

heading() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }

heading "Installing dependencies"
scripts/install-deps.sh

heading "Building (build/, Release)"
bench_opt=-DHRUN_BENCH=OFF
[[ -f bench/CMakeLists.txt ]] && bench_opt=-DHRUN_BENCH=ON
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$bench_opt" >/dev/null
cmake --build build -j2 --target hrun

heading "Making a busybox bundle (build/demo-bundle)"
bundle=build/demo-bundle
rm -rf "$bundle"
HRUN=build/hrun scripts/make-bundle.sh "$bundle"
echo "rootfs: $(find "$bundle/rootfs" -mindepth 1 | wc -l) entries, config.json from 'hrun spec'"

# The script the container runs. The host's namespace inodes travel in its environment so the
# container can print them next to its own.
cat >"$bundle/rootfs/demo.sh" <<'SCRIPT'
heading() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }

heading "Identity (inside the container)"
echo "hostname: $(hostname)"
id

heading "Namespaces: host vs container"
printf '%-18s %-14s %-14s %s\n' type host container ""
for ns in cgroup ipc mnt net pid time user uts; do
  inside=$(readlink /proc/self/ns/$ns | sed 's/.*\[\(.*\)\]/\1/')
  eval "host=\${HOST_NS_$ns:-?}"
  verdict=shared
  [ "$inside" != "$host" ] && verdict=NEW
  printf '%-18s %-14s %-14s %s\n' "$ns" "$host" "$inside" "$verdict"
done

heading "Privileges (/proc/self/status)"
grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status

heading "Read-only root"
if err=$(touch /hrun-demo-file 2>&1); then
  echo "touch /hrun-demo-file succeeded: / is writable"
else
  echo "touch /hrun-demo-file failed: $err"
fi
if err=$(touch /tmp/scratch 2>&1); then
  echo "touch /tmp/scratch succeeded: /tmp is a private tmpfs"
else
  echo "touch /tmp/scratch failed: $err"
fi

heading "Mounts"
awk '{ printf "%-22s %-8s %s\n", $2, $3, $4 }' /proc/self/mounts

heading "Processes (the pid namespace)"
ps
SCRIPT

# Point the config at the script and hand it the host's namespace inodes.
host_env=()
echo
printf '\033[1m== %s ==\033[0m\n' "Host namespaces (outside)"
for ns in cgroup ipc mnt net pid time user uts; do
  inode=$(stat -L -c %i "/proc/self/ns/$ns" 2>/dev/null || echo none)
  printf '%-8s %s\n' "$ns" "$inode"
  host_env+=("HOST_NS_$ns=$inode")
done
env_json=$(printf '%s\n' "${host_env[@]}" | jq -R . | jq -s .)
jq --argjson extra "$env_json" \
  '.process.terminal = false | .process.args = ["/bin/sh", "/demo.sh"] | .process.env += $extra | .hostname = "hrun-demo"' \
  "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

heading "Running: build/hrun run $bundle demo"
status=0
build/hrun run "$bundle" demo || status=$?
heading "hrun exited with status $status"
exit "$status"
