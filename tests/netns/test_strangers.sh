#!/usr/bin/env bash
# Strangers lock no one out (issue 15): three onionmesh members over TCP
# and a stranger, each in its own network namespace on one bridge. m1
# founds the network, m2 and m3 join. The stranger knows m1's address
# and nothing else.
#
# Checked:
#  - without the stranger, m2 restarts and its link to m1 comes back
#    (the time it takes is the baseline);
#  - the stranger opens 1,000 connections to m1 that never send a byte
#    (om-probe halfopen) and sends 50 join HELLOs a second with no
#    invitation (om-probe hellos, a random invitation id and MAC);
#    meanwhile m2 restarts again: its link to m1 comes back within 10 s
#    of the baseline, m1 <-> m3 keeps carrying pings, and the stranger
#    got 0 bytes back from either probe;
#  - m1's `status --json` counts it: linkd refused connections at accept
#    (refused_in: at most 8 pending from one source), HELLOs over the
#    joins' own rate limit (join_ratelimited), keyd's joins.strangers
#    for the HELLOs it checked and refused without a word; members'
#    handshakes were not rate-limited (hs_ratelimited stays 0);
#  - an invitation still works during the HELLO flood: a fourth host
#    (its own namespace: the joins' budget per source is the
#    stranger's to spend, the global one is not) joins by invitation.
#
# Prints "ok - ..." / "not ok - ..." and a last line "strangers: N
# passed, M failed"; exit 1 on any failure, after the daemons' logs.
# Every wait is bounded; namespaces and processes are removed on exit.
# Environment: OM_BUILD (make's B=, default build); OM_INIT_ARGS, extra
# `init` flags; OM_KEEP=DIR keeps the members' dirs.
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
PROBE=$PWD/$OM_BUILD/tools/om-probe

. tests/netns/lib.sh
netns_needs ip ping jq timeout
netns_built "$OM" "$PROBE"
T=$(mktemp -d /tmp/onionmesh-strangers.XXXXXX)
chmod 755 "$T"  # daemons under privsep run as their own users

N=5             # m1..m3 members; 4 the stranger; 5 a newcomer (m5)
BR=oms$$
ns=() D=() U=() V4=()
netns_members "oms$$" $N

cleanup() { netns_cleanup $? strangers "$BR" "omsv$$" $N; }
trap cleanup EXIT
trap 'exit 130' INT TERM

netns_bridge "$BR" "omsv$$" $N
must "underlay: the stranger reaches m1 over the bridge" \
    wait_for 10 nx 4 ping -c 1 -W 1 "${U[1]}"

# shellcheck disable=SC2086
must "init m1 (the root)" om 1 init m1 --ipv4 "${V4[1]}/16" \
    --tcp "${U[1]}:6550" ${OM_INIT_ARGS:-}
chmod 755 "${D[1]}"
must "up m1" timeout 60 ip netns exec "${ns[1]}" "$OM" -d "${D[1]}" up

# join_tcp I URL: host I joins over TCP and starts.
join_tcp() {
	local i=$1 url=$2
	om "$i" join "$url" --tcp --endpoint "${U[i]}:6550" --no-up ||
	    return 1
	chmod 755 "${D[i]}"
	timeout 60 ip netns exec "${ns[i]}" "$OM" -d "${D[i]}" up || return 1
	wait_for 30 grep -q 'linkd: I am ' "${D[i]}/run/linkd.log"
}
invite() { # I: m1 invites mI
	om 1 invite "m$1" --ipv4 "${V4[$1]}" --expires 10m \
	    2>>"$T/commands.log"
}
for i in 2 3; do
	url=$(invite "$i") || url=
	must "m1 invites m$i" grep -q '^onionmesh://' <<<"$url"
	must "m$i joins over TCP and starts" join_tcp "$i" "$url"
done

# links_to I J: member I has an established link to member J.
links_to() {
	om "$1" links --json 2>/dev/null | jq -e --arg p "m$2" \
	    '[.. | objects | select(.peer? == $p and .state? == "up")]
	     | length > 0' >/dev/null
}
# num I JQ: a number from member I's `status --json` (x when none).
num() {
	om "$1" status --json 2>/dev/null | jq -r "$2 // \"x\"" 2>/dev/null ||
	    echo x
}
LC='.daemons.linkd.status.counters'
for p in "1 2" "1 3" "2 3"; do
	read -r a b <<<"$p"
	must "link m$a <-> m$b up within 30 s" wait_for 30 links_to "$a" "$b"
