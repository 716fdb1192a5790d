#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/: fuzz_config over config.json parse -> validate ->
# policy -> plan, fuzz_cli over every command's argv) with clang, ASan and UBSan in build-fuzz/,
# then runs each for a bounded time over its saved corpus (tests/fuzz/corpus/<target>/).
#
# usage: scripts/fuzz.sh [--time SECONDS] [--target NAME]... [--no-build] [--update-corpus]
#   --time S         seconds per target (default 60, or HRUN_FUZZ_TIME)
#   --target NAME    run only this target (repeatable)
#   --no-build       use the targets already built
#   --update-corpus  merge what the run found that adds coverage into the saved corpus
#                    (libFuzzer -merge=1: only inputs that cover something new are kept)
#
# A target passes when it ran its whole time with no crash, sanitizer report, uncaught exception,
# timeout, leak or out-of-memory. A failing input is left in build-fuzz/findings/<target>/ and
# can be replayed with `build-fuzz/tests/fuzz/<target> FILE`; once fixed, it belongs in the
# corpus as a regression. New inputs of a run go to a scratch directory: the saved corpus
# changes only with --update-corpus.
# Ends with "fuzz: N passed, N failed, N skipped" (scripts/test.sh counts it).
# Environment: HRUN_FUZZ_BUILD_DIR (default build-fuzz), HRUN_JOBS (default 2), CC and CXX
# (default clang-16 and clang++-16).
set -uo pipefail
cd "$(dirname "$0")/.."

time_s=${HRUN_FUZZ_TIME:-60}
targets=()
build=1
update=0
while (($#)); do
  case $1 in
    --time) time_s=$2; shift 2 ;;
    --target) targets+=("$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    --update-corpus) update=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || targets=(fuzz_config fuzz_cli)
[[ $time_s =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --time needs whole seconds" >&2; exit 2; }

dir=${HRUN_FUZZ_BUILD_DIR:-build-fuzz}
cc=${CC:-clang-16}
cxx=${CXX:-clang++-16}
passed=0
failed=0
skipped=0

finish() {
  echo "fuzz: $passed passed, $failed failed, $skipped skipped"
  ((failed == 0))
  exit
}

if ! command -v "$cxx" >/dev/null; then
  echo "SKIP fuzz: $cxx not found (scripts/install-deps.sh installs clang-16 and libclang-rt-16-dev)"
  skipped=${#targets[@]}
  finish
fi

if ((build)); then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  t0=$SECONDS
  # -O1 and line tables only: about as fast to run as -O2 -g, quicker to build, and enough for
  # the sanitizers' stack traces.
  if ! cmake -S . -B "$dir" -DHRUN_FUZZ=ON -DHRUN_TESTS=OFF -DHRUN_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
      -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" >"/tmp/hrun-fuzz-configure.$$.log" 2>&1; then
    cat "/tmp/hrun-fuzz-configure.$$.log"
    rm -f "/tmp/hrun-fuzz-configure.$$.log"
    echo "fuzz.sh: configure failed"
    failed=${#targets[@]}
    finish
  fi
  rm -f "/tmp/hrun-fuzz-configure.$$.log"
  if ! cmake --build "$dir" -j "${HRUN_JOBS:-2}" --target "${targets[@]}"; then
    echo "fuzz.sh: build failed"
    failed=${#targets[@]}
    finish
  fi
  echo "fuzz build: $((SECONDS - t0)) s"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for t in "${targets[@]}"; do
  bin=$dir/tests/fuzz/$t
  corpus=tests/fuzz/corpus/$t
  if [[ ! -x $bin || ! -d $corpus ]]; then
    echo "FAIL $t: $bin or $corpus missing"
    failed=$((failed + 1))
    continue
  fi
  scratch=$(mktemp -d "/tmp/hrun-fuzz-$t-XXXXXX")
  findings=$dir/findings/$t
  mkdir -p "$findings"
  dict=()
  [[ -f tests/fuzz/$t.dict ]] && dict=(-dict="tests/fuzz/$t.dict")
  log=$dir/$t.log
  echo "=== $t: ${time_s} s over $(find "$corpus" -type f | wc -l) saved inputs"
  # The first directory receives new inputs: the scratch one, so the tree stays as it is.
  "$bin" -max_total_time="$time_s" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${dict[@]}" "$scratch" "$corpus" >"$log" 2>&1
  rc=$?
  grep -E '^(INFO: seed corpus|#[0-9]+[[:space:]]+(INITED|DONE))|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" | sed 's/^/  /'
  if ((rc == 0)); then
    echo "PASS $t"
    passed=$((passed + 1))
    if ((update)); then
      "$bin" -merge=1 -timeout=10 -max_len=16384 "$corpus" "$scratch" >>"$log" 2>&1 &&
        echo "  corpus: $(find "$corpus" -type f | wc -l) inputs after merging"
    fi
  else
    echo "FAIL $t (exit $rc): the report, from $log:"
    grep -nE 'ERROR|SUMMARY|fuzz_(config|cli):|runtime error|uncaught|argv:|Test unit written|^    #[0-9]' "$log" | head -n 40 | sed 's/^/  /'
    failed=$((failed + 1))
  fi
  rm -rf "$scratch"
done

finish
