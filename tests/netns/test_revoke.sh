#!/usr/bin/env bash
# Revocation end to end: four onionmesh members over TCP, each in its own
# network namespace on one bridge, a full mesh.
#
#   bridge omr<pid> in the root namespace; member N has veth0
#   192.0.2.N/24 into it and 10.77.0.N (+ IPv6) on its TUN.
#
# m1 founds the network (it is the root); m2..m4 are set up by hand with
# m1's id as their root and every record imported everywhere (a member
# pinned by hand: no admission chain, so `invite` on them is refused,
# which is checked too). Then m1 revokes m4, and:
#   - the revocation reaches every member within 10 s (each keyd's
#     "revoked" list; m4's record gone from m1..m3 and from their hosts/);
#   - 0 packets pass between m4 and the others (pings both ways, IPv4
#     and IPv6), and no linkd of m1..m3 has a link to m4;
#   - m4's handshakes are refused (its linkd keeps dialing; m1's linkd
#     logs the refusals and no link comes up);
#   - restarting m2 (down/up) keeps the revocation, and m4 stays out;
#   - `import` of m4's record is refused on m1;
#   - `revoke` on m2, a plain member, fails with a clear message and
#     nothing spreads (m3 stays a member everywhere);
#   - `invite` on m1 prints a URL with its tcp endpoint; on m2 (no
#     admission chain) it is refused, naming why.
# Phase 2, real admissions (`onionmesh join --tcp`, namespaces 5..7):
# m1 invites m5 as an admin, m5 invites m6, m1 invites m7; the pinned
# members take m5's and m6's records from gossip alone (their chains
# reach the root); m6 may not make an admin, nor (the root not letting
# members invite, issue 14) invite at all; m5 (an admin) revokes m7
# and it spreads; m1 revokes m5, which names m6 as gone with it, and
# both drop out everywhere (records, hosts/, pings, links).
#
# Style of test_mesh.sh: helpers from lib.sh, "ok" / "not ok" lines, a
# last line "revoke: N passed, M failed", exit 1 on any failure (after the
# daemons' logs), cleaned up by the EXIT trap, every wait bounded.
# Environment: OM_BUILD (make's B=, default build); OM_INIT_ARGS, extra
# `init` flags (e.g. --no-privsep); OM_KEEP=DIR keeps the members' dirs.
# OM_SANDBOX=no: sandbox = no in the configs (sanitizer builds).
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
OMCTL=$PWD/$OM_BUILD/tools/om-ctl

