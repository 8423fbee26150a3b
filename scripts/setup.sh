#!/bin/sh
# setup.sh: installs what shakedown needs to build and test, from Debian 12 packages.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential cmake pkg-config libpcap-dev libjson-c-dev libssl-dev libcriterion-dev"
# Compressed captures (.pcap.gz, .zst, .xz) are read with zlib, libzstd and liblzma; the tests
# compress with the gzip, zstd and xz tools.
PACKAGES="$PACKAGES zlib1g-dev libzstd-dev liblzma-dev zstd xz-utils"
# The test suite: real-traffic tests capture on loopback and compare with tshark; the record
# schema is checked with python3-jsonschema.
PACKAGES="$PACKAGES python3 python3-jsonschema tcpdump tshark"
# -F zeek is read back with bro-cut (zeek-cut), as Zeek users read conn.log.
PACKAGES="$PACKAGES bro-aux"
# Optional extras for CI and contributors: the formatting check and the sanitizer runtime.
PACKAGES="$PACKAGES clang-format"
# Fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes, llvm-symbolizer
# for readable stack traces.
PACKAGES="$PACKAGES clang libclang-rt-14-dev llvm"

# -F ecs is checked against Elastic's published ECS definitions (npm @elastic/ecs, pinned in
# tests/ecs): Node.js and npm, from Debian unless the machine has them already.
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done

# The ECS field definitions for the tests, from the lock file (quietly; a failure is loud).
ecs_definitions() {
    [ -d tests/ecs/node_modules/@elastic/ecs ] && return 0
    (cd tests/ecs && npm ci --silent --no-audit --no-fund >/dev/null) ||
        { echo "setup: npm ci in tests/ecs failed" >&2; exit 2; }
}

if [ -z "$missing" ]; then
    echo "setup: all build dependencies are installed"
    ecs_definitions
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
    ecs_definitions
else
    echo "setup: missing packages:$missing" >&2
    echo "setup: run as root:  apt-get install -y$missing" >&2
    exit 2
fi
