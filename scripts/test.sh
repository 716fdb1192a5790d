#!/usr/bin/env bash
# The one command that runs every test:
#   1. installs the build and test dependencies (scripts/install-deps.sh),
#   2. Release build in build/, unit tests (parallel) then integration tests (serial: they compare
#      host-wide state such as mounts and cgroups before and after each container),
#   2b. tests/security/escape-battery.sh --compare: escape attempts from a default container,
#      counted for hrun, runc and crun printed for comparison,
#   3. the VM lane (scripts/vm-test.sh): the tests that need a cgroup v2-only, AppArmor-enabled
#      kernel, run on the release build in a qemu VM (installs qemu and a kernel with apt),
#   4. AddressSanitizer + UBSan build in build-asan/, the same tests again,
#   4b. scripts/fuzz.sh: the config and command-line fuzzers (libFuzzer, clang) over their saved
#      corpus for HRUN_FUZZ_TIME seconds each (default 30; the clang build takes ~3.5 min),
#   5. scripts/bench.sh --quick, to show the benchmark runs (no thresholds).
#   Between 3 and 4: real engines, docker, containerd, podman and Kubernetes' critest (through
#   containerd's CRI plugin) driving the release hrun
#   (tests/engines/run-all.sh, which installs them with apt-get), and the same checks with runc
#   for comparison (printed, not counted).
# Ends with the line "N passed, N failed"; exits non-zero if any test or step failed.
# Environment: HRUN_JOBS (default 2), HRUN_BUILD_DIR (default build), HRUN_ASAN_BUILD_DIR
# (default build-asan), HRUN_SKIP_VM=1 leaves out the VM lane (reported as skipped),
# HRUN_ENGINES_TIMEOUT (seconds for the engine stage, default 2700), HRUN_FUZZ_TIME (seconds
# per fuzz target, default 30).
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

# add_counts LOG PREFIX: finds the last line of LOG that is PREFIX then "N passed, N failed, N
# skipped", sets the caller's p, f and s to those numbers and adds them to the totals; fails
# when LOG has no such line.
add_counts() {
  local line
  # Not anchored at the end: the VM's serial console ends its lines with \r.
  line=$(grep -E "^$2[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped" "$1" | tail -n 1)
  [[ -n $line ]] || return 1
  read -r p f s < <(sed -E "s/^$2([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\\1 \\2 \\3/" <<<"$line")
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
}

# run_vm_lane: scripts/vm-test.sh on the release build; adds the counts of its last line,
# "vm tests: N passed, N failed, N skipped" (tests/vm/run-vm-tests.sh), and its wall time.
run_vm_lane() {
  local log=$logs/vm-lane.log t0=$SECONDS
  HRUN_BUILD_DIR=$release_dir scripts/vm-test.sh 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]} wall p f s
  wall=$((SECONDS - t0))
  echo "vm lane wall time: $wall s"
  if ! add_counts "$log" 'vm tests: '; then
    summary+=("vm lane: no test results (vm-test.sh exit $rc after $wall s)")
    step_failed "vm lane: the VM stopped before reporting results (vm-test.sh exit $rc)"
    return
  fi
  summary+=("vm lane (cgroup v2 + AppArmor): $p passed, $f failed, $s skipped in $wall s")
  if ((f > 0)); then
    problems+=("vm lane: failed:")
    while read -r t; do problems+=("    $t"); done < <(sed -n '/^failures:$/,/^vm tests:/p' "$log" | sed -n 's/^  //p')
  fi
  if ((rc != 0 && f == 0)); then step_failed "vm lane: vm-test.sh exited $rc"; fi
}

