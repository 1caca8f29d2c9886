#!/usr/bin/env bash
# A malicious member (issue 14): five onionmesh members over TCP, each in
# its own network namespace on one bridge. m1 founds the network and
# invites m2..m4 and m5 (an admin: it may admit members); all join over
# TCP. Then m5's daemons stop and om-forge (tests/tools/om-forge.c)
# takes its key and its place: it opens a link to a victim as m5 and
# sends what a modified keyd or tund could. For each forgery the test
# checks that nothing is taken (the victims' records and hosts/, their
# routing tables), that the others' traffic keeps flowing (pings between
# members the forgery did not touch) and that the refusal is counted in
# `onionmesh status --json`:
#
#   - a member admitted by m5 with m3's IPv4      claims ipv4_taken
#   - ... with an IPv4 outside 10.77.0.0/16       claims ipv4_range
#   - ... with m3's IPv6 (not its key's)          claims ipv6_not_derived
#   - ... named m3                                claims name_taken
#   - ... with subnet m3's address/32, and the ULA claims subnet_network
#   - a plain member m5 admitted, admitting another claims admitter_role
#   - 10,000 members admitted by m5               claims admitter_full
#     (max_admitted = 20 on the victims: at most 20 are held anywhere;
#     then 1000 more at a pace keyd keeps up with: each one counted)
#   - subnets never granted: m5's own record with subnet 203.0.113.0/24
#     (its admission kept) and a member admitted with it: keyd refuses
#     the record (not held, counted under subnet_not_granted) and no
#     routing table gets it
#   - edges with rate 2^32 (does not parse: gossip.refused) and with rtt
#     1 us and rate 2^32-1 to every member: while the forged link to m2
#     is up, no route of m2 or m3 goes through m5
#   - 50 revocations by m5 (an admin) of ids no one has: each victim
#     holds at most max_admitted of them (revocations.over_bound)
#   - ICMP echoes from m5's address whose vnet header asks for
#     segmentation an ICMP packet cannot have (tund: drops_vnet_header)
#     or for offloads outside the packet (tund: vnet_headers_cleared);
#     echoes with a clean header are answered through the same link.
#
# Style of test_revoke.sh: helpers from lib.sh, "ok" / "not ok" lines, a
# last line "forge: N passed, M failed", exit 1 on any failure (after
# the daemons' logs), cleaned up by the EXIT trap, every wait bounded.
# Environment: OM_BUILD (make's B=, default build); OM_INIT_ARGS, extra
# `init` flags; OM_SANDBOX=no (sanitizer builds); OM_KEEP=DIR keeps the
# members' dirs; FORGE_MANY=N the number of records of the flood
# (default 10000).
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
FORGE=$PWD/$OM_BUILD/tools/om-forge
FORGE_MANY=${FORGE_MANY:-10000}
MAXADM=20

. tests/netns/lib.sh
netns_needs ip ping jq pgrep timeout
netns_built "$OM" "$FORGE"
T=$(mktemp -d /tmp/onionmesh-forge.XXXXXX)
chmod 755 "$T"  # daemons under privsep run as their own users

N=5
BR=omf$$
ns=() D=() U=() V4=() V6=() ID=()
netns_members "omf$$" $N

