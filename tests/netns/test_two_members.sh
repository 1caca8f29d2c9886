#!/usr/bin/env bash
# Two onionmesh members, each in its own network namespace, joined by a
# veth pair and linked over TCP: the whole life of a small network, end to
# end, with real TUN devices, ping and iperf3.
#
#   ns1 (m1)  veth 192.0.2.1 <-----> 192.0.2.2 veth  (m2) ns2
#             om-default 10.77.0.1   10.77.0.2 om-default  (+ IPv6 each)
#
# Each member's `onionmesh up` runs inside its namespace, so its four
# daemons and its TUN device live there. Checked: records exchanged by
# export/import give a link within 30 s; ping both ways over IPv4 and
# IPv6; the wire between them never shows the inner payload; 10 s of
# iperf3; the TUN devices have their TSO/USO offloads; kill -9 of each
# daemon of each member in turn, with traffic back within 5 s and still
# flowing after, and the other three daemons the same processes; random
# bytes sent to linkd's port get no byte back and crash nothing; down and
# up again keep the member's id and addresses; `netns = NAME` puts the
# TUN device in another namespace than the daemons, and traffic flows.
#
# Shaped like WireGuard's netns.sh: tiny helpers (n1, n2), a cleanup trap,
# plain assertions printing "ok - ..." / "not ok - ...", and a last line
# "two_members: N passed, M failed". Exit 1 on any failure, after the
# daemons' logs. Every wait is bounded. Environment: OM_BUILD, the build
# dir (make's B=, default build); OM_INIT_ARGS, extra `init` flags (e.g.
# --no-privsep); OM_SANDBOX=no, sandbox = no in both configs.
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh

. tests/netns/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root"; exit 1; }
for c in ip ping iperf3 jq pgrep timeout; do
	command -v "$c" >/dev/null ||
		{ echo "not ok - $c is missing (make deps)"; exit 1; }
done
if [ ! -x "$OM" ]; then
	make B="$OM_BUILD" -j2 all >/dev/null ||
		{ echo "not ok - make failed"; exit 1; }
fi

T=$(mktemp -d /tmp/onionmesh-netns.XXXXXX)
chmod 755 "$T"  # daemons under privsep run as their own users
ns1=omt$$-1
ns2=omt$$-2
ns3=omt$$-3     # m2's TUN device only, in the last case
d1=$T/m1
d2=$T/m2
U1=192.0.2.1
U2=192.0.2.2
V41=10.77.0.1
V42=10.77.0.2
bg_pids=()

n1() { ip netns exec "$ns1" "$@"; }
n2() { ip netns exec "$ns2" "$@"; }
om1() { n1 "$OM" -d "$d1" "$@"; }
om2() { n2 "$OM" -d "$d2" "$@"; }

