#!/bin/sh
# quickstart.sh: installs what the program needs (apt-get as root), builds shakedown in build/
# (the program only: no tests), and runs it on a bundled sample capture. The first of the
# README's two Quick-start commands. Quiet on success; a failing step shows its output.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh --program
log=$(mktemp)
if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSHAKEDOWN_TESTS=OFF &&
    cmake --build build -j"$(nproc)" --target shakedown; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "quickstart: the build failed (its output is above)" >&2
    exit 1
fi
rm -f "$log"
echo "quickstart: built build/shakedown"
echo
echo "\$ build/shakedown -F text -r samples/multi.pcap"
build/shakedown -F text -r samples/multi.pcap
