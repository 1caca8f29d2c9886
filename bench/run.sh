#!/usr/bin/env bash
# The onionmesh benchmark: onionmesh over TCP against the VPNs it should be
# measured by, in one run on one machine, under the same conditions.
#
# Two network namespaces joined by a veth pair (192.0.2.1 <-> 192.0.2.2)
# stand for two hosts. Side by side on that one link run
#   onionmesh     10.77.0.1 <-> 10.77.0.2   (its own TCP transport)
#   tinc 1.0      10.78.0.1 <-> 10.78.0.2   (TCPOnly = yes, router mode)
#   wireguard-go  10.79.0.1 <-> 10.79.0.2   (userspace, UDP)
#   veth          192.0.2.1 <-> 192.0.2.2   (no VPN: the ceiling)
#   baseline      10.76.0.1 <-> 10.76.0.2   (with --baseline: another
#                                            build of onionmesh, such as
#                                            the previous commit's)
# and each is measured the same way: iperf3 for SECS seconds with one and
# with four streams, the median of 20 pings, and the CPU time (user +
# system) all of that VPN's processes on both ends spent per GB carried.
# tinc is the fair peer for a VPN over TCP in user space; wireguard-go is
# the userspace VPN to beat.
#
#   bench/run.sh [--only onionmesh,tinc,wg,veth] [--time SECS]
#                [--pings N] [--markdown FILE] [--no-build]
#                [--baseline BUILD_DIR]
#
# --baseline runs a second onionmesh from BUILD_DIR (built by the caller,
# e.g. `git worktree add /tmp/prev HEAD~1 && make -C /tmp/prev`) in the
# same run, and prints this build's ratios to it: a change that should
# not move performance is checked against the commit before it.
#
# Needs root (namespaces, TUN). Installs its tools when missing and builds
# onionmesh first. Everything it starts is ended, and the namespaces and
# temporary files removed, when it exits for any reason. Environment:
# OM_BUILD (build dir, default build), OM_INIT_ARGS (extra `init` flags).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ALL=(onionmesh tinc wg veth)
ONLY="onionmesh,tinc,wg,veth"
SECS=5
PINGS=20
MARKDOWN=""
BUILD=1
BASE_BUILD=""

usage() {
	echo "usage: bench/run.sh [--only onionmesh,tinc,wg,veth] [--time SECS]" >&2
	echo "                    [--pings N] [--markdown FILE] [--no-build]" >&2
	echo "                    [--baseline BUILD_DIR]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--only) [ $# -ge 2 ] || usage; ONLY=$2; shift 2 ;;
	--time) [ $# -ge 2 ] || usage; SECS=$2; shift 2 ;;
	--pings) [ $# -ge 2 ] || usage; PINGS=$2; shift 2 ;;
	--markdown) [ $# -ge 2 ] || usage; MARKDOWN=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--baseline) [ $# -ge 2 ] || usage; BASE_BUILD=$2; shift 2 ;;
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

declare -A WANT=()
IFS=, read -r -a only_list <<<"$ONLY"
for v in "${only_list[@]}"; do
	case $v in
	onionmesh|tinc|wg|veth) WANT[$v]=1 ;;
	wireguard|wireguard-go) WANT[wg]=1 ;;
	*) die "--only: unknown VPN '$v' (want onionmesh, tinc, wg, veth)" ;;
	esac
done
if [ -n "$BASE_BUILD" ]; then
	[ -x "$BASE_BUILD/onionmesh" ] ||
		die "--baseline '$BASE_BUILD': no onionmesh built there (want a make B= dir)"
	BASE_BUILD=$(cd "$BASE_BUILD" && pwd)
	WANT[baseline]=1
	ALL+=(baseline)
fi
want() { [ -n "${WANT[$1]:-}" ]; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, TUN devices)"

# --- tools -----------------------------------------------------------------
declare -A PKG_OF=([ip]=iproute2 [ping]=iputils-ping [iperf3]=iperf3
    [jq]=jq [pgrep]=procps [tincd]=tinc [wireguard-go]=wireguard-go
    [wg]=wireguard-tools)
missing=()
for c in ip ping iperf3 jq pgrep; do
	command -v "$c" >/dev/null || missing+=("${PKG_OF[$c]}")
