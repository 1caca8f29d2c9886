#!/usr/bin/env bash
# A private Tor network on loopback, for onionmesh's tests, demo and
# benchmark: 3 directory authorities, 2 relays and one tor client per
# member. Built from tor's TestingTorNetwork mode with the fast-voting
# settings chutney uses, so it is usable about 20 s after start.
#
#   tornet.sh start DIR [CLIENTS] [--tcp-socks] [--hop-delay MS | --varied]
#                                   make DIR/{auth0..2,relay0..1,client0..N-1}
#   tornet.sh wait DIR [SECONDS]    until every client is bootstrapped 100 %
#   tornet.sh stop DIR              stop every tor of DIR and delete DIR
#   tornet.sh client DIR I          print "control=PATH socks=PATH" of client
#                                   I (and " tcpsocks=127.0.0.1:PORT");
#                                   the cookie is control.authcookie next
#                                   to the control socket
#   tornet.sh restart-client DIR I  stop client I's tor and start it again
#                                   on the same data (keys, state, cookie
#                                   path), as a tor restart on a host does
#
# Each client runs exactly as Debian's tor package runs the system tor
# (started as root, User debian-tor, the options of
# /usr/share/tor/tor-service-defaults-torrc), with DIR/clientI/run as its
# /run/tor: DIR/clientI/run/control (group-writable), .../socks
# (world-writable), .../control.authcookie (group debian-tor). Members in
# any network namespace reach them by path, with the access a member on
# a Debian host has and no more. DIR and its parents must be passable by
# everyone (0755), as / and /run are. --tcp-socks gives every client a second
# SocksPort on 127.0.0.1 as well, for programs that only speak SOCKS over
# TCP (tinc's "Proxy = socks5 HOST PORT"). --hop-delay MS puts
# hopdelay.py in front of every authority's and relay's ORPort: each
# direction of every connection between two tors waits MS ms, as a hop
# across the internet would (see hopdelay.py for why; the benchmark's
# option).
#
# --varied makes circuits that differ as on the public network, for the
# multi-circuit benchmark (bench/tor.sh --multipath): 6 relays instead
# of 2, and every authority and relay gets its own hop delay (its own
# hopdelay.py) and its own bandwidth cap (BandwidthRate = BandwidthBurst:
# what it relays, each way, per second), so a circuit's pace is set by
# the slowest and farthest relays on its path, not by the machine's
# CPUs. Only the nodes marked as guards get tor's Guard flag, as only
# fast, stable relays do on the public network: every circuit of a
# client starts at its one guard, which would otherwise cap all of them
# together. The profile, one "DELAY_MS:RATE_KBYTES[:g]" per node (g: a
# guard), auth0..2 then relay0..N-1 (the count of relays follows), is
# VARIED_PROFILE below or the environment's TORNET_VARIED; DIR/profile
# lists what each node got.
# Without --varied the network is the small one above, unchanged.
#
# Ports are chosen at random from
# free ones, so two networks on one machine do not collide. If start fails
# half way, the tors it started are stopped again.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
	echo "usage: tornet.sh start|wait|stop|client|restart-client DIR [ARG]" >&2
	exit 2
}

NAUTH=3
NRELAY=2
# The user Debian's tor package runs tor as.
TOR_USER=debian-tor
HERE=$(cd "$(dirname "$0")" && pwd)
hopdelay=0
# --varied: per node "one-way delay in ms:cap in KBytes/s[:g]", auth0..2
# then the relays. The authorities are the guards (12 MB/s, 2-4 ms, so
# that two clients sharing one still pass 6 MB/s); the relays, the middle
# hops and rendezvous points, have delays from 1 to 20 ms a hop (an onion
# circuit's ~7 hops give idle round trips of 60-200 ms) and caps from 1
# to 6 MB/s: one circuit gets the rate of the slowest relay on its path
# (~1-2 MB/s), a few at once about the sum, which stays under what 2
# CPUs relay (~5 MB/s for 8 circuits at once, half the machine).
VARIED_PROFILE="2:12000:g 3:12000:g 4:12000:g 1:1000 3:1500 5:2500 8:3500 12:5000 20:6000"
varied=0
NODE_DELAY=()
NODE_RATE=()
NODE_GUARD=()
# TestingDirAuthVoteGuard: who gets the Guard flag (all, but --varied's
# guards).
GUARDS="*"

