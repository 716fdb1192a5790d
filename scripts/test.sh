#!/usr/bin/env bash
# The one command that runs every test:
#   1. installs the build and test dependencies (scripts/install-deps.sh),
#   2. Release build in build/, unit tests (parallel) then integration tests (serial: they compare
#      host-wide state such as mounts and cgroups before and after each container),
#   3. AddressSanitizer + UBSan build in build-asan/, the same tests again,
#   4. scripts/bench.sh --quick, to show the benchmark runs (no thresholds).
# Ends with the line "N passed, N failed"; exits non-zero if any test or step failed.
# Environment: HRUN_JOBS (default 2), HRUN_BUILD_DIR (default build), HRUN_ASAN_BUILD_DIR
# (default build-asan).
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=${HRUN_JOBS:-2}
release_dir=${HRUN_BUILD_DIR:-build}
asan_dir=${HRUN_ASAN_BUILD_DIR:-build-asan}
logs=$(mktemp -d /tmp/hrun-test-logs-XXXXXX)
trap 'rm -rf "$logs"' EXIT

passed=0
failed=0
skipped=0
summary=()
problems=()

step() { printf '\n=== %s ===\n' "$*"; }

# A failed step (install, configure, build, bench) counts as one failure.
step_failed() {
  problems+=("$1")
  failed=$((failed + 1))
}

# run_ctest NAME BUILD_DIR [ctest args...]: runs ctest, adds its counts to the totals.
run_ctest() {
  local name=$1 dir=$2
  shift 2
  local log=$logs/$name.log
  ctest --test-dir "$dir" --output-on-failure --timeout 300 "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # "95% tests passed, 2 tests failed out of 40"
  local line total fail skip
  line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [[ -z $line ]]; then
    summary+=("$name: no test results (ctest exit $rc)")
    step_failed "$name: ctest found or ran no tests"
    return
  fi
  fail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  skip=$(grep -cE '\((Skipped|Disabled)\)$' "$log" || true)
  passed=$((passed + total - fail - skip))
  failed=$((failed + fail))
  skipped=$((skipped + skip))
  summary+=("$name: $((total - fail - skip)) passed, $fail failed, $skip skipped")
  if ((rc != 0 && fail == 0)); then step_failed "$name: ctest exited $rc"; fi
  if ((fail > 0)); then
    problems+=("$name: failed tests:")
    while read -r t; do problems+=("    $t"); done < <(sed -n '/The following tests FAILED:/,/^Errors while running/p' "$log" | grep -E '^\s+[0-9]+ - ')
  fi
}

# configure_and_build DIR [cmake args...]
configure_and_build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" "$@" >"$logs/configure-${dir//\//_}.log" 2>&1 ||
    { cat "$logs/configure-${dir//\//_}.log"; return 1; }
  cmake --build "$dir" -j "$jobs"
}

bench_opt=-DHRUN_BENCH=OFF
[[ -f bench/CMakeLists.txt ]] && bench_opt=-DHRUN_BENCH=ON

start=$SECONDS

step "dependencies"
scripts/install-deps.sh || step_failed "install-deps.sh"

step "release build ($release_dir/)"
if configure_and_build "$release_dir" -DCMAKE_BUILD_TYPE=Release -DHRUN_TESTS=ON "$bench_opt"; then
  step "release: unit tests"
  run_ctest "release unit" "$release_dir" -L unit -j "$jobs"
  step "release: integration tests"
  run_ctest "release integration" "$release_dir" -L integration
else
  step_failed "release build"
fi

step "sanitizer build ($asan_dir/, ASan + UBSan)"
if configure_and_build "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHRUN_SANITIZE=ON -DHRUN_TESTS=ON -DHRUN_BENCH=OFF; then
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # Leak checking stays on for hrun too: its container process leaves only through execve or
  # _exit, so LeakSanitizer's exit-time scan runs in the parent alone, never in the forked child
  # (where the parent's heap would show up as leaks).
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  step "asan: unit tests"
  run_ctest "asan unit" "$asan_dir" -L unit -j "$jobs"
  step "asan: integration tests"
  run_ctest "asan integration" "$asan_dir" -L integration
else
  step_failed "sanitizer build"
fi

step "benchmark (scripts/bench.sh --quick)"
if [[ -x $release_dir/hrun ]]; then
  HRUN_BUILD_DIR=$release_dir scripts/bench.sh --quick || step_failed "bench.sh --quick"
else
  step_failed "bench.sh: $release_dir/hrun missing"
fi

step "summary ($(((SECONDS - start) / 60)) min)"
for s in "${summary[@]}"; do echo "  $s"; done
((skipped == 0)) || echo "  ($skipped skipped: see the reasons printed by each skipped test)"
if ((${#problems[@]})); then
  echo "  problems:"
  for p in "${problems[@]}"; do echo "    $p"; done
fi
echo "$passed passed, $failed failed"
((failed == 0))
