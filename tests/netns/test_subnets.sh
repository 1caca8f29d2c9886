#!/usr/bin/env bash
# Subnets behind members and the gateway pattern, end to end: three
# onionmesh members over TCP, each in its own network namespace, a LAN
# behind one of them and "the internet" behind another.
#
#             nsS: bridge br0 (the underlay, 192.0.2.0/24)
#            /            |             \
#   nsA (a) .1       nsB (b) .2       nsC (c) .3
#   10.77.0.1        10.77.0.2        10.77.0.3
#                      | r0             | l0  192.168.50.1/24, fd50::1/64
#   nsR (remote)  198.18.0.2         nsL (lan host) 192.168.50.2, fd50::2
#                 2001:db8:18::2
#
# Checked:
#  - a founds the network and grants the subnets in its invitations
#    (invite --subnet, issue 14): b joins granted 0.0.0.0/0 and ::/0,
#    c granted 192.168.50.0/24, fd50::/64 and 203.0.113.0/24; join
#    writes them into their configs;
#  - c announces subnet = 192.168.50.0/24 and fd50::/64, which a and b
#    accept (accept_subnets = in their configs, as a user writes it):
#    tund on a and b routes them to the TUN device (ip route show dev
#    TUN); a pings
#    192.168.50.1 and fd50::1 (c's own LAN address) and 192.168.50.2 (a
#    host behind c, which forwards);
#  - kill -9 of a's tund: the new tund gets the routes again;
#  - c removes its subnets (config edited, keyd reloaded, record
#    exported and imported): a's routes go;
#  - c's config claims b's address (10.77.0.2/32), which its admission
#    does not grant: c's keyd leaves it out of its record with a
#    warning, no routing table of a or b gets it (ip route in their
#    namespaces), and a still reaches b; then c claims 203.0.113.0/24,
#    granted: the record is taken, but routed on a and b counts the
#    refusal (subnets_refused_by: outside) and routes none of it;
#  - onionmesh grant: c's config lists 198.51.100.0/24, not granted,
#    and leaves it out; b (plain) may not grant it; a (the root) does;
#    the grant reaches c by gossip and c announces it, and b takes the
#    record (it holds the grant too, in STATE/grants); c restarted
#    still announces it at once (its keyd loads the grant first);
#  - b announces 0.0.0.0/0 and ::/0 and forwards with NAT to nsR: without
#    `gateway = b` neither a nor c routes any of it and nsR is
#    unreachable; with `gateway = b` in a's config, a routes 0.0.0.0/1 +
#    128.0.0.0/1 and ::/1 + 8000::/1 to its TUN, reaches nsR over IPv4
#    and IPv6 through b (nsR has no route back to the mesh: only b's NAT
#    makes the replies come), and the underlay keeps its own routes (a's
#    links stay up); c, without the line, still routes none of it;
#  - down: tund removed its routes (its log says so).
#
# Only addresses inside namespaces this test makes are used: the
# underlay 192.0.2.0/24, the mesh 10.77.0.0/16, the LAN 192.168.50.0/24
# and fd50::/64, the remote 198.18.0.0/24 and 2001:db8:18::/64.
#
# Prints "ok - ..." / "not ok - ..." and a last line "subnets: N passed,
# M failed"; exit 1 on any failure, after the daemons' logs. Every wait
# is bounded. Environment: OM_BUILD, the build dir (make's B=, default
# build); OM_INIT_ARGS, extra `init` flags (e.g. --no-privsep);
# OM_SANDBOX=no (sandbox = no in the configs, for sanitizer builds).
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh

