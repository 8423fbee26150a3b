#!/bin/sh
# check-deb: the Debian package installs and works (issue 19, "apt install ./shakedown_*.deb works
# on a fresh Debian 12"): builds it (scripts/build-deb.sh), installs it with apt-get, which must
# resolve its runtime dependencies itself, checks that the files a sensor needs are where the
# package says (binary, man page, unit, logrotate file, configuration, schema), runs the
# installed binary on a bundled sample, and removes the package again. Needs root; CI runs it.
set -eu
cd "$(dirname "$0")/.."
deb=$(sh scripts/build-deb.sh 2>&1 | grep '\.deb$' | tail -1)
[ -f "$deb" ] || { echo "check-deb: no package built" >&2; exit 1; }
trap 'apt-get remove -y -qq --purge shakedown >/dev/null 2>&1 || true' EXIT
log=$(mktemp)
if ! apt-get install -y -qq "./$deb" >"$log" 2>&1; then
    cat "$log"
    exit 1
fi
rm -f "$log"
for f in /usr/bin/shakedown /usr/share/man/man1/shakedown.1.gz /etc/shakedown/shakedown.conf \
    /etc/logrotate.d/shakedown; do
    [ -e "$f" ] || { echo "check-deb: $f is not installed" >&2; exit 1; }
done
dpkg -L shakedown | grep -q 'shakedown@.service$' || { echo "check-deb: no unit" >&2; exit 1; }
dpkg -L shakedown | grep -q 'shakedown.schema.json$' || { echo "check-deb: no schema" >&2; exit 1; }
# samples/multi.pcap holds 6 connections (samples/README.md): 4 TCP, 1 UDP, 1 ICMP.
n=$(/usr/bin/shakedown -r samples/multi.pcap -F json | grep -c '"type":"connection"')
[ "$n" -eq 6 ] || { echo "check-deb: the installed binary wrote $n connection records, not 6" >&2; exit 1; }
/usr/bin/shakedown --check-config /etc/shakedown/shakedown.conf >/dev/null
echo "check-deb: $(basename "$deb") installs with its dependencies, its files in place, and its binary reads samples/multi.pcap (6 connections)"
