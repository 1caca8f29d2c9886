#!/usr/bin/env bash
# Leaks: a member whose peer table changes over and over must end where
# it started, in file descriptors and in memory.
#
# One member, m1, runs in a network namespace; p1 is a member whose
# record m1 imports and drops again, LEAK_CYCLES times (default 200;
# 1,000 by hand). Each cycle goes through the real daemons:
#   `onionmesh import` p1's record (hosts/p1 written, keyd reloaded and
#   pushing it) -> linkd adds the member and dials it (its endpoint is a
#   closed port on m1's own address, so every dial is a socket opened,
#   refused and closed, and the link waits to redial) -> hosts/p1
#   removed, keyd reloaded -> linkd forgets the member and its link.
# Each step waits (bounded) until linkd's status shows it, so the cycles
# do not just pile up in a queue.
#
# After LEAK_WARMUP cycles (default 20: allocators and caches settle)
# linkd's and keyd's fd count (/proc/PID/fd) and RSS (VmRSS) are taken;
# at the end they must be within 5% of that (fds: within 5% or 1, as
# there are only a few dozen). The numbers every 10% of the run are
# printed, so a slow climb shows even when it stays under the bound.
#
# "ok - ..." / "not ok - ..." lines and "leaks: N passed, M failed".
# Environment: OM_BUILD (make's B=, default build), OM_INIT_ARGS,
# OM_SANDBOX=no (sandbox = no, for sanitizer builds), LEAK_CYCLES,
# LEAK_WARMUP.
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
IPC=$PWD/$OM_BUILD/tools/om-ipc
LEAK_CYCLES=${LEAK_CYCLES:-200}
LEAK_WARMUP=${LEAK_WARMUP:-20}
. tests/netns/lib.sh
# OM_SANDBOX=no: daemons without their seccomp sandbox (sanitizer builds).
sandbox_off() {
	[ "${OM_SANDBOX:-}" = no ] || return 0
	sed -i 's/^sandbox = yes$/sandbox = no/' "$@"
}