dump_logs() {
	local f
	for f in "$d1"/run/*.log "$d2"/run/*.log "$T/commands.log"; do
		[ -f "$f" ] || continue
		echo "# ----- ${f#"$T"/} (last 60 lines)"
		tail -n 60 "$f" | sed 's/^/# /'
	done
}

cleanup() {
	local rc=$? ns p pids
	set +e
	if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
		not_ok "the test script stopped early (exit status $rc)"
	fi
	[ $failed -eq 0 ] || dump_logs
	timeout 15 "$OM" -d "$d1" down >/dev/null 2>&1
	timeout 15 "$OM" -d "$d2" down >/dev/null 2>&1
	for p in "${bg_pids[@]}"; do
		# wait, so bash reaps the job here and reports no "Killed".
		{ kill -KILL "$p" && wait "$p"; } 2>/dev/null
	done
	# Anything still in our namespaces, and any daemon of our members,
	# was started by this test.
	for ns in "$ns1" "$ns2" "$ns3"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	done
	for p in $(member_pids "$d1") $(member_pids "$d2"); do
		kill -KILL "$p" 2>/dev/null
	done
	ip netns del "$ns1" 2>/dev/null
	ip netns del "$ns2" 2>/dev/null
	ip netns del "$ns3" 2>/dev/null
	rm -rf -- "$T"
	echo "two_members: $passed passed, $failed failed"
	[ $failed -eq 0 ] || exit 1
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What must survive down/up: the member's id and addresses, from
# `status --json` (searched by key, so nesting does not matter), and
# the addresses on its TUN device.
identity() {
	local ns=$1 dir=$2 a=$3
	ip netns exec "$ns" "$OM" -d "$dir" status --json | jq -cS '
	    def pick(k): [.. | objects | .[k]? | select(type == "string")]
	        | first;
	    {id: (pick("id") // pick("member_id")),
	     ipv4: pick("ipv4"), ipv6: pick("ipv6")}'
	ip -n "$ns" -o addr show to "$a" | awk '{ print $2, $3, $4 }'
	ip -n "$ns" -o addr show dev "$(tun_dev "$ns" "$a")" scope global |
	    awk '{ print $3, $4 }' | sort
}

# The TUN device holding address $2 in namespace $1.
tun_dev() {
	ip -n "$1" -o addr show to "$2" | awk '{ print $2; exit }'
}

identity_complete() { # no null field, and the TUN device has addresses
	head -n 1 "$1" | jq -e 'all(.[]; . != null)' >/dev/null &&
	    [ "$(wc -l <"$1")" -ge 3 ]
}

# ---------------------------------------------------------------------------
# Two hosts

ip netns add "$ns1"
ip netns add "$ns2"
n1 ip link set lo up
n2 ip link set lo up
ip -n "$ns1" link add veth0 type veth peer name veth0 netns "$ns2"
ip -n "$ns1" addr add $U1/24 dev veth0
ip -n "$ns2" addr add $U2/24 dev veth0
ip -n "$ns1" link set veth0 up
ip -n "$ns2" link set veth0 up
must "underlay $U1 <-> $U2 is up" wait_for 10 n1 ping -c 1 -W 1 $U2

# ---------------------------------------------------------------------------
# init, export/import, up

# shellcheck disable=SC2086
must "init m1" om1 init m1 --ipv4 $V41/16 --tcp $U1:6550 ${OM_INIT_ARGS:-}
# shellcheck disable=SC2086
must "init m2" om2 init m2 --ipv4 $V42/16 --tcp $U2:6550 \
    --root "$(conf_root "$d1")" ${OM_INIT_ARGS:-}
chmod 755 "$d1" "$d2"
# OM_SANDBOX=no: daemons without their seccomp sandbox, for a build with
# sanitizers (their exit-time leak check is something seccomp kills).
om_sandbox_off "$d1/onionmesh.conf" "$d2/onionmesh.conf"
must "export m1's record" om1 export "$T/m1.record"
must "export m2's record" om2 export "$T/m2.record"
must "import m2's record into m1" om1 import "$T/m2.record"
must "import m1's record into m2" om2 import "$T/m1.record"
V61=$(conf_ipv6 "$d1")
V62=$(conf_ipv6 "$d2")
must "init wrote each member's IPv6 address ($V61, $V62)" \
    test -n "$V61" -a -n "$V62" -a "$V61" != "$V62"

must "up m1" timeout 60 ip netns exec "$ns1" "$OM" -d "$d1" up
must "up m2" timeout 60 ip netns exec "$ns2" "$OM" -d "$d2" up
for dd in tund linkd keyd routed; do
	check "m1 runs onionmesh-$dd" test -n "$(daemon_pid "$d1" $dd)"
	check "m2 runs onionmesh-$dd" test -n "$(daemon_pid "$d2" $dd)"
done

must "link m1 <-> m2 carries IPv4 within 30 s" \
    wait_for 30 n1 ping -c 1 -W 1 $V42
check "m1 lists a link to m2" eval \
    "om1 links --json | jq -e '[.. | objects | select(.peer? == \"m2\")] | length > 0'"
check "m2 lists a link to m1" eval \
    "om2 links --json | jq -e '[.. | objects | select(.peer? == \"m1\")] | length > 0'"
# Both ends: state, rtt (> 0 up, from TCP_INFO), rate, queued, redials.
for m in om1 om2; do
	check "$m's links show state, rtt, rate, queued, redials" \
	    wait_for 5 eval "$m links --json | links_fields_ok"
done
# Superpackets need the TUN device's offloads: TSO always, USO where
# the kernel has it (Linux 6.2 and later).
IPC=$PWD/$OM_BUILD/tools/om-ipc
want_off="tso4 tso6"
kv=$(uname -r | sed -E 's/^([0-9]+)\.([0-9]+).*/\1 \2/')
# shellcheck disable=SC2086
[ "$(printf '%d%03d' $kv)" -ge 6002 ] && want_off="$want_off uso4 uso6"
offloads_on() { # DIR: tund reports every offload in want_off
	local got o
	got=$("$IPC" ctl "$1/run/ctl.tund" '{"cmd":"status"}' |
	    jq -r '.offloads // empty') || return 1
	echo "offloads: $got (want $want_off)"
	for o in $want_off; do
		case " $got " in *[\ ,]$o[\ ,]*) ;; *) return 1 ;; esac
	done
}
check "m1's TUN device has offloads $want_off" offloads_on "$d1"
check "m2's TUN device has offloads $want_off" offloads_on "$d2"