port_free() {
	! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# A base port B such that B.. (ORPorts), B+100.. (DirPorts), B+200..
# (clients' TCP SocksPorts, when asked for) and B+300.. (the ORPorts
# behind hopdelay.py) are all free.
pick_base() {
	local clients=$1 b i ok
	for _ in $(seq 1 50); do
		b=$((20000 + (RANDOM * 7) % 40000))
		ok=1
		for i in $(seq 0 $((NAUTH + NRELAY))); do
			port_free $((b + i)) && port_free $((b + 100 + i)) &&
			    port_free $((b + 300 + i)) || ok=0
		done
		for i in $(seq 0 $((clients - 1))); do
			port_free $((b + 200 + i)) || ok=0
		done
		[ $ok -eq 1 ] && { echo "$b"; return 0; }
	done
	echo "tornet: no free port range found" >&2
	return 1
}

common_torrc() { # node-dir nick [data-dir [pid-file [log-file]]]
	cat <<EOC
TestingTorNetwork 1
AssumeReachable 1
PathsNeededToBuildCircuits 0.25
TestingDirAuthVoteExit *
TestingDirAuthVoteGuard $GUARDS
$([ "$GUARDS" = "*" ] || echo "TestingDirAuthVoteGuardIsStrict 1")
TestingDirAuthVoteHSDir *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
DataDirectory ${3:-$1}
Nickname $2
RunAsDaemon 1
PidFile ${4:-$1/pid}
Log notice file ${5:-$1/notice.log}
ShutdownWaitLength 0
SafeLogging 1
# tor's default lets one process grow to gigabytes; 256 MB is its floor.
MaxMemInQueues 256 MB
ConnLimit 256
EOC
	cat "$dir/dirauths"
}

# start fails half way: stop what it started (the caller's trap may only
# know about the network once start has returned).
start_failed() {
	local rc=$?
	[ $rc -eq 0 ] && return 0
	echo "tornet: start failed; stopping what it started" >&2
	stop_tors
	exit $rc
}

# use_hopdelay: whether hopdelay.py stands in front of every ORPort.
use_hopdelay() {
	[ "$hopdelay" -gt 0 ] || [ "$varied" -eq 1 ]
}

# or_ports PORT K: the torrc lines of node K (auth0.. then relay0..)
# whose ORPort is PORT: with a hop delay it advertises PORT (where
# hopdelay.py listens) and listens on PORT + 300; --varied adds the
# node's bandwidth cap.
or_ports() {
	if use_hopdelay; then
		echo "ORPort 127.0.0.1:$1 NoListen"
		echo "ORPort 127.0.0.1:$(($1 + 300)) NoAdvertise"
	else
		echo "ORPort $1"
	fi
	if [ "$varied" -eq 1 ]; then
		echo "BandwidthRate ${NODE_RATE[$2]} KBytes"
		echo "BandwidthBurst ${NODE_RATE[$2]} KBytes"
	fi
}

# parse_profile PROFILE: NODE_DELAY, NODE_RATE, NODE_GUARD, GUARDS and
# NRELAY from "DELAY_MS:RATE_KBYTES[:g]" words, auth0..2 first.
parse_profile() {
	local w d r g n=0 guards=
	for w in $1; do
		IFS=: read -r d r g <<<"$w"
		case $d:$r:$g in
		[0-9]*:[0-9]*:|[0-9]*:[0-9]*:g) ;;
		*) echo "tornet: profile word '$w': want DELAY_MS:RATE_KBYTES[:g], e.g. 5:4000 or 2:10000:g" >&2
		   exit 2 ;;
		esac
		case $d$r in *[!0-9]*)
			echo "tornet: profile word '$w': want DELAY_MS:RATE_KBYTES[:g], e.g. 5:4000 or 2:10000:g" >&2
			exit 2 ;;
		esac
		if [ "$d" -gt 1000 ] || [ "$r" -lt 75 ] || [ "$r" -gt 1000000 ]; then
			echo "tornet: profile word '$w': delay 0..1000 ms, rate 75..1000000 KBytes (tor's floor is 75)" >&2
			exit 2
		fi
		NODE_DELAY+=("$d")
		NODE_RATE+=("$r")
		NODE_GUARD+=("$g")
		if [ "$g" = g ] && [ $n -lt $NAUTH ]; then
			guards=$guards,auth$n
		elif [ "$g" = g ]; then
			guards=$guards,relay$((n - NAUTH))
		fi
		n=$((n + 1))
	done
	[ -z "$guards" ] || GUARDS=${guards#,}
	if [ $n -lt $((NAUTH + 2)) ] || [ $n -gt $((NAUTH + 16)) ]; then
		echo "tornet: profile '$1': want $((NAUTH + 2))..$((NAUTH + 16)) words ($NAUTH authorities, then 2..16 relays), got $n" >&2
		exit 2
	fi
	NRELAY=$((n - NAUTH))
}

