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

# OM_SANDBOX=no (sanitized.sh): the daemons of these configs run without
# their seccomp sandbox, which would stop LeakSanitizer at exit.
om_sandbox_off() {
	[ "${OM_SANDBOX:-}" = no ] || return 0
	sed -i 's/^sandbox = yes$/sandbox = no/' "$@"
}
