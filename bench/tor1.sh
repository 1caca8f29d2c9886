#!/usr/bin/env bash
# One quick side-by-side of a raw SOCKS stream and onionmesh over one
# Tor circuit, with the diagnostics that say where onionmesh loses
# throughput (bench/tor.sh is the full benchmark; this is for finding
# causes). Same set-up as bench/tor.sh: a private Tor network
# (tests/tornet/tornet.sh), two members in network namespaces with only
# loopback, tor through Unix sockets, circuits = 1.
#
#   bench/tor1.sh [--time SECS] [--rounds N] [--variants "V..."]
#
# Each round: raw (bench/torbench.py send, a fresh circuit), then one
# iperf3 -t SECS from A to B per variant: base (the kernel's default
# congestion control, bbr here), cubic (iperf3 -C cubic), fresh (kill -9
# both linkd first, so the link and its circuit are new). Environment:
#   RAW_WARM=1  also a raw stream whose circuit first carries a trickle
#               (a cell every 20 ms for ~2.6 s), as a VPN link's circuit
#               carries keepalives before any bulk
#   KIST_MS=N   every tor of the network ticks its KIST scheduler every
#               N ms instead of 10
#   OM_BUILD    build dir (default build); OUT: where the diagnostics go
#               (default /tmp/tor1-out)
# Around each run it records: CPU ticks of every tor, of each member's
# daemons and of the whole machine; nstat (retransmits, ...) and the TUN
# device's and qdisc's counters in both namespaces; linkd's links and
# status (pause counters); every 0.5 s ss -ti of the inner flow, linkd's
# queue, the queues of the Unix sockets to and from tor; and both tor
# clients' CIRC_BW events (per circuit and second: cells' bytes, and
# tor's congestion control state SS, CWND, RTT, MIN_RTT). A one-line
# summary per run goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

SECS=10
ROUNDS=1
VARIANTS=base
OUT=${OUT:-/tmp/tor1-out}
while [ $# -gt 0 ]; do
	case $1 in
	--time) SECS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--variants) VARIANTS=$2; shift 2 ;;
	*) die "usage: bench/tor1.sh [--time SECS] [--rounds N] [--variants \"V...\"]" ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "needs root"
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
[ -x "$OM" ] || die "$OM is missing: build it (make B=$OM_BUILD)"
TORNET=$PWD/tests/tornet/tornet.sh
TB=$PWD/bench/torbench.py
# A fresh OUT each run; only a dir under /tmp is ever emptied.
case $OUT in
/tmp/?*) rm -rf -- "$OUT" ;;
*) [ -z "$(ls -A "$OUT" 2>/dev/null)" ] || die "OUT=$OUT is not empty" ;;
esac
mkdir -p "$OUT"