[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root"; exit 1; }
for c in ip ping jq pgrep timeout; do
	command -v "$c" >/dev/null ||
		{ echo "not ok - $c is missing (make deps)"; exit 1; }
done
if [ ! -x "$OM" ] || [ ! -x "$OMCTL" ]; then
	make B="$OM_BUILD" -j2 all >/dev/null ||
		{ echo "not ok - make failed"; exit 1; }
fi

T=$(mktemp -d /tmp/onionmesh-revoke.XXXXXX)
chmod 755 "$T"  # daemons under privsep run as their own users
. tests/netns/lib.sh

N=4      # members set up by hand
NALL=7   # m5..m7 join with invitations (phase 2)
BR=omr$$
ns=() D=() U=() V4=() V6=() ID=()
netns_members "omr$$" $NALL
# kctl I 'JSON' / lctl I 'JSON': one request to member I's keyd / linkd.
kctl() { "$OMCTL" "${D[$1]}/run/ctl.keyd" "$2"; }
lctl() { "$OMCTL" "${D[$1]}/run/ctl.linkd" "$2"; }

cleanup() {
	local rc=$?
	set +eu
	netns_stopped_early $rc
	netns_members_down $NALL
	netns_teardown "$BR" "omrv$$" $NALL
	# OM_KEEP=DIR: keep the members' dirs (logs) there for a look.
	netns_finish revoke
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Four hosts on one bridge, four members, a full mesh

netns_bridge "$BR" "omrv$$" $NALL
must "underlay: m1 reaches m4 over the bridge" \
    wait_for 10 nx 1 ping -c 1 -W 1 "${U[4]}"

for i in $(seq 1 $N); do
	# m1 founds the network; the others join it by hand (--root).
	root=
	[ "$i" = 1 ] || root="--root $(conf_root "${D[1]}")"
	# shellcheck disable=SC2086
	must "init m$i" om "$i" init "m$i" --ipv4 "${V4[i]}/16" \
	    --tcp "${U[i]}:6550" $root ${OM_INIT_ARGS:-}
	chmod 755 "${D[i]}"
	om_sandbox_off "${D[i]}/onionmesh.conf"
	V6[i]=$(conf_ipv6 "${D[i]}")
	ID[i]=$(sed -n 's/^id = //p' "${D[i]}/hosts/m$i")
	must "export m$i's record" om "$i" export "$T/m$i.record"
done
check "m1 is the root of every member's config" test \
    "$(conf_root "${D[1]}")" = "${ID[1]}" -a \
    "$(conf_root "${D[4]}")" = "${ID[1]}"
for i in $(seq 1 $N); do
	for j in $(seq 1 $N); do
		[ "$i" = "$j" ] && continue
		must "import m$j's record into m$i" om "$i" import \
		    "$T/m$j.record"
	done
done
for i in $(seq 1 $N); do
	timeout 60 ip netns exec "${ns[i]}" "$OM" -d "${D[i]}" up \
	    >>"$T/commands.log" 2>&1 &
done
upfail=0
for j in $(jobs -p); do
	wait "$j" || upfail=1
done
must "up m1..m4" test $upfail -eq 0

# links_to I J: member I has an established link to member J.
links_to() {
	om "$1" links --json 2>/dev/null | jq -e --arg p "m$2" \
	    '[.. | objects | select(.peer? == $p and .state? == "up")]
	     | length > 0' >/dev/null
}
for i in 1 2 3; do
	must "link m$i <-> m4 up within 30 s" wait_for 30 links_to "$i" 4
done
must "m1 pings m4 before the revocation" \
    wait_for 20 nx 1 ping -c 1 -W 1 "${V4[4]}"

# ---------------------------------------------------------------------------
# invite: on the root it works; on a member pinned by hand it does not

if om 1 invite m9 --expires 1h >"$T/url" 2>>"$T/commands.log" &&
    grep -qE "^onionmesh://default/[0-9a-f]{32}/[0-9a-f]{16}/[0-9a-f]{40}\?tcp=${U[1]}:6550$" \
    "$T/url"; then
	ok "invite on m1 prints an invitation URL with its tcp endpoint"
else
	not_ok "invite on m1: $(cat "$T/url")"
fi
# invite_file_ok: one pending file, 0600, without the URL's secret.
invite_file_ok() {
	local secret f
	secret=$(sed 's|?.*||; s|.*/||' "$T/url")
	f=$(ls "${D[1]}"/keys/invites/)
	[ "${#secret}" = 40 ] && [ "$(echo "$f" | wc -l)" = 1 ] &&
	    [ "$(stat -c %a "${D[1]}/keys/invites/$f")" = 600 ] &&
	    ! grep -q "$secret" "${D[1]}/keys/invites/$f"
}
check "the invitation file is 0600 and holds no secret" invite_file_ok
if ! om 2 invite m6 >"$T/out" 2>"$T/err" &&
    grep -q "cannot invite" "$T/err"; then
	ok "invite on m2 (pinned by hand, no admission) is refused: $(head -c 160 "$T/err")"
else
	not_ok "invite on m2: $(cat "$T/out" "$T/err")"
fi

# ---------------------------------------------------------------------------
# A plain member cannot revoke; nothing spreads

if ! om 2 revoke m3 >"$T/out" 2>"$T/err" &&
    grep -q "only the root or an admin may revoke" "$T/err"; then
	ok "revoke on m2 (a plain member) fails: $(head -c 160 "$T/err")"
else
	not_ok "revoke on m2: $(cat "$T/out" "$T/err")"
fi
revoked_n() { # I: how many revocations member I's keyd holds
	kctl "$1" '{"cmd":"revoked"}' 2>/dev/null |
	    jq -r '.revoked | length' 2>/dev/null || echo x
}
has_record() { # I NAME: member I's keyd holds NAME's record
	kctl "$1" '{"cmd":"records"}' 2>/dev/null |
	    jq -e --arg n "$2" '[.records[] | select(.name == $n)] |
	        length > 0' >/dev/null
}
sleep 2
for i in 1 2 3 4; do
	check "after m2's refused revoke: m$i holds no revocation and m3's record" \
	    eval "[ \"\$(revoked_n $i)\" = 0 ] && has_record $i m3"
done

# ---------------------------------------------------------------------------
# m1 (the root) revokes m4

if om 1 revoke m4 >"$T/out" 2>"$T/err" && grep -q "^revoked m4$" "$T/out"
then
	ok "m1 revokes m4: $(tr '\n' ' ' <"$T/out")"
else
	not_ok "revoke m4 on m1: $(cat "$T/out" "$T/err")"
fi
revoked_at() { # I: member I holds the revocation and no record of m4
	[ "$(revoked_n "$1")" = 1 ] && ! has_record "$1" m4
}
for i in 1 2 3; do
	t=$(took 10 revoked_at "$i") || true
	check "the revocation reached m$i within 10 s ($t s)" test "$t" != never
	check "m$i's hosts/m4 is gone" test ! -e "${D[i]}/hosts/m4"
	check "m$i's STATE/revoked holds m4's id" \
	    test -s "${D[i]}/revoked/${ID[4]}"
done
t=$(took 10 eval "[ \"\$(revoked_n 4)\" = 1 ]") || true
check "the revocation reached m4 itself within 10 s ($t s)" test "$t" != never

no_link_to_m4() { # I: no link of member I's linkd is to m4
	lctl "$1" '{"cmd":"links"}' 2>/dev/null | jq -e --arg id "${ID[4]}" \
	    '[.. | objects | select((.peer? == "m4" or .peer_id? == $id)
	        and .state? != "closed")] | length == 0' >/dev/null
}
for i in 1 2 3; do
	check "m$i's linkd has no link to m4 within 10 s" \
	    wait_for 10 no_link_to_m4 "$i"