# ---------------------------------------------------------------------------
# Traffic

check "ping m1 -> m2 over IPv4" n1 ping -c 3 -i 0.2 -W 2 $V42
check "ping m2 -> m1 over IPv4" n2 ping -c 3 -i 0.2 -W 2 $V41
check "ping m1 -> m2 over IPv6 ($V62)" \
    wait_for 10 n1 ping -6 -c 3 -i 0.2 -W 2 "$V62"
check "ping m2 -> m1 over IPv6 ($V61)" \
    wait_for 10 n2 ping -6 -c 3 -i 0.2 -W 2 "$V61"

# The wire never carries the inner plaintext: ping with a payload pattern
# while capturing ns2's veth (AF_PACKET), once to the underlay address as
# a control (the pattern must show), once through the tunnel (it must not).
capture() { # SECONDS OUTFILE: count frames and frames holding $PAT
	ip netns exec "$ns2" timeout $(($1 + 5)) python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("veth0", 0))
s.settimeout(0.2)
pat = bytes.fromhex(sys.argv[2])
end = time.time() + float(sys.argv[1])
frames = hits = 0
while time.time() < end:
	try:
		f = s.recv(262144)
	except socket.timeout:
		continue
	frames += 1
	hits += pat in f
print(frames, hits)' "$1" "$PAT" >"$2" 2>&1
}
PAT=6f6e696f6e6d657368a5    # "onionmesh" and one more byte
if command -v python3 >/dev/null; then
	capture 3 "$T/cap-plain.txt" &
	cap=$!
	sleep 0.5
	n1 ping -c 5 -i 0.2 -s 600 -p $PAT $U2 >/dev/null 2>&1 || true
	wait $cap || true
	capture 3 "$T/cap-tunnel.txt" &
	cap=$!
	sleep 0.5
	n1 ping -c 5 -i 0.2 -s 600 -p $PAT $V42 >/dev/null 2>&1 || true
	wait $cap || true
	read -r pf ph <"$T/cap-plain.txt" || true
	read -r tf th <"$T/cap-tunnel.txt" || true
	check "control: the capture sees a plain ping's payload ($ph of $pf frames)" \
	    test "${ph:-0}" -gt 0
	check "the tunnel's frames never hold the inner payload ($th of $tf frames)" \
	    test "${tf:-0}" -gt 0 -a "${th:-1}" -eq 0
else
	not_ok "python3 is missing (make deps): cannot look at the wire"
fi

ip netns exec "$ns2" iperf3 -s >"$T/iperf3-server.log" 2>&1 &
bg_pids+=($!)
wait_for 10 n2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5201' || true
n1 timeout 40 iperf3 -c $V42 -t 10 -J --connect-timeout 5000 \
    >"$T/iperf3.json" 2>&1 || true
iperf_err=$(jq -r '.error // empty' "$T/iperf3.json" 2>/dev/null) ||
	iperf_err="no JSON: $(head -c 200 "$T/iperf3.json")"
iperf_bytes=$(jq -r '.end.sum_received.bytes // 0' "$T/iperf3.json" \
    2>/dev/null) || iperf_bytes=0
iperf_mbps=$(jq -r '(.end.sum_received.bits_per_second // 0) / 1e6 | floor' \
    "$T/iperf3.json" 2>/dev/null) || iperf_mbps=0
check "iperf3 m1 -> m2 for 10 s without error${iperf_err:+ ($iperf_err)}" \
    test -z "$iperf_err"
check "iperf3 m1 -> m2 carried $iperf_bytes bytes ($iperf_mbps Mbit/s)" \
    test "${iperf_bytes%.*}" -gt 0

# ---------------------------------------------------------------------------
# kill -9 of each daemon in turn, while m1 pings m2 every 0.2 s.
#
# ping -D stamps each reply with the time it arrived (the same clock as
# `date +%s.%N`), so after the run we can tell when traffic came back.
# Two things must hold: a reply arrives within 5 s of the kill, and
# replies still arrive more than 5 s after it (a daemon that comes back
# and then breaks the tables would pass the first alone). The supervisor
# must also have started a new process in place of the killed one.