T=$(mktemp -d /tmp/onionmesh-tor1.XXXXXX)
bl_track_dir "$T"
chmod 755 "$T"
TN=$T/tornet
cleanup() {
	set +e
	trap '' INT TERM HUP PIPE
	"$TORNET" stop "$TN" >/dev/null 2>&1
	bl_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

log "starting a private Tor network"
"$TORNET" start "$TN" 2 >&2 || die "tornet start failed"
"$TORNET" wait "$TN" 120 >&2 || die "the Tor network did not bootstrap"
# KIST_MS=N: every tor of the network ticks its KIST scheduler every N ms
# instead of 10 (torrc + SIGHUP): shows what the scheduler's tick does to
# the loaded RTT that TCP and tor's congestion control see.
if [ -n "${KIST_MS:-}" ]; then
	for d in "$TN"/auth* "$TN"/relay* "$TN"/client*; do
		echo "KISTSchedRunInterval $KIST_MS msec" >>"$d/torrc"
		# a client writes its pid as debian-tor, into its run/
		kill -HUP "$(cat "$d/run/tor.pid" 2>/dev/null || cat "$d/pid")"
	done
	sleep 2
	grep -h "KIST\|Received reload" "$TN"/client0/notice.log | tail -2 >&2 || true
fi
C0=$TN/client0/run
C1=$TN/client1/run
NA=omt1$$a
NB=omt1$$b
bl_netns "$NA"
bl_netns "$NB"
ip netns exec "$NB" iperf3 -s >"$T/iperf3-server.log" 2>&1 &
bl_track_pid $!

mkdir -p "$T/raw"
python3 "$TB" sink "$T/raw/sink.sock" 2>"$T/raw/sink.log" &
bl_track_pid $!
wait_for 10 test -S "$T/raw/sink.sock" || die "sink did not start"
SINK=$(python3 "$TB" add-onion "$C1/control" "$C1/control.authcookie" \
    9000 "unix:$T/raw/sink.sock") || die "ADD_ONION failed"

for s in a b; do
	i=1; ns=$NA; c=$C0
	[ $s = b ] && { i=2; ns=$NB; c=$C1; }
	# a founds the network; b is set up by hand with its root.
	root=
	[ $s = a ] || root="--root $(sed -n 's/^root = //p' \
	    "$T/om-a/onionmesh.conf")"
	# shellcheck disable=SC2086 # no flag or one, split on purpose
	nsx "$ns" "$OM" -d "$T/om-$s" init "t1$s" --ipv4 10.77.0.$i/16 \
	    --tor-control "unix:$c/control" --tor-socks "unix:$c/socks" \
	    $root >/dev/null || die "init failed"
	chmod 755 "$T/om-$s"
	sed -i "s/^circuits = .*/circuits = 1/" "$T/om-$s/onionmesh.conf"
	"$OM" -d "$T/om-$s" export "$T/om-$s.record" || die "export failed"
	BL_ONIONMESH+=("$ns $T/om-$s")
done
"$OM" -d "$T/om-a" import "$T/om-b.record" >/dev/null
"$OM" -d "$T/om-b" import "$T/om-a.record" >/dev/null
for s in a b; do
	ns=$NA; [ $s = b ] && ns=$NB
	timeout 60 ip netns exec "$ns" "$OM" -d "$T/om-$s" up \
	    >"$T/om-$s-up.log" 2>&1 || die "up $s failed: $(cat "$T/om-$s-up.log")"
done
wait_for 90 nsx "$NA" ping -c 1 -W 2 10.77.0.2 || die "no link within 90 s"

tor_pids() { cat "$TN"/*/pid "$TN"/*/run/tor.pid 2>/dev/null; }
ns_pids() { ip netns pids "$1" 2>/dev/null; }
om_pids() { # NS: the onionmesh daemons in it
	local p
	for p in $(ns_pids "$1"); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in
		onionmesh*) echo "$p" ;;
		esac
	done
}
cpu_all() { awk '/^cpu / { print $2+$3+$4+$6+$7+$8, $5 }' /proc/stat; }

# snap TAG: counters of both members and the CPU at this moment.
snap() {
	local tag=$1 s ns
	for s in a b; do
		ns=$NA; [ $s = b ] && ns=$NB
		nsx "$ns" "$OM" -d "$T/om-$s" links --json >"$OUT/$tag-links-$s.json" 2>&1 || true
		nsx "$ns" "$OM" -d "$T/om-$s" status --json >"$OUT/$tag-status-$s.json" 2>&1 || true
		nsx "$ns" nstat -az >"$OUT/$tag-nstat-$s.txt" 2>&1 || true
		nsx "$ns" tc -s qdisc show >"$OUT/$tag-qdisc-$s.txt" 2>&1 || true
		nsx "$ns" ip -s link show >"$OUT/$tag-link-$s.txt" 2>&1 || true
	done
	# shellcheck disable=SC2046 # pid lists, split on purpose
	{
		echo "tor $(cpu_ticks $(tor_pids))"
		for p in $(tor_pids); do echo "tor.$p $(cpu_ticks "$p")"; done
		echo "oma $(cpu_ticks $(om_pids "$NA"))"
		echo "omb $(cpu_ticks $(om_pids "$NB"))"
		for p in $(om_pids "$NA"); do echo "a.$(cat /proc/$p/comm) $(cpu_ticks "$p")"; done
		for p in $(om_pids "$NB"); do echo "b.$(cat /proc/$p/comm) $(cpu_ticks "$p")"; done
		echo "machine $(cpu_all)"
	} >"$OUT/$tag-cpu.txt"
}

