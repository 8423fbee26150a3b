#!/bin/sh
# check-workers.sh BUILD_DIR: the benchmark workloads W1 and W2 (bench/gen_workload.c, 940k and
# 2.2M packets) through one analysis thread and through --workers 2, and W1 through --shard 1/2
# and 2/2: the records, sorted, must be the same (issue 16). The summaries differ only in
# peak_open and run_seconds, so they are left out. Run by .ci/run on the release build.
set -eu
build=${1:?usage: check-workers.sh BUILD_DIR}
bin=$build/shakedown
gen=$build/bench/gen_workload
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
records() { "$bin" -F json "$@" | grep -v '^{"type":"summary"' | sort; }
fail=0
for w in W1 W2; do
    case $w in
    W1) args="--conns 20000 --open 1000 --exchanges 10 --payload 100 --retransmit 20 --gap 5" ;;
    W2) args="--conns 200000 --open 50000 --exchanges 1 --payload 32" ;;
    esac
    # shellcheck disable=SC2086
    "$gen" "$tmp/$w.pcap" $args >/dev/null
    records -r "$tmp/$w.pcap" >"$tmp/one"
    records --workers 2 -r "$tmp/$w.pcap" >"$tmp/workers"
    if cmp -s "$tmp/one" "$tmp/workers"; then
        echo "check-workers: $w: --workers 2 writes one thread's $(wc -l <"$tmp/one") records"
    else
        echo "check-workers: FAIL: $w: --workers 2 records differ"; fail=1
    fi
    if [ "$w" = W1 ]; then
        { records --shard 1/2 -r "$tmp/$w.pcap"; records --shard 2/2 -r "$tmp/$w.pcap"; } |
            sort >"$tmp/shares"
        if cmp -s "$tmp/one" "$tmp/shares"; then
            echo "check-workers: $w: --shard 1/2 and 2/2 write one run's records"
        else
            echo "check-workers: FAIL: $w: --shard records differ"; fail=1
        fi
    fi
    rm -f "$tmp/$w.pcap" "$tmp/one" "$tmp/workers" "$tmp/shares"
done
exit $fail
