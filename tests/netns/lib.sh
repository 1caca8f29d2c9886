# shellcheck shell=bash
# Helpers for the end-to-end tests in tests/netns/ (sourced, not run; the
# name does not match test_*.sh, so scripts/check.sh does not run it).
#
# Shaped like WireGuard's netns.sh: plain assertions that print
# "ok - ..." / "not ok - ...", counted in $passed and $failed, and
# bounded waits. The caller sets T (its temporary dir: command output
# goes to $T/commands.log) and OM (the onionmesh command), and prints
# its own summary line from its EXIT trap.

passed=0
failed=0

ok() { printf 'ok - %s\n' "$*"; passed=$((passed + 1)); }
not_ok() { printf 'not ok - %s\n' "$*"; failed=$((failed + 1)); }

# check DESC CMD...: one assertion; the command's output goes to a log.
check() {
	local d=$1
	shift
	if "$@" >>"$T/commands.log" 2>&1; then ok "$d"; else not_ok "$d"; fi
}

# must DESC CMD...: an assertion the rest of the test cannot do without.
must() {
	local d=$1
	shift
	if "$@" >>"$T/commands.log" 2>&1; then
		ok "$d"
	else
		not_ok "$d"
		echo "# stopping here: the next steps need this"
		exit 1
	fi
}

# wait_for SECONDS CMD...: run CMD every 0.2 s until it succeeds or
# SECONDS have passed (a deadline, not a count: CMD itself may be slow).
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

# took SECONDS CMD...: like wait_for, and print how long it took (or
# "never") to stdout, for messages; the status is wait_for's.
took() {
	local start=$SECONDS
	if wait_for "$@"; then
		echo "$((SECONDS - start))"
		return 0
	fi
	echo never
	return 1
}

# Pids of every process whose command line names member dir $1.
member_pids() {
	local p
	for p in $(pgrep -f -- "$1" 2>/dev/null); do
		[ "$p" != $$ ] && echo "$p"
	done
	return 0
}

# daemon_pid DIR DAEMON: pid of onionmesh-DAEMON of the member in DIR.
daemon_pid() {
	local p
	for p in $(pgrep -f -- "onionmesh-$2" 2>/dev/null); do
		{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null |
		    grep -qF -- "$1 " && { echo "$p"; return 0; }
		{ tr '\0' '\n' <"/proc/$p/cmdline"; } 2>/dev/null |
		    grep -qxF -- "$1" && { echo "$p"; return 0; }
	done
	return 0
}

# The member's IPv6 address: `init` writes it as "ipv6 = ADDR/48".
conf_ipv6() {
	sed -n 's/^[[:space:]]*ipv6[[:space:]]*=[[:space:]]*\([^/[:space:]]*\).*/\1/p' \
	    "$1/onionmesh.conf" | head -n 1
}

# conf_root DIR: the network's root (the founder's id) from DIR's config;
# members set up by hand pass it on: init NAME --root "$(conf_root D1)".
conf_root() {
	sed -n 's/^[[:space:]]*root[[:space:]]*=[[:space:]]*\([0-9a-f]*\).*/\1/p' \
	    "$1/onionmesh.conf" | head -n 1
}

# ip_sockets PID: every socket PID holds that is not AF_UNIX or netlink
# (one "fd N socket INODE TABLE" line each), or "none". The socket inodes
# of its fds are looked up in its own namespace's tables (/proc/PID/net/),
# and for AF_UNIX also in the caller's (where tor runs): the kernel files the
# socket accept() returns under the namespace of the process that
# connected (tor, for a stream an onion service hands over), not under
# the listener's.
ip_sockets() {
	local pid=$1 fd ino fam found=0 t
	[ -d "/proc/$pid" ] || { echo "no process $pid"; return 1; }
	for fd in /proc/"$pid"/fd/*; do
		ino=$(readlink "$fd" 2>/dev/null) || continue
		case $ino in socket:\[*\]) ;; *) continue ;; esac
		ino=${ino#socket:[}
		ino=${ino%]}
		fam=""
		awk -v i="$ino" 'FNR > 1 && $7 == i { f = 1 } END { exit !f }' \
		    "/proc/$pid/net/unix" "/proc/$$/net/unix" 2>/dev/null &&
			fam=unix
		[ -z "$fam" ] && awk -v i="$ino" '$10 == i { f = 1 }
		    END { exit !f }' "/proc/$pid/net/netlink" 2>/dev/null &&
			fam=netlink
		if [ -z "$fam" ]; then
			fam=unknown
			for t in tcp tcp6 udp udp6 raw raw6 udplite udplite6; do
				awk -v i="$ino" 'NR > 1 && $10 == i { f = 1 }
				    END { exit !f }' "/proc/$pid/net/$t" \
				    2>/dev/null && { fam=$t; break; }
			done
			echo "fd ${fd##*/} socket $ino $fam"
			found=1
		fi
	done
	[ $found -eq 1 ] || echo none
	return 0
}

