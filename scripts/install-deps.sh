#!/usr/bin/env bash
# Installs every Debian package hrun needs to build, test, benchmark and demo.
# Idempotent: when all packages are present already it touches nothing (fast reruns).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libseccomp-dev libcap-dev libapparmor-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  busybox-static runc crun jq iproute2 procps util-linux time uidmap passwd
  clang-16 libclang-rt-16-dev  # scripts/fuzz.sh: libFuzzer (-fsanitize=fuzzer), std::expected
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if ((EUID != 0)); then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