# run_engines: the real-engine suites (tests/engines/run-all.sh: docker, containerd, podman)
# against the release hrun, then against runc as a reference. hrun's checks count in the totals
# (its last line, "N passed, N failed, N skipped"); runc's are printed only, so that a failure
# seen with both is known to be the machine's. Each engine command and check is bounded by the
# scripts; the whole stage is bounded here too (HRUN_ENGINES_TIMEOUT, default 45 min), so a hung
# daemon cannot use up CI's time. The scripts need root (private mount namespaces, cgroups).
run_engines() {
  local log=$logs/engines.log t0=$SECONDS rc wall line p f s
  if ((EUID != 0)); then
    echo "SKIP engines: tests/engines/ needs root (mount namespaces, cgroups, daemons)"
    summary+=("engines: skipped (not root)")
    skipped=$((skipped + 1))
    return
  fi
  HRUN_BIN=$release_dir/hrun timeout -k 120 "${HRUN_ENGINES_TIMEOUT:-2700}" tests/engines/run-all.sh </dev/null 2>&1 |
    tee "$log"
  rc=${PIPESTATUS[0]}
  wall=$((SECONDS - t0))
  echo "engines wall time: $wall s"
  if ! add_counts "$log" ''; then
    summary+=("engines: no results (run-all.sh exit $rc after $wall s)")
    step_failed "engines: run-all.sh stopped before its summary (exit $rc; 124 = timed out)"
    return
  fi
  summary+=("engines (hrun): $p passed, $f failed, $s skipped in $wall s")
  line=$(grep -E '^runc \(reference' "$log" | tail -n 1)
  [[ -n $line ]] && summary+=("engines (runc reference, not counted): ${line#*: }")
  if ((f > 0)); then
    problems+=("engines: failed hrun checks (see the table above the engine summary):")
    while read -r t; do problems+=("    $t"); done < <(grep -E '^# failing with hrun' "$log" | sed 's/^# //')
  fi
  if ((rc != 0 && f == 0)); then step_failed "engines: run-all.sh exited $rc"; fi
}

# run_escape_battery: escape attempts from inside a default container (hrun's results count; runc
# and crun are printed for comparison). Adds the counts of its last line, "N passed, N failed".
run_escape_battery() {
  local log=$logs/escape.log line p f
  HRUN_BIN=$release_dir/hrun tests/security/escape-battery.sh --compare </dev/null 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  if [[ -z $line ]]; then
    step_failed "escape battery: no results (exit $rc)"
    return
  fi
  read -r p f < <(sed -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/' <<<"$line")
  passed=$((passed + p))
  failed=$((failed + f))
  summary+=("escape battery: $p passed, $f failed")
  ((f == 0)) || problems+=("escape battery: $(grep -E '^FAIL ' "$log" | cut -d' ' -f2 | tr '\n' ' ')")
}

# run_fuzz: scripts/fuzz.sh (its own clang build dir); adds the counts of its last line,
# "fuzz: N passed, N failed, N skipped", one per fuzz target.
run_fuzz() {
  local log=$logs/fuzz.log t0=$SECONDS rc p f s
  HRUN_JOBS=$jobs scripts/fuzz.sh --time "${HRUN_FUZZ_TIME:-30}" </dev/null 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if ! add_counts "$log" 'fuzz: '; then
    step_failed "fuzz: fuzz.sh stopped before its summary (exit $rc)"
    return
  fi
  summary+=("fuzz (config, CLI): $p passed, $f failed, $s skipped in $((SECONDS - t0)) s")
  ((f == 0)) || problems+=("fuzz: failing targets: $(grep -E '^FAIL ' "$log" | cut -d' ' -f2 | tr '\n' ' ')")
  if ((rc != 0 && f == 0)); then step_failed "fuzz: fuzz.sh exited $rc"; fi
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
  step "VM lane: cgroup v2 + AppArmor (scripts/vm-test.sh)"
  if [[ ${HRUN_SKIP_VM:-} == 1 ]]; then
    echo "skipped: HRUN_SKIP_VM=1"
    summary+=("vm lane: skipped (HRUN_SKIP_VM=1)")
    skipped=$((skipped + 1))
  else
    run_vm_lane
  fi
  step "escape battery (tests/security/escape-battery.sh --compare)"
  run_escape_battery
  step "real engines against the release hrun, runc for reference (tests/engines/run-all.sh)"
  run_engines
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

step "fuzzing (scripts/fuzz.sh, ${HRUN_FUZZ_TIME:-30} s per target)"
run_fuzz

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
