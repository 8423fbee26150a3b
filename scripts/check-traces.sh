#!/bin/sh
# check-traces.sh DIR [SHAKEDOWN]: runs shakedown (by default an ASan + UBSan build made here) on
# every capture under DIR, with each --checksums mode and in both output formats, and fails if
# any run crashes, trips a sanitizer, or exits with a status other than 0 or 1. Then, per capture,
# --shard 1/3, 2/3 and 3/3 must write together exactly the records of one run, and so must one run
# with --workers 3 (issue 16).
# CI runs it on ../shared/traces (real public captures); the test suite does not depend on them.
set -eu
cd "$(dirname "$0")/.."
dir=${1:?usage: check-traces.sh DIR [SHAKEDOWN]}
bin=${2:-}
if [ -z "$bin" ]; then
    cmake -S . -B build-traces -DSHAKEDOWN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
        -DSHAKEDOWN_TESTS=OFF >/dev/null
    cmake --build build-traces -j"$(nproc)" --target shakedown >/dev/null
    bin=build-traces/shakedown
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
for f in $(find "$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' \) | sort); do
    case "$f" in
    *.gz) gzip -dc "$f" >"$tmp/in.pcap"; in="$tmp/in.pcap" ;;
    *) in="$f" ;;
    esac
    # --shard: the union of the shares' records, sorted, equals one run's (summaries aside).
    n=$((n + 1))
    ASAN_OPTIONS=abort_on_error=1 "$bin" -F json -r "$in" 2>/dev/null |
        grep -v '^{"type":"summary"' | sort >"$tmp/one" || true
    for k in 1 2 3; do
        ASAN_OPTIONS=abort_on_error=1 "$bin" -F json --shard "$k/3" -r "$in" 2>/dev/null |
            grep -v '^{"type":"summary"' || true
    done | sort >"$tmp/shares"
    if ! cmp -s "$tmp/one" "$tmp/shares"; then
        echo "FAIL: $f: --shard K/3 records differ from one run's"
        diff "$tmp/one" "$tmp/shares" | head -4 | cut -c1-300 | sed 's/^/    /'
        fail=1
    fi
    n=$((n + 1))
    ASAN_OPTIONS=abort_on_error=1 "$bin" -F json --workers 3 -r "$in" 2>"$tmp/err" |
        grep -v '^{"type":"summary"' | sort >"$tmp/workers" || true
    if ! cmp -s "$tmp/one" "$tmp/workers" || grep -q 'Sanitizer\|runtime error' "$tmp/err"; then
        echo "FAIL: $f: --workers 3 records differ from one thread's"
        diff "$tmp/one" "$tmp/workers" | head -4 | cut -c1-300 | sed 's/^/    /'
        sed 's/^/    /' "$tmp/err" | head -20
        fail=1
    fi
    for mode in auto drop keep off; do
        for fmt in text json; do
            n=$((n + 1))
            rc=0
            ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
                "$bin" --checksums "$mode" -F "$fmt" -r "$in" >"$tmp/out" 2>"$tmp/err" || rc=$?
            if [ "$rc" -gt 1 ] || grep -q 'Sanitizer\|runtime error' "$tmp/err"; then
                echo "FAIL ($rc): $f --checksums $mode -F $fmt"; sed 's/^/    /' "$tmp/err" | head -20
                fail=1
            fi
        done
    done
done
echo "check-traces: $n runs over $dir, $([ $fail = 0 ] && echo 'all clean' || echo FAILURES)"
exit $fail
