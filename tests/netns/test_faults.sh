#!/usr/bin/env bash
# Fault injection under load: three members on one switch, m1 sending a
# steady iperf3 stream to m2 through the tunnel, while the test breaks
# things and measures how long the mesh takes to carry traffic again.
#
#            ns1 (m1) 192.0.2.1 --+
#            ns2 (m2) 192.0.2.2 --+-- br0 (nsb)
#            ns3 (m3) 192.0.2.3 --+
#
# Faults, in order:
#  - kill -9 of every daemon (tund, linkd, keyd, routed), FAULT_KILLS
#    times each (default 5; 100 for the long run), alternating between
#    m2 (the receiver) and m1 (the sender); `onionmesh up`'s supervisor
#    restarts it. Its backoff doubles while a daemon keeps dying (0.2 s
#    up to 5 s), which a test killing every few seconds reaches;
#  - m2's own interface down for FAULT_FLAP s (default 3) and up again;
#  - a partition: m3's switch port down for FAULT_PARTITION s (default 20,
#    longer than a session survives without traffic, so the links must be
#    rebuilt), then up; m1 <-> m2 must not notice.
# m1 pings m2 and m3 every 0.1 s throughout (ping -D: each reply carries
# the time it arrived). For each fault: the recovery time, from the end
# of the fault (the kill itself, or the moment the interface or port
# came back) to the first reply to a request sent after the fault began,
# and the requests lost from the fault to the next one. Asserted: every
# recovery under FAULT_MAX_RECOVERY s (10), every killed daemon back.
#
# And after every fault: no key, record or config changed. The files
# compared, byte for byte (sha256), are each member's onionmesh.conf,
# keys/* and hosts/*; none of them changes legitimately while a member
# runs with the records it has (run/ holds the sockets, pid file and
# logs, and is left out).
#
# "ok - ..." / "not ok - ..." lines, "# ..." lines with the numbers, and
# a last line "faults: N passed, M failed". Environment: OM_BUILD (make's
# B=, default build), OM_INIT_ARGS, OM_SANDBOX=no (sandbox = no in the
# configs, for sanitizer builds), FAULT_KILLS, FAULT_FLAP,
# FAULT_PARTITION, FAULT_LOAD (iperf3 -b, default 200M; 0 = as fast as
# it goes), FAULT_MAX_RECOVERY, FAULT_RESULTS (a file to keep the table
# of every fault in: "fault LABEL ok|bad RECOVERY LOST SENT" lines, one
# "kind ..." line per kind of fault), FAULT_KEEP (a dir to copy the
# daemons' logs, the events and m1's pings to m2 into). About 2 minutes with the defaults; with
# FAULT_KILLS=100 about half an hour.
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
IPC=$PWD/$OM_BUILD/tools/om-ipc
FAULT_KILLS=${FAULT_KILLS:-5}
FAULT_FLAP=${FAULT_FLAP:-3}
FAULT_PARTITION=${FAULT_PARTITION:-20}
FAULT_LOAD=${FAULT_LOAD:-200M}
FAULT_MAX_RECOVERY=${FAULT_MAX_RECOVERY:-10}
. tests/netns/lib.sh
# OM_SANDBOX=no: daemons without their seccomp sandbox (sanitizer builds).
sandbox_off() {
	[ "${OM_SANDBOX:-}" = no ] || return 0
	sed -i 's/^sandbox = yes$/sandbox = no/' "$@"
}

