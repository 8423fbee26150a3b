#!/bin/sh
# test.sh: the whole test suite, as CI runs it, in about five minutes on two cores: the formatting
# check, a warnings-as-errors release build with every test, the same tests under AddressSanitizer
# + UBSan, then every libFuzzer target (scripts/fuzz.sh) for the time that is left.
# The README's second Quick-start command; .ci/run calls it.
#
# Independent work runs side by side: the three builds (release, ASan, fuzz) start together, and
# each test suite starts as soon as its own build is done, so one suite's waits (live captures,
# a core left idle by a serial test) are the other's compute. Fuzzing gets what remains of
# SHAKEDOWN_TEST_SECONDS (default 300), at least SHAKEDOWN_FUZZ_MIN (default 10) seconds, all
# targets at once; SHAKEDOWN_FUZZ_SECONDS fixes it instead.
#
# Prints one line per stage ([elapsed] stage: result), the output of whatever failed (compiler
# errors, each failing test's output, the fuzzer's report), and last "N passed, N failed": each
# test of each suite, each fuzz target and the format check count once, a build that fails
# once. Exit status 1 if anything failed. Logs are in build-test-logs/.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
budget=${SHAKEDOWN_TEST_SECONDS:-300}
fuzz_min=${SHAKEDOWN_FUZZ_MIN:-10}
t0=$(date +%s)
logs=build-test-logs
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# say STAGE RESULT: the stage's one line, with the time since the start.
say() {
    printf '[%3d s] %s: %s\n' "$(($(date +%s) - t0))" "$1" "$2"
}

# count NAME PASSED FAILED: a stage's tally, added up at the end.
count() {
    echo "$2 $3" >"$logs/$1.count"
}

# build NAME DIR CMAKE-OPTIONS...: configures and builds DIR; on failure shows the log.
build() {
    name=$1 dir=$2
    shift 2
    start=$(date +%s)
    if cmake -S . -B "$dir" "$@" >"$logs/$name-build.log" 2>&1 &&
        cmake --build "$dir" -j2 >>"$logs/$name-build.log" 2>&1; then
        say "$name build" "ok ($(($(date +%s) - start)) s)"
        return 0
    fi
    say "$name build" "FAILED ($(($(date +%s) - start)) s), its log:"
    cat "$logs/$name-build.log"
    count "$name-build" 0 1
    return 1
}

# suite NAME DIR: every ctest test of DIR; one line, then the output of each test that failed.
suite() {
    name=$1 dir=$2 log=$logs/$1-tests.log
    start=$(date +%s)
    ctest --test-dir "$dir" --output-on-failure -j2 >"$log" 2>&1 || true
    total=$(sed -n 's/.*tests failed out of \([0-9]*\)$/\1/p' "$log")
    passed=$(grep -c ' Test *#[0-9]*: .* Passed ' "$log" || true)
    skipped=$(grep -c ' Test *#[0-9]*: .*\*\*\*Skipped' "$log" || true)
    if [ -z "$total" ]; then # ctest itself failed: count it as one failure
        total=1 passed=0 skipped=0
    fi
    failed=$((total - passed - skipped))
    note=""
    [ "$skipped" -eq 0 ] || note=", $skipped skipped"
    say "$name tests" "$passed passed, $failed failed$note ($(($(date +%s) - start)) s)"
    count "$name-tests" "$passed" "$failed"
    if [ "$failed" -ne 0 ]; then
        echo "---- $name tests: what failed (whole log: $log)"
        grep -v -e '^ *Start ' -e ' Test *#[0-9]*: .* Passed ' "$log"
    fi
}

# ---- format check (while the builds start) -------------------------------------------------
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find capture dissectors analyzer output program tests -name '*.[ch]')
# shellcheck disable=SC2086
if clang-format --dry-run -Werror $files >"$logs/format.log" 2>&1; then
    say "format check" "ok ($(echo "$files" | wc -w) files)"
    count format 1 0
else
    say "format check" "FAILED: clang-format -i the files below"
    cat "$logs/format.log"
    count format 0 1
fi

# ---- the builds, side by side; each suite as soon as its build is done ---------------------
(build release build-test-release -DSHAKEDOWN_WERROR=ON && suite release build-test-release) &
lane_release=$!
(build asan build-test-asan -DSHAKEDOWN_WERROR=ON -DSHAKEDOWN_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=Debug && suite asan build-test-asan) &
lane_asan=$!
(
    start=$(date +%s)
    if sh scripts/fuzz.sh --build-only >"$logs/fuzz-build.log" 2>&1; then
        say "fuzz build" "ok ($(($(date +%s) - start)) s)"
    else
        say "fuzz build" "FAILED, its log:"
        cat "$logs/fuzz-build.log"
        count fuzz-build 0 1
    fi
) &
lane_fuzz=$!
wait "$lane_release" "$lane_asan" "$lane_fuzz" || true

# ---- fuzzing, for the time that is left ----------------------------------------------------
if [ ! -e "$logs/fuzz-build.count" ]; then
    # Ending some 15 s before the budget: starting, reporting, exiting, and a margin.
    left=$((t0 + budget - $(date +%s) - 15))
    [ "$left" -ge "$fuzz_min" ] || left=$fuzz_min
    seconds=${SHAKEDOWN_FUZZ_SECONDS:-$left}
    start=$(date +%s)
    fuzz_status=0
    sh scripts/fuzz.sh --no-build --jobs 4 "$seconds" >"$logs/fuzz.log" 2>&1 || fuzz_status=$?
    fuzz_passed=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$logs/fuzz.log")
    fuzz_failed=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$logs/fuzz.log")
    if [ -z "$fuzz_passed" ]; then
        fuzz_passed=0 fuzz_failed=1
    fi
    runs=$(sed -n 's/^\(fuzz_[a-z]*\) *\([0-9?]*\) runs.*/\1 \2 runs/p' "$logs/fuzz.log" |
        paste -sd, - | sed 's/,/, /g')
    say "fuzzing" "$fuzz_passed passed, $fuzz_failed failed, $seconds s each, all at once: $runs ($(($(date +%s) - start)) s)"
    count fuzz "$fuzz_passed" "$fuzz_failed"
    if [ "$fuzz_status" -ne 0 ]; then
        echo "---- fuzzing: its output (logs in build-fuzz/logs/)"
        cat "$logs/fuzz.log"
    fi
fi

# ---- the tally -----------------------------------------------------------------------------
passed=0
failed=0
for f in "$logs"/*.count; do
    read -r p f_ <"$f"
    passed=$((passed + p))
    failed=$((failed + f_))
done
[ -e "$logs/release-tests.count" ] || [ -e "$logs/release-build.count" ] || failed=$((failed + 1))
[ -e "$logs/asan-tests.count" ] || [ -e "$logs/asan-build.count" ] || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