done
if want tinc; then command -v tincd >/dev/null || missing+=(tinc); fi
if want wg; then
	for c in wireguard-go wg; do
		command -v "$c" >/dev/null || missing+=("${PKG_OF[$c]}")
	done
fi
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	apt-get -o DPkg::Lock::Timeout=300 update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
	    install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# OM_BUILD: the build dir to use (make's B=), "build" by default.
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
if want onionmesh && [ $BUILD -eq 1 ]; then
	log "building onionmesh (make B=$OM_BUILD)"
	make B="$OM_BUILD" -j2 all >/dev/null || die "make failed"
fi
if want onionmesh; then
	[ -x "$OM" ] || die "$OM is missing: build it (make B=$OM_BUILD)"
fi

# --- the two hosts ---------------------------------------------------------
T=$(mktemp -d /tmp/onionmesh-bench.XXXXXX)
bl_track_dir "$T"
# Daemons under privilege separation run as their own users: they must be
# able to reach their dirs below this one.
chmod 755 "$T"
trap bl_cleanup EXIT
trap 'exit 130' INT TERM

NA=omb$$a
NB=omb$$b
UA=192.0.2.1
UB=192.0.2.2
bl_netns "$NA"
bl_netns "$NB"
ip -n "$NA" link add veth0 type veth peer name veth0 netns "$NB"
ip -n "$NA" addr add $UA/24 dev veth0
ip -n "$NB" addr add $UB/24 dev veth0
ip -n "$NA" link set veth0 up
ip -n "$NB" link set veth0 up
wait_for 10 nsx "$NA" ping -c 1 -W 1 $UB || die "veth $UA -> $UB is not up"

# One iperf3 server in B serves every VPN's address in turn.
ip netns exec "$NB" iperf3 -s >"$T/iperf3-server.log" 2>&1 &
bl_track_pid $!
wait_for 10 nsx "$NB" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5201' ||
	die "iperf3 server in $NB did not start"

# --- starting each VPN; each sets ADDR_B (B's inner address) and VPN_PIDS ---
# A process put in the background is started with `ip netns exec`, which
# execs it, so $! is its own pid (a shell function would fork a subshell).
start_veth() {
	ADDR_B=$UB
	VPN_PIDS=()
}

start_tinc() {
	local s i ns d
	for s in a b; do
		d=$T/tinc-$s
		mkdir -p "$d/hosts"
		i=1; ns=$NA; [ $s = b ] && { i=2; ns=$NB; }
		{
			echo "Name = $s"
			echo "Mode = router"
			echo "TCPOnly = yes"
			echo "Interface = tinc0"
			echo "AddressFamily = ipv4"
			[ $s = a ] && echo "ConnectTo = b"
		} >"$d/tinc.conf"
		{
			echo "Address = 192.0.2.$i"
			echo "Port = 655"
			echo "Subnet = 10.78.0.$i/32"
		} >"$d/hosts/$s"
		# shellcheck disable=SC2016 # $INTERFACE is tinc's, at run time
		printf '#!/bin/sh\nip addr add 10.78.0.%s/24 dev "$INTERFACE"\nip link set "$INTERFACE" up\n' \
		    $i >"$d/tinc-up"
		chmod 755 "$d/tinc-up"
		tincd -c "$d" -K </dev/null >"$d/keygen.log" 2>&1 ||
			die "tincd -K failed: $(cat "$d/keygen.log")"
	done
	cp "$T/tinc-a/hosts/a" "$T/tinc-b/hosts/a"
	cp "$T/tinc-b/hosts/b" "$T/tinc-a/hosts/b"
	VPN_PIDS=()
	for s in b a; do
		d=$T/tinc-$s
		ns=$NA; [ $s = b ] && ns=$NB
		ip netns exec "$ns" tincd -c "$d" -D --pidfile="$d/tincd.pid" \
		    >"$d/tincd.log" 2>&1 &
		bl_track_pid $!
		VPN_PIDS+=($!)
	done
	ADDR_B=10.78.0.2
}

