#!/bin/sh
# test.sh: the whole test suite, as CI runs it: formatting check, a warnings-as-errors release
# build with every test, then the same tests again under AddressSanitizer + UBSan.
# The README's second Quick-start command; .ci/run calls it.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
jobs=$(nproc)

echo "== format check (clang-format)"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find capture dissectors analyzer output program tests -name '*.[ch]')
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files

for variant in release asan; do
    dir=build-test-$variant
    flags="-DSHAKEDOWN_WERROR=ON"
    [ "$variant" = asan ] && flags="$flags -DSHAKEDOWN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"
    echo "== $variant build"
    # shellcheck disable=SC2086
    cmake -S . -B "$dir" $flags >/dev/null
    cmake --build "$dir" -j"$jobs"
    echo "== $variant tests"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir "$dir" --output-on-failure -j"$jobs"
done
echo "== all tests passed"

# Fuzzing: every libFuzzer target for a while (SHAKEDOWN_FUZZ_SECONDS each, two at a time).
sh scripts/fuzz.sh "${SHAKEDOWN_FUZZ_SECONDS:-60}"
