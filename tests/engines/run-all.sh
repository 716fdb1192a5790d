#!/usr/bin/env bash
# Runs the engine tests (docker, containerd, podman, and critest: Kubernetes' CRI validation suite
# through containerd's CRI plugin, with the kit in ../shared/cri) one after the other against the
# runtime in HRUN_BIN (default: <repo>/build/hrun), then the same scripts against runc (RUNC_BIN, default:
# runc on PATH) as a reference: a check that fails with both is the machine's or the test's, one
# that fails with hrun alone is hrun's. Prints every check, a table of the results (check x
# engine: hrun / runc), the time each script took, and last the line
# "N passed, N failed, N skipped" counting hrun's checks only; exits non-zero if one of them failed.
#   tests/engines/run-all.sh                       # all four, hrun then runc
#   tests/engines/run-all.sh docker podman         # some of them
#   tests/engines/run-all.sh --hrun-only docker    # without the runc reference run
# A script whose engine package cannot be installed reports itself skipped, with the reason.
# Environment: see common.sh (CHECK_TIMEOUT, ENGINE_CMD_TIMEOUT, SUITE_BUDGET, ENGINE_KEEP_TMP).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

reference=1
suites=()
for arg in "$@"; do
  case $arg in
    --hrun-only) reference=0 ;;
    -h | --help)
      sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "unknown option $arg" >&2
      exit 2
      ;;
    *) suites+=("$arg") ;;
  esac
done
((${#suites[@]})) || suites=(docker containerd podman critest)

hrun_bin=${HRUN_BIN:-$repo/build/hrun}
runc_bin=${RUNC_BIN:-$(command -v runc || echo /usr/sbin/runc)}
unset RUNTIME_BIN # HRUN_BIN is set for each run below

work=$(mktemp -d /tmp/hrun-engines-results.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Ctrl-C reaches the running script too: it cleans up after itself, then we stop.
interrupted=0
trap 'interrupted=1' INT TERM

declare -A passed failed skipped
timings=()

# run_suites LABEL BINARY: every suite against BINARY; counts in passed/failed/skipped[LABEL],
# one line per check in $work/LABEL.checks.
run_suites() {
  local label=$1 bin=$2 suite script before start took rc results=$work/$1.results
  : >"$results"
  : >"$work/$label.checks"
  passed[$label]=0 failed[$label]=0 skipped[$label]=0
  for suite in "${suites[@]}"; do
    script=$here/$suite.sh
    echo
    echo "=== $suite with $label ($bin) ==="
    if [[ ! -f $script ]]; then
      echo "FAIL $suite: no script $script"
      echo "$suite suite FAIL" >>"$work/$label.checks"
      failed[$label]=$((failed[$label] + 1))
      continue
    fi
    before=$(wc -l <"$results")
    start=$SECONDS
    ENGINE_RESULTS=$results ENGINE_CHECKS=$work/$label.checks HRUN_BIN=$bin bash "$script"
    rc=$?
    took=$((SECONDS - start))
    timings+=("$label/$suite ${took}s")
    echo "# $suite.sh with $label took ${took}s (exit $rc)"
    if (($(wc -l <"$results") == before)); then
      # The script died before its summary: count it as one failure.
      echo "FAIL $suite: the script ended (exit $rc) without a summary"
      echo "$suite suite FAIL" >>"$work/$label.checks"
      failed[$label]=$((failed[$label] + 1))
    elif ((rc != 0)) && [[ $(tail -n 1 "$results" | awk '{ print $3 }') == 0 ]]; then
      echo "FAIL $suite: the script exited $rc (interrupted or broken) although no check failed"
      echo "$suite suite FAIL" >>"$work/$label.checks"
      failed[$label]=$((failed[$label] + 1))
    fi
    ((interrupted)) && break
  done
  local p f s
  while read -r _ p f s; do
    passed[$label]=$((passed[$label] + p))
    failed[$label]=$((failed[$label] + f))
    skipped[$label]=$((skipped[$label] + s))
  done <"$results"
}

# cell LABEL SUITE KEY: the result of one check: FAIL if any record of it failed, else SKIP if
# any was skipped, ok if it passed, "-" if it did not run.
cell() {
  [[ -f $work/$1.checks ]] || { echo -; return; }
  awk -v s="$2" -v k="$3" '
    $1 == s && $2 == k { seen = 1; if ($3 == "FAIL") f = 1; else if ($3 == "SKIP") sk = 1 }
    END { print (!seen ? "-" : f ? "FAIL" : sk ? "SKIP" : "ok") }' "$work/$1.checks"
}

print_table() {
  local labels=(hrun) suite key line h r
  ((reference)) && labels+=(runc)
  echo
  if ((reference)); then
    echo "=== results: check x engine, hrun / runc (ok, FAIL, SKIP; - = not run) ==="
  else
    echo "=== results: check x engine, hrun (ok, FAIL, SKIP; - = not run) ==="
  fi
  line=$(printf '%-24s' check)
  for suite in "${suites[@]}"; do line+=$(printf ' %-13s' "$suite"); done
  echo "$line"
  local keys
  mapfile -t keys < <(cat "$work"/*.checks | awk '!seen[$2]++ { print $2 }')
  local hrun_only=() both=()
  for key in "${keys[@]}"; do
    line=$(printf '%-24s' "$key")
    for suite in "${suites[@]}"; do
      h=$(cell hrun "$suite" "$key")
      if ((reference)); then
        r=$(cell runc "$suite" "$key")
        line+=$(printf ' %-13s' "$h / $r")
        if [[ $h == FAIL && $r == ok ]]; then hrun_only+=("$suite/$key"); fi
        if [[ $h == FAIL && $r != ok ]]; then both+=("$suite/$key (runc: $r)"); fi
      else
        line+=$(printf ' %-13s' "$h")
      fi
    done
    echo "$line"
  done
  if ((reference)); then
    echo "# failing with hrun only (hrun's): ${hrun_only[*]:-none}"
    echo "# failing with hrun and not passing with runc (machine or test): ${both[*]:-none}"
  fi
}

run_suites hrun "$hrun_bin"
if ((reference && !interrupted)); then
  if [[ -x $runc_bin ]]; then
    run_suites runc "$runc_bin"
  else
    echo "SKIP runc reference run: no runc at $runc_bin (apt-get install runc, or set RUNC_BIN)"
    reference=0
  fi
fi

print_table
echo "# times: ${timings[*]}"
if ((reference)); then
  echo "runc (reference, not counted): ${passed[runc]} passed, ${failed[runc]} failed, ${skipped[runc]} skipped"
fi
if ((interrupted)); then
  echo "FAIL engines: interrupted"
  failed[hrun]=$((failed[hrun] + 1))
fi
echo "${passed[hrun]} passed, ${failed[hrun]} failed, ${skipped[hrun]} skipped"
((failed[hrun] == 0))