[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root"; exit 1; }
for c in ip jq pgrep timeout; do
	command -v "$c" >/dev/null ||
		{ echo "not ok - $c is missing (make deps)"; exit 1; }
done
if [ ! -x "$OM" ] || [ ! -x "$IPC" ]; then
	make B="$OM_BUILD" -j2 all >/dev/null ||
		{ echo "not ok - make failed"; exit 1; }
fi

T=$(mktemp -d /tmp/onionmesh-leaks.XXXXXX)
chmod 755 "$T"
ns1=omleak$$-1
d1=$T/m1
dp=$T/p1
U1=192.0.2.1

n1() { ip netns exec "$ns1" "$@"; }
om1() { n1 "$OM" -d "$d1" "$@"; }

cleanup() {
	local rc=$? p pids
	set +e
	if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
		not_ok "the test script stopped early (exit status $rc)"
	fi
	if [ $failed -ne 0 ]; then
		for p in "$d1"/run/*.log; do
			[ -f "$p" ] || continue
			echo "# ----- ${p#"$T"/} (last 30 lines)"
			tail -n 30 "$p" | sed 's/^/# /'
		done
	fi
	timeout 15 "$OM" -d "$d1" down >/dev/null 2>&1
	pids=$(ip netns pids "$ns1" 2>/dev/null)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	for p in $(member_pids "$d1"); do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$ns1" 2>/dev/null
	rm -rf -- "$T"
	echo "leaks: $passed passed, $failed failed"
	[ $failed -eq 0 ] || exit 1
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctl() { "$IPC" ctl "$d1/run/ctl.$1" "{\"cmd\":\"${2:-status}\"}"; }
members() { ctl linkd | jq '.members'; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

ip netns add "$ns1"
n1 ip link set lo up
n1 ip addr add $U1/24 dev lo
# shellcheck disable=SC2086
must "init m1" om1 init m1 --ipv4 10.77.0.1/16 --tcp $U1:6550 ${OM_INIT_ARGS:-}
must "init p1 (never started; its endpoint is a closed port)" \
    "$OM" -d "$dp" init p1 --ipv4 10.77.0.9/16 --tcp $U1:6551 \
    --root "$(conf_root "$d1")"
chmod 755 "$d1"
sandbox_off "$d1/onionmesh.conf"
must "export p1's record" "$OM" -d "$dp" export "$T/p1.record"
must "up m1" timeout 60 ip netns exec "$ns1" "$OM" -d "$d1" up
must "linkd answers, with no member yet" wait_for 10 test "$(members)" = 0

has() { [ "$(members)" = "$1" ]; }
dialing() { # linkd has a link to p1 (connecting, refused, backing off)
	[ "$(ctl linkd links | jq '[.links[] | select(.peer == "p1")]
	    | length')" -ge 1 ]
}
cycle() { # one add/remove; 0 when linkd saw both
	om1 import "$T/p1.record" >/dev/null 2>&1 || return 1
	wait_for 5 has 1 || return 1
	wait_for 5 dialing || return 1
	rm -f "$d1/hosts/p1"
	ctl keyd reload >/dev/null || return 1
	wait_for 5 has 0
}

lpid=$(daemon_pid "$d1" linkd)
kpid=$(daemon_pid "$d1" keyd)
must "linkd and keyd run (pids $lpid, $kpid)" test -n "$lpid" -a -n "$kpid"
bad=0
for i in $(seq 1 "$LEAK_WARMUP"); do cycle || bad=$((bad + 1)); done
lf0=$(fds "$lpid") lr0=$(rss "$lpid") kf0=$(fds "$kpid") kr0=$(rss "$kpid")
echo "# after $LEAK_WARMUP warm-up cycles: linkd $lf0 fds, $lr0 kB;" \
    "keyd $kf0 fds, $kr0 kB"
start=$SECONDS
step=$((LEAK_CYCLES / 10 > 0 ? LEAK_CYCLES / 10 : 1))
for i in $(seq 1 "$LEAK_CYCLES"); do
	cycle || bad=$((bad + 1))
	[ $((i % step)) -ne 0 ] || echo "# cycle $i: linkd $(fds "$lpid") fds," \
	    "$(rss "$lpid") kB; keyd $(fds "$kpid") fds, $(rss "$kpid") kB"
	# A cycle that fails does so in seconds; many mean a broken set-up.
	[ $bad -le 10 ] || break
done
took=$((SECONDS - start))
lf1=$(fds "$lpid") lr1=$(rss "$lpid") kf1=$(fds "$kpid") kr1=$(rss "$kpid")

check "$LEAK_CYCLES peer add/remove cycles in $took s, linkd following each ($bad missed)" \
    test $bad -eq 0
check "the same linkd and keyd all along" test \
    "$(daemon_pid "$d1" linkd)" = "$lpid" -a "$(daemon_pid "$d1" keyd)" = "$kpid"
within() { # NOW BEFORE PERCENT MINSLACK
	awk -v a="$1" -v b="$2" -v p="$3" -v m="$4" 'BEGIN {
		s = b * p / 100; if (s < m) s = m; exit !(a <= b + s) }'
}
check "linkd fds: $lf0 -> $lf1 (within 5% or 1)" within "$lf1" "$lf0" 5 1
check "keyd fds: $kf0 -> $kf1 (within 5% or 1)" within "$kf1" "$kf0" 5 1
# AddressSanitizer keeps freed memory in quarantine (up to 256 MB), so
# under it RSS grows without a leak; LeakSanitizer checks at exit instead
# (tests/netns/sanitized.sh).
if grep -qa __asan_init "$PWD/$OM_BUILD/onionmesh-linkd"; then
	ok "RSS not compared under AddressSanitizer (linkd $lr0 -> $lr1 kB, keyd $kr0 -> $kr1 kB; LeakSanitizer checks at exit)"
else
	check "linkd RSS: $lr0 -> $lr1 kB (within 5%)" within "$lr1" "$lr0" 5 0
	check "keyd RSS: $kr0 -> $kr1 kB (within 5%)" within "$kr1" "$kr0" 5 0
fi
