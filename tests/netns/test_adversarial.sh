#!/usr/bin/env bash
# Adversarial peers: what a stranger on the network can do to a member's
# linkd, against two real members linked over TCP in network namespaces
# (the set-up of test_two_members.sh).
#
#   ns1 (m1)  veth 192.0.2.1 <-----> 192.0.2.2 veth  (m2) ns2
#
# m2 is the target; every attack comes from ns1's address, where m1
# lives, so it looks as much like m1 as an attacker without m1's keys
# can. Checked, each with what it measured:
#  - replay: frames captured off the wire of a real session (a fresh
#    handshake and a UDP stream through the tunnel) sent to m2 on new
#    connections, one frame each: 0 of 10,000 accepted (0 bytes back,
#    linkd closes every connection, no new link, and m2's tund wrote no
#    packet beyond those of a ping that ran meanwhile: between the
#    replies and the requests the ping counted); the whole captured
#    stream replayed as it was; the captured HS_INIT 1,000 times: no
#    session, nothing back, the live link the same and ping answered;
#  - random bytes, low-order keys (keyd must have refused exactly those
#    DHs), oversized and truncated frames, a handshake from an unknown
#    key: 0 bytes back, linkd alive;
#  - a handshake flood (2,000/s, valid mac1, random keys; 3 x 5 s) while
#    iperf3 runs: FLOOD_KEEP (default 80, issue #6's figure) % or more
#    of the throughput measured without it (rounds with and without
#    alternate, so a drifting load on the machine hits both alike), and
#    linkd counted hs_ratelimited. Since keyd stopped dropping rpc
#    replies every reading has been 89 % or more (tests/RESULTS.md);
#  - 1,000 silent half-open connections: all closed within 30 s, linkd's
#    fd count back to its baseline;
#  - IPC from the wrong user: keyd.crypto dialled as onionmesh-tund gets
#    no answer and keyd logs "refused IPC connection"; as onionmesh-linkd
#    (the control) it is answered.
#
# "ok - ..." / "not ok - ..." lines, a last line "adversarial: N passed,
# M failed", exit 1 on any failure (after the daemons' logs). Every wait
# is bounded; about 2-3 minutes. Environment: OM_BUILD (make's B=,
# default build), OM_INIT_ARGS (extra `init` flags), OM_SANDBOX=no
# (sandbox = no in the configs, for sanitizer builds), FLOOD_RATE (2000),
# FLOOD_KEEP (80).
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
PROBE=$PWD/$OM_BUILD/tools/om-probe
IPC=$PWD/$OM_BUILD/tools/om-ipc
CAPTURE=$PWD/tests/tools/om-capture.py
FLOOD_RATE=${FLOOD_RATE:-2000}
REPLAY_FRAMES=10000
. tests/netns/lib.sh
# OM_SANDBOX=no: daemons without their seccomp sandbox (sanitizer builds).
sandbox_off() {
	[ "${OM_SANDBOX:-}" = no ] || return 0
	sed -i 's/^sandbox = yes$/sandbox = no/' "$@"
}

[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root"; exit 1; }
for c in ip ping iperf3 jq pgrep timeout python3 setpriv; do
	command -v "$c" >/dev/null ||
		{ echo "not ok - $c is missing (make deps)"; exit 1; }
done
if [ ! -x "$OM" ] || [ ! -x "$PROBE" ] || [ ! -x "$IPC" ]; then
	make B="$OM_BUILD" -j2 all >/dev/null ||
		{ echo "not ok - make failed"; exit 1; }
fi

T=$(mktemp -d /tmp/onionmesh-adv.XXXXXX)
chmod 755 "$T"  # daemons under privsep run as their own users
ns1=omadv$$-1
ns2=omadv$$-2
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
		echo "# ----- ${f#"$T"/} (last 40 lines)"
		tail -n 40 "$f" | sed 's/^/# /'
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
		{ kill -KILL "$p" && wait "$p"; } 2>/dev/null
	done
	for ns in "$ns1" "$ns2"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	done
	for p in $(member_pids "$d1") $(member_pids "$d2"); do
		kill -KILL "$p" 2>/dev/null
	done
	ip netns del "$ns1" 2>/dev/null
	ip netns del "$ns2" 2>/dev/null
	rm -rf -- "$T"
	echo "adversarial: $passed passed, $failed failed"
	[ $failed -eq 0 ] || exit 1
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ctl DIR DAEMON [CMD]: the daemon's JSON reply (om-ipc speaks to the
# ctl socket directly: the counters are not all in `onionmesh status`).
ctl() { "$IPC" ctl "$1/run/ctl.$2" "{\"cmd\":\"${3:-status}\"}"; }
# The ids of m2's links that are up, sorted, on one line.
links_up() {
	ctl "$d2" linkd links | jq -c '[.links[] | select(.state == "up")
	    | .id] | sort'
}
# kv KEY LINE: the value of KEY=... in an om-probe/om-ipc output line.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
kvn() { local v; v=$(kv "$@"); echo "${v:-0}"; }   # the same, 0 if none
# ping_counts FILE: "transmitted received" from ping's summary.
ping_counts() {
	sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$1"
}