start() {
	local clients=${1:-2} tcpsocks=${2:-0} base i d fp v3 or dp
	command -v tor >/dev/null || { echo "tornet: tor is not installed" >&2; exit 1; }
	[ "$(id -u)" -eq 0 ] || { echo "tornet: must run as root (clients start as root and become $TOR_USER, as Debian's tor does)" >&2; exit 1; }
	getent passwd "$TOR_USER" >/dev/null || { echo "tornet: user $TOR_USER does not exist (Debian's tor package makes it: apt-get install tor)" >&2; exit 1; }
	case $clients in
	''|*[!0-9]*) echo "tornet: CLIENTS '$clients': want a count, 1..32" >&2; exit 2 ;;
	esac
	if [ "$clients" -lt 1 ] || [ "$clients" -gt 32 ]; then
		echo "tornet: CLIENTS '$clients': want a count, 1..32" >&2
		exit 2
	fi
	[ ! -e "$dir/dirauths" ] || { echo "tornet: $dir already has a network" >&2; exit 1; }
	mkdir -p "$dir"
	chmod 0755 "$dir"
	# tor as $TOR_USER must pass through every folder above its own,
	# as it passes / and /run on a host: say which one it cannot.
	local up
	up=$(cd "$dir" && pwd)
	while [ "$up" != / ]; do
		up=$(dirname "$up")
		[ "$(stat -c %A "$up" | cut -c10)" != - ] || {
			echo "tornet: $up is mode $(stat -c %a "$up"): $TOR_USER cannot pass through it to $dir; put DIR under folders anyone may pass (0755)" >&2
			exit 1
		}
	done
	trap start_failed EXIT
	base=$(pick_base "$clients")
	echo "$base" >"$dir/base"
	: >"$dir/dirauths"
	for i in $(seq 0 $((NAUTH - 1))); do
		d=$dir/auth$i
		or=$((base + i))
		dp=$((base + 100 + i))
		mkdir -p "$d/keys"
		chmod 0700 "$d"
		echo "" | tor-gencert --create-identity-key -m 12 \
			-a "127.0.0.1:$dp" -i "$d/keys/authority_identity_key" \
			-s "$d/keys/authority_signing_key" \
			-c "$d/keys/authority_certificate" --passphrase-fd 0 \
			>/dev/null 2>&1
		tor --list-fingerprint --DataDirectory "$d" --ORPort "$or" \
			--Nickname "auth$i" \
			--DirAuthority "x 127.0.0.1:1 ffffffffffffffffffffffffffffffffffffffff" \
			>/dev/null 2>&1 || true
		fp=$(awk '{print $2}' "$d/fingerprint")
		v3=$(awk '/^fingerprint/ {print $2}' "$d/keys/authority_certificate")
		[ -n "$fp" ] && [ -n "$v3" ] || { echo "tornet: key generation failed in $d" >&2; exit 1; }
		echo "DirAuthority auth$i orport=$or no-v2 v3ident=$v3 127.0.0.1:$dp $fp" \
			>>"$dir/dirauths"
	done
	for i in $(seq 0 $((NAUTH - 1))); do
		d=$dir/auth$i
		{
			common_torrc "$d" "auth$i"
			cat <<EOC
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
ContactInfo auth$i@test.invalid
TestingV3AuthInitialVotingInterval 5
V3AuthVotingInterval 10
TestingV3AuthInitialVoteDelay 2
V3AuthVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthDistDelay 2
Address 127.0.0.1
$(or_ports $((base + i)) "$i")
DirPort $((base + 100 + i))
SocksPort 0
ExitPolicy reject *:*
EOC
		} >"$d/torrc"
	done
	for i in $(seq 0 $((NRELAY - 1))); do
		d=$dir/relay$i
		mkdir -p "$d"
		chmod 0700 "$d"
		{
			common_torrc "$d" "relay$i"
			cat <<EOC
Address 127.0.0.1
$(or_ports $((base + NAUTH + i)) $((NAUTH + i)))
DirPort $((base + 100 + NAUTH + i))
SocksPort 0
ExitPolicy reject *:*
EOC
		} >"$d/torrc"
	done
	for i in $(seq 0 $((clients - 1))); do
		d=$dir/client$i
		# Each client is set up as Debian's tor package sets up the
		# system tor (tor@default.service, tor-service-defaults-torrc):
		# started as root with User debian-tor, its "/run/tor" made
		# as the unit makes it (02755 debian-tor:debian-tor), its
		# DataDirectory debian-tor's and 0700, and the socket, cookie
		# and SOCKS options of the defaults file. Nothing here changes
		# a group or mode of what tor makes: members reach tor only as
		# they would on a Debian host. $d itself is root's and 0755
		# (torrc, the log), as / and /run are.
		mkdir -p "$d"
		chmod 0755 "$d"
		install -m 02755 -o "$TOR_USER" -g "$TOR_USER" -d "$d/run"
		install -m 0700 -o "$TOR_USER" -g "$TOR_USER" -d "$d/data"
		# Its log: Debian's tor logs to syslog, or into /var/log/tor,
		# a folder of its user's; tor opens it after it has become
		# $TOR_USER. $d/notice.log leads there, for the scripts that
		# read it as every node's.
		install -m 0755 -o "$TOR_USER" -g "$TOR_USER" -d "$d/log"
		ln -s log/notice.log "$d/notice.log"
		{
			common_torrc "$d" "client$i" "$d/data" \
			    "$d/run/tor.pid" "$d/log/notice.log"
			cat <<EOC
User $TOR_USER
ControlSocket $d/run/control GroupWritable RelaxDirModeCheck
ControlSocketsGroupWritable 1
SocksPort unix:$d/run/socks WorldWritable
CookieAuthentication 1
CookieAuthFileGroupReadable 1
CookieAuthFile $d/run/control.authcookie
EOC
			if [ "$tcpsocks" -eq 1 ]; then
				echo "SocksPort 127.0.0.1:$((base + 200 + i))"
				echo "127.0.0.1:$((base + 200 + i))" >"$d/tcpsocks"
			fi
		} >"$d/torrc"
	done
	if use_hopdelay; then
		local ms names=()
		for i in $(seq 0 $((NAUTH - 1))); do names+=("auth$i"); done
		for i in $(seq 0 $((NRELAY - 1))); do names+=("relay$i"); done
		[ "$varied" -eq 0 ] || : >"$dir/profile"
		for i in "${!names[@]}"; do
			d=$dir/${names[$i]}
			ms=$hopdelay
			if [ "$varied" -eq 1 ]; then
				ms=${NODE_DELAY[$i]}
				echo "${names[$i]} ${ms} ms ${NODE_RATE[$i]} KBytes/s${NODE_GUARD[$i]:+ guard}" \
				    >>"$dir/profile"
			fi
			setsid python3 "$HERE/hopdelay.py" $((base + i)) \
			    $((base + 300 + i)) "$ms" "$d/hopdelay.pid" \
			    >>"$d/hopdelay.log" 2>&1 </dev/null &
		done
	fi
	for d in "$dir"/auth* "$dir"/relay* "$dir"/client*; do
		tor -f "$d/torrc" --quiet || {
			echo "tornet: tor failed to start in $d:" >&2
			tail -n 5 "$d/notice.log" >&2 || true
			exit 1
		}
	done
	trap - EXIT
	local delay=
	[ "$hopdelay" -eq 0 ] || delay=", $hopdelay ms per hop each way"
	[ "$varied" -eq 0 ] || delay=", varied: each node its own hop delay and cap ($dir/profile)"
	echo "tornet: started $NAUTH authorities, $NRELAY relays, $clients clients in $dir (ports $base..$delay)"
}