done
sleep 1
for i in 1 2 3; do
	check "0 of 5 pings m$i -> m4 (IPv4) answered" \
	    eval "! nx $i ping -c 5 -i 0.2 -W 1 ${V4[4]}"
	check "0 of 5 pings m4 -> m$i (IPv4) answered" \
	    eval "! nx 4 ping -c 5 -i 0.2 -W 1 ${V4[i]}"
done
check "0 of 5 pings m1 -> m4 (IPv6) answered" \
    eval "! nx 1 ping -6 -c 5 -i 0.2 -W 1 ${V6[4]}"
check "0 of 5 pings m4 -> m1 (IPv6) answered" \
    eval "! nx 4 ping -6 -c 5 -i 0.2 -W 1 ${V6[1]}"
check "m1 still pings m2 and m3" \
    eval "nx 1 ping -c 1 -W 2 ${V4[2]} && nx 1 ping -c 1 -W 2 ${V4[3]}"

# m4 still holds the others' records and dials them: every handshake is
# refused (its key is no member's any more), so no link comes up.
refusals() {
	cat "${D[1]}"/run/linkd.log "${D[2]}"/run/linkd.log \
	    "${D[3]}"/run/linkd.log 2>/dev/null |
	    grep -c "no member's" || true
}
r0=$(refusals)
nx 4 "$OM" -d "${D[4]}" down >>"$T/commands.log" 2>&1 || true
timeout 60 ip netns exec "${ns[4]}" "$OM" -d "${D[4]}" up \
    >>"$T/commands.log" 2>&1 || true
