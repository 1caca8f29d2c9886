#!/usr/bin/env bash
# Every test onionmesh has, in one run (`make check`):
#   1. the build, clean under -Werror with gcc and with clang;
#   2. the unit tests, built with clang under AddressSanitizer and
#      UndefinedBehaviorSanitizer;
#   3. the end-to-end tests in tests/netns/ (real TUN devices in network
#      namespaces, real ping and iperf3), against the gcc build;
#   4. the two-member end-to-end test once more with the daemons built
#      with ASan + UBSan + LSan (tests/netns/sanitized.sh).
# Each suite reports its own counts; the last line sums them all as
# "N passed, N failed" and the exit status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
JOBS=${JOBS:-2}
LOGS=build/logs
mkdir -p "$LOGS"

note() { printf '\n=== %s\n' "$*"; }
count() { # suite passed failed
	passed=$((passed + $2))
	failed=$((failed + $3))
	[ "$3" -eq 0 ] || failures+=("$1 ($3)")
	printf -- '--- %s: %d passed, %d failed\n' "$1" "$2" "$3"
}

note "build (gcc, -Werror)"
if make -j"$JOBS" all >"$LOGS/build-gcc.log" 2>&1; then count build-gcc 1 0
else tail -n 40 "$LOGS/build-gcc.log"; count build-gcc 0 1; fi

note "build (clang, -Werror)"
if make -j"$JOBS" CC=clang B=build-clang all >"$LOGS/build-clang.log" 2>&1
then count build-clang 1 0
else tail -n 40 "$LOGS/build-clang.log"; count build-clang 0 1; fi

note "unit tests (clang, ASan + UBSan)"
SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"
SAN="$SAN -fno-sanitize-recover=all"
if ! make -j"$JOBS" CC=clang B=build-asan CFLAGS="$SAN" unit \
    >"$LOGS/build-asan.log" 2>&1; then
	tail -n 40 "$LOGS/build-asan.log"
	count unit-build 0 1
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in build-asan/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out=$(timeout 300 "$t" 2>&1)
	rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	# A crash, sanitizer report or timeout counts as a failure even if
	# cmocka never got to print its summary.
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$f" -ne 0 ]; then printf '%s\n' "$out" | tail -n 60; fi
	count "$name" "$p" "$f"
done

note "end-to-end tests (network namespaces)"
if [ "$(id -u)" -ne 0 ]; then
	echo "the netns tests need root (network namespaces, TUN devices)"
	count netns 0 1
else
	suite() { # NAME CMD...: run one script, count its summary line
		local name=$1 log="$LOGS/$1.log" line p f rc
		shift
		timeout 900 "$@" >"$log" 2>&1
		rc=$?
		line=$(grep -E '^[a-z_0-9-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		p=$(printf '%s' "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
		f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
		p=${p:-0}
		f=${f:-0}
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		if [ "$f" -ne 0 ]; then tail -n 80 "$log"; else grep -E '^(ok|not ok)' "$log"; fi
		count "$name" "$p" "$f"
	}
	for t in tests/netns/test_*.sh; do
		[ -f "$t" ] || continue
		suite "$(basename "$t" .sh)" bash "$t"
	done

	# The two-member, revocation and DNS tests again with daemons built
	# like the unit tests (clang, ASan + UBSan, in build-asan: only their
	# main files and the links are new), sandbox off so LeakSanitizer can
	# run at exit; any sanitizer report fails it. test_revoke brings the
	# invite/join exchange, gossip of admissions and revocations;
	# test_dns linkd's resolver threads and a member's flood. About
	# 6 minutes.
	note "end-to-end under ASan + UBSan + LSan (test_two_members.sh, test_revoke.sh, test_dns.sh)"
	suite sanitized env ASAN_B=build-asan ASAN_CFLAGS="$SAN" \
	    JOBS="$JOBS" bash tests/netns/sanitized.sh test_two_members.sh \
	    test_revoke.sh test_dns.sh
fi

echo
[ ${#failures[@]} -eq 0 ] || echo "failed suites: ${failures[*]}"
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