wait_ready() {
	local limit=${1:-90} t=0 ok d
	while [ $t -lt "$limit" ]; do
		ok=1
		for d in "$dir"/client*; do
			grep -q 'Bootstrapped 100%' "$d/notice.log" 2>/dev/null || ok=0
		done
		[ $ok -eq 1 ] && { echo "tornet: ready after ${t}s"; return 0; }
		sleep 1
		t=$((t + 1))
	done
	echo "tornet: not bootstrapped after ${limit}s" >&2
	for d in "$dir"/client*; do
		echo "--- $d" >&2
		tail -n 3 "$d/notice.log" >&2 || true
	done
	return 1
}

# The pid of the tor of node dir $1, if it runs (and is a tor: a stale
# pid file must not make us signal someone else's process).
tor_pid() {
	local pid f=$1/pid
	# A client writes it as $TOR_USER, into its "/run/tor" as Debian's.
	[ -f "$1/run/tor.pid" ] && f=$1/run/tor.pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f" 2>/dev/null) || return 0
	case $pid in ''|*[!0-9]*) return 0 ;; esac
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = tor ] && echo "$pid"
	return 0
}

# Stop the tors of node dirs "$@": TERM, up to 5 s, then KILL.
stop_nodes() {
	local d pid pids=() alive
	for d in "$@"; do
		pid=$(tor_pid "$d")
		[ -n "$pid" ] && pids+=("$pid")
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill "${pids[@]}" 2>/dev/null || true
	for _ in $(seq 1 50); do
		alive=0
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && return 0
		sleep 0.1
	done
	kill -9 "${pids[@]}" 2>/dev/null || true
	for _ in $(seq 1 20); do
		alive=0
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && return 0
		sleep 0.1
	done
}