sibling_pids() { # DIR DAEMON: "name=pid" of the other three daemons
	local o
	for o in tund linkd keyd routed; do
		[ "$o" = "$2" ] || printf '%s=%s ' "$o" "$(daemon_pid "$1" "$o")"
	done
}
kill_daemon() { # MEMBER DIR DAEMON
	local m=$1 dir=$2 dd=$3 pid new tk out pp first late others
	wait_for 10 n1 ping -c 1 -W 1 $V42 || true
	pid=$(daemon_pid "$dir" "$dd")
	if [ -z "$pid" ]; then
		not_ok "kill -9 onionmesh-$dd of $m: no such process"
		return 0
	fi
	others=$(sibling_pids "$dir" "$dd")
	out=$T/ping-kill-$m-$dd.txt
	ip netns exec "$ns1" ping -n -D -i 0.2 -W 1 -w 9 $V42 >"$out" 2>&1 &
	pp=$!
	bg_pids+=("$pp")
	sleep 1
	tk=$(date +%s.%N)
	kill -KILL "$pid"
	new=""
	for _ in $(seq 1 25); do
		new=$(daemon_pid "$dir" "$dd")
		[ -n "$new" ] && [ "$new" != "$pid" ] && break
		new=""
		sleep 0.2
	done
	wait "$pp" || true
	read -r first late < <(sed -n 's/^\[\([0-9.]*\)\].*bytes from.*/\1/p' \
	    "$out" | awk -v tk="$tk" '
		$1 > tk && first == "" { first = $1 - tk }
		$1 > tk + 5 { late++ }
		END { printf "%s %d\n", (first == "" ? "none" : first), late }')
	check "kill -9 onionmesh-$dd of $m: restarted within 5 s" \
	    test -n "$new"
	check "kill -9 onionmesh-$dd of $m: traffic within 5 s (first reply after ${first} s)" \
	    awk -v f="$first" 'BEGIN { exit !(f != "none" && f <= 5) }'
	check "kill -9 onionmesh-$dd of $m: traffic still flows 5 s on ($late replies)" \
	    test "$late" -gt 0
	# The supervisor would hide a sibling that died with it: the
	# other three must be the very processes they were before.
	check "kill -9 onionmesh-$dd of $m: the other daemons lived on ($others)" \
	    test "$others" = "$(sibling_pids "$dir" "$dd")"
}

for dd in tund linkd keyd routed; do
	kill_daemon m1 "$d1" $dd
done
for dd in tund linkd keyd routed; do
	kill_daemon m2 "$d2" $dd
done

# ---------------------------------------------------------------------------
# A stranger on linkd's port: random bytes get nothing back (Noise IK
# answers no one it cannot authenticate) and break nothing.

stranger() { # BYTES: send them to m1's linkd from ns2, print bytes received
	n2 timeout 10 bash -c '
		exec 3<>/dev/tcp/'$U1'/6550 || exit 1
		head -c '"$1"' /dev/urandom >&3 2>/dev/null
		timeout 3 cat <&3 2>/dev/null | wc -c' 2>/dev/null
}
linkd_before=$(daemon_pid "$d1" linkd)
for n in 1 64 4096 65536; do
	got=$(stranger $n) || got="no connection"
	check "$n random bytes to m1's linkd: 0 bytes back (got: $got)" \
	    test "$got" = 0
done
# A stranger that speaks the protocol: a well-formed Noise IK handshake
# addressed to m1 (right mac1) from a static key no member has. linkd
# must run the handshake to learn the key is unknown, and then answer
# nothing at all.
PROBE=$PWD/$OM_BUILD/tools/om-probe
id1=$(om1 status --json 2>/dev/null | jq -r '.id // empty')
net1="default:$(conf_root "$d1")"   # NET:ROOT, what the netid is made of
for i in 1 2 3; do
	got=$(n2 timeout 10 "$PROBE" stranger "$U1" 6550 "$id1" "$net1" |
	    sed -n 's/^bytes=//p') || true
	check "handshake $i from an unknown key to m1's linkd: 0 bytes back (got: ${got:-no connection})" \
	    test "${got:-x}" = 0
done
check "m1's linkd survived the strangers (pid $linkd_before)" \
    test -n "$linkd_before" -a "$(daemon_pid "$d1" linkd)" = "$linkd_before"
check "link still carries traffic after the strangers" \
    wait_for 10 n1 ping -c 1 -W 1 $V42

# ---------------------------------------------------------------------------
# down and up: same id and addresses as before

identity "$ns1" "$d1" $V41 >"$T/ident1.before" 2>>"$T/commands.log" || true
identity "$ns2" "$d2" $V42 >"$T/ident2.before" 2>>"$T/commands.log" || true
check "status --json of m1 gives id, ipv4, ipv6; its TUN device has them" \
    identity_complete "$T/ident1.before"
check "status --json of m2 gives id, ipv4, ipv6; its TUN device has them" \
    identity_complete "$T/ident2.before"

check "down m1" timeout 30 "$OM" -d "$d1" down
check "down m2" timeout 30 "$OM" -d "$d2" down
no_process() { [ -z "$(member_pids "$1")" ]; }
check "no process of m1 is left after down" wait_for 10 no_process "$d1"
check "no process of m2 is left after down" wait_for 10 no_process "$d2"

must "up m1 again" timeout 60 ip netns exec "$ns1" "$OM" -d "$d1" up
must "up m2 again" timeout 60 ip netns exec "$ns2" "$OM" -d "$d2" up
check "link m1 <-> m2 comes back within 30 s" \
    wait_for 30 n1 ping -c 1 -W 1 $V42
check "ping m2 -> m1 over IPv6 after up" \
    wait_for 10 n2 ping -6 -c 1 -W 1 "$V61"
identity "$ns1" "$d1" $V41 >"$T/ident1.after" 2>>"$T/commands.log" || true
identity "$ns2" "$d2" $V42 >"$T/ident2.after" 2>>"$T/commands.log" || true
check "m1 has the same id and addresses after down/up" \
    diff "$T/ident1.before" "$T/ident1.after"
check "m2 has the same id and addresses after down/up" \
    diff "$T/ident2.before" "$T/ident2.after"

# ---------------------------------------------------------------------------
# netns = NAME: m2's daemons stay in ns2 (where its underlay is) and tund
# moves the TUN device into ns3, a namespace with nothing else in it.
# Traffic between ns3 and m1 can then only cross m2's daemons.

n3() { ip netns exec "$ns3" "$@"; }
check "down m2 to move its device" timeout 30 "$OM" -d "$d2" down
ip netns add "$ns3"
n3 ip link set lo up
echo "netns = $ns3" >>"$d2/onionmesh.conf"
must "up m2 with netns = $ns3" timeout 60 ip netns exec "$ns2" "$OM" -d "$d2" up
check "m2's TUN device is in $ns3" \
    wait_for 10 ip -n "$ns3" link show dev om-default
check "and not in $ns2, where m2's daemons run" \
    bash -c "! ip -n '$ns2' link show dev om-default"
check "$ns3 has no interface but lo and the TUN device" \
    test "$(ip -n "$ns3" -o link show | grep -cv ': lo:\|: om-default:')" = 0
check "ping $ns3 (m2's device) -> m1 within 30 s" \
    wait_for 30 n3 ping -c 1 -W 1 $V41
check "ping m1 -> m2 in $ns3 over IPv6" \
    wait_for 10 n1 ping -6 -c 1 -W 1 "$V62"

# ---------------------------------------------------------------------------
# Log levels: `loglevel` in the config reaches every daemon, `onionmesh
# log LEVEL` changes it in every running daemon at once, and the log
# files carry a time and the level on each line (under systemd the
# journal does; tests/unit/test_log.c covers that format).

levels() { # NS DIR: "daemon level" per line, as `onionmesh log` says
	ip netns exec "$1" "$OM" -d "$2" log | awk '{ print $1, $2 }'
}
all_at() { # LEVEL NS DIR: every one of the four daemons says LEVEL
	[ "$(levels "$2" "$3" | grep -c " $1\$")" = 4 ]
}
check "m1's four daemons start at the config's loglevel (info)" \
    all_at info "$ns1" "$d1"
must "onionmesh log debug on m1" om1 log debug
check "every daemon of m1 is at debug now" all_at debug "$ns1" "$d1"
stamp='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
for dm in keyd routed linkd tund; do
	check "$dm.log says the change, with time and level" grep -Eq \
	    "$stamp warn $dm: log level debug \\(was info\\)" \
	    "$d1/run/$dm.log"
done
rc=0
om1 log loud >>"$T/commands.log" 2>&1 || rc=$?
check "onionmesh log loud: exit 2 (not a level)" test "$rc" = 2
check "levels unchanged after the refused one" all_at debug "$ns1" "$d1"
must "onionmesh log warn on m1" om1 log warn
check "every daemon of m1 is at warn now" all_at warn "$ns1" "$d1"

check "down m2 to change its loglevel" timeout 30 "$OM" -d "$d2" down
sed -i 's/^loglevel = .*/loglevel = warn/' "$d2/onionmesh.conf"
grep -q '^loglevel = warn' "$d2/onionmesh.conf" ||
	echo "loglevel = warn" >>"$d2/onionmesh.conf"
must "up m2 with loglevel = warn" timeout 60 \
    ip netns exec "$ns2" "$OM" -d "$d2" up
check "m2's four daemons start at warn, from the config" \
    wait_for 15 all_at warn "$ns2" "$d2"