t=$(took 30 eval "[ \"\$(refusals)\" -gt $r0 ]") || true
check "m4's handshakes (after its restart) are refused by the members ($t s; $(refusals) refusals logged)" \
    test "$t" != never
sleep 3
for i in 1 2 3; do
	check "still no link m$i <-> m4 after m4 dialed again" no_link_to_m4 "$i"
done

# ---------------------------------------------------------------------------
# Restart keeps the revocation; import refuses it

must "down m2" om 2 down
timeout 60 ip netns exec "${ns[2]}" "$OM" -d "${D[2]}" up \
    >>"$T/commands.log" 2>&1 || true
must "m2 is up again (keyd answers)" wait_for 20 kctl 2 '{"cmd":"status"}'
check "m2 after its restart: still 1 revocation, no record of m4" \
    wait_for 10 revoked_at 2
must "m2 links to m1 again" wait_for 30 links_to 2 1
sleep 3
check "m2 after its restart: m4 did not come back by gossip" revoked_at 2
check "m2 after its restart: no link to m4" no_link_to_m4 2
check "m1 pings m2 after m2's restart" \
    wait_for 20 nx 1 ping -c 1 -W 1 "${V4[2]}"
if ! om 1 import "$T/m4.record" >"$T/out" 2>"$T/err" &&
    grep -q "revoked" "$T/err"; then
	ok "import of m4's record on m1 is refused: $(head -c 160 "$T/err")"
else
	not_ok "import of m4's record on m1: $(cat "$T/out" "$T/err")"
fi
check "m1 still has no record of m4" eval "! has_record 1 m4"

# ---------------------------------------------------------------------------
# Phase 2, real admissions: m1 invites m5 as an admin, m5 invites m6.
# Their records reach the members pinned by hand through gossip alone
# (a stranger's record is taken when its admission chain reaches the
# root). Then m1 revokes m5, and m6, admitted through it, goes too.

# join_tcp I URL: member I joins over TCP, reachable at its underlay
# address (--endpoint: so it can invite), and starts.
join_tcp() {
	local i=$1 url=$2
	om "$i" join "$url" --tcp --endpoint "${U[i]}:6550" --no-up ||
	    return 1
	chmod 755 "${D[i]}"
	if ! grep -qx "tcp = ${U[i]}:6550" "${D[i]}/onionmesh.conf" ||
	    ! grep -qx "listen = 0.0.0.0:6550" "${D[i]}/onionmesh.conf"; then
		echo "join --endpoint wrote no tcp/listen lines" >&2
		return 1
	fi
	om_sandbox_off "${D[i]}/onionmesh.conf"
	timeout 60 ip netns exec "${ns[i]}" "$OM" -d "${D[i]}" up || return 1
	# `up` returns once the daemons run; linkd takes joins (and links)
	# once keyd has told it who we are.
	wait_for 30 grep -q 'linkd: I am ' "${D[i]}/run/linkd.log"
}
url5=$(om 1 invite m5 --admin --ipv4 "${V4[5]}" --expires 10m \
    2>>"$T/commands.log") || url5=
must "m1 invites m5 as an admin" grep -q '^onionmesh://' <<<"$url5"
must "m5 joins with it over TCP and starts" join_tcp 5 "$url5"
ID[5]=$(sed -n 's/^id = //p' "${D[5]}/hosts/m5")
check "m5's config holds its admission by m1 (role admin)" eval \
    "grep -q '^admitted_by = ${ID[1]}$' '${D[5]}/onionmesh.conf' &&
     grep -q '^role = admin$' '${D[5]}/onionmesh.conf'"
