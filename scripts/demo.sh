#!/usr/bin/env bash
# The demo (`make demo`): three members of one onionmesh network, alice,
# bob and carol, each in its own network namespace with its own TUN
# device, linked over Tor onion services only. The namespaces have no
# network at all, only loopback: each member's daemons reach their tor
# by Unix socket paths, and tor carries everything. The Tor network is a
# private one of our own on loopback (tests/tornet/tornet.sh), so the
# demo needs no Internet and talks to no one.
#
#   scripts/demo.sh [--once] [--tcp]
#
# It installs what is missing (scripts/deps.sh), builds, starts the Tor
# network, sets the members up (alice: init and up; bob and carol: one
# `onionmesh join` each with an invitation from alice), pings
# across over IPv4 and IPv6, shows `onionmesh status` and `onionmesh
# links` of alice, then runs until Ctrl-C; --once stops after that first
# round. --tcp runs the earlier demo instead: the same three members
# linked over plain TCP on a bridge. Either way every process, namespace
# and file it made is removed when it ends. OM_BUILD picks the build dir
# (make's B=, default build).
set -euo pipefail
cd "$(dirname "$0")/.."

ONCE=0
TCP=0
for a in "$@"; do
	case $a in
	--once) ONCE=1 ;;
	--tcp) TCP=1 ;;
	-h|--help) echo "usage: scripts/demo.sh [--once] [--tcp]"; exit 0 ;;
	*) echo "demo: unknown argument '$a' (want --once, --tcp)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (network namespaces)"; exit 1; }

say() { printf 'demo: %s\n' "$*"; }

say "checking packages..."
scripts/deps.sh
OM_BUILD=${OM_BUILD:-build}
say "building onionmesh (make B=$OM_BUILD)..."
make -s -j2 B="$OM_BUILD" all
OM=$PWD/$OM_BUILD/onionmesh
TORNET=$PWD/tests/tornet/tornet.sh
TAG=omd$$
WORK=$(mktemp -d /tmp/onionmesh-demo.XXXXXX)
# The daemons run as their own users: they must be able to enter it.
chmod 0755 "$WORK"
MEMBERS=(alice bob carol)
BR=${TAG}br
TN=$WORK/tornet
SLEEP_PID=""

cleanup() {
	set +e
	# A second Ctrl-C, or a reader gone from our stdout, must not cut
	# the cleanup short.
	trap '' INT TERM HUP PIPE
	[ -z "$SLEEP_PID" ] || kill "$SLEEP_PID" 2>/dev/null
	echo
	say "cleaning up..."
	for m in "${MEMBERS[@]}"; do
		[ -f "$WORK/$m/onionmesh.conf" ] &&
			timeout 20 ip netns exec "$TAG-$m" "$OM" -d "$WORK/$m" \
			    down >/dev/null 2>&1
	done
	for m in "${MEMBERS[@]}"; do
		pids=$(ip netns pids "$TAG-$m" 2>/dev/null)
		# shellcheck disable=SC2086 # started by us, in our namespace
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		ip netns del "$TAG-$m" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
	"$TORNET" stop "$TN" >/dev/null 2>&1
	rm -rf "$WORK"
	say "cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# Show a command, then run it; a failure is remembered, not fatal, so
# status and links still show what went wrong.
FAILED=0
show() {
	echo
	echo "# $*"
	"$@" || { FAILED=1; say "that failed"; }
}

# wait_ping SECONDS NS ADDR: until ADDR answers from NS.
wait_ping() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt "$end" ]; do
		ip netns exec "$2" ping -c 1 -W 2 "$3" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

v6_of() {
	sed -n 's/^ipv6 = \(.*\)\/.*/\1/p' "$WORK/$1/onionmesh.conf"
}

# Both demos end the same way: pings, status, links, then wait.
finish() {
	local transport=$1
	say "alice pings carol (10.77.0.3) through the mesh, over $transport:"
	show ip netns exec "$TAG-alice" ping -c 3 10.77.0.3
	say "and over IPv6 ($(v6_of carol)):"
	show ip netns exec "$TAG-alice" ping -c 3 "$(v6_of carol)"
	say "bob pings alice (10.77.0.1):"
	show ip netns exec "$TAG-bob" ping -c 3 10.77.0.1
	say "what alice sees:"
	show ip netns exec "$TAG-alice" "$OM" -d "$WORK/alice" status
	show ip netns exec "$TAG-alice" "$OM" -d "$WORK/alice" links
	[ $ONCE -eq 1 ] && exit $FAILED
	echo
	say "running. Try, in another terminal:"
	echo "  ip netns exec $TAG-bob ping 10.77.0.3"
	echo "  ip netns exec $TAG-carol $OM -d $WORK/carol links"
	echo "  ip netns exec $TAG-alice $OM -d $WORK/alice status"
	say "Ctrl-C to stop and clean up"
	# wait (unlike a sleep in the foreground) returns at once when a
	# signal comes, so kill -TERM of this script alone cleans up too.
	while :; do
		sleep 3600 &
		SLEEP_PID=$!
		wait $SLEEP_PID || true
	done
}