cleanup() { netns_cleanup $? forge "$BR" "omfv$$" $N; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Five hosts on one bridge; m1 founds the network, m2..m5 join it

netns_bridge "$BR" "omfv$$" $N
must "underlay: m1 reaches m5 over the bridge" \
    wait_for 10 nx 1 ping -c 1 -W 1 "${U[5]}"

# The victims bound what one admitter may admit (the flood below).
victim_conf() {
	om_sandbox_off "$1/onionmesh.conf"
	echo "max_admitted = $MAXADM" >>"$1/onionmesh.conf"
}

# shellcheck disable=SC2086
must "init m1 (the root)" om 1 init m1 --ipv4 "${V4[1]}/16" \
    --tcp "${U[1]}:6550" ${OM_INIT_ARGS:-}
chmod 755 "${D[1]}"
victim_conf "${D[1]}"
must "up m1" timeout 60 ip netns exec "${ns[1]}" "$OM" -d "${D[1]}" up
ROOT=$(conf_root "${D[1]}")
NET=$(sed -n 's/^network = //p' "${D[1]}/onionmesh.conf" | head -n 1)
NET=${NET:-default}

# join_tcp I URL: member I joins over TCP and starts.
join_tcp() {
	local i=$1 url=$2
	om "$i" join "$url" --tcp --endpoint "${U[i]}:6550" --no-up ||
	    return 1
	chmod 755 "${D[i]}"
	if [ "$i" = 5 ]; then
		om_sandbox_off "${D[i]}/onionmesh.conf"
	else
		victim_conf "${D[i]}"
	fi
	timeout 60 ip netns exec "${ns[i]}" "$OM" -d "${D[i]}" up || return 1
	wait_for 30 grep -q 'linkd: I am ' "${D[i]}/run/linkd.log"
}
for i in 2 3 4 5; do
	adm=
	[ "$i" = 5 ] && adm=--admin
	# shellcheck disable=SC2086
	url=$(om 1 invite "m$i" $adm --ipv4 "${V4[i]}" --expires 10m \
	    2>>"$T/commands.log") || url=
	must "m1 invites m$i${adm:+ as an admin}" grep -q '^onionmesh://' <<<"$url"
	must "m$i joins over TCP and starts" join_tcp "$i" "$url"
done
for i in $(seq 1 $N); do
	ID[i]=$(sed -n 's/^id = //p' "${D[i]}/hosts/m$i")
	V6[i]=$(conf_ipv6 "${D[i]}")
done

# links_to I J: member I has an established link to member J.
links_to() {
	om "$1" links --json 2>/dev/null | jq -e --arg p "m$2" \
	    '[.. | objects | select(.peer? == $p and .state? == "up")]
	     | length > 0' >/dev/null
}
# has_record I NAME: member I holds NAME's record (keyd, and hosts/).
has_record() {
	om "$1" status --json 2>/dev/null | jq -e --arg n "$2" \
	    '[.. | objects | select(.name? == $n)] | length > 0' \
	    >/dev/null || [ -e "${D[$1]}/hosts/$2" ]
}
# has_id I ID: member I holds a record with this id (keyd, or hosts/).
has_id() {
	om "$1" status --json 2>/dev/null | jq -e --arg n "$2" \
	    '[.. | strings | select(. == $n)] | length > 0' >/dev/null ||
	    grep -rqx "id = $2" "${D[$1]}/hosts/" 2>/dev/null
}
for i in 1 2 3 4; do
	for j in 1 2 3 4; do
		[ "$i" -lt "$j" ] || continue
		must "link m$i <-> m$j up within 30 s" wait_for 30 links_to "$i" "$j"
	done
	must "m$i holds m5's record" wait_for 30 has_record "$i" m5
done

# m5 stops: from now on its key is the forger's.
must "m5's daemons stop" om 5 down
for i in 1 2 3 4; do
	check "m$i's link to m5 is gone within 20 s" \
	    wait_for 20 eval "! links_to $i 5"
done

# ---------------------------------------------------------------------------
# Helpers for the forgeries

# forge V MODE ARGS...: om-forge as m5 (in m5's namespace) against m$V;
# its output line in $T/forge.out.
forge() {
	local v=$1
	shift
	nx 5 timeout 120 "$FORGE" "${D[5]}/keys" "$NET:$ROOT" "${U[v]}" 6550 \
	    "${ID[v]}" "$@" >"$T/forge.out" 2>>"$T/commands.log"
	cat "$T/forge.out" >>"$T/commands.log"
}
# num I JQ: a number from member I's `status --json` (x when none).
num() {
	om "$1" status --json 2>/dev/null | jq -r "$2 // \"x\"" 2>/dev/null ||
	    echo x
}
KC='.daemons.keyd.status.claims'
claim() { num "$1" "$KC.refused_by_reason.$2"; }
# grew_by I JQ BEFORE N: the number went up by at least N within 10 s.
grew() {
	local v
	v=$(num "$1" "$2")
	[ "$v" != x ] && [ "$3" != x ] && [ "$v" -ge $(($3 + $4)) ]
}
grew_by() { wait_for 10 grew "$@"; }
# traffic: members the forgery did not touch still reach each other.
traffic() {
	nx 3 ping -c 3 -i 0.2 -W 1 "${V4[4]}" &&
	    nx 1 ping -c 3 -i 0.2 -W 1 "${V4[2]}" &&
	    nx 2 ping -c 3 -i 0.2 -W 1 "${V4[3]}"
}
# hosts_sum: every victim's hosts/ dir (names and contents).
hosts_sum() {
	local i
	for i in 1 2 3 4; do
		(cd "${D[i]}/hosts" && ls && cat ./*) 2>/dev/null
	done | sha256sum
}
# no_route_to PREFIX: no routing table of m1..m4 holds PREFIX.
no_route_to() {
	local i
	for i in 1 2 3 4; do
		ip -4 -n "${ns[i]}" route show table all 2>/dev/null |
		    grep -q "^$1 " && return 1
	done
	return 0
}

must "the members reach each other before any forgery" wait_for 20 traffic
check "the forger's key store is m5's (om-forge loads it)" \
    test -s "${D[5]}/keys/identity"

# refused DESC REASON ARGS...: a member admitted by m5 with ARGS (om-forge
# record NAME IPV4 IPV6 [SUBNET...]) sent to m2: counted under REASON,
# not held, nothing else changed, traffic flows.
refused() {
	local desc=$1 reason=$2 before sum id
	shift 2
	before=$(claim 2 "$reason")
	sum=$(hosts_sum)
	if ! forge 2 record "$@"; then
		not_ok "$desc: om-forge could not send it: $(tail -n 2 "$T/commands.log")"
		return 0
	fi
	check "$desc: counted on m2 (claims.refused_by_reason.$reason, was $before)" \
	    grew_by 2 "$KC.refused_by_reason.$reason" "$before" 1
	id=$(sed -n 's/.*id=\([0-9a-f]*\).*/\1/p' "$T/forge.out")
	check "$desc: held by no member (keyd, hosts/)" eval \
	    "[ -n '$id' ] && ! has_id 1 $id && ! has_id 2 $id &&
	     ! has_id 3 $id && ! has_id 4 $id"
	check "$desc: no victim's hosts/ changed" test "$(hosts_sum)" = "$sum"
	check "$desc: the others' traffic flows" traffic
}

# ---------------------------------------------------------------------------
# Records

refused "a member with m3's IPv4" ipv4_taken f-taken "${V4[3]}" derived
refused "a member with an IPv4 outside 10.77.0.0/16" ipv4_range \
    f-range 10.99.0.5 derived
refused "a member with m3's IPv6" ipv6_not_derived f-v6 10.77.1.6 "${V6[3]}"
refused "a member with an IPv6 outside the network" ipv6_not_derived \
    f-v6b 10.77.1.7 fd00::7
refused "a member named m3" name_taken m3 10.77.1.8 derived
# The name check itself: m3's record on every victim is still m3's.
check "m3's record is still m3's on m1, m2, m4" eval \
    "grep -qx 'id = ${ID[3]}' '${D[1]}/hosts/m3' &&
     grep -qx 'id = ${ID[3]}' '${D[2]}/hosts/m3' &&
     grep -qx 'id = ${ID[3]}' '${D[4]}/hosts/m3'"
refused "a member with subnet m3's address/32" subnet_network \
    f-sub 10.77.1.9 derived "${V4[3]}/32"
refused "a member with a subnet over the mesh's ULA" subnet_network \
    f-sub6 10.77.1.10 derived "${V6[3]}/128"
check "no routing table of m1..m4 has ${V4[3]}/32 as a route" \
    no_route_to "${V4[3]}"

# ---------------------------------------------------------------------------
# Subnets never granted

ungranted() { # DESC NAME: NAME's record claims 203.0.113.0/24
	local desc=$1 name=$2
	check "$desc: refused by keyd on m2 (claims.refused_by_reason.subnet_not_granted, was $kr)" \
	    grew_by 2 "$KC.refused_by_reason.subnet_not_granted" "$kr" 1
	check "$desc: no victim holds a record with it" eval \
	    "! grep -qs '^subnet = 203.0.113.0/24' '${D[1]}/hosts/$name' \
	       '${D[2]}/hosts/$name' '${D[3]}/hosts/$name' \
	       '${D[4]}/hosts/$name'"
	check "$desc: 203.0.113.0/24 reaches no routing table of m1..m4" \
	    no_route_to 203.0.113.0/24
	check "$desc: the others' traffic flows" traffic
}
kr=$(claim 2 subnet_not_granted)
if forge 2 self "${D[2]}/hosts/m5" 203.0.113.0/24; then
	sleep 2
	ungranted "m5's own record with subnet 203.0.113.0/24 (no grant)" m5
else
	not_ok "m5's own record with a subnet: om-forge could not send it"
fi
kr=$(claim 2 subnet_not_granted)
if forge 2 record f-net 10.77.1.11 derived 203.0.113.0/24; then
	sleep 2
	ungranted "a member admitted by m5 whose record, not its admission, has subnet 203.0.113.0/24" f-net
else
	not_ok "a member with a subnet: om-forge could not send it"
fi

# ---------------------------------------------------------------------------
# Who may admit: a plain member m5 admitted (held: an admin may admit)
# admits another

before=$(claim 2 admitter_role)
if forge 2 chain f-plain 10.77.1.20 f-byplain 10.77.1.21; then
	p=$(sed -n 's/.* id=\([0-9a-f]*\).*/\1/p' "$T/forge.out")
	q=$(sed -n 's/.* id2=\([0-9a-f]*\).*/\1/p' "$T/forge.out")
	check "a member admitted by m5 (an admin) is held by m2" \
	    wait_for 10 has_id 2 "$p"
	check "one admitted by that plain member: counted on m2 (claims.refused_by_reason.admitter_role, was $before)" \
	    grew_by 2 "$KC.refused_by_reason.admitter_role" "$before" 1
	check "one admitted by that plain member: held by no member" eval \
	    "[ -n '$q' ] && ! has_id 1 $q && ! has_id 2 $q &&
	     ! has_id 3 $q && ! has_id 4 $q"
	check "after the chain the others' traffic flows" traffic
else
	not_ok "a chain of admissions: om-forge could not send it"
fi

# ---------------------------------------------------------------------------
# 10,000 records admitted by m5

# admitted_by_m5 I: how many records member I holds that m5 admitted.
admitted_by_m5() {
	grep -lx "admitted-by = ${ID[5]}" "${D[$1]}"/hosts/* 2>/dev/null |
	    wc -l
}
full=$(claim 2 admitter_full)
nx 3 ping -c 60 -i 0.25 -W 1 "${V4[4]}" >"$T/ping.out" 2>&1 &
pingpid=$!
start=$SECONDS
if forge 2 many "$FORGE_MANY" f 10.77.100.0; then
	ok "om-forge sent $FORGE_MANY records admitted by m5 to m2 in $((SECONDS - start)) s: $(cat "$T/forge.out")"
else
	not_ok "om-forge could not send $FORGE_MANY records: $(tail -n 2 "$T/commands.log")"
fi
wait "$pingpid" || true
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$T/ping.out")
check "m3 -> m4 pings during the flood: ${loss:-?}% lost (at most 10%)" \
    test "${loss%.*}" -le 10
# keyd works through the backlog after the forger is done: wait for the
# count (bounded), then look at what is held.
full_after() { # the flood is counted: all but what may be held
	grew 2 "$KC.refused_by_reason.admitter_full" "$full" \
	    $((FORGE_MANY - MAXADM))
}
wait_for 30 full_after || true
for i in 1 2 3 4; do
	n=$(admitted_by_m5 "$i")
	check "m$i holds $n records admitted by m5 (at most max_admitted = $MAXADM)" \
	    test "$n" -le "$MAXADM"
done
# linkd sheds gossip keyd cannot take as fast as it comes (its
# gossip_drops, not in status yet): of an unpaced flood keyd sees and
# counts a part only.
now=$(claim 2 admitter_full)
check "m2 counted the flood: claims.refused_by_reason.admitter_full $full -> $now (>= $((FORGE_MANY / 10)) more)" \
    test "$now" != x -a "$now" -ge $((full + FORGE_MANY / 10))
check "after the flood the others' traffic flows" traffic
# At a pace keyd keeps up with, every record is counted: each one is
# refused, or pushes a held one of m5's out (also admitter_full).
full=$(claim 2 admitter_full)
if forge 2 many 1000 g 10.77.150.0 250; then
	check "1000 more at 250/s: each counted on m2 (admitter_full was $full)" \
	    wait_for 30 grew 2 "$KC.refused_by_reason.admitter_full" "$full" 1000
else
	not_ok "om-forge could not send 1000 paced records"
fi
for i in 1 2 3 4; do
	n=$(admitted_by_m5 "$i")
	check "m$i still holds $n records admitted by m5 (at most $MAXADM)" \
	    test "$n" -le "$MAXADM"
done

# ---------------------------------------------------------------------------
# Edge announcements

gr=$(num 2 '.daemons.keyd.status.gossip.refused')
if forge 2 edges 1 4294967296 "${ID[1]}" "${ID[2]}" "${ID[3]}" "${ID[4]}"
then
	check "edges with rate 2^32: refused by m2 (gossip.refused, was $gr)" \
	    grew_by 2 '.daemons.keyd.status.gossip.refused' "$gr" 1
else
	not_ok "edges with rate 2^32: om-forge could not send them"
fi
# routes_of I: member I's routes --json into $T/routes.I (0 when it has
# routes at all, so an empty table fails the checks below).
routes_of() {
	om "$1" routes --json 2>/dev/null >"$T/routes.$1" &&
	    jq -e '.routes | length > 0' "$T/routes.$1" >/dev/null
}
# via_m5 I: a route of member I to another member passes through m5.
via_m5() {
	jq -e '[.routes[] | select(.dest != "m5") | .path[1:-1][] |
	    select(. == "m5")] | length > 0' "$T/routes.$1" >/dev/null
}
# m5_path_is I PATH: member I's route to m5's IPv4 takes PATH (a JSON
# array of names), and its rate is not the one m5 claimed.
m5_path_is() {
	jq -e --arg d "${V4[5]}/32" --argjson p "$2" \
	    '[.routes[] | select(.dst == $d and .path == $p and
	      .rate_kbps < 4294967295)] | length == 1' "$T/routes.$1" \
	    >/dev/null
}
OM_FORGE_HOLD=12 forge 2 edges 1 4294967295 "${ID[1]}" "${ID[2]}" \
    "${ID[3]}" "${ID[4]}" &
fpid=$!
if wait_for 10 links_to 2 5; then
	ok "the forger holds a link to m2 as m5"
	sleep 4
	for i in 1 2 3; do
		check "m$i routes nothing through m5 (edges: rtt 1 us, rate 2^32-1)" \
		    eval "routes_of $i && ! via_m5 $i"
	done
	check "m2 reaches m5 on its own link, not at m5's claimed rate" \
	    m5_path_is 2 '["m2","m5"]'
	check "m3 reaches m5 through m2: m5's claimed edge to m3, which m3 never measured, is not used" \
	    m5_path_is 3 '["m3","m2","m5"]'
	check "m2 -> m3 and m1 -> m4 flow while the forged edges are live" \
	    traffic
else
	not_ok "the forger holds a link to m2 as m5"
fi
wait "$fpid" || not_ok "edges rtt 1 us: om-forge failed"

# ---------------------------------------------------------------------------
# Hostile vnet headers

TD='.daemons.tund.status'
vd=$(num 2 "$TD.drops_vnet_header")
vc=$(num 2 "$TD.vnet_headers_cleared")
if forge 2 vnet "${V4[5]}" "${V4[2]}"; then
	read -r drop clear replies < <(sed -n \
	    's/.*drop=\([0-9]*\) clear=\([0-9]*\) replies=\([0-9]*\).*/\1 \2 \3/p' \
	    "$T/forge.out")
	check "tund on m2 dropped the $drop that ask for segmentation (drops_vnet_header, was $vd)" \
	    grew_by 2 "$TD.drops_vnet_header" "$vd" "${drop:-1}"
	check "tund on m2 cleared the $clear with offsets outside the packet (vnet_headers_cleared, was $vc)" \
	    grew_by 2 "$TD.vnet_headers_cleared" "$vc" "${clear:-1}"
	check "m2 answered the clean echoes through the forged link ($replies replies)" \
	    test "${replies:-0}" -ge 3
else
	not_ok "vnet: om-forge could not send: $(tail -n 2 "$T/commands.log")"
fi
check "after the vnet headers the others' traffic flows" traffic

# ---------------------------------------------------------------------------
# Revocations by an admin past its bound (issue 15): m5 is an admin and
# revokes 50 ids no member has; every victim holds at most
# max_admitted ($MAXADM) of its revocations and counts the rest.

RV='.daemons.keyd.status.revocations'
ob=$(num 2 "$RV.over_bound")
if forge 2 revocations 50; then
	check "m2's keyd refused m5's revocations past $MAXADM (revocations.over_bound, was $ob)" \
	    grew_by 2 "$RV.over_bound" "$ob" 1
	for i in 1 2 3 4; do
		check "m$i holds at most $MAXADM of m5's revocations ($(num "$i" '.daemons.keyd.status.revoked'))" \
		    eval "[ \$(num $i '.daemons.keyd.status.revoked') -le $MAXADM ]"
	done
else
	not_ok "revocations: om-forge could not send: $(tail -n 2 "$T/commands.log")"
fi
check "after the revocations the others' traffic flows" traffic
for i in 1 2 3 4; do
	check "m$i's daemons all still run" eval \
	    "[ -n \"\$(daemon_pid '${D[i]}' keyd)\" ] &&
	     [ -n \"\$(daemon_pid '${D[i]}' linkd)\" ] &&
	     [ -n \"\$(daemon_pid '${D[i]}' routed)\" ] &&
	     [ -n \"\$(daemon_pid '${D[i]}' tund)\" ]"
done
