#!/usr/bin/env bash
# Throughput through one relay against the direct link, in one run on one
# machine: what forwarding through a member costs.
#
# Three onionmesh members a, b, c, each in its own network namespace,
# plugged into one bridge (in a fourth namespace) over TCP:
#
#   direct   a -> c on their own link (full mesh)
#   relay    a -> b -> c: a and c restarted with `noconnect` naming each
#            other, so routed sends a's packets for c to b, which relays
#            the end-to-end sealed frames without opening them
#
# Each is measured the same way as bench/run.sh measures a VPN: iperf3
# for SECS seconds with one and with four streams (as the receiver
# counted), the median of N pings, and the CPU time (user + system) of
# every onionmesh process of all three members per GB carried, so the
# relay's work is in the relay row. The relay row also reports how many
# frames b relayed, to show the traffic did go through it.
#
#   bench/mesh.sh [--time SECS] [--pings N] [--markdown FILE] [--no-build]
#
# Needs root. Builds onionmesh first (OM_BUILD, default build);
# OM_INIT_ARGS adds `init` flags. Everything it starts is ended and its
# namespaces and temporary files removed when it exits, for any reason.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

SECS=5
PINGS=20
MARKDOWN=""
BUILD=1

usage() {
	echo "usage: bench/mesh.sh [--time SECS] [--pings N]" \
	    "[--markdown FILE] [--no-build]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--time) [ $# -ge 2 ] || usage; SECS=$2; shift 2 ;;
	--pings) [ $# -ge 2 ] || usage; PINGS=$2; shift 2 ;;
	--markdown) [ $# -ge 2 ] || usage; MARKDOWN=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	-h|--help) usage ;;
	*) echo "bench: unknown argument '$1'" >&2; usage ;;
	esac
done
case $SECS in ''|*[!0-9]*) die "--time '$SECS': want whole seconds, 1..600" ;; esac
case $PINGS in ''|*[!0-9]*) die "--pings '$PINGS': want a count, 3..1000" ;; esac
if [ "$SECS" -lt 1 ] || [ "$SECS" -gt 600 ]; then
	die "--time '$SECS': want whole seconds, 1..600"
fi
if [ "$PINGS" -lt 3 ] || [ "$PINGS" -gt 1000 ]; then
	die "--pings '$PINGS': want a count, 3..1000"
fi
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, TUN devices)"
for c in ip ping iperf3 jq pgrep; do
	command -v "$c" >/dev/null || die "$c is missing (make deps)"
done

OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
OMCTL=$PWD/$OM_BUILD/tools/om-ctl
if [ $BUILD -eq 1 ]; then
	log "building onionmesh (make B=$OM_BUILD)"
	make B="$OM_BUILD" -j2 all >/dev/null || die "make failed"
fi
[ -x "$OM" ] && [ -x "$OMCTL" ] ||
	die "$OM or $OMCTL is missing: build them (make B=$OM_BUILD)"

T=$(mktemp -d /tmp/onionmesh-benchmesh.XXXXXX)
bl_track_dir "$T"
chmod 755 "$T"
trap bl_cleanup EXIT
trap 'exit 130' INT TERM

# The bridge lives in a namespace of its own, so deleting the namespaces
# removes it and every veth with it.
NS=ombm$$s
bl_netns "$NS"
nsx "$NS" ip link add br0 type bridge
nsx "$NS" ip link set br0 up
declare -A NSOF=() IDX=([a]=1 [b]=2 [c]=3)
for s in a b c; do
	i=${IDX[$s]}
	NSOF[$s]=ombm$$$s
	bl_netns "${NSOF[$s]}"
	ip -n "$NS" link add "v$s" type veth peer name veth0 \
	    netns "${NSOF[$s]}"
	ip -n "$NS" link set "v$s" master br0 up
	ip -n "${NSOF[$s]}" addr add "192.0.2.$i/24" dev veth0
	ip -n "${NSOF[$s]}" link set veth0 up
done
wait_for 10 nsx "${NSOF[a]}" ping -c 1 -W 1 192.0.2.3 ||
	die "the bridge does not carry 192.0.2.1 -> 192.0.2.3"