for i in 2 3; do
	t=$(took 30 has_record "$i" m5) || true
	check "m$i (pinned by hand) took m5's record from gossip ($t s)" \
	    test "$t" != never
done
url6=$(om 5 invite m6 --ipv4 "${V4[6]}" 2>>"$T/commands.log") || url6=
must "m5 (an admin by admission) invites m6" grep -q '^onionmesh://' <<<"$url6"
must "m6 joins with it over TCP and starts" join_tcp 6 "$url6"
ID[6]=$(sed -n 's/^id = //p' "${D[6]}/hosts/m6")
for i in 1 2 3; do
	t=$(took 30 has_record "$i" m6) || true
	check "m$i took m6's record (chain m6 -> m5 -> root) ($t s)" \
	    test "$t" != never
done
check "m1 pings m6" wait_for 30 nx 1 ping -c 1 -W 1 "${V4[6]}"
if ! om 6 invite m7 --admin >"$T/out" 2>"$T/err" &&
    grep -q "only the root or an admin may make an admin" "$T/err"; then
	ok "m6 (a plain member) may not make an admin: $(head -c 120 "$T/err")"
else
	not_ok "invite --admin on m6: $(cat "$T/out" "$T/err")"
fi
if ! om 6 invite m8 >"$T/out" 2>"$T/err" &&
    grep -q "only the root or an admin may invite" "$T/err"; then
	ok "m6 (a plain member) may not invite by default: $(head -c 120 "$T/err")"
else
	not_ok "invite on m6: $(cat "$T/out" "$T/err")"
fi

# An admin's revocation spreads like the root's: m1 admits m7, m5
# revokes it. (Members pinned by hand are no members to those who
# joined: no admission vouches for them, so m5 could not revoke one.)
url7=$(om 1 invite m7 --ipv4 "${V4[7]}" 2>>"$T/commands.log") || url7=
must "m1 invites m7" grep -q '^onionmesh://' <<<"$url7"
must "m7 joins with it over TCP and starts" join_tcp 7 "$url7"
must "m5 took m7's record" wait_for 30 has_record 5 m7
if om 5 revoke m7 >"$T/out" 2>"$T/err"; then
	ok "m5 (admin) revokes m7"
else
	not_ok "revoke m7 on m5: $(cat "$T/err")"
fi
for i in 1 2 6; do
	t=$(took 10 eval "! has_record $i m7 && [ \"\$(revoked_n $i)\" = 2 ]") ||
	    true
	check "m5's revocation of m7 reached m$i within 10 s ($t s)" \
	    test "$t" != never
done

# m1 revokes m5: m6, admitted through it, loses membership too.
if om 1 revoke m5 >"$T/out" 2>"$T/err" &&
    grep -q "^also no longer a member (admitted through it): m6$" "$T/out"
then
	ok "m1 revokes m5, and names m6 as gone with it"
else
	not_ok "revoke m5 on m1: $(cat "$T/out" "$T/err")"
fi
for i in 1 2; do
	t=$(took 10 eval "! has_record $i m5 && ! has_record $i m6") || true
	check "m$i dropped m5 and m6 within 10 s ($t s)" test "$t" != never
	check "m$i's hosts/ no longer holds m5 or m6" \
	    test ! -e "${D[i]}/hosts/m5" -a ! -e "${D[i]}/hosts/m6"
done
sleep 1
check "0 of 5 pings m1 -> m6 answered" \
    eval "! nx 1 ping -c 5 -i 0.2 -W 1 ${V4[6]}"
check "0 of 5 pings m6 -> m2 answered" \
    eval "! nx 6 ping -c 5 -i 0.2 -W 1 ${V4[2]}"
check "no link m1 <-> m6 or m5" eval \
    "lctl 1 '{\"cmd\":\"links\"}' | jq -e '[.. | objects |
        select((.peer? == \"m5\" or .peer? == \"m6\") and
        .state? != \"closed\")] | length == 0'"