[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root"; exit 1; }
for c in ip ping iperf3 jq pgrep timeout python3 sha256sum stdbuf; do
	command -v "$c" >/dev/null ||
		{ echo "not ok - $c is missing (make deps)"; exit 1; }
done
if [ ! -x "$OM" ] || [ ! -x "$IPC" ]; then
	make B="$OM_BUILD" -j2 all >/dev/null ||
		{ echo "not ok - make failed"; exit 1; }
fi

T=$(mktemp -d /tmp/onionmesh-faults.XXXXXX)
chmod 755 "$T"
nsb=omf$$-b
NS=(none omf$$-1 omf$$-2 omf$$-3)
MD=(none "$T/m1" "$T/m2" "$T/m3")
UA=(none 192.0.2.1 192.0.2.2 192.0.2.3)
VA=(none 10.77.0.1 10.77.0.2 10.77.0.3)
bg_pids=()
events=$T/events.txt   # TARGET LABEL T_START T_END, one fault a line
: >"$events"

nx() { local i=$1; shift; ip netns exec "${NS[$i]}" "$@"; }
omx() { local i=$1; shift; nx "$i" "$OM" -d "${MD[$i]}" "$@"; }

dump_logs() {
	local f
	for f in "$T"/m*/run/*.log "$T/commands.log"; do
		[ -f "$f" ] || continue
		echo "# ----- ${f#"$T"/} (last 30 lines)"
		tail -n 30 "$f" | sed 's/^/# /'
	done
}

cleanup() {
	local rc=$? n p pids
	set +e
	if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
		not_ok "the test script stopped early (exit status $rc)"
	fi
	[ $failed -eq 0 ] || dump_logs
	if [ -n "${FAULT_KEEP:-}" ]; then       # the daemons' logs, for later
		for i in 1 2 3; do
			mkdir -p "$FAULT_KEEP/m$i"
			cp "${MD[$i]}"/run/*.log "$FAULT_KEEP/m$i/" 2>/dev/null
		done
		cp "$T"/events.txt "$T"/ping-m2.txt "$FAULT_KEEP/" 2>/dev/null
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
	echo "faults: $passed passed, $failed failed"
	[ $failed -eq 0 ] || exit 1
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

snapshot() { member_files "${MD[1]}" "${MD[2]}" "${MD[3]}"; }
files_bad=0
files_first=""
files_check() { # LABEL: compare with the snapshot, remember the first diff
	if ! snapshot 2>&1 | diff "$T/snapshot" - >"$T/files.diff" 2>&1; then
		files_bad=$((files_bad + 1))
		if [ -z "$files_first" ]; then
			files_first=$1
			sed 's/^/# /' "$T/files.diff" | head -n 20
		fi
	fi
}
now() { date +%s.%N; }
# stuck LABEL: traffic did not come back within 15 s; show what the data
# paths of m1 and m2 say (for whoever debugs it), the first 3 times: the
# daemons' counters twice, 3 s apart, what crossed each TUN device and
# the kernel's IP/ICMP counters meanwhile, the data sockets, the logs.
stuck_shown=0
stuck_counters() { # I: one line each of linkd, tund, links, device
	local i=$1
	echo "# m$i linkd: $("$IPC" ctl "${MD[$i]}/run/ctl.linkd" \
	    '{"cmd":"status"}' 2>&1 | jq -c '{pid, tund, paused, links_up,
	    fib_generation, fib_entries, counters, forward}' 2>&1)"
	echo "# m$i tund: $("$IPC" ctl "${MD[$i]}/run/ctl.tund" \
	    '{"cmd":"status"}' 2>&1 | jq -c 'del(.ok, .daemon, .offloads,
	    .addresses, .ipv4, .ipv6)' 2>&1)"
	echo "# m$i links: $("$IPC" ctl "${MD[$i]}/run/ctl.linkd" \
	    '{"cmd":"links"}' 2>&1 | jq -c '[.links[] | {id, peer, dir,
	    remote, state, tx_packets, rx_packets, tx_bytes, rx_bytes,
	    errors, queued, last_error}]' 2>&1)"
	echo "# m$i device: $(ip -n "${NS[$i]}" -s link show dev om-default \
	    2>&1 | tr -s ' ' | tr '\n' ';')"
}
stuck() {
	local i dd
	stuck_shown=$((stuck_shown + 1))
	[ $stuck_shown -le 3 ] || return 0
	echo "# no traffic m1 -> m2 15 s after: $1; the data paths say:"
	for i in 1 2; do stuck_counters $i; done
	for i in 1 2; do nx "$i" nstat -n >/dev/null 2>&1; done
	for i in 1 2; do
		nx "$i" python3 tests/netns/dp_sniff.py om-default 3 \
		    >"$T/sniff$i.txt" 2>&1 &
	done
	wait_for 1 nx 1 ping -c 1 -W 1 "${VA[2]}" || true
	sleep 3.2
	echo "# 3 s later:"
	for i in 1 2; do
		stuck_counters $i
		echo "# m$i on om-default: $(cat "$T/sniff$i.txt")"
		echo "# m$i kernel: $(nx "$i" nstat 2>&1 | grep -E \
		    '^(Ip|Icmp|IpExt|TcpExt)' | grep -E 'Discard|Drop|Err|No|Echo|InReceives|OutRequests|Delivers' |
		    awk '{printf "%s=%s ", $1, $2}')"
	done
	echo "# m1 routes: $(ip -n "${NS[1]}" -4 route 2>&1 | tr '\n' ';')"
	for i in 1 2; do
		echo "# m$i addresses: $(ip -n "${NS[$i]}" -br addr 2>&1 | tr '\n' ';')"
		echo "# m$i data sockets: $(nx "$i" ss -xapn 2>&1 |
		    grep '^u_seq' | tr -s ' ' | tr '\n' ';')"
		for dd in tund linkd; do
			echo "# m$i $dd.log (last 10):"
			tail -n 10 "${MD[$i]}/run/$dd.log" 2>&1 | sed 's/^/#   /'
		done
	done
}
reach() { nx "$1" ping -c 1 -W 1 "${VA[$2]}"; }  # FROM TO

# ---------------------------------------------------------------------------
# Three members on a switch, each knowing the other two

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
	# m1 founds the network; the others join it by hand (--root).
	root=
	[ $i = 1 ] || root="--root $(conf_root "${MD[1]}")"
	# shellcheck disable=SC2086
	must "init m$i" omx $i init m$i --ipv4 "${VA[$i]}/16" \
	    --tcp "${UA[$i]}:6550" $root ${OM_INIT_ARGS:-}
	chmod 755 "${MD[$i]}"
	sandbox_off "${MD[$i]}/onionmesh.conf"
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
must "full mesh: m1-m2, m1-m3, m2-m3 carry traffic within 30 s" eval \
    "wait_for 30 reach 1 2 && wait_for 30 reach 1 3 && wait_for 30 reach 2 3"
snapshot >"$T/snapshot"
must "snapshot of config, keys and records ($(wc -l <"$T/snapshot") files)" \
    test -s "$T/snapshot"

# ---------------------------------------------------------------------------
# Load and the pings that measure

nx 2 bash -c 'while :; do iperf3 -s -1 >/dev/null 2>&1; sleep 0.1; done' &
bg_pids+=($!)
sleep 0.5
nx 1 bash -c "while :; do iperf3 -c ${VA[2]} -t 86400 -b $FAULT_LOAD \
    -i 1 --forceflush --connect-timeout 3000 2>&1; sleep 0.5; done" \
    >"$T/iperf.log" 2>&1 &
load=$!
bg_pids+=("$load")
# Line-buffered, so SIGTERM at the end loses nothing (a background job
# of a script ignores SIGINT, ping's usual way to stop).
nx 1 stdbuf -oL ping -n -D -O -i 0.1 -W 1 -w 86400 "${VA[2]}" \
    >"$T/ping-m2.txt" 2>&1 &
p12=$!
bg_pids+=("$p12")
nx 1 stdbuf -oL ping -n -D -O -i 0.1 -W 1 -w 86400 "${VA[3]}" \
    >"$T/ping-m3.txt" 2>&1 &
p13=$!
bg_pids+=("$p13")
sleep 3

# ---------------------------------------------------------------------------
# kill -9

kill_bad=0
kill_first=""
t_kills=$SECONDS
for round in $(seq 1 "$FAULT_KILLS"); do
	m=$((round % 2 == 1 ? 2 : 1))
	for dd in tund linkd keyd routed; do
		pid=$(daemon_pid "${MD[$m]}" $dd)
		t0=$(now)
		if [ -n "$pid" ]; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		echo "m2 kill-$dd-m$m-$round $t0 $t0" >>"$events"
		back() { local n; n=$(daemon_pid "${MD[$m]}" $dd); [ -n "$n" ] && [ "$n" != "$pid" ]; }
		if [ -z "$pid" ] || ! wait_for 10 back; then
			kill_bad=$((kill_bad + 1))
			[ -n "$kill_first" ] || kill_first="onionmesh-$dd of m$m, round $round"
		fi
		wait_for 15 reach 1 2 || stuck "kill $dd m$m $round"
		files_check "kill $dd m$m $round"
		sleep 0.5
	done
done
nkills=$((FAULT_KILLS * 4))
check "kill -9: all $nkills killed daemons were restarted within 10 s${kill_first:+ (first missing: $kill_first)}" \
    test $kill_bad -eq 0
check "kill -9: no key, record or config changed after any of the $nkills kills${files_first:+ (first after $files_first)}" \
    test $files_bad -eq 0
echo "# kill -9: $nkills kills in $((SECONDS - t_kills)) s"

# ---------------------------------------------------------------------------
# Link down / up

files_bad=0 files_first=""
t0=$(now)
ip -n "${NS[2]}" link set veth0 down
sleep "$FAULT_FLAP"
ip -n "${NS[2]}" link set veth0 up
t1=$(now)
echo "m2 flap-m2-${FAULT_FLAP}s $t0 $t1" >>"$events"
wait_for 30 reach 1 2 || true
files_check flap
check "link down/up: no key, record or config changed" test $files_bad -eq 0
sleep 2

# ---------------------------------------------------------------------------
# Partition and heal: m3 cut off from the switch

files_bad=0 files_first=""
t0=$(now)
ip -n "$nsb" link set p3 down
sleep "$FAULT_PARTITION"
ip -n "$nsb" link set p3 up
t1=$(now)
echo "m3 partition-m3-${FAULT_PARTITION}s $t0 $t1" >>"$events"
wait_for 60 reach 1 3 || true
wait_for 30 reach 2 3 || true
files_check partition
check "partition: no key, record or config changed" test $files_bad -eq 0
check "partition healed: m2 reaches m3 again" wait_for 10 reach 2 3
sleep 2
echo "m2 end-$FAULT_PARTITION $(now) $(now)" >>"$events"
sleep 1

# ---------------------------------------------------------------------------
# Measure

kill -TERM "$p12" "$p13" 2>/dev/null || true
wait "$p12" "$p13" 2>/dev/null || true
kill -KILL "$load" 2>/dev/null || true
python3 - "$events" "$T/ping-m2.txt" "$T/ping-m3.txt" "$T/iperf.log" \
    "$FAULT_MAX_RECOVERY" >"$T/results.txt" <<'PYEOF'
# One line per fault:  fault LABEL ok|bad RECOVERY|never LOST SENT
# one per kind:        kind KIND N BAD MEAN MEDIAN MAX LOST SENT
# and:                 side LOST SENT  (m1 -> m2 during m3's partition)
#                      load MBIT_S SECONDS
import re, statistics, sys

events_file, limit = sys.argv[1], float(sys.argv[5])
logs = {"m2": sys.argv[2], "m3": sys.argv[3]}


def parse(path):
    """seq -> arrival, seq -> send time (estimated), for one ping log."""
    arr, send = {}, {}
    for line in open(path, errors="replace"):
        m = re.match(r"\[(\d+\.\d+)\] .*icmp_seq=(\d+) .*time=([\d.]+) ms",
                     line)
        if m:
            s = int(m[2])
            if s not in arr:
                arr[s] = float(m[1])
                send[s] = float(m[1]) - float(m[3]) / 1000
            continue
        m = re.match(r"\[(\d+\.\d+)\] no answer yet for icmp_seq=(\d+)",
                     line)
        if m and int(m[2]) not in send:
            # printed as the next request goes out, 0.1 s later
            send[int(m[2])] = float(m[1]) - 0.1
    if not send:
        return arr, send, []
    known = sorted(send)
    seqs = list(range(known[0], known[-1] + 1))
    j = 0
    for s in seqs:                      # fill gaps linearly
        while j + 1 < len(known) and known[j + 1] < s:
            j += 1
        if s in send:
            continue
        lo, hi = known[j], known[j + 1]
        send[s] = send[lo] + (send[hi] - send[lo]) * (s - lo) / (hi - lo)
    return arr, send, seqs


data = {k: parse(v) for k, v in logs.items()}
ev = [l.split() for l in open(events_file) if l.strip()]
kinds = {}
for i, (target, label, t0, t1) in enumerate(ev):
    if label.startswith("end-"):
        continue
    t0, t1 = float(t0), float(t1)
    arr, send, seqs = data[target]
    nxt = [float(e[2]) for e in ev[i + 1:] if e[0] == target]
    t_next = nxt[0] if nxt else float("inf")
    rec = [arr[s] for s in seqs if s in arr and send[s] >= t0 - 0.001
           and arr[s] > t1]
    recovery = min(rec) - t1 if rec else None
    window = [s for s in seqs if t0 <= send[s] < t_next]
    lost = sum(1 for s in window if s not in arr)
    ok = recovery is not None and recovery < limit
    print("fault %s %s %s %d %d" % (
        label, "ok" if ok else "bad",
        "%.2f" % recovery if recovery is not None else "never", lost,
        len(window)))
    parts = label.split("-")
    kind = "-".join(parts[:2]) if parts[0] == "kill" else parts[0]
    kinds.setdefault(kind, []).append((ok, recovery, lost, len(window)))
for kind, v in kinds.items():
    r = [x[1] for x in v if x[1] is not None]
    print("kind %s %d %d %.2f %.2f %.2f %d %d" % (
        kind, len(v), sum(1 for x in v if not x[0]),
        statistics.mean(r) if r else 0, statistics.median(r) if r else 0,
        max(r) if r else 0, sum(x[2] for x in v), sum(x[3] for x in v)))
arr, send, seqs = data["m2"]
for target, label, t0, t1 in ev:
    if label.startswith("partition"):
        w = [s for s in seqs if float(t0) <= send[s] <= float(t1) + 5]
        print("side %d %d" % (sum(1 for s in w if s not in arr), len(w)))
rates = []
for line in open(sys.argv[4], errors="replace"):
    m = re.search(r"sec\s+[\d.]+ \w+\s+([\d.]+) ([KMG]?)bits/sec", line)
    if m and "sender" not in line and "receiver" not in line:
        rates.append(float(m[1]) * {"K": 1e-3, "": 1e-6, "M": 1,
                                    "G": 1e3}[m[2]])
if rates:
    print("load %.0f %d" % (statistics.mean(rates), len(rates)))
PYEOF
grep '^fault' "$T/results.txt" | sed 's/^/# /' | head -n 12
[ "$(grep -c '^fault' "$T/results.txt")" -le 12 ] ||
	echo "# ... ($(grep -c '^fault' "$T/results.txt") faults in all)"
grep '^fault [^ ]* bad' "$T/results.txt" | sed 's/^/# over the bound: /' || true
[ -z "${FAULT_RESULTS:-}" ] || cp "$T/results.txt" "$FAULT_RESULTS"

summary() { # KIND NAME: one line of numbers and an assertion
	local n=0 bad=0 mean=0 med=0 max=0 lost=0 sent=0
	read -r _ _ n bad mean med max lost sent < <(grep "^kind $1 " \
	    "$T/results.txt") || true
	echo "# $2: $n faults; recovery mean $mean s, median $med s, max $max s; $lost of $sent pings lost"
	check "$2: recovered in under $FAULT_MAX_RECOVERY s every time ($n faults, max $max s, $lost pings lost)" \
	    test "$n" -gt 0 -a "$bad" -eq 0
}
for dd in tund linkd keyd routed; do
	summary "kill-$dd" "kill -9 onionmesh-$dd"
done
summary flap "link down ${FAULT_FLAP} s / up"
summary partition "partition of m3 for ${FAULT_PARTITION} s"
read -r _ side_lost side_sent < <(grep '^side ' "$T/results.txt") || true
check "partition of m3: m1 -> m2 went on (${side_lost:-?} of ${side_sent:-?} pings lost meanwhile)" \
    test "${side_sent:-0}" -gt 0 -a "${side_lost:-1}" -le $((${side_sent:-0} / 100))
read -r _ mbps secs < <(grep '^load ' "$T/results.txt") || true
echo "# load: iperf3 m1 -> m2 at -b $FAULT_LOAD: ${mbps:-no} Mbit/s on average over ${secs:-0} s"
check "the load ran (${mbps:-no} Mbit/s)" test "${secs:-0}" -gt 0
for i in 1 2 3; do
	for dd in tund linkd keyd routed; do
		[ -n "$(daemon_pid "${MD[$i]}" $dd)" ] || not_ok "m$i's onionmesh-$dd runs at the end"
	done
done
check "full mesh at the end" eval "reach 1 2 && reach 1 3 && reach 2 3"
