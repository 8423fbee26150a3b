#!/bin/sh
# quickstart.sh: sets up (apt-get as root), builds shakedown in build/, and runs it on a bundled
# sample capture. The first of the README's two Quick-start commands.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
echo
echo "\$ build/shakedown -r samples/multi.pcap"
build/shakedown -r samples/multi.pcap