# ---------------------------------------------------------------------------
# Two members, as in test_two_members.sh

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

# shellcheck disable=SC2086
must "init m1" om1 init m1 --ipv4 $V41/16 --tcp $U1:6550 ${OM_INIT_ARGS:-}
# shellcheck disable=SC2086
must "init m2" om2 init m2 --ipv4 $V42/16 --tcp $U2:6550 \
    --root "$(conf_root "$d1")" ${OM_INIT_ARGS:-}
NETR="default:$(conf_root "$d1")"  # om-probe's NET:ROOT (the netid's)
chmod 755 "$d1" "$d2"
sandbox_off "$d1/onionmesh.conf" "$d2/onionmesh.conf"
must "export and import the records" eval "om1 export $T/m1.record &&
    om2 export $T/m2.record && om1 import $T/m2.record &&
    om2 import $T/m1.record"
must "up m1" timeout 60 ip netns exec "$ns1" "$OM" -d "$d1" up
must "up m2" timeout 60 ip netns exec "$ns2" "$OM" -d "$d2" up
must "link m1 <-> m2 carries IPv4 within 30 s" \
    wait_for 30 n1 ping -c 1 -W 1 $V42
id2=$(ctl "$d2" linkd | jq -r '.id // empty')
must "m2's linkd tells its member id" test -n "$id2"
n2 iperf3 -s >"$T/iperf3-server.log" 2>&1 &
bg_pids+=($!)
wait_for 10 n2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5201' || true

# ---------------------------------------------------------------------------
# Capture a real session from its first byte: m1's linkd is killed while
# the capture runs, so both members dial afresh (a handshake each way),
# then a UDP stream of small packets through the tunnel gives thousands
# of DATA frames.

stop=$T/capture.stop
n2 python3 "$CAPTURE" veth0 6550 "$T" "$stop" 60 $REPLAY_FRAMES \
    >"$T/capture.txt" 2>&1 &
cap=$!
bg_pids+=("$cap")
sleep 1
kill -KILL "$(daemon_pid "$d1" linkd)" 2>/dev/null || true
sleep 1
wait_for 30 n1 ping -c 1 -W 1 $V42 || true
wait_for 30 n2 ping -c 1 -W 1 $V41 || true
n1 timeout 20 iperf3 -c $V42 -u -b 10M -l 160 -t 2 \
    --connect-timeout 5000 >>"$T/commands.log" 2>&1 || true
n2 timeout 10 ping -c 20 -i 0.05 -W 1 $V41 >>"$T/commands.log" 2>&1 || true
touch "$stop"
wait "$cap" || true
capline=$(tail -n 1 "$T/capture.txt")
echo "# capture: $capline"
nframes=$(kv written "$capline")
check "captured at least $REPLAY_FRAMES frames of a live session (${nframes:-none}; $(kv hs_init "$capline") HS_INIT, $(kv hs_resp "$capline") HS_RESP)" \
    test "${nframes:-0}" -ge $REPLAY_FRAMES
check "the capture holds m1's HS_INIT to m2" test -s "$T/hsinit.bin"

linkd2=$(daemon_pid "$d2" linkd)
must "m2's linkd runs (pid $linkd2)" test -n "$linkd2"
must "link up again after the capture" wait_for 20 n1 ping -c 1 -W 1 $V42

# ---------------------------------------------------------------------------
# Replayed frames, each on a new connection, while m1 pings m2. m2's tund
# writes to its TUN device only what m2's linkd accepted from a session,
# so over the whole window its count must lie between the pings m1 got
# answered and the ones it sent: one replayed packet more and it is
# above.

