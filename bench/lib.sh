# shellcheck shell=bash
# Helpers for bench/run.sh: namespaces, process bookkeeping, cleanup and
# the three measurements (iperf3, ping, CPU time). Sourced, not run.
#
# Everything the benchmark starts is recorded here (pids, namespaces,
# temporary dirs) so that one cleanup, run from an EXIT trap, can undo it
# all even when a step fails half way. Processes are only ever ended by
# the pids recorded here or by `ip netns pids` of a namespace this run
# created itself.

BL_PIDS=()
BL_NETNS=()
BL_DIRS=()
BL_ONIONMESH=()     # "NS DIR" pairs to `onionmesh down`

log() { printf '# %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# Run a command inside a namespace.
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

bl_track_pid() { BL_PIDS+=("$1"); }
bl_track_dir() { BL_DIRS+=("$1"); }

# bl_netns NAME: a fresh namespace with loopback up, removed on cleanup.
bl_netns() {
	ip netns add "$1"
	BL_NETNS+=("$1")
	ip -n "$1" link set lo up
}

# Terminate pids: TERM, up to 3 s of grace, then KILL.
bl_kill() {
	local p alive
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	for _ in $(seq 1 30); do
		alive=0
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && return 0
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null || true
}

bl_cleanup() {
	local ns pair pids d
	set +e
	for pair in "${BL_ONIONMESH[@]}"; do
		# shellcheck disable=SC2086
		set -- $pair
		timeout 15 ip netns exec "$1" "$OM" -d "$2" down \
			>/dev/null 2>&1
	done
	bl_kill "${BL_PIDS[@]}"
	# Whatever is still inside our own namespaces was started by us.
	for ns in "${BL_NETNS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && bl_kill $pids
	done
	for ns in "${BL_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for d in "${BL_DIRS[@]}"; do
		rm -rf -- "$d"
	done
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

# cpu_ticks PID...: utime + stime of each process (all its threads), in
# clock ticks, summed. A pid that is gone counts 0.
cpu_ticks() {
	local p sum=0 t
	for p in "$@"; do
		# Fields after "comm)": state is $1, utime $12, stime $13.
		t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null |
		    awk '{ print $12 + $13 }')
		sum=$((sum + ${t:-0}))
	done
	echo "$sum"
}

# ping_median NS ADDR COUNT: median RTT in ms of COUNT pings 0.2 s apart,
# or "-" when fewer than half of them came back.
ping_median() {
	local ns=$1 addr=$2 count=$3
	nsx "$ns" ping -n -q -c 1 -W 2 "$addr" >/dev/null 2>&1 || true
	nsx "$ns" ping -n -c "$count" -i 0.2 -W 2 "$addr" 2>/dev/null |
	    sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -g |
	    awk -v want="$count" '
		{ v[NR] = $1 }
		END {
			if (NR * 2 < want) { print "-"; exit }
			if (NR % 2) m = v[(NR + 1) / 2]
			else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f\n", m
		}'
}

# iperf_run NS ADDR SECS STREAMS OUTFILE: iperf3 client as JSON; prints
# "BITS_PER_SECOND BYTES" as the receiver counted them, or fails with
# iperf3's error.
iperf_run() {
	local ns=$1 addr=$2 secs=$3 streams=$4 out=$5 err
	nsx "$ns" timeout $((secs + 20)) iperf3 -c "$addr" -t "$secs" \
	    -P "$streams" -J --connect-timeout 5000 >"$out" 2>&1 || true
	err=$(jq -r '.error // empty' "$out" 2>/dev/null) ||
		err="iperf3 printed no JSON: $(head -c 200 "$out")"
	[ -z "$err" ] || { log "iperf3 to $addr: $err"; return 1; }
	jq -r '"\(.end.sum_received.bits_per_second) \(.end.sum_received.bytes)"' \
	    "$out"
}
