#!/bin/sh
# build-deb: the Debian package, shakedown_VERSION-1_ARCH.deb, in build-deb/ (docs/deploy.md).
# A release build with the prefix /usr and Debian's hardening flags (dpkg-buildflags), the unit
# checked with systemd-analyze verify, the package made by CPack's DEB generator and checked with
# lintian (the tags left are explained in docs/deploy.md). Needs dpkg-dev, fakeroot, lintian
# (scripts/setup.sh). Install it with: apt install ./build-deb/shakedown_*.deb
set -eu
cd "$(dirname "$0")/.."
out=build-deb
export DEB_BUILD_MAINT_OPTIONS=hardening=+all # relro, bindnow, PIE, fortify, stack protector
CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
    cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
          -DSHAKEDOWN_TESTS=OFF >/dev/null
cmake --build "$out" -j2
if command -v systemd-analyze >/dev/null; then
    # verify wants the binary where ExecStart says it is: check a copy pointing at this build's.
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    sed "s|/usr/bin/shakedown|$PWD/$out/shakedown|g" "$out/shakedown@.service" > "$tmp/shakedown@.service"
    cp "$tmp/shakedown@.service" "$tmp/shakedown@lo.service"
    systemd-analyze verify --man=no "$tmp/shakedown@lo.service"
fi
(cd "$out" && fakeroot cpack -G DEB >/dev/null)
deb=$(ls "$out"/shakedown_*.deb)
echo "$deb"
if command -v lintian >/dev/null; then
    lintian "$deb" || true
fi