replay_window() { # NAME PROBE-ARGS...: run om-probe frames under a ping
	local name=$1 up0 up1 tx0 tx1 rx0 rx1 pp out sent got
	shift
	up0=$(links_up)
	tx0=$(ctl "$d2" tund | jq '.tx_packets')
	rx0=$(ctl "$d2" linkd | jq '.counters.to_tund')
	n1 ping -n -q -c 40 -i 0.25 -W 1 $V42 >"$T/ping-$name.txt" 2>&1 &
	pp=$!
	bg_pids+=("$pp")
	out=$(n1 timeout 120 "$PROBE" frames $U2 6550 "$@") || true
	wait "$pp" || true
	tx1=$(ctl "$d2" tund | jq '.tx_packets')
	rx1=$(ctl "$d2" linkd | jq '.counters.to_tund')
	up1=$(links_up)
	read -r sent got < <(ping_counts "$T/ping-$name.txt") || true
	echo "# $name: $out; ping $sent sent, $got answered; m2 tund wrote" \
	    "$((tx1 - tx0)), linkd gave tund $((rx1 - rx0))"
	R_OUT=$out R_UP0=$up0 R_UP1=$up1 R_TX=$((tx1 - tx0))
	R_RX=$((rx1 - rx0)) R_SENT=${sent:-0} R_GOT=${got:-0}
}

replay_window frames "$T/frames.bin" 1
n=$(kv frames "$R_OUT")
check "replay: $n captured frames sent, each on a new connection ($(kv conns "$R_OUT") connections)" \
    test "${n:-0}" -ge $REPLAY_FRAMES -a "$(kv sent "$R_OUT")" = "$n"
check "replay: 0 bytes back ($(kv bytes "$R_OUT"))" test "$(kv bytes "$R_OUT")" = 0
check "replay: linkd closed every connection ($(kv closed "$R_OUT") of $(kv conns "$R_OUT"))" \
    test "$(kv closed "$R_OUT")" = "$(kv conns "$R_OUT")"
check "replay: no new link, the live ones unchanged ($R_UP0 -> $R_UP1)" \
    test "$R_UP0" = "$R_UP1" -a "$R_UP0" != "[]"
check "replay: 0 frames accepted: m2's tund wrote $R_TX packets, the ping had $R_GOT answered of $R_SENT" \
    test "$R_TX" -ge "$R_GOT" -a "$R_TX" -le "$R_SENT" -a "$R_GOT" -gt 0
check "replay: linkd passed tund $R_RX packets, within the same bounds" \
    test "$R_RX" -ge "$R_GOT" -a "$R_RX" -le "$R_SENT"

if [ -s "$T/stream.bin" ]; then
	replay_window stream "$T/stream.bin" 0 3
	check "replay of a whole captured stream (3 times): 0 bytes back, closed ($R_OUT)" \
	    test "$(kv bytes "$R_OUT")" = 0 -a "$(kv closed "$R_OUT")" = 3
	check "replay of a whole stream: no new link ($R_UP0 -> $R_UP1), tund wrote $R_TX for $R_GOT..$R_SENT pings" \
	    test "$R_UP0" = "$R_UP1" -a "$R_TX" -ge "$R_GOT" -a \
	    "$R_TX" -le "$R_SENT"
fi

hs0=$(ctl "$d2" linkd | jq '.counters.hs_ratelimited')
replay_window hsinit "$T/hsinit.bin" 1 1000
hs1=$(ctl "$d2" linkd | jq '.counters.hs_ratelimited')
check "replayed HS_INIT x1000: 0 bytes back, every connection closed ($R_OUT)" \
    test "$(kv conns "$R_OUT")" = 1000 -a "$(kv bytes "$R_OUT")" = 0 -a \
    "$(kv closed "$R_OUT")" = 1000
check "replayed HS_INIT x1000: 0 new sessions ($R_UP0 -> $R_UP1; $((hs1 - hs0)) stopped by the rate limit, the rest by the timestamp)" \
    test "$R_UP0" = "$R_UP1" -a "$R_UP0" != "[]"
check "replayed HS_INIT x1000: the live session undisturbed (ping $R_GOT of $R_SENT)" \
    test "$R_SENT" -gt 0 -a "$R_GOT" = "$R_SENT"

# ---------------------------------------------------------------------------
# Strangers: random bytes, low-order keys, bad lengths, unknown key.