stop_tors() {
	local nodes=() d pid
	for d in "$dir"/auth* "$dir"/relay* "$dir"/client*; do
		[ -d "$d" ] && nodes+=("$d")
	done
	[ ${#nodes[@]} -eq 0 ] || stop_nodes "${nodes[@]}"
	# The hopdelay.py relays, if any: by pid file, and only if that pid
	# still is one (a stale file must not make us kill another process).
	for d in "$dir"/auth* "$dir"/relay*; do
		[ -f "$d/hopdelay.pid" ] || continue
		pid=$(cat "$d/hopdelay.pid" 2>/dev/null) || continue
		case $pid in ''|*[!0-9]*) continue ;; esac
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		    grep -q hopdelay.py && kill "$pid" 2>/dev/null
	done
	return 0
}

stop() {
	[ -d "$dir" ] || return 0
	stop_tors
	rm -rf "$dir"
}

restart_client() {
	local i=$1 d=$dir/client$1
	[ -f "$d/torrc" ] || { echo "tornet: $dir has no client $i" >&2; exit 1; }
	stop_nodes "$d"
	# The log goes on (the test dumps it on failure); a mark tells
	# which lines are from after the restart.
	echo "---- tornet: restart-client $i at $(date '+%F %T')" >>"$d/notice.log"
	tor -f "$d/torrc" --quiet || {
		echo "tornet: tor failed to start again in $d:" >&2
		tail -n 5 "$d/notice.log" >&2 || true
		exit 1
	}
	echo "tornet: restarted client $i"
}

case $cmd in
start)
	n=2
	tcp=0
	hopdelay=0
	set -- "${@:3}"
	while [ $# -gt 0 ]; do
		case $1 in
		--tcp-socks) tcp=1 ;;
		--hop-delay)
			hopdelay=${2:-}
			case $hopdelay in
			[0-9]|[1-9][0-9]|[1-9][0-9][0-9]|1000) ;;
			*)	echo "tornet: --hop-delay '$hopdelay': want milliseconds, 0..1000" >&2
				exit 2 ;;
			esac
			shift ;;
		--varied) varied=1 ;;
		*) n=$1 ;;
		esac
		shift
	done
	if [ "$varied" -eq 1 ]; then
		[ "$hopdelay" -eq 0 ] || {
			echo "tornet: --varied gives each node its own delay: leave out --hop-delay" >&2
			exit 2
		}
		parse_profile "${TORNET_VARIED:-$VARIED_PROFILE}"
	fi
	start "$n" "$tcp"
	;;
wait) wait_ready "${3:-90}" ;;
stop) stop ;;
client)
	i=${3:?client index}
	[ -f "$dir/client$i/torrc" ] || { echo "tornet: $dir has no client $i" >&2; exit 1; }
	line="control=$dir/client$i/run/control socks=$dir/client$i/run/socks"
	[ -f "$dir/client$i/tcpsocks" ] &&
		line="$line tcpsocks=$(cat "$dir/client$i/tcpsocks")"
	echo "$line"
	;;
restart-client) restart_client "${3:?client index}" ;;
*) echo "usage: tornet.sh start|wait|stop|client|restart-client DIR [ARG]" >&2; exit 2 ;;
esac