# member_files DIR...: sha256 of what must never change under a fault,
# each member's config, keys and records, one line per file ("m1/keys/..."
# for DIR .../m1).
member_files() {
	local d
	for d in "$@"; do
		(cd "$d" && sha256sum onionmesh.conf keys/* hosts/*) |
		    sed "s|  |  ${d##*/}/|"
	done
}

# links_fields_ok < `links --json`: there is a link, and every link (a
# circuit, in tor mode) shows its state, an rtt (> 0 when up: both ends
# measure it), a measured rate in bytes/s, its bytes queued and its
# re-dials, none negative (man/onionmesh.8).
links_fields_ok() {
	jq -e '(.links | length > 0) and
	    all(.links[]; (.state | type == "string") and
	    (.rtt_ms | type == "number") and
	    (.state != "up" or .rtt_ms > 0) and
	    (.rate | type == "number") and .rate >= 0 and
	    (.queued | type == "number") and .queued >= 0 and
	    (.redials | type == "number") and .redials >= 0)'
}

# OM_SANDBOX=no (sanitized.sh): the daemons of these configs run without
# their seccomp sandbox, which would stop LeakSanitizer at exit.
om_sandbox_off() {
	[ "${OM_SANDBOX:-}" = no ] || return 0
	sed -i 's/^sandbox = yes$/sandbox = no/' "$@"
}

# Members on one bridge (test_mesh.sh, test_revoke.sh, test_forge.sh):
# the arrays ns (namespace names), U (underlay addresses), D (member
# dirs), V4 (mesh addresses), and OM.
#
# netns_members NSPREFIX N: member i (1..N) lives in namespace
# NSPREFIX-i, its dir is $T/mi, its underlay address 192.0.2.i and its
# mesh address 10.77.0.i. nx I CMD...: CMD in member I's namespace;
# om I ARGS...: onionmesh on member I's dir there.
netns_members() {
	local i
	for i in $(seq 1 "$2"); do
		ns[i]=$1-$i
		D[i]=$T/m$i
		U[i]=192.0.2.$i
		# shellcheck disable=SC2034 # the caller's
		V4[i]=10.77.0.$i
	done
}
nx() { local i=$1; shift; ip netns exec "${ns[i]}" "$@"; }
om() { local i=$1; shift; nx "$i" "$OM" -d "${D[i]}" "$@"; }

#
# netns_bridge BR VETH N: a bridge BR in the root namespace and N
# namespaces ${ns[1..N]}, each with veth0 (${U[i]}/24) plugged into it;
# the root namespace's end of member i's pair is VETH-i.
netns_bridge() {
	local br=$1 veth=$2 i
	ip link add "$br" type bridge
	ip link set "$br" up
	for i in $(seq 1 "$3"); do
		ip netns add "${ns[i]}"
		ip -n "${ns[i]}" link set lo up
		ip link add "$veth-$i" type veth peer name veth0 \
		    netns "${ns[i]}"
		ip link set "$veth-$i" master "$br" up
		ip -n "${ns[i]}" addr add "${U[i]}/24" dev veth0
		ip -n "${ns[i]}" link set veth0 up
	done
}

# netns_members_down N: `down` for every member ${D[1..N]} that has a
# dir, all at once, each bounded to 15 s.
netns_members_down() {
	local i p pids=""
	for i in $(seq 1 "$1"); do
		[ -d "${D[i]}" ] || continue
		timeout 15 "$OM" -d "${D[i]}" down >/dev/null 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p"
	done
}