n1 timeout 40 "$PROBE" truncated $U2 6550 30 >"$T/truncated.txt" 2>&1 &
trunc=$!
bg_pids+=("$trunc")
for n in 1 5 64 4096 65536; do
	got=$(n1 timeout 10 bash -c '
		exec 3<>/dev/tcp/'$U2'/6550 || exit 1
		head -c '"$n"' /dev/urandom >&3 2>/dev/null
		timeout 3 cat <&3 2>/dev/null | wc -c' 2>/dev/null) ||
		got="no connection"
	check "$n random bytes to m2's linkd: 0 bytes back (got: $got)" \
	    test "$got" = 0
done

sleep 2.5   # the source's handshake bucket refills (10/s, burst 20)
ref0=$(ctl "$d2" keyd | jq '.dh_refused')
hs0=$(ctl "$d2" linkd | jq '.counters.hs_ratelimited')
out=$(n1 timeout 20 "$PROBE" lowkey $U2 6550 "$id2" "$NETR") || true
ref1=$(ctl "$d2" keyd | jq '.dh_refused')
hs1=$(ctl "$d2" linkd | jq '.counters.hs_ratelimited')
echo "# lowkey: $out; keyd refused $((ref1 - ref0)) DHs; hs_ratelimited" \
    "+$((hs1 - hs0)); keyd timeouts logged by linkd so far:" \
    "$(grep -c 'keyd did not answer' "$d2/run/linkd.log" || true)"
check "low-order keys (7 points as ephemeral, 7 as static): 0 bytes back ($out)" \
    test "$(kv bytes "$out")" = 0 -a "$(kv conns "$out")" = 14
check "low-order keys: keyd refused exactly those 14 DHs ($((ref1 - ref0)))" \
    test $((ref1 - ref0)) -eq 14

out=$(n1 timeout 20 "$PROBE" oversize $U2 6550) || true
check "oversized length fields (3): 0 bytes back, closed at once ($out)" \
    test "$(kv bytes "$out")" = 0 -a "$(kv closed "$out")" = 3 -a \
    "$(printf '%.0f' "$(kv max_close_ms "$out")")" -lt 2000

out=$(n1 timeout 20 "$PROBE" stranger $U2 6550 "$id2" "$NETR") || true
check "a handshake from an unknown key: 0 bytes back ($out)" \
    test "$(kv bytes "$out")" = 0

wait "$trunc" || true
out=$(tail -n 1 "$T/truncated.txt")
check "truncated frames, then silence: 0 bytes back, closed by linkd within 15 s ($out)" \
    test "$(kv bytes "$out")" = 0 -a "$(kv closed "$out")" = 2 -a \
    "$(printf '%.0f' "$(kv max_close_ms "$out")")" -lt 15000
check "m2's linkd survived the strangers (pid $linkd2)" \
    test "$(daemon_pid "$d2" linkd)" = "$linkd2"
check "the link still carries traffic" wait_for 10 n1 ping -c 1 -W 1 $V42

# ---------------------------------------------------------------------------
# Handshake flood while iperf3 runs. The flooder runs at the lowest CPU
# priority: on a small test machine it shares the cores with both
# members, and what is measured is linkd's answer to the flood, not the
# flooder's own appetite.

iperf_mbps() { # JSON file -> Mbit/s received (0 when none)
	jq -r '(.end.sum_received.bits_per_second // 0) / 1e6 | floor' \
	    "$1" 2>/dev/null || echo 0
}
iperf_run() { # SECONDS NAME -> Mbit/s
	n1 timeout 30 iperf3 -c $V42 -t "$1" -O 1 -J --connect-timeout 5000 \
	    >"$T/iperf-$2.json" 2>&1 || true
	iperf_mbps "$T/iperf-$2.json"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The machine may be shared, and its load drifts: three rounds of 4 s
# without the flood and 4 s with it, compared in total, so the drift
# hits both sides alike. The flood runs 5 s per round (iperf3 -O 1
# omits its first second): 15 s of flood in all.
hs0=$(ctl "$d2" linkd | jq '.counters.hs_ratelimited')
up0=$(links_up)
c0=$(cpu_ticks "$linkd2")
base=0 flooded=0 rounds="" fsent=0 fbytes=0 frate=$FLOOD_RATE
for r in 1 2 3; do
	b=$(iperf_run 4 base$r)
	n1 nice -n 19 timeout 40 "$PROBE" flood $U2 6550 "$id2" "$NETR" \
	    "$FLOOD_RATE" 5 >"$T/flood$r.txt" 2>&1 &
	fl=$!
	bg_pids+=("$fl")
	sleep 0.3
	f=$(iperf_run 4 flood$r)
	wait "$fl" || true
	out=$(tail -n 1 "$T/flood$r.txt")
	base=$((base + b)) flooded=$((flooded + f))
	rounds="$rounds $b/$f"
	fsent=$((fsent + $(kvn sent "$out")))
	fbytes=$((fbytes + $(kvn bytes "$out")))
	[ "$(kvn rate "$out")" -ge "$frate" ] || frate=$(kvn rate "$out")
	echo "# flood round $r: iperf3 $b Mbit/s without, $f with; $out"
done
c1=$(cpu_ticks "$linkd2")
hs1=$(ctl "$d2" linkd | jq '.counters.hs_ratelimited')
up1=$(links_up)
echo "# flood: hs_ratelimited +$((hs1 - hs0)); m2's linkd used" \
    "$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.1f", c / hz }') s of CPU in the three rounds"
check "flood: $fsent handshakes, at least $frate/s in every round (asked $FLOOD_RATE/s), 0 bytes back ($fbytes)" \
    test "$fbytes" = 0 -a "$frate" -ge $((FLOOD_RATE / 2))
FLOOD_KEEP=${FLOOD_KEEP:-80}
check "flood: the link kept >= ${FLOOD_KEEP}% of its throughput ($((flooded / 3)) Mbit/s with, $((base / 3)) without: $((base > 0 ? flooded * 100 / base : 0))%; rounds without/with:$rounds)" \
    test "$base" -gt 0 -a $((flooded * 100)) -ge $((base * FLOOD_KEEP))
check "flood: linkd counted hs_ratelimited ($((hs1 - hs0)))" \
    test $((hs1 - hs0)) -gt 0
check "flood: the live links unchanged ($up0 -> $up1)" \
    test "$up0" = "$up1" -a "$up0" != "[]"

# ---------------------------------------------------------------------------
# 1,000 silent half-open connections.

fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
fd0=$(fd_count "$linkd2")
out=$(n1 timeout 60 "$PROBE" halfopen $U2 6550 1000 30) || true
fd_ok() { [ "$(fd_count "$linkd2")" -le $((fd0 + 3)) ]; }
wait_for 10 fd_ok || true
fd1=$(fd_count "$linkd2")
pend=$(ctl "$d2" linkd | jq '.pending_in')
echo "# halfopen: $out; linkd fds $fd0 before, $fd1 after; pending_in $pend"
check "1000 half-open connections: all connected and all closed by linkd ($out)" \
    test "$(kv connected "$out")" = 1000 -a "$(kv closed "$out")" = 1000 \
    -a "$(kv still_open "$out")" = 0 -a "$(kv bytes "$out")" = 0
check "half-open: the last one closed within 30 s ($(kv last_close_ms "$out") ms; $(kv closed_1s "$out") at once, the rest at the handshake timeout)" \
    test "$(printf '%.0f' "$(kv last_close_ms "$out")")" -lt 30000
check "half-open: linkd's fd count back to its baseline ($fd0 -> $fd1), none pending ($pend)" \
    test "$fd1" -le $((fd0 + 3)) -a "$pend" = 0
check "the link still carries traffic" wait_for 10 n1 ping -c 1 -W 1 $V42

# ---------------------------------------------------------------------------
# IPC from the wrong user: keyd.crypto answers linkd's user only.

sock=$d2/run/keyd.crypto
if id onionmesh-tund >/dev/null 2>&1 && id onionmesh-linkd >/dev/null 2>&1 &&
    [ "$(stat -c %U "/proc/$linkd2")" = onionmesh-linkd ]; then
	out=$(timeout 10 setpriv --reuid=onionmesh-tund --regid=onionmesh \
	    --clear-groups "$IPC" dh "$sock" 2000 2>&1) || true
	check "DH request to keyd.crypto as onionmesh-tund: nothing answered ($out)" \
	    test "$(kv answered "$out")" = 0
	check "keyd logged the refused IPC connection" \
	    wait_for 5 grep -q "refused IPC connection on .*keyd.crypto" \
	    "$d2/run/keyd.log"
	out=$(timeout 10 setpriv --reuid=onionmesh-linkd --regid=onionmesh \
	    --clear-groups "$IPC" dh "$sock" 2000 2>&1) || true
	check "control: the same request as onionmesh-linkd is answered ($out)" \
	    test "$(kv answered "$out")" = 1
else
	not_ok "IPC from the wrong user: the daemons do not run as their own users (privsep off?)"
fi

check "m2's linkd ran through every attack (pid $linkd2)" \
    test "$(daemon_pid "$d2" linkd)" = "$linkd2"
check "the link still carries traffic at the end" \
    wait_for 10 n1 ping -c 1 -W 1 $V42
