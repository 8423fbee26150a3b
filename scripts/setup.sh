#!/bin/sh
# setup.sh [--program]: installs from Debian 12 packages what shakedown needs — with --program
# only what building and running the program needs (the first Quick-start command), else also
# everything the test suite, the fuzzers and CI use. As root it runs apt-get itself, quietly (its
# output is shown only if it fails); otherwise it prints the exact command to run.
set -eu
cd "$(dirname "$0")/.."

# The program: compiler, CMake, libpcap, OpenSSL's libcrypto (Community ID), zlib, libzstd,
# liblzma for compressed captures (.pcap.gz, .zst, .xz), hiredis for -o redis://.
PACKAGES="build-essential cmake pkg-config libpcap-dev libssl-dev zlib1g-dev libzstd-dev liblzma-dev"
PACKAGES="$PACKAGES libhiredis-dev"
# sd_notify readiness and watchdog under systemd (optional at build time: without it, no notify).
PACKAGES="$PACKAGES libsystemd-dev"
if [ "${1:-}" != "--program" ]; then
    # Tests: Criterion; json-c reads records back; the gzip, zstd and xz tools make compressed
    # inputs.
    PACKAGES="$PACKAGES libcriterion-dev libjson-c-dev zstd xz-utils"
    # Real-traffic tests capture on loopback and compare with tshark; the record schema is
    # checked with python3-jsonschema; -F zeek is read back with bro-cut (bro-aux); a live test
    # replays a generated workload into a veth pair with tcpreplay.
    PACKAGES="$PACKAGES python3 python3-jsonschema tcpdump tshark bro-aux tcpreplay"
    # The syslog and Redis transports are tested against the real receivers (tests/live), each
    # started by the test on a loopback port of its own; nothing is configured system-wide.
    PACKAGES="$PACKAGES redis-server rsyslog"
    # -F eve is read by a real EVE consumer, FEVER (tests/live/live_eve_fever.py), which publishes
    # the flows it extracts to AMQP: a RabbitMQ broker of the test's own and amqp-consume read them.
    PACKAGES="$PACKAGES fever rabbitmq-server amqp-tools"
    # The HTML report (--report) is opened in real headless Chromium (tests/report).
    PACKAGES="$PACKAGES chromium"
    # CI and contributors: the formatting check. Fuzzing (scripts/fuzz.sh): clang with libFuzzer
    # and the sanitizer runtimes, llvm-symbolizer for readable stack traces.
    PACKAGES="$PACKAGES clang-format clang libclang-rt-14-dev llvm"
    # The Debian package (cmake/package.cmake, CPack): dpkg-deb, fakeroot, lintian; the systemd
    # unit is checked with systemd-analyze (package systemd).
    PACKAGES="$PACKAGES dpkg-dev fakeroot lintian systemd"
    # -F ecs is checked against Elastic's published ECS definitions (npm @elastic/ecs, pinned in
    # tests/ecs): Node.js and npm, from Debian unless the machine has them already.
    command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"
    WANT_ECS=1
fi

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done

# The ECS field definitions for the tests, from the lock file (quietly; a failure is loud).
ecs_definitions() {
    [ -n "${WANT_ECS:-}" ] || return 0
    [ -d tests/ecs/node_modules/@elastic/ecs ] && return 0
    (cd tests/ecs && npm ci --silent --no-audit --no-fund >/dev/null) ||
        { echo "setup: npm ci in tests/ecs failed" >&2; exit 2; }
}

if [ -z "$missing" ]; then
    echo "setup: all dependencies are installed"
    ecs_definitions
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages:$missing" >&2
    echo "setup: run as root:  apt-get install -y$missing" >&2
    exit 2
fi

echo "setup: installing$missing"
log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } \
    >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "setup: apt-get failed (its output is above)" >&2
    exit 2
fi
rm -f "$log"
ecs_definitions
