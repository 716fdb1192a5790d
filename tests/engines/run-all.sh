#!/usr/bin/env bash
# Runs the engine tests (docker, containerd, podman) one after the other against the runtime in
# HRUN_BIN (default: <repo>/build/hrun), prints every check, the time each script took, and one
# final "N passed, N failed, N skipped" line; exits non-zero if any check failed.
#   tests/engines/run-all.sh                  # all three
#   tests/engines/run-all.sh docker podman    # some of them
# A script whose engine package cannot be installed reports itself skipped, with the reason.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

suites=("$@")
((${#suites[@]})) || suites=(docker containerd podman)

results=$(mktemp /tmp/hrun-engines-results.XXXXXX)
trap 'rm -f "$results"' EXIT
# Ctrl-C reaches the running script too: it cleans up after itself, then we stop.
interrupted=0
trap 'interrupted=1' INT TERM

passed=0 failed=0 skipped=0
timings=()
for suite in "${suites[@]}"; do
  script=$here/$suite.sh
  echo "=== $suite ==="
  if [[ ! -f $script ]]; then
    echo "FAIL $suite: no script $script"
    failed=$((failed + 1))
    continue
  fi
  before=$(wc -l <"$results")
  start=$SECONDS
  ENGINE_RESULTS=$results bash "$script"
  rc=$?
  took=$((SECONDS - start))
  timings+=("$suite ${took}s")
  echo "# $suite.sh took ${took}s (exit $rc)"
  if (($(wc -l <"$results") == before)); then
    # The script died before its summary: count it as one failure.
    echo "FAIL $suite: the script ended (exit $rc) without a summary"
    failed=$((failed + 1))
  elif ((rc != 0)) && [[ $(tail -n 1 "$results" | awk '{ print $3 }') == 0 ]]; then
    echo "FAIL $suite: the script exited $rc (interrupted or broken) although no check failed"
    failed=$((failed + 1))
  fi
  ((interrupted)) && break
done

while read -r _ p f s; do
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
done <"$results"

echo "=== engines ==="
echo "# times: ${timings[*]}"
if ((interrupted)); then
  echo "FAIL engines: interrupted"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
