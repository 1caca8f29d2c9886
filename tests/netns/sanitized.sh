#!/usr/bin/env bash
# End-to-end tests with every daemon, the onionmesh command and the test
# tools built with AddressSanitizer, UndefinedBehaviorSanitizer and
# LeakSanitizer: each test must pass, and no sanitizer may have anything
# to say.
#
#   tests/netns/sanitized.sh [TEST...]    default: test_two_members.sh
#
# TEST is a script in tests/netns/ that honours OM_BUILD and OM_SANDBOX
# (test_two_members.sh, test_adversarial.sh, test_faults.sh,
# test_leaks.sh, test_revoke.sh, test_mesh.sh, test_subnets.sh,
# test_tor.sh, test_dns.sh). The build goes to its own dir (ASAN_B,
# default build-asan-daemons; flags ASAN_CFLAGS), so the normal one is left
# alone; scripts/check.sh points it at the dir its unit tests were built
# in, with the same flags, so only the daemons' main files and the links
# are added. The daemons run with sandbox = no (OM_SANDBOX=no): seccomp
# would kill the leak check each daemon runs at exit (it stops the
# threads with ptrace), and could keep a report from being written.
# Reports are not read from the daemons' logs, which the tests delete,
# but written by the sanitizers themselves (log_path) into a directory
# every daemon user can write: a report is a file there. Daemons killed
# with SIGKILL run no leak check; the ones stopped by `down` do.
#
# Not named test_*.sh: scripts/check.sh runs it as a suite of its own.
# Prints each test's own lines, then "ok - ..." / "not ok - ..." and
# "sanitized: N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
ASAN_B=${ASAN_B:-build-asan-daemons}
SAN=${ASAN_CFLAGS:-"-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"}
passed=0
failed=0
ok() { printf 'ok - %s\n' "$*"; passed=$((passed + 1)); }
not_ok() { printf 'not ok - %s\n' "$*"; failed=$((failed + 1)); }
[ $# -gt 0 ] || set -- test_two_members.sh

R=$(mktemp -d /tmp/onionmesh-san.XXXXXX)
# Sticky and world-writable: each daemon writes as its own user.
chmod 1777 "$R"
finish() {
	rm -rf -- "$R"
	echo "sanitized: $passed passed, $failed failed"
	[ $failed -eq 0 ]
	exit
}
trap finish EXIT

if make B="$ASAN_B" CC=clang CFLAGS="$SAN" -j"${JOBS:-2}" all \
    >"$R/build.log" 2>&1; then
	ok "build with clang, ASan + UBSan ($ASAN_B)"
else
	tail -n 30 "$R/build.log" | sed 's/^/# /'
	not_ok "build with clang, ASan + UBSan ($ASAN_B)"
	exit
fi

export ASAN_OPTIONS="log_path=$R/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$R/ubsan:print_stacktrace=1"
# print_suppressions=0: a daemon whose only leaks are the suppressed
# ones (nng's, lsan.supp) would otherwise write their tally, no report,
# into a file here.
export LSAN_OPTIONS="log_path=$R/lsan:suppressions=$PWD/tests/netns/lsan.supp:print_suppressions=0"
# What runs here is checked for reports, not speed: ASan slows linkd
# more than the flood does, so test_adversarial's throughput bar drops.
export FLOOD_KEEP=${FLOOD_KEEP:-50}
for t in "$@"; do
	t=tests/netns/${t##*/}
	name=$(basename "$t" .sh)
	start=$SECONDS
	OM_BUILD=$ASAN_B OM_SANDBOX=no timeout 1800 bash "$t" \
	    >"$R/$name.log" 2>&1
	rc=$?
	grep -E '^(ok|not ok)' "$R/$name.log"
	line=$(grep -E '^[a-z_0-9-]+: [0-9]+ passed, [0-9]+ failed' \
	    "$R/$name.log" | tail -n 1)
	if [ $rc -eq 0 ]; then
		ok "$name under the sanitizers in $((SECONDS - start)) s ($line)"
	else
		tail -n 60 "$R/$name.log" | sed 's/^/# /'
		not_ok "$name under the sanitizers (exit $rc: ${line:-no summary})"
	fi
	reports=$(find "$R" -maxdepth 1 \( -name 'asan.*' -o -name 'ubsan.*' \
	    -o -name 'lsan.*' \) | sort)
	if [ -z "$reports" ]; then
		ok "$name: no AddressSanitizer, UndefinedBehaviorSanitizer or LeakSanitizer report"
	else
		for f in $reports; do
			echo "# ----- $(basename "$f")"
			head -n 40 "$f" | sed 's/^/# /'
		done
		not_ok "$name: sanitizer reports: $(echo "$reports" | wc -l)"
		mkdir -p "$R/seen"
		# shellcheck disable=SC2086
		mv $reports "$R/seen/"
	fi
done
