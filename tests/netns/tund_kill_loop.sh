#!/usr/bin/env bash
# A focused reproducer for "after kill -9 of tund, traffic sometimes does
# not come back" (tests/RESULTS.md, Findings 2): the topology and load of
# test_faults.sh (three members on a switch, iperf3 m1 -> m2), but the
# only fault is kill -9 of onionmesh-tund, of m2 and m1 alternately
# (TK_WHO=1 or 2: only that member's). After each kill: how long until
# m1 reaches m2 again (ping -c 1 -W 0.5 in a loop: about 0.5 s
# resolution). When traffic has not come back within TK_STUCK s, the
# diagnostics of both members go to stdout (status and links of linkd and
# tund, the data socket as `ss -x` sees it, the device, addresses and
# routes, the last log lines); then it waits up to TK_OBSERVE s more to
# see whether the member recovers by itself, and if not kills its linkd,
# as test_faults.sh's next fault would.
#
# Not run by `make check` (the name does not match test_*.sh). Bounded:
# TK_KILLS kills (default 40) and TK_TIME s in all (default 540). Last
# lines: "# kills N, recovery mean M s, max X s, stuck S" and
# "tund_kill_loop: N passed, M failed". Environment: OM_BUILD (make's B=),
# OM_SANDBOX=no, TK_KILLS, TK_TIME, TK_WHO, TK_STUCK (15), TK_OBSERVE
# (20), TK_GAP (s between recovery and the next kill, 0.5), TK_LOAD
# (iperf3 -b, 200M), TK_DEBUG=1 (loglevel debug in the configs),
# TK_KEEP=DIR (copy the members' run/ logs there at the end).
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
IPC=$PWD/$OM_BUILD/tools/om-ipc
TK_KILLS=${TK_KILLS:-40}
TK_TIME=${TK_TIME:-540}
TK_WHO=${TK_WHO:-}
TK_STUCK=${TK_STUCK:-15}
TK_OBSERVE=${TK_OBSERVE:-20}
TK_GAP=${TK_GAP:-0.5}
TK_LOAD=${TK_LOAD:-200M}
. tests/netns/lib.sh