# ux_loop FILE: the queues of the Unix stream sockets to and from tor (in
# the root namespace: tor's ends; in A and B: linkd's) every 0.5 s.
ux_loop() {
	while :; do
		echo "@ $(date +%s.%N)"
		echo "root"; ss -xn | awk '$3 > 0 || $4 > 0' | grep -v LISTEN | head -20
		echo "A"; ip netns exec "$NA" ss -xn | awk '$3 > 0 || $4 > 0' | grep -v LISTEN | head -20
		echo "B"; ip netns exec "$NB" ss -xn | awk '$3 > 0 || $4 > 0' | grep -v LISTEN | head -20
		sleep 0.5
	done >"$1"
}

# ss_loop NS FILE DIR: ss -ti of the inner flow, linkd's links and the
# TUN's qdisc every 0.5 s until killed.
ss_loop() {
	while :; do
		echo "@ $(date +%s.%N)"
		ip netns exec "$1" ss -tin 'dport = :5201 or sport = :5201' 2>/dev/null
		ip netns exec "$1" "$OM" -d "$3" links --json 2>/dev/null |
		    jq -c '[.links[] | {queued, tx_bytes, rx_bytes, tx_packets, rx_packets}]' 2>/dev/null
		ip netns exec "$1" tc -s qdisc show dev om-default 2>/dev/null | grep -E 'backlog|dropped'
		sleep 0.5
	done >"$2"
}

# tor_events SOCKDIR FILE: tor's CIRC_BW events (per circuit and second:
# bytes, and its congestion control's CWND, RTT, MIN_RTT, SS) until
# killed.
tor_events() {
	exec python3 -u -c '
import socket, sys, time
ctl, cookie = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(ctl)
f = s.makefile("rwb")
ck = open(cookie, "rb").read()
f.write(b"AUTHENTICATE " + ck.hex().encode() + b"\r\n")
f.write(b"SETEVENTS CIRC_BW\r\n")
f.flush()
for line in f:
    sys.stdout.write("%.3f %s" % (time.monotonic(), line.decode(errors="replace")))
' "$1/control" "$1/control.authcookie" >"$2" 2>&1
}

cpu_delta() { # TAG KEY: ticks of KEY between TAG-pre and TAG-post
	awk -v k="$2" 'FNR == 1 { f++ } $1 == k { v[f] = $2 }
	    END { print v[2] - v[1] }' "$OUT/$1-pre-cpu.txt" "$OUT/$1-post-cpu.txt"
}

variant_args() {
	case $1 in
	base|fresh) echo "" ;;
	cubic) echo "-C cubic" ;;
	*) die "unknown variant $1" ;;
	esac
}

