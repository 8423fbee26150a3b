#!/bin/sh
# setup.sh: installs what shakedown needs to build and test, from Debian 12 packages.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
set -eu

PACKAGES="build-essential cmake pkg-config libpcap-dev libjson-c-dev libssl-dev libcriterion-dev"
# -o redis://... writes through hiredis.
PACKAGES="$PACKAGES libhiredis-dev"
# The test suite: real-traffic tests capture on loopback and compare with tshark; the record
# schema is checked with python3-jsonschema.
PACKAGES="$PACKAGES python3 python3-jsonschema tcpdump tshark"
# -F zeek is read back with bro-cut (zeek-cut), as Zeek users read conn.log.
PACKAGES="$PACKAGES bro-aux"
# The syslog and Redis transports are tested against the real receivers (tests/live), each
# started by the test on a loopback port of its own; nothing is configured system-wide.
PACKAGES="$PACKAGES redis-server rsyslog"
# Optional extras for CI and contributors: the formatting check and the sanitizer runtime.
PACKAGES="$PACKAGES clang-format"
# Fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes, llvm-symbolizer
# for readable stack traces.
PACKAGES="$PACKAGES clang libclang-rt-14-dev llvm"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done

if [ -z "$missing" ]; then
    echo "setup: all build dependencies are installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
else
    echo "setup: missing packages:$missing" >&2
    echo "setup: run as root:  apt-get install -y$missing" >&2
    exit 2
fi