# --tcp: the first member founds the network; the others are set up by
# hand with its id as the root (records swapped below, tinc 1.0 style).
root_flag() {
	[ "$1" = "${MEMBERS[0]}" ] && return 0
	printf -- '--root %s' "$(sed -n 's/^root = //p' \
	    "$WORK/${MEMBERS[0]}/onionmesh.conf")"
}

# Swap host records the tinc 1.0 way: everyone imports everyone else's.
swap_records() {
	local m o
	say "swapping host records (each member imports the others')..."
	for m in "${MEMBERS[@]}"; do
		"$OM" -d "$WORK/$m" export "$WORK/$m.host"
	done
	for m in "${MEMBERS[@]}"; do
		for o in "${MEMBERS[@]}"; do
			[ "$m" = "$o" ] ||
				"$OM" -d "$WORK/$m" import "$WORK/$o.host" >/dev/null
		done
	done
}

members_up() {
	local m
	say "starting each member's daemons inside its namespace..."
	for m in "${MEMBERS[@]}"; do
		ip netns exec "$TAG-$m" "$OM" -d "$WORK/$m" up |
		    sed "s/^/  $m: /"
	done
}

# ---------------------------------------------------------------------------
# The TCP demo (--tcp): a bridge in the root namespace joins one veth per
# member; each member gets 192.168.77.N inside its own namespace (no
# traffic leaves them).
tcp_demo() {
	local i=1 m ns
	ip link add "$BR" type bridge
	ip link set "$BR" up
	say "setting up alice, bob and carol, each in a network namespace on a bridge..."
	for m in "${MEMBERS[@]}"; do
		ns=$TAG-$m
		ip netns add "$ns"
		ip link add "${TAG}v$i" type veth peer name eth0 netns "$ns"
		ip link set "${TAG}v$i" master "$BR" up
		ip -n "$ns" addr add "192.168.77.$i/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" link set lo up
		# shellcheck disable=SC2046 # no flag or one, split on purpose
		ip netns exec "$ns" "$OM" -d "$WORK/$m" init "$m" \
			--ipv4 "10.77.0.$i/16" --tcp "192.168.77.$i:6550" \
			$(root_flag "$m") >/dev/null
		i=$((i + 1))
	done
	swap_records
	members_up
	say "waiting for links..."
	wait_ping 30 "$TAG-alice" 10.77.0.3 ||
		say "no answer from carol yet; the pings below may fail"
	finish TCP
}

# ---------------------------------------------------------------------------
# The Tor demo: alice founds the network; bob and carol each join with
# one command and an invitation from alice, over her onion service.
tor_demo() {
	local i=0 m ns line control socks url start
	say "starting a private Tor network (3 authorities, 2 relays, 3 clients)..."
	"$TORNET" start "$TN" 3 | sed 's/^/  /'
	say "waiting for tor to bootstrap (about 20 s)..."
	"$TORNET" wait "$TN" 120 | sed 's/^/  /'
	say "alice, bob and carol each get a network namespace with no network"
	say "at all (only loopback) and a tor client of their own"
	for m in "${MEMBERS[@]}"; do
		ns=$TAG-$m
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		line=$("$TORNET" client "$TN" $i)
		control=${line#control=}
		control=${control%% *}
		socks=${line#* socks=}
		socks=${socks%% *}
		TORARGS[$i]="--tor-control unix:$control --tor-socks unix:$socks"
		i=$((i + 1))
	done
	say "alice founds the network and starts her daemons:"
	say "  onionmesh init alice --ipv4 10.77.0.1/16 --tor-control ... --tor-socks ..."
	# shellcheck disable=SC2086 # the flags, split on purpose
	ip netns exec "$TAG-alice" "$OM" -d "$WORK/alice" init alice \
		--ipv4 10.77.0.1/16 ${TORARGS[0]} >/dev/null
	chmod 0755 "$WORK/alice"
	ip netns exec "$TAG-alice" "$OM" -d "$WORK/alice" up | sed 's/^/  alice: /'
	start=$SECONDS
	i=1
	for m in bob carol; do
		url=$("$OM" -d "$WORK/alice" invite "$m" \
		    --ipv4 "10.77.0.$((i + 1))" 2>/dev/null) ||
			{ say "alice could not invite $m"; exit 1; }
		say "alice invites $m: onionmesh invite $m  ->  ${url:0:48}..."
		say "$m joins with that URL (one command, over tor):"
		# shellcheck disable=SC2086
		ip netns exec "$TAG-$m" "$OM" -d "$WORK/$m" join "$url" \
			${TORARGS[$i]} 2>&1 | sed "s/^/  $m: /" ||
			say "$m's join failed (see above)"
		chmod 0755 "$WORK/$m" 2>/dev/null || true
		i=$((i + 1))
	done
	say "waiting until everyone reaches everyone (records spread by gossip)..."
	if wait_ping 120 "$TAG-alice" 10.77.0.3 &&
	    wait_ping 60 "$TAG-bob" 10.77.0.3; then
		say "a network of three over onions $((SECONDS - start)) s after alice started"
	else
		say "no answer yet after $((SECONDS - start)) s; the pings below may fail"
	fi
	finish "Tor onion services"
}

if [ $TCP -eq 1 ]; then tcp_demo; else tor_demo; fi
