#!/bin/sh
# fuzz.sh [--build-only | --no-build] [--jobs N] [SECONDS] [TARGET...]: builds the libFuzzer
# targets (fuzz/) with clang in build-fuzz/ and runs each for SECONDS (default 60), N at a time
# (default 2: a 2-core machine), each on a scratch copy of its seed corpus and fixed regression
# inputs, so runs never grow the committed corpus. Prints per target the runs, the final
# coverage (cov/ft) and the time; crash, leak and timeout inputs go to build-fuzz/artifacts/,
# logs to build-fuzz/logs/. --build-only builds and stops (scripts/test.sh builds while the
# tests run), --no-build runs what is built. Exits 1 if any target failed, 2 on a usage or
# setup problem. Installs nothing: scripts/setup.sh does.
set -eu
cd "$(dirname "$0")/.."

usage() {
    echo "usage: $0 [--build-only | --no-build] [--jobs N] [SECONDS] [TARGET...]" >&2
    exit 2
}
build=yes
run=yes
jobs=2
while [ $# -gt 0 ]; do
    case $1 in
    --build-only) run=no ;;
    --no-build) build=no ;;
    --jobs)
        [ $# -ge 2 ] || usage
        jobs=$2
        shift
        ;;
    -*) usage ;;
    *) break ;;
    esac
    shift
done
seconds=${1:-60}
[ $# -gt 0 ] && shift
case $seconds$jobs in
'' | *[!0-9]*) usage ;;
esac
[ "$jobs" -ge 1 ] || usage
targets=${*:-fuzz_dissect fuzz_pipeline fuzz_capture fuzz_pcap_file}

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang is not installed (scripts/setup.sh installs it)" >&2
    exit 2
fi

dir="build-fuzz"
if [ $build = yes ]; then
    echo "== fuzz build ($dir, clang, libFuzzer + ASan + UBSan)"
    # Warnings are not errors here: the warnings-as-errors builds of scripts/test.sh judge them.
    CC=clang cmake -S . -B "$dir" -DSHAKEDOWN_FUZZ=ON -DSHAKEDOWN_TESTS=OFF \
        -DSHAKEDOWN_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    # shellcheck disable=SC2086
    cmake --build "$dir" -j2 --target $targets >/dev/null
fi
[ $run = yes ] || exit 0

mkdir -p "$dir/artifacts" "$dir/logs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Known leaks outside the project's code (each explained in the file).
LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp"
export LSAN_OPTIONS

# run_target TARGET: one libFuzzer process on a fresh scratch corpus; its exit status.
run_target() {
    t=$1
    corpus=$dir/corpus/$t
    rm -rf "$corpus"
    mkdir -p "$corpus"
    cp fuzz/corpus/"$t"/* "$corpus"/
    # Fixed regression inputs are seeds too (not open/: bugs still open, and not the notes).
    find fuzz/regressions/"$t" -maxdepth 1 -type f ! -name '*.md' ! -name '.*' \
        -exec cp {} "$corpus"/ \; 2>/dev/null || true
    # 0 seconds: only run the corpus once (-max_total_time=0 would mean no limit).
    if [ "$seconds" -eq 0 ]; then limit=-runs=0; else limit=-max_total_time=$seconds; fi
    "$dir/fuzz/$t" "$limit" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" "$corpus" \
        >"$dir/logs/$t.log" 2>&1
}

# report TARGET STATUS SECONDS: one line from the target's log.
report() {
    log=$dir/logs/$1.log
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
    if [ "$2" -eq 0 ]; then
        verdict=clean
    else
        verdict="FAILED (status $2): see $log and $dir/artifacts/"
    fi
    printf '%-14s %s runs, %s, %s s: %s\n' "$1" "${runs:-?}" "${cov:-cov: ? ft: ?}" "$3" \
        "$verdict"
}

echo "== fuzzing ${seconds} s per target, $jobs at a time: $targets"
failed=0
passed=0
# shellcheck disable=SC2086 # a list of names, split on purpose
set -- $targets
while [ $# -gt 0 ]; do
    # A batch of up to $jobs targets at once, then a line for each as it is waited for.
    batch=""
    pids=""
    n=0
    start=$(date +%s)
    while [ $# -gt 0 ] && [ "$n" -lt "$jobs" ]; do
        run_target "$1" &
        batch="$batch $1"
        pids="$pids $!"
        n=$((n + 1))
        shift
    done
    for t in $batch; do
        pid=${pids# }
        pid=${pid%% *}
        pids=${pids# }
        pids=${pids#"$pid"}
        status=0
        wait "$pid" || status=$?
        report "$t" "$status" "$(($(date +%s) - start))"
        if [ "$status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
done

echo "fuzz: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    echo "== fuzzing found a problem: reproduce with $dir/fuzz/TARGET ARTIFACT" >&2
    exit 1
fi