start_wg() {
	local s i ns d ifn peer j
	d=$T/wg
	mkdir -p "$d"
	for s in a b; do
		(umask 077; wg genkey >"$d/$s.key")
		wg pubkey <"$d/$s.key" >"$d/$s.pub"
	done
	VPN_PIDS=()
	for s in a b; do
		i=1; j=2; ns=$NA; peer=b
		[ $s = b ] && { i=2; j=1; ns=$NB; peer=a; }
		# The UAPI socket (/var/run/wireguard/IF.sock) is not per
		# namespace: the interface names must differ machine-wide.
		ifn=wgb$$$s
		WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error \
		    ip netns exec "$ns" wireguard-go -f "$ifn" >"$d/$s.log" 2>&1 &
		bl_track_pid $!
		VPN_PIDS+=($!)
		wait_for 10 test -S "/var/run/wireguard/$ifn.sock" ||
			die "wireguard-go did not create $ifn: $(cat "$d/$s.log")"
		nsx "$ns" wg set "$ifn" listen-port 51820 \
		    private-key "$d/$s.key" \
		    peer "$(cat "$d/$peer.pub")" allowed-ips 10.79.0.$j/32 \
		    endpoint 192.0.2.$j:51820
		nsx "$ns" ip addr add 10.79.0.$i/24 dev "$ifn"
		nsx "$ns" ip link set "$ifn" up
	done
	ADDR_B=10.79.0.2
}