# netns_teardown BR VETH N: what still runs in the namespaces or names a
# member's dir (the test started it) killed, then the namespaces, the
# pairs and the bridge of netns_bridge gone.
netns_teardown() {
	local br=$1 veth=$2 i p pids
	for i in $(seq 1 "$3"); do
		pids=$(ip netns pids "${ns[i]}" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		for p in $(member_pids "${D[i]}"); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "${ns[i]}" 2>/dev/null
		ip link del "$veth-$i" 2>/dev/null
	done
	ip link del "$br" 2>/dev/null
}

# netns_needs CMD...: root and these commands, or a "not ok" and exit 1.
netns_needs() {
	local c
	[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root"; exit 1; }
	for c in "$@"; do
		command -v "$c" >/dev/null ||
			{ echo "not ok - $c is missing (make deps)"; exit 1; }
	done
}

# netns_built FILE...: make all in $OM_BUILD when one of them is missing.
netns_built() {
	local f
	for f in "$@"; do
		[ -x "$f" ] && continue
		make B="$OM_BUILD" -j2 all >/dev/null ||
			{ echo "not ok - make failed"; exit 1; }
		return 0
	done
}

# netns_dump_logs: the last 40 lines of every member's daemon logs
# ($T/m*/run/) and of $T/commands.log, as comments.
netns_dump_logs() {
	dump_tails 40 "$T"/m*/run/*.log "$T/commands.log"
}

# The two ends of an EXIT trap. netns_stopped_early RC: a script that
# stopped on its own (RC not 0, nothing failed yet) is a failure; on
# any failure the logs are shown. netns_finish NAME: $T kept in
# $OM_KEEP when set, then removed; the summary line "NAME: N passed,
# M failed"; exit 1 on any failure.
netns_stopped_early() {
	if [ "$1" -ne 0 ] && [ "$failed" -eq 0 ]; then
		not_ok "the test script stopped early (exit status $1)"
	fi
	[ "$failed" -eq 0 ] || netns_dump_logs
}
netns_finish() {
	[ -n "${OM_KEEP:-}" ] && cp -a "$T" "$OM_KEEP" 2>/dev/null
	rm -rf -- "$T"
	echo "$1: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] || exit 1
	exit 0
}

# netns_cleanup RC NAME BR VETH N: the whole EXIT trap of a test built on
# netns_bridge: background jobs killed, members down, namespaces gone,
# the summary line (netns_finish). Call it first thing in the trap, with
# $? as RC.
netns_cleanup() {
	local rc=$1 name=$2 br=$3 veth=$4 n=$5 p
	set +eu
	netns_stopped_early "$rc"
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null
	done
	netns_members_down "$n"
	netns_teardown "$br" "$veth" "$n"
	netns_finish "$name"
}

# om_need CMD...: root, the commands a test runs, and the build in
# $OM_BUILD (made if $OM is missing); "not ok" and exit 1 otherwise.
om_need() {
	netns_needs "$@"
	netns_built "$OM"
}

# dump_tails N FILE...: the last N lines of each file that exists, as
# comments, for a failed test's output.
dump_tails() {
	local n=$1 f
	shift
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "# ----- ${f#"$T"/} (last $n lines)"
		tail -n "$n" "$f" | sed 's/^/# /'
	done
}

# cleanup_start RC: the first step of a test's EXIT trap (RC is $?):
# a script that stopped early counts as a failure, and logs are dumped
# (dump_logs, the test's own) when anything failed.
cleanup_start() {
	if [ "$1" -ne 0 ] && [ $failed -eq 0 ]; then
		not_ok "the test script stopped early (exit status $1)"
	fi
	[ $failed -eq 0 ] || dump_logs
}

# cleanup_finish NAME: the last step: T removed, the summary line
# scripts/check.sh counts, and the exit status.
cleanup_finish() {
	netns_finish "$1"
}

# tornet_args TORNET DIR I: the --tor-control and --tor-socks flags of
# `init` for tor client I of the private Tor network in DIR
# (tests/tornet/tornet.sh is TORNET).
tornet_args() {
	local line control socks
	line=$("$1" client "$2" "$3")
	control=${line#control=}
	control=${control%% *}
	socks=${line#* socks=}
	socks=${socks%% *}
	echo "--tor-control unix:$control --tor-socks unix:$socks"
}

# ns_plug NS VETH BRIDGE ADDR/LEN: a new namespace NS with lo up and
# veth0 (ADDR) whose other end, VETH, is a port of BRIDGE.
ns_plug() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip link add "$2" type veth peer name veth0 netns "$1"
	ip link set "$2" master "$3" up
	ip -n "$1" addr add "$4" dev veth0
	ip -n "$1" link set veth0 up
}

# ns_kill NS: every process in NS killed, then NS deleted.
ns_kill() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	ip netns del "$1" 2>/dev/null
	return 0
}