om_die() {
	local f
	for f in "$T"/om-*/run/*.log; do
		[ -f "$f" ] || continue
		echo "----- ${f#"$T"/} (last 20 lines)" >&2
		tail -n 20 "$f" >&2
	done
	die "$@"
}

om() { local s=$1; shift; nsx "${NSOF[$s]}" "$OM" -d "$T/om-$s" "$@"; }
om_up() {
	timeout 60 ip netns exec "${NSOF[$1]}" "$OM" -d "$T/om-$1" up \
	    >"$T/om-$1-up.log" 2>&1 ||
		om_die "onionmesh up ($1) failed: $(cat "$T/om-$1-up.log")"
}

for s in a b c; do
	i=${IDX[$s]}
	# a founds the network; b and c are set up by hand with its root.
	root=
	[ "$s" = a ] || root="--root $(sed -n 's/^root = //p' \
	    "$T/om-a/onionmesh.conf")"
	# shellcheck disable=SC2086
	om "$s" init "bench$s" --ipv4 "10.77.0.$i/16" --tcp "192.0.2.$i:6550" \
	    $root ${OM_INIT_ARGS:-} >/dev/null ||
		die "onionmesh init ($s) failed"
	chmod 755 "$T/om-$s"
	om "$s" export "$T/om-$s.record" || die "onionmesh export failed"
	BL_ONIONMESH+=("${NSOF[$s]} $T/om-$s")
done
for s in a b c; do
	for o in a b c; do
		[ "$s" = "$o" ] && continue
		om "$s" import "$T/om-$o.record" >/dev/null ||
			die "import of $o into $s failed"
	done
done
for s in a b c; do
	om_up "$s"
done

nsx "${NSOF[c]}" iperf3 -s >"$T/iperf3-server.log" 2>&1 &
bl_track_pid $!
wait_for 10 nsx "${NSOF[c]}" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5201' ||
	die "iperf3 server did not start"

# Every onionmesh process of the three members (supervisors included).
om_pids() {
	local s
	for s in a b c; do
		pgrep -f -- "$T/om-$s" || true
	done
}
# a's next hop for c, as routed sees it (a name, or "").
next_hop() {
	om a routes --json 2>/dev/null | jq -r \
	    '[.routes[]? | select(.dest == "benchc") | .next_hop] | first // ""'
}
hop_is() { [ "$(next_hop)" = "$1" ]; }
forwarded() {
	"$OMCTL" "$T/om-b/run/ctl.linkd" '{"cmd":"status"}' 2>/dev/null |
	    jq -r '.forward.forwarded // 0' || echo 0
}

HZ=$(getconf CLK_TCK)
declare -A R=()

# measure ROW: a -> c (10.77.0.3) as bench/run.sh measures a VPN.
measure() {
	local v=$1 p t0 t1 out bps bytes f0 f1
	local -a pids
	wait_for 30 nsx "${NSOF[a]}" ping -c 1 -W 1 10.77.0.3 ||
		om_die "$v: 10.77.0.3 does not answer a's ping within 30 s"
	mapfile -t pids < <(om_pids)
	f0=$(forwarded)
	R[$v.rtt]=$(ping_median "${NSOF[a]}" 10.77.0.3 "$PINGS")
	for p in 1 4; do
		out=$T/iperf-$v-P$p.json
		t0=$(cpu_ticks "${pids[@]}")
		read -r bps bytes < <(iperf_run "${NSOF[a]}" 10.77.0.3 "$SECS" \
		    $p "$out" || echo "- -")
		t1=$(cpu_ticks "${pids[@]}")
		if [ "$bps" = - ]; then
			R[$v.mbps$p]=-
			R[$v.cpu$p]=-
			continue
		fi
		R[$v.mbps$p]=$(awk -v b="$bps" 'BEGIN { printf "%.0f", b / 1e6 }')
		R[$v.cpu$p]=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v by="$bytes" \
		    'BEGIN { printf "%.2f", (t / hz) / (by / 1e9) }')
	done
	f1=$(forwarded)
	R[$v.fwd]=$((f1 - f0))
	R[$v.hop]=$(next_hop)
	for p in "${pids[@]}"; do
		[ -d "/proc/$p" ] ||
			log "WARNING: onionmesh process $p died during the run"
	done
	log "$v (next hop ${R[$v.hop]}): ${R[$v.mbps1]} / ${R[$v.mbps4]}" \
	    "Mbit/s, rtt ${R[$v.rtt]} ms, cpu ${R[$v.cpu1]} /" \
	    "${R[$v.cpu4]} s/GB, b relayed ${R[$v.fwd]} frames"
}

# ---- direct
log "direct: waiting for a's link to c"
wait_for 30 hop_is benchc || om_die "a has no direct route to c within 30 s"
measure direct

# ---- relay: a and c may no longer link; routed sends a's packets via b
log "relay: restarting a and c with noconnect"
for s in a c; do
	timeout 30 "$OM" -d "$T/om-$s" down >/dev/null 2>&1 ||
		die "onionmesh down ($s) failed"
done
echo "noconnect = benchc" >>"$T/om-a/onionmesh.conf"
echo "noconnect = bencha" >>"$T/om-c/onionmesh.conf"
om_up c
om_up a
wait_for 40 hop_is benchb ||
	om_die "a does not route to c through b within 40 s"
measure relay
[ "${R[relay.fwd]}" -gt 0 ] ||
	die "b relayed nothing: the relay row did not go through b"

ratio() { # a b: a/b with two decimals, or - when either is not a number
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "-"
		else printf "%.2f\n", a / b }'
}

report() {
	echo "Mesh benchmark: iperf3 -t $SECS, ping -c $PINGS -i 0.2;" \
	    "$(nproc) CPUs, $(uname -r)"
	echo
	echo "| a -> c | next hop | Mbit/s -P1 | Mbit/s -P4 | RTT ms (median) | CPU-s/GB -P1 | CPU-s/GB -P4 | frames b relayed |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	for v in direct relay; do
		echo "| $v | ${R[$v.hop]} | ${R[$v.mbps1]} | ${R[$v.mbps4]} |" \
		    "${R[$v.rtt]} | ${R[$v.cpu1]} | ${R[$v.cpu4]} |" \
		    "${R[$v.fwd]} |"
	done
	echo
	echo "relay / direct: throughput -P1 $(ratio "${R[relay.mbps1]}" \
	    "${R[direct.mbps1]}"), -P4 $(ratio "${R[relay.mbps4]}" \
	    "${R[direct.mbps4]}"); CPU-s/GB -P1 $(ratio "${R[relay.cpu1]}" \
	    "${R[direct.cpu1]}"), -P4 $(ratio "${R[relay.cpu4]}" \
	    "${R[direct.cpu4]}"); RTT $(ratio "${R[relay.rtt]}" \
	    "${R[direct.rtt]}")"
}

report
[ -z "$MARKDOWN" ] || report >"$MARKDOWN"