# die, after the last lines of each onionmesh daemon's log.
om_die() {
	local f
	for f in "$T"/om-*/run/*.log "$T"/omb-*/run/*.log; do
		[ -f "$f" ] || continue
		echo "----- ${f#"$T"/} (last 20 lines)" >&2
		tail -n 20 "$f" >&2
	done
	die "$@"
}

# om_pair BINARY TAG NET PORT [IFNAME]: two members a and b of one
# network, from that build, on NET.0.1 and NET.0.2 (/16), linked over TCP
# PORT; IFNAME names their TUN devices when another pair shares the
# namespaces.
om_pair() {
	local om=$1 tag=$2 net=$3 port=$4 ifname=${5:-} s i ns d root
	for s in a b; do
		d=$T/$tag-$s
		i=1; ns=$NA; [ $s = b ] && { i=2; ns=$NB; }
		# a founds the network; b is set up by hand with its root.
		root=
		[ $s = a ] || root="--root $(sed -n 's/^root = //p' \
		    "$T/$tag-a/onionmesh.conf")"
		# shellcheck disable=SC2086 # extra flags, split on purpose
		nsx "$ns" "$om" -d "$d" init "$tag$s" --ipv4 $net.0.$i/16 \
		    --tcp 192.0.2.$i:$port $root ${OM_INIT_ARGS:-} ||
			die "$tag: onionmesh init failed"
		[ -z "$ifname" ] ||
			sed -i "s/^interface = .*/interface = $ifname/" "$d/onionmesh.conf"
		chmod 755 "$d"
		"$om" -d "$d" export "$T/$tag-$s.record" ||
			die "$tag: onionmesh export failed"
	done
	"$om" -d "$T/$tag-a" import "$T/$tag-b.record" ||
		die "$tag: import into a failed"
	"$om" -d "$T/$tag-b" import "$T/$tag-a.record" ||
		die "$tag: import into b failed"
	for s in a b; do
		d=$T/$tag-$s
		ns=$NA; [ $s = b ] && ns=$NB
		BL_ONIONMESH+=("$ns $d")
		timeout 60 ip netns exec "$ns" "$om" -d "$d" up \
		    >"$T/$tag-$s-up.log" 2>&1 ||
			om_die "$tag: onionmesh up ($s) failed: $(cat "$T/$tag-$s-up.log")"
	done
	VPN_PIDS=()
	for s in a b; do
		# Every process whose command line names the member's dir:
		# the supervisor and its four daemons.
		mapfile -t -O ${#VPN_PIDS[@]} VPN_PIDS \
		    < <(pgrep -f -- "$T/$tag-$s" || true)
	done
	[ ${#VPN_PIDS[@]} -gt 0 ] || die "$tag: no onionmesh process found"
	ADDR_B=$net.0.2
}

start_onionmesh() {
	om_pair "$OM" om 10.77 6550
}

start_baseline() {
	om_pair "$BASE_BUILD/onionmesh" omb 10.76 6551 om-base
}

# --- measuring ---------------------------------------------------------------
HZ=$(getconf CLK_TCK)
declare -A R=()

measure() {
	local v=$1 p t0 t1 out bps bytes
	if ! wait_for 30 nsx "$NA" ping -c 1 -W 1 "$ADDR_B"; then
		[ "$v" != onionmesh ] && [ "$v" != baseline ] ||
			om_die "$v: no link within 30 s"
		die "$v: $ADDR_B does not answer ping from $NA within 30 s"
	fi
	R[$v.rtt]=$(ping_median "$NA" "$ADDR_B" "$PINGS")
	for p in 1 4; do
		out=$T/iperf-$v-P$p.json
		t0=$(cpu_ticks "${VPN_PIDS[@]}")
		read -r bps bytes < <(iperf_run "$NA" "$ADDR_B" "$SECS" $p "$out" ||
		    echo "- -")
		t1=$(cpu_ticks "${VPN_PIDS[@]}")
		if [ "$bps" = - ]; then
			R[$v.mbps$p]=-
			R[$v.cpu$p]=-
			continue
		fi
		R[$v.mbps$p]=$(awk -v b="$bps" 'BEGIN { printf "%.0f", b / 1e6 }')
		if [ ${#VPN_PIDS[@]} -eq 0 ]; then
			R[$v.cpu$p]=n/a
		else
			R[$v.cpu$p]=$(awk -v t=$((t1 - t0)) -v hz="$HZ" \
			    -v by="$bytes" \
			    'BEGIN { printf "%.2f", (t / hz) / (by / 1e9) }')
		fi
	done
	# A process that died (and was restarted) took its CPU time along.
	for p in "${VPN_PIDS[@]}"; do
		[ -d "/proc/$p" ] ||
			log "WARNING: $v process $p died during the run:" \
			    "its CPU time is missing"
	done
	log "$v: ${R[$v.mbps1]} / ${R[$v.mbps4]} Mbit/s, rtt ${R[$v.rtt]} ms," \
	    "cpu ${R[$v.cpu1]} / ${R[$v.cpu4]} s/GB" \
	    "(${#VPN_PIDS[@]} processes)"
}

declare -A LABEL=([onionmesh]=onionmesh [tinc]="tinc 1.0 (TCPOnly)"
    [wg]=wireguard-go [veth]="veth (no VPN)"
    [baseline]="onionmesh baseline ($BASE_BUILD)")
ran=()
for v in "${ALL[@]}"; do
	want "$v" || continue
	log "starting $v"
	"start_$v"
	measure "$v"
	ran+=("$v")
done

# --- report ------------------------------------------------------------------
ratio() { # a b: a/b with two decimals, or - when either is not a number
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "-"
		else printf "%.2f\n", a / b }'
}

report() {
	local v o
	echo "Benchmark: iperf3 -t $SECS, ping -c $PINGS -i 0.2;" \
	    "$(nproc) CPUs, $(uname -r)"
	echo
	echo "| VPN | Mbit/s -P1 | Mbit/s -P4 | RTT ms (median) | CPU-s/GB -P1 | CPU-s/GB -P4 |"
	echo "|---|---:|---:|---:|---:|---:|"
	for v in "${ran[@]}"; do
		echo "| ${LABEL[$v]} | ${R[$v.mbps1]} | ${R[$v.mbps4]} |" \
		    "${R[$v.rtt]} | ${R[$v.cpu1]} | ${R[$v.cpu4]} |"
	done
	if want onionmesh; then
		for o in tinc wg baseline; do
			want "$o" || continue
			echo
			echo "onionmesh / ${LABEL[$o]}:" \
			    "throughput -P1 $(ratio "${R[onionmesh.mbps1]}" "${R[$o.mbps1]}")," \
			    "-P4 $(ratio "${R[onionmesh.mbps4]}" "${R[$o.mbps4]}");" \
			    "CPU-s/GB -P1 $(ratio "${R[onionmesh.cpu1]}" "${R[$o.cpu1]}")," \
			    "-P4 $(ratio "${R[onionmesh.cpu4]}" "${R[$o.cpu4]}");" \
			    "RTT $(ratio "${R[onionmesh.rtt]}" "${R[$o.rtt]}")"
		done
	fi
}

echo
report
[ -z "$MARKDOWN" ] || report >"$MARKDOWN"