done

# restart_m2: m2 down and up again; prints the seconds until its link
# to m1 is up (or "never").
restart_m2() {
	timeout 30 "$OM" -d "${D[2]}" down >>"$T/commands.log" 2>&1 || true
	wait_for 20 eval "! links_to 1 2" || true
	timeout 60 ip netns exec "${ns[2]}" "$OM" -d "${D[2]}" up \
	    >>"$T/commands.log" 2>&1 || { echo never; return 1; }
	took 60 links_to 1 2
}

base=$(restart_m2) || base=never
check "without a stranger, m2's link to m1 comes back (${base} s)" \
    test "$base" != never
[ "$base" = never ] && base=30

# ---------------------------------------------------------------------------
# The stranger: 1,000 silent connections and 50 HELLOs a second.

hs0=$(num 1 "$LC.hs_ratelimited")
nx 4 timeout 90 "$PROBE" halfopen "${U[1]}" 6550 1000 40 \
    >"$T/halfopen.out" 2>>"$T/commands.log" &
half_pid=$!
nx 4 timeout 90 "$PROBE" hellos "${U[1]}" 6550 50 30 \
    >"$T/hellos.out" 2>>"$T/commands.log" &
hello_pid=$!
sleep 3
check "m1 <-> m3 carries pings during the flood" \
    nx 3 ping -c 5 -i 0.2 -W 1 "${V4[1]}"
flood=$(restart_m2) || flood=never
check "during the flood m2's link to m1 comes back within 10 s of the baseline (${flood} s, baseline ${base} s)" \
    eval "[ '$flood' != never ] && [ '$flood' -le $((base + 10)) ]"
check "m1 <-> m2 carries pings during the flood" \
    wait_for 10 nx 2 ping -c 2 -i 0.2 -W 1 "${V4[1]}"

# An invitation still works while the HELLOs pour in: a newcomer on
# another host joins as m5.
url=$(invite 5) || url=
must "m1 invites m5" grep -q '^onionmesh://' <<<"$url"
check "m5 joins by invitation during the flood" join_tcp 5 "$url"

wait "$half_pid" || true
wait "$hello_pid" || true
cat "$T/halfopen.out" "$T/hellos.out" >>"$T/commands.log"
field() { # FILE KEY: KEY=value from an om-probe line
	sed -n "s/.*\b$2=\([0-9]*\).*/\1/p" "$1" | head -n 1
}
check "the silent connections were made ($(field "$T/halfopen.out" connected) of 1000)" \
    test "$(field "$T/halfopen.out" connected)" -gt 0
check "the silent connections got 0 bytes back" \
    test "$(field "$T/halfopen.out" bytes)" = 0
check "HELLOs were sent ($(field "$T/hellos.out" sent))" \
    test "$(field "$T/hellos.out" sent)" -ge 500
check "the HELLOs got 0 bytes back" \
    test "$(field "$T/hellos.out" bytes)" = 0

ri=$(num 1 "$LC.refused_in")
jr=$(num 1 "$LC.join_ratelimited")
st=$(num 1 '.daemons.keyd.status.joins.strangers')
hs=$(num 1 "$LC.hs_ratelimited")
check "m1's linkd refused connections at accept (refused_in $ri)" \
    eval "[ '$ri' != x ] && [ '$ri' -gt 0 ]"
check "m1's linkd held HELLOs to the joins' own limit (join_ratelimited $jr)" \
    eval "[ '$jr' != x ] && [ '$jr' -gt 0 ]"
check "m1's keyd refused HELLOs without an invitation (joins.strangers $st)" \
    eval "[ '$st' != x ] && [ '$st' -gt 0 ]"
check "no member's handshake was rate-limited (hs_ratelimited $hs0 -> $hs)" \
    test "$hs" = "$hs0"
check "m1's daemons all still run" eval \
    "[ \$(member_pids '${D[1]}' | wc -l) -ge 4 ]"