[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root"; exit 1; }
for c in ip ping iperf3 jq pgrep timeout ss; do
	command -v "$c" >/dev/null ||
		{ echo "not ok - $c is missing (make deps)"; exit 1; }
done
if [ ! -x "$OM" ] || [ ! -x "$IPC" ]; then
	make B="$OM_BUILD" -j2 all >/dev/null ||
		{ echo "not ok - make failed"; exit 1; }
fi

T=$(mktemp -d /tmp/onionmesh-tkl.XXXXXX)
chmod 755 "$T"
nsb=omt$$-b
NS=(none omt$$-1 omt$$-2 omt$$-3)
MD=(none "$T/m1" "$T/m2" "$T/m3")
UA=(none 192.0.2.1 192.0.2.2 192.0.2.3)
VA=(none 10.77.0.1 10.77.0.2 10.77.0.3)
bg_pids=()

nx() { local i=$1; shift; ip netns exec "${NS[$i]}" "$@"; }
omx() { local i=$1; shift; nx "$i" "$OM" -d "${MD[$i]}" "$@"; }

cleanup() {
	local rc=$? n p pids
	set +e
	if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
		not_ok "the script stopped early (exit status $rc)"
	fi
	if [ -n "${TK_KEEP:-}" ]; then
		mkdir -p "$TK_KEEP"
		for i in 1 2 3; do
			mkdir -p "$TK_KEEP/m$i"
			cp "${MD[$i]}"/run/*.log "$TK_KEEP/m$i/" 2>/dev/null
		done
	fi
	for i in 1 2 3; do
		timeout 15 "$OM" -d "${MD[$i]}" down >/dev/null 2>&1
	done
	for p in "${bg_pids[@]}"; do
		{ kill -KILL "$p" && wait "$p"; } 2>/dev/null
	done
	for n in "${NS[1]}" "${NS[2]}" "${NS[3]}" "$nsb"; do
		pids=$(ip netns pids "$n" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	done
	for i in 1 2 3; do
		for p in $(member_pids "${MD[$i]}"); do kill -KILL "$p" 2>/dev/null; done
	done
	for n in "${NS[1]}" "${NS[2]}" "${NS[3]}" "$nsb"; do
		ip netns del "$n" 2>/dev/null
	done
	rm -rf -- "$T"
	echo "tund_kill_loop: $passed passed, $failed failed"
	[ $failed -eq 0 ] || exit 1
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

reach() { nx "$1" ping -c 1 -W 1 "${VA[$2]}"; }  # FROM TO
now() { date +%s.%N; }

# diag LABEL: what both members' data paths look like.
diag() {
	local i p
	echo "# ===== $1: $(date -u +%T.%N)"
	for i in 1 2; do
		echo "# m$i linkd: $("$IPC" ctl "${MD[$i]}/run/ctl.linkd" \
		    '{"cmd":"status"}' 2>&1 | jq -c 'del(.ok, .id)' 2>&1)"
		echo "# m$i tund: $("$IPC" ctl "${MD[$i]}/run/ctl.tund" \
		    '{"cmd":"status"}' 2>&1 | jq -c 'del(.ok, .offloads)' 2>&1)"
		echo "# m$i links: $("$IPC" ctl "${MD[$i]}/run/ctl.linkd" \
		    '{"cmd":"links"}' 2>&1 | jq -c '[.links[] | {peer, dir,
		    state, tx_packets, rx_packets, errors, queued}]' 2>&1)"
		echo "# m$i devices: $(ip -n "${NS[$i]}" -br link 2>&1 | tr '\n' ';')"
		echo "# m$i addresses: $(ip -n "${NS[$i]}" -br addr 2>&1 | tr '\n' ';')"
		echo "# m$i routes: $(ip -n "${NS[$i]}" route 2>&1 | tr '\n' ';')"
		echo "# m$i on om-default for 2 s: $(nx "$i" python3 \
		    tests/netns/dp_sniff.py om-default 2 2>&1)"
		echo "# m$i data sockets (ss -x):"
		nx "$i" ss -xapn 2>&1 | grep -E '^u_seq' |
		    sed 's/^/#   /' | head -n 20
		for p in $(daemon_pid "${MD[$i]}" linkd) $(daemon_pid "${MD[$i]}" tund); do
			echo "#   pid $p $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-40): $(ls -l /proc/$p/fd 2>/dev/null | grep -c socket) sockets, tun fds: $(ls -l /proc/$p/fd 2>/dev/null | grep -c /dev/net/tun)"
		done
		for p in tund linkd supervisor; do
			echo "# m$i $p.log (last 12):"
			tail -n 12 "${MD[$i]}/run/$p.log" 2>/dev/null | sed 's/^/#   /'
		done
	done
}

# ---------------------------------------------------------------------------
# Three members on a switch (as in test_faults.sh)

ip netns add "$nsb"
ip -n "$nsb" link set lo up
ip -n "$nsb" link add br0 type bridge
ip -n "$nsb" link set br0 up
for i in 1 2 3; do
	ip netns add "${NS[$i]}"
	nx "$i" ip link set lo up
	ip -n "${NS[$i]}" link add veth0 type veth peer name p$i netns "$nsb"
	ip -n "$nsb" link set p$i master br0 up
	ip -n "${NS[$i]}" addr add "${UA[$i]}/24" dev veth0
	ip -n "${NS[$i]}" link set veth0 up
done
must "underlay: m1 reaches m2 and m3" eval "wait_for 10 nx 1 ping -c 1 -W 1 ${UA[2]} &&
    wait_for 10 nx 1 ping -c 1 -W 1 ${UA[3]}"
for i in 1 2 3; do
	root=
	[ $i = 1 ] || root="--root $(conf_root "${MD[1]}")"
	# shellcheck disable=SC2086
	must "init m$i" omx $i init m$i --ipv4 "${VA[$i]}/16" \
	    --tcp "${UA[$i]}:6550" $root ${OM_INIT_ARGS:-}
	chmod 755 "${MD[$i]}"
	[ "${OM_SANDBOX:-}" != no ] ||
		sed -i 's/^sandbox = yes$/sandbox = no/' "${MD[$i]}/onionmesh.conf"
	[ "${TK_DEBUG:-}" != 1 ] ||
		echo "loglevel = debug" >>"${MD[$i]}/onionmesh.conf"
	must "export m$i" omx $i export "$T/m$i.record"
done
for i in 1 2 3; do
	for j in 1 2 3; do
		[ $i = $j ] || must "import m$j's record into m$i" \
		    omx $i import "$T/m$j.record"
	done
done
for i in 1 2 3; do
	must "up m$i" timeout 60 ip netns exec "${NS[$i]}" "$OM" -d "${MD[$i]}" up
done
must "full mesh within 30 s" eval \
    "wait_for 30 reach 1 2 && wait_for 30 reach 1 3 && wait_for 30 reach 2 3"

nx 2 bash -c 'while :; do iperf3 -s -1 >/dev/null 2>&1; sleep 0.1; done' &
bg_pids+=($!)
sleep 0.5
nx 1 bash -c "while :; do iperf3 -c ${VA[2]} -t 86400 -b $TK_LOAD \
    -i 1 --forceflush --connect-timeout 3000 2>&1; sleep 0.5; done" \
    >"$T/iperf.log" 2>&1 &
bg_pids+=($!)
sleep 3

# ---------------------------------------------------------------------------
# kill -9 tund, again and again

t_end=$((SECONDS + TK_TIME))
kills=0 stuck_n=0 self_n=0 back_bad=0
recs=()
for k in $(seq 1 "$TK_KILLS"); do
	[ $SECONDS -lt $t_end ] || break
	m=${TK_WHO:-$((k % 2 == 1 ? 2 : 1))}
	pid=$(daemon_pid "${MD[$m]}" tund)
	[ -n "$pid" ] || { back_bad=$((back_bad + 1)); continue; }
	t0=$(now)
	kill -KILL "$pid" 2>/dev/null || true
	kills=$((kills + 1))
	back() { local n; n=$(daemon_pid "${MD[$m]}" tund); [ -n "$n" ] && [ "$n" != "$pid" ]; }
	wait_for 10 back || back_bad=$((back_bad + 1))
	got=""
	while :; do
		if nx 1 ping -c 1 -W 0.5 "${VA[2]}" >/dev/null 2>&1; then
			got=$(now)
			break
		fi
		awk -v a="$t0" -v b="$(now)" -v s="$TK_STUCK" \
		    'BEGIN { exit !(b - a > s) }' && break
		sleep 0.05
	done
	if [ -n "$got" ]; then
		r=$(awk -v a="$t0" -v b="$got" 'BEGIN { printf "%.2f", b - a }')
		recs+=("$r")
		echo "# kill $k: tund of m$m, traffic back after $r s"
		sleep "$TK_GAP"
		continue
	fi
	stuck_n=$((stuck_n + 1))
	echo "# kill $k: tund of m$m, NO traffic m1 -> m2 after $TK_STUCK s"
	diag "stuck after kill $k (tund of m$m)"
	if wait_for "$TK_OBSERVE" reach 1 2; then
		self_n=$((self_n + 1))
		echo "# kill $k: came back by itself within $((TK_STUCK + TK_OBSERVE)) s"
	else
		diag "still stuck $TK_OBSERVE s later"
		lp=$(daemon_pid "${MD[$m]}" linkd)
		echo "# kill $k: killing linkd of m$m (pid $lp) as the next fault would"
		[ -z "$lp" ] || kill -KILL "$lp"
		if wait_for 20 reach 1 2; then
			echo "# kill $k: back after linkd of m$m restarted"
		else
			diag "still stuck after linkd of m$m restarted"
			break
		fi
	fi
	sleep "$TK_GAP"
done
if [ ${#recs[@]} -gt 0 ]; then
	printf '%s\n' "${recs[@]}" | awk -v k=$kills -v s=$stuck_n '
	    { t += $1; if ($1 > m) m = $1 }
	    END { printf "# kills %d, recovered %d: recovery mean %.2f s, max %.2f s; stuck %d\n", k, NR, t / NR, m, s }'
fi
check "every killed tund came back within 10 s" test $back_bad -eq 0
check "traffic came back within $TK_STUCK s after each of $kills tund kills ($stuck_n stuck, $self_n of them came back by themselves later)" \
    test $stuck_n -eq 0