for r in $(seq 1 "$ROUNDS"); do
	tag=r$r-raw
	snap "$tag-pre"
	tor_events "$C0" "$OUT/$tag-tor0.txt" &
	e0=$!
	tor_events "$C1" "$OUT/$tag-tor1.txt" &
	e1=$!
	ux_loop "$OUT/$tag-ux.txt" &
	ux=$!
	read -r bytes secs mb2 < <(python3 "$TB" send "unix:$C0/socks" \
	    "$SINK" 9000 "$SECS") || die "raw send failed"
	kill "$e0" "$e1" "$ux" 2>/dev/null
	wait "$e0" "$e1" "$ux" 2>/dev/null || true
	snap "$tag-post"
	raw=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.2f", b / s / 1e6 }')
	echo "$raw $mb2" >"$OUT/$tag-result.txt"
	log "round $r raw: $raw MB/s (2nd half $mb2); tor cpu $(cpu_delta "$tag" tor) ticks"
	if [ "${RAW_WARM:-0}" = 1 ]; then
		tag=r$r-rawwarm
		snap "$tag-pre"
		tor_events "$C0" "$OUT/$tag-tor0.txt" &
		e0=$!
		read -r bytes secs _ < <(python3 "$TB" sendwarm \
		    "unix:$C0/socks" "$SINK" 9000 "$SECS") ||
			die "raw (idle first) failed"
		kill "$e0" 2>/dev/null; wait "$e0" 2>/dev/null || true
		snap "$tag-post"
		rawwarm=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.2f", b / s / 1e6 }')
		echo "$rawwarm" >"$OUT/$tag-result.txt"
		log "round $r raw, idle first: $rawwarm MB/s"
	fi
	for v in $VARIANTS; do
		tag=r$r-$v
		if [ "$v" = fresh ]; then
			# A new link, so a new circuit: kill -9 both linkd
			# (onionmesh up restarts them); bulk starts as soon
			# as a ping crosses.
			for p in $(om_pids "$NA") $(om_pids "$NB"); do
				[ "$(cat "/proc/$p/comm")" = onionmesh-linkd ] &&
					kill -9 "$p"
			done
			sleep 0.5
			wait_for 90 nsx "$NA" ping -c 1 -W 1 10.77.0.2 ||
				die "no link again within 90 s"
		fi
		snap "$tag-pre"
		ss_loop "$NA" "$OUT/$tag-ss-a.txt" "$T/om-a" &
		sa=$!
		ss_loop "$NB" "$OUT/$tag-ss-b.txt" "$T/om-b" &
		sb=$!
		tor_events "$C0" "$OUT/$tag-tor0.txt" &
		e0=$!
		tor_events "$C1" "$OUT/$tag-tor1.txt" &
		e1=$!
		ux_loop "$OUT/$tag-ux.txt" &
		ux=$!
		# shellcheck disable=SC2046
		nsx "$NA" timeout $((SECS + 20)) iperf3 -c 10.77.0.2 -t "$SECS" \
		    -J $(variant_args "$v") >"$OUT/$tag-iperf.json" 2>&1 || true
		kill "$sa" "$sb" "$e0" "$e1" "$ux" 2>/dev/null
		wait "$sa" "$sb" "$e0" "$e1" "$ux" 2>/dev/null || true
		snap "$tag-post"
		om=$(jq -r '.end.sum_received.bits_per_second / 8e6 | . * 100 | round / 100' \
		    "$OUT/$tag-iperf.json" 2>/dev/null || echo -)
		retr=$(jq -r '.end.sum_sent.retransmits' "$OUT/$tag-iperf.json" 2>/dev/null || echo -)
		rtt=$(jq -r '.end.streams[0].sender.mean_rtt / 1000' "$OUT/$tag-iperf.json" 2>/dev/null || echo -)
		ratio=$(awk -v a="$om" -v b="$raw" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
		log "round $r $v: $om MB/s = $ratio x raw; retransmits $retr; mean rtt $rtt ms;" \
		    "tor cpu $(cpu_delta "$tag" tor) ticks, a $(cpu_delta "$tag" oma), b $(cpu_delta "$tag" omb)"
		echo "$raw $om $ratio $retr $rtt" >"$OUT/$tag-result.txt"
	done
done
cp -r "$T"/om-a/run "$OUT/run-a" 2>/dev/null || true
cp -r "$T"/om-b/run "$OUT/run-b" 2>/dev/null || true
cp "$TN"/client*/notice.log "$OUT/" 2>/dev/null || true
log "diagnostics in $OUT"