[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root"; exit 1; }
for c in ip ping jq nft pgrep timeout; do
	command -v "$c" >/dev/null ||
		{ echo "not ok - $c is missing (make deps)"; exit 1; }
done
if [ ! -x "$OM" ]; then
	make B="$OM_BUILD" -j2 all >/dev/null ||
		{ echo "not ok - make failed"; exit 1; }
fi

T=$(mktemp -d /tmp/onionmesh-subnets.XXXXXX)
chmod 755 "$T"  # daemons under privsep run as their own users
# shellcheck source=tests/netns/lib.sh
. tests/netns/lib.sh

P=oms$$
nsS=$P-s nsA=$P-a nsB=$P-b nsC=$P-c nsR=$P-r nsL=$P-l
dA=$T/a dB=$T/b dC=$T/c
UA=192.0.2.1 UB=192.0.2.2 UC=192.0.2.3
VA=10.77.0.1 VB=10.77.0.2 VC=10.77.0.3
TUN=om-default

nA() { ip netns exec "$nsA" "$@"; }
nB() { ip netns exec "$nsB" "$@"; }
nC() { ip netns exec "$nsC" "$@"; }
omA() { nA "$OM" -d "$dA" "$@"; }
omB() { nB "$OM" -d "$dB" "$@"; }
omC() { nC "$OM" -d "$dC" "$@"; }

dump_logs() {
	local f
	for f in "$dA"/run/*.log "$dB"/run/*.log "$dC"/run/*.log \
	    "$T/commands.log"; do
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
	for d in "$dA" "$dB" "$dC"; do
		timeout 15 "$OM" -d "$d" down >/dev/null 2>&1
	done
	# Anything still in our namespaces, and any daemon of our members,
	# was started by this test.
	for ns in "$nsA" "$nsB" "$nsC" "$nsR" "$nsL" "$nsS"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	done
	for p in $(member_pids "$dA") $(member_pids "$dB") \
	    $(member_pids "$dC"); do
		kill -KILL "$p" 2>/dev/null
	done
	for ns in "$nsA" "$nsB" "$nsC" "$nsR" "$nsL" "$nsS"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf -- "$T"
	echo "subnets: $passed passed, $failed failed"
	[ $failed -eq 0 ] || exit 1
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# has_route NS PREFIX [FAMILY]: PREFIX is routed to the TUN device in NS.
has_route() {
	ip -"${3:-4}" -n "$1" route show dev "$TUN" 2>/dev/null |
	    awk -v p="$2" '$1 == p { f = 1 } END { exit !f }'
}
no_route() { ! has_route "$@"; }
# unreachable NS ADDR: a few pings, none answered.
unreachable() { ! ip netns exec "$1" ping -c 2 -i 0.3 -W 1 "$2"; }
# record_has DIR NAME LINE: member NAME's record in DIR holds LINE.
record_has() { grep -qx -- "$3" "$1/hosts/$2" 2>/dev/null; }
# no_subnet DIR NAME: member NAME's record in DIR lists no subnet.
no_subnet() { [ -f "$1/hosts/$2" ] && ! grep -q '^subnet' "$1/hosts/$2"; }

# ---------------------------------------------------------------------------
# Namespaces: the underlay switch, three members, the LAN host behind c
# and the remote host behind b.

for ns in "$nsS" "$nsA" "$nsB" "$nsC" "$nsR" "$nsL"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip -n "$nsS" link add br0 type bridge
ip -n "$nsS" link set br0 up
i=1
for ns in "$nsA" "$nsB" "$nsC"; do
	ip -n "$nsS" link add "p$i" type veth peer name u0 netns "$ns"
	ip -n "$nsS" link set "p$i" master br0 up
	ip -n "$ns" addr add "192.0.2.$i/24" dev u0
	ip -n "$ns" link set u0 up
	i=$((i + 1))
done
must "underlay a <-> b, a <-> c is up" \
    wait_for 10 nA ping -c 1 -W 1 $UB
must "underlay a <-> c is up" wait_for 10 nA ping -c 1 -W 1 $UC

# c's LAN: l0 in nsC, its peer in nsL with a route back to the mesh.
ip -n "$nsC" link add l0 type veth peer name l0 netns "$nsL"
ip -n "$nsC" addr add 192.168.50.1/24 dev l0
ip -n "$nsC" addr add fd50::1/64 dev l0 nodad
ip -n "$nsL" addr add 192.168.50.2/24 dev l0
ip -n "$nsL" addr add fd50::2/64 dev l0 nodad
ip -n "$nsC" link set l0 up
ip -n "$nsL" link set l0 up
ip -n "$nsL" route add 10.77.0.0/16 via 192.168.50.1
nC sysctl -qw net.ipv4.ip_forward=1

# b's uplink: r0 to nsR, which knows nothing of the mesh; b masquerades.
ip -n "$nsB" link add r0 type veth peer name r0 netns "$nsR"
ip -n "$nsB" addr add 198.18.0.1/24 dev r0
ip -n "$nsB" addr add 2001:db8:18::1/64 dev r0 nodad
ip -n "$nsR" addr add 198.18.0.2/24 dev r0
ip -n "$nsR" addr add 2001:db8:18::2/64 dev r0 nodad
ip -n "$nsB" link set r0 up
ip -n "$nsR" link set r0 up
nB sysctl -qw net.ipv4.ip_forward=1
nB sysctl -qw net.ipv6.conf.all.forwarding=1
must "NAT on b's uplink (nft masquerade in b's namespace)" nB nft -f - <<'EOF'
table ip omnat {
	chain post {
		type nat hook postrouting priority 100;
		oifname "r0" masquerade
	}
}
table ip6 omnat {
	chain post {
		type nat hook postrouting priority 100;
		oifname "r0" masquerade
	}
}
EOF
must "b reaches the remote host" wait_for 10 nB ping -c 1 -W 1 198.18.0.2

# ---------------------------------------------------------------------------
# Members: c with a LAN, b with a default route, a plain.

# a founds the network and grants the subnets as a user would: in the
# invitations (invite --subnet), which only the root or an admin may;
# b and c join over TCP (join writes the granted subnets into their
# configs, as admitted_subnet and subnet lines).
# shellcheck disable=SC2086
must "init a" omA init a --ipv4 $VA/16 --tcp $UA:6550 ${OM_INIT_ARGS:-}
chmod 755 "$dA"
om_sandbox_off "$dA/onionmesh.conf"
# a and b take c's LAN: a member routes no one's subnet outside the
# mesh's ranges unless its own config accepts it.
printf 'accept_subnets = 192.168.50.0/24 fd50::/64\n' >>"$dA/onionmesh.conf"
must "up a" timeout 60 ip netns exec "$nsA" "$OM" -d "$dA" up

# join_tcp NS DIR ENDPOINT URL: join over TCP without starting.
join_tcp() {
	ip netns exec "$1" "$OM" -d "$2" join "$4" --tcp --endpoint "$3" \
	    --no-up >>"$T/commands.log" 2>&1
}
url_b=$(omA invite b --ipv4 $VB --subnet 0.0.0.0/0 --subnet ::/0 \
    2>>"$T/commands.log") || url_b=
must "a invites b granting 0.0.0.0/0 and ::/0" grep -q '^onionmesh://' \
    <<<"$url_b"
must "b joins over TCP" join_tcp "$nsB" "$dB" $UB:6550 "$url_b"
# 203.0.113.0/24 is granted too, but no one accepts it (routed's rule,
# checked below).
url_c=$(omA invite c --ipv4 $VC --subnet 192.168.50.0/24 \
    --subnet fd50::/64 --subnet 203.0.113.0/24 2>>"$T/commands.log") ||
    url_c=
must "a invites c granting its LAN" grep -q '^onionmesh://' <<<"$url_c"
must "c joins over TCP" join_tcp "$nsC" "$dC" $UC:6550 "$url_c"
chmod 755 "$dB" "$dC"
om_sandbox_off "$dB/onionmesh.conf" "$dC/onionmesh.conf"
check "c's config holds the granted subnets (join wrote them)" \
    grep -qx 'admitted_subnet = fd50::/64' "$dC/onionmesh.conf"
# c announces its LAN only (not the documentation /24, for now).
sed -i '/^subnet = 203.0.113.0\/24$/d' "$dC/onionmesh.conf"
printf 'accept_subnets = 192.168.50.0/24 fd50::/64\n' >>"$dB/onionmesh.conf"
must "up b" timeout 60 ip netns exec "$nsB" "$OM" -d "$dB" up
must "up c" timeout 60 ip netns exec "$nsC" "$OM" -d "$dC" up

# keyd signs the record again with the subnets of the config at start.
must "c's record announces its subnets" \
    wait_for 10 record_has "$dC" c "subnet = fd50::/64"
must "b's record announces 0.0.0.0/0" \
    wait_for 10 record_has "$dB" b "subnet = 0.0.0.0/0"

# Gossip brings every record everywhere.
must "a holds c's record with its subnets" \
    wait_for 30 record_has "$dA" c "subnet = fd50::/64"
must "b holds c's record with its subnets" \
    wait_for 30 record_has "$dB" c "subnet = fd50::/64"
must "c holds b's record" wait_for 30 record_has "$dC" b "subnet = ::/0"

must "a <-> b carries IPv4 within 30 s" wait_for 30 nA ping -c 1 -W 1 $VB

# tund keeps CAP_NET_ADMIN (bit 12) for routes and nothing else: no
# other capability in any set, sandboxed, no new privileges; the other
# daemons keep none.
caps_are() { # PID EFF-PRM-INH-BND-AMB
	awk '/^Cap(Eff|Prm|Inh|Bnd|Amb):/ { c[$1] = $2 }
	    /^NoNewPrivs:/ { n = $2 } /^Seccomp:/ { s = $2 }
	    END { printf "%s-%s-%s-%s-%s nnp=%s seccomp=%s\n", c["CapEff:"],
	        c["CapPrm:"], c["CapInh:"], c["CapBnd:"], c["CapAmb:"], n, s }' \
	    "/proc/$1/status" | tee -a "$T/commands.log" | grep -qx "$2"
}
nadm=0000000000001000
none=0000000000000000
sc=2   # seccomp filter mode; 0 when sanitized.sh turned the sandbox off
[ "${OM_SANDBOX:-}" != no ] || sc=0
check "a's tund holds CAP_NET_ADMIN only (effective, permitted), seccomp $sc" \
    caps_are "$(daemon_pid "$dA" tund)" \
    "$nadm-$nadm-$none-$none-$none nnp=1 seccomp=$sc"
for dd in linkd keyd routed; do
	check "a's $dd holds no capability" caps_are "$(daemon_pid "$dA" $dd)" \
	    "$none-$none-$none-$none-$none nnp=1 seccomp=$sc"
done
must "a <-> c carries IPv4 within 30 s" wait_for 30 nA ping -c 1 -W 1 $VC

# ---------------------------------------------------------------------------
# c's LAN from a

check "a's tund routes 192.168.50.0/24 to $TUN" \
    wait_for 10 has_route "$nsA" 192.168.50.0/24
check "a's tund routes fd50::/64 to $TUN" \
    wait_for 10 has_route "$nsA" fd50::/64 6
check "b's tund routes 192.168.50.0/24 to $TUN" \
    wait_for 10 has_route "$nsB" 192.168.50.0/24
check "a's routes carry onionmesh's protocol (77)" eval \
    "ip -n $nsA route show dev $TUN proto 77 | grep -q '^192.168.50.0/24'"
status_lists() { # PREFIX: in tund's device_routes of `status --json`
	omA status --json | jq -e --arg p "$1" \
	    '[.. | objects | .device_routes? // empty | .[]] | index($p) != null'
}
check "a's tund lists the route in status" status_lists 192.168.50.0/24
check "a pings 192.168.50.1 (c's LAN address)" \
    wait_for 10 nA ping -c 2 -i 0.3 -W 2 192.168.50.1
check "a pings fd50::1 (c's LAN address)" \
    wait_for 10 nA ping -6 -c 2 -i 0.3 -W 2 fd50::1
check "a pings 192.168.50.2 (a host behind c)" \
    wait_for 10 nA ping -c 2 -i 0.3 -W 2 192.168.50.2
check "b pings fd50::1" wait_for 10 nB ping -6 -c 2 -i 0.3 -W 2 fd50::1
check "c does not route its own subnet to its TUN" \
    no_route "$nsC" 192.168.50.0/24

# A new tund (kill -9) starts with a fresh device: routed sends the
# table again and the routes come back.
tpid=$(daemon_pid "$dA" tund)
if [ -n "$tpid" ]; then
	kill -KILL "$tpid"
	newtund() { p=$(daemon_pid "$dA" tund); [ -n "$p" ] && [ "$p" != "$tpid" ]; }
	check "kill -9 a's tund: restarted within 10 s" wait_for 10 newtund
	check "kill -9 a's tund: 192.168.50.0/24 routed again within 10 s" \
	    wait_for 10 has_route "$nsA" 192.168.50.0/24
	check "kill -9 a's tund: fd50::/64 routed again" \
	    wait_for 10 has_route "$nsA" fd50::/64 6
	check "kill -9 a's tund: a pings 192.168.50.1 again" \
	    wait_for 15 nA ping -c 1 -W 1 192.168.50.1
else
	not_ok "a runs no onionmesh-tund"
fi

# ---------------------------------------------------------------------------
# No gateway line: b's default is nobody's route.

for x in "$nsA" "$nsC"; do
	m=${x##*-}
	check "$m without gateway: no 0.0.0.0/1 or 128.0.0.0/1 to $TUN" \
	    eval "no_route $x 0.0.0.0/1 && no_route $x 128.0.0.0/1"
	check "$m without gateway: no ::/1 or 8000::/1 to $TUN" \
	    eval "no_route $x ::/1 6 && no_route $x 8000::/1 6"
	check "$m without gateway: 198.18.0.2 is unreachable" \
	    unreachable "$x" 198.18.0.2
done

# ---------------------------------------------------------------------------
# c drops its subnets: edit the config, keyd signs the record again on
# SIGHUP, the others import it; a's routes go.

sed -i '/^subnet = /d' "$dC/onionmesh.conf"
kpid=$(daemon_pid "$dC" keyd)
[ -n "$kpid" ] && kill -HUP "$kpid"
check "c's record no longer announces a subnet" \
    wait_for 10 no_subnet "$dC" c
push_c() {
	omC export "$T/c.record" && omA import "$T/c.record" &&
	    omB import "$T/c.record"
}
check "c's new record reaches a and b (export/import)" push_c
check "a's route to 192.168.50.0/24 goes within 10 s" \
    wait_for 10 no_route "$nsA" 192.168.50.0/24
check "a's route to fd50::/64 goes" wait_for 10 no_route "$nsA" fd50::/64 6
check "b's route to 192.168.50.0/24 goes" \
    wait_for 10 no_route "$nsB" 192.168.50.0/24
check "a no longer reaches 192.168.50.1" unreachable "$nsA" 192.168.50.1
check "a <-> c still carries traffic" wait_for 10 nA ping -c 1 -W 1 $VC

# ---------------------------------------------------------------------------
# c claims b's address, never granted, and a documentation /24 granted
# but accepted by no one.

# in_any_table NS PREFIX: PREFIX is a route in any table of NS (ip
# prints a host route without its /32).
in_any_table() {
	ip -n "$1" route show table all 2>/dev/null |
	    awk -v p="$2" -v h="${2%/32}" '$1 == p || $1 == h { f = 1 }
	        END { exit !f }'
}
# refused NS-DIR KIND: routed's status counts at least one refusal of
# KIND (subnets_refused_by).
refused() {
	"$OM" -d "$1" status --json 2>/dev/null | jq -e --arg k "$2" \
	    '[.. | objects | select(has("subnets_refused_by"))] | .[0] |
	     .subnets_refused >= 1 and .subnets_refused_by[$k] >= 1' \
	    >/dev/null
}
# c_subnet PREFIX: c's config claims only PREFIX, and keyd re-signs.
c_subnet() {
	sed -i '/^subnet = /d' "$dC/onionmesh.conf"
	printf 'subnet = %s\n' "$1" >>"$dC/onionmesh.conf"
	kpid=$(daemon_pid "$dC" keyd)
	[ -n "$kpid" ] && kill -HUP "$kpid"
}
c_subnet "$VB/32"
# Its admission does not grant it: c's keyd leaves it out of its record
# and says why (a forged record that claims it anyway is refused by
# every other keyd: tests/netns/test_forge.sh, tests/unit/test_claims.c).
check "c's keyd warns that $VB/32 is not granted" \
    wait_for 10 grep -q "subnet = $VB/32: not announced: this member's admission does not grant it" "$dC/run/keyd.log"
check "c's record does not claim b's address" no_subnet "$dC" c
push_c >/dev/null 2>&1 || true
for x in a:"$nsA":"$dA" b:"$nsB":"$dB"; do
	IFS=: read -r m ns d <<<"$x"
	check "$m's copy of c's record claims no subnet" no_subnet "$d" c
	check "$m routes no $VB/32 of c's (ip route, all tables)" \
	    eval "! ip -n $ns route show table all proto 77 |
	        grep -q '^${VB}[ /]'"
done
check "a has no route for $VB/32 at all" eval "! in_any_table $nsA $VB/32"
check "a <-> b still carries traffic (b's address stays b's)" \
    wait_for 10 nA ping -c 2 -i 0.3 -W 1 $VB
# Granted (at invite), but accepted by no one: routed refuses it.
c_subnet 203.0.113.0/24
check "c's record claims 203.0.113.0/24 (granted)" \
    wait_for 10 record_has "$dC" c "subnet = 203.0.113.0/24"
check "c's record with it reaches a and b (export/import)" push_c
for x in a:"$nsA":"$dA" b:"$nsB":"$dB"; do
	IFS=: read -r m ns d <<<"$x"
	check "$m's routed counts 203.0.113.0/24 as refused (outside)" \
	    wait_for 10 refused "$d" outside
	check "$m routes no 203.0.113.0/24 (ip route, all tables)" \
	    eval "! in_any_table $ns 203.0.113.0/24"
done
sed -i '/^subnet = /d' "$dC/onionmesh.conf"
kpid=$(daemon_pid "$dC" keyd)
[ -n "$kpid" ] && kill -HUP "$kpid"
check "c's record drops the subnets" wait_for 10 no_subnet "$dC" c
check "c's record without them reaches a and b" push_c

# ---------------------------------------------------------------------------
# A grant for a member admitted already: c's config lists
# 198.51.100.0/24, which it was not granted; b (a plain member) may not
# grant it, a (the root) does, and the grant reaches c and b by gossip.

c_subnet 198.51.100.0/24
check "c's keyd leaves 198.51.100.0/24 out (not granted yet)" \
    wait_for 10 grep -q "subnet = 198.51.100.0/24: not announced" \
    "$dC/run/keyd.log"
check "b, a plain member, may not grant" eval \
    "! omB grant c --subnet 198.51.100.0/24 2>$T/grant_b.err &&
     grep -q 'only the root or an admin can grant' $T/grant_b.err"
check "a (the root) grants c 198.51.100.0/24" \
    omA grant c --subnet 198.51.100.0/24
check "the grant reaches c, which announces the subnet within 20 s" \
    wait_for 20 record_has "$dC" c "subnet = 198.51.100.0/24"
check "c's record with it reaches a and b" push_c
check "b holds c's record with the granted subnet" \
    wait_for 20 record_has "$dB" c "subnet = 198.51.100.0/24"
grants_held() { # DIR: keyd holds at least one grant
	"$OM" -d "$1" status --json 2>/dev/null | jq -e \
	    '[.. | objects | select(has("grants"))] | .[0].grants.held >= 1' \
	    >/dev/null
}
check "b's keyd holds the grant (status --json)" grants_held "$dB"
check "b keeps the grant in STATE/grants (one file, named by c's id)" eval \
    "[ \$(ls $dB/grants | wc -l) = 1 ]"
# A restart: keyd loads the grant before it signs c's record, so the
# subnet stays announced without waiting for gossip.
check "down c" timeout 30 "$OM" -d "$dC" down
must "up c again" timeout 60 ip netns exec "$nsC" "$OM" -d "$dC" up
check "after its restart c's record still announces 198.51.100.0/24" \
    record_has "$dC" c "subnet = 198.51.100.0/24"
check "a <-> c carries traffic again after c's restart" \
    wait_for 30 nA ping -c 1 -W 1 $VC
sed -i '/^subnet = /d' "$dC/onionmesh.conf"
kpid=$(daemon_pid "$dC" keyd)
[ -n "$kpid" ] && kill -HUP "$kpid"
check "c's record drops it again" wait_for 10 no_subnet "$dC" c

# ---------------------------------------------------------------------------
# gateway = b on a.

check "down a" timeout 30 "$OM" -d "$dA" down
printf 'gateway = b\n' >>"$dA/onionmesh.conf"
must "up a with gateway = b" \
    timeout 60 ip netns exec "$nsA" "$OM" -d "$dA" up
must "a <-> b carries IPv4 again" wait_for 30 nA ping -c 1 -W 1 $VB

for p in 0.0.0.0/1 128.0.0.0/1; do
	check "a with gateway = b routes $p to $TUN" \
	    wait_for 10 has_route "$nsA" $p
done
for p in ::/1 8000::/1; do
	check "a with gateway = b routes $p to $TUN" \
	    wait_for 10 has_route "$nsA" $p 6
done
check "a with gateway = b: 198.18.0.2 goes to $TUN" eval \
    "ip -n $nsA route get 198.18.0.2 | grep -q 'dev $TUN'"
check "a's underlay keeps its own route (192.0.2.3 via u0)" eval \
    "ip -n $nsA route get $UC | grep -q 'dev u0'"
# Count what reaches the remote host from here on: b's NAT address only.
must "counters in the remote namespace" ip netns exec "$nsR" nft -f - <<'EOF'
table inet omcount {
	chain in {
		type filter hook input priority 0;
		ip saddr 198.18.0.1 icmp type echo-request counter
		ip saddr 10.77.0.0/16 counter
	}
}
EOF
check "a reaches the remote host 198.18.0.2 through b (NAT on b)" \
    wait_for 15 nA ping -c 2 -i 0.3 -W 2 198.18.0.2
check "a reaches 2001:db8:18::2 through b over IPv6" \
    wait_for 15 nA ping -6 -c 2 -i 0.3 -W 2 2001:db8:18::2
check "a's links stay up with the gateway (a -> c)" \
    nA ping -c 2 -i 0.3 -W 2 $VC
# counter_of WHAT: packets of the remote's counter rule matching WHAT.
counter_of() {
	ip netns exec "$nsR" nft list table inet omcount |
	    awk -v w="$1" 'index($0, w) { for (i = 1; i < NF; i++)
	        if ($i == "packets") { print $(i + 1); exit } }'
}
n_nat=$(counter_of "198.18.0.1") || n_nat=0
n_mesh=$(counter_of "10.77.0.0/16") || n_mesh=x
check "the remote host saw a's pings from b's NAT address ($n_nat)" \
    test "${n_nat:-0}" -gt 0
check "the remote host never saw a mesh address (${n_mesh:-none})" \
    test "${n_mesh:-x}" = 0
check "c, without gateway, still routes none of it" eval \
    "no_route $nsC 0.0.0.0/1 && no_route $nsC ::/1 6 &&
     unreachable $nsC 198.18.0.2"

# Stopping tund takes its routes away (before the device goes).
check "down a (with gateway)" timeout 30 "$OM" -d "$dA" down
check "a's tund removed 0.0.0.0/1 when it stopped" \
    grep -q "route 0.0.0.0/1 dev $TUN removed" "$dA/run/tund.log"
check "a's tund removed 8000::/1 when it stopped" \
    grep -q "route 8000::/1 dev $TUN removed" "$dA/run/tund.log"
