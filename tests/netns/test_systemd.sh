#!/usr/bin/env bash
# The systemd unit set (deploy/systemd/) under a real systemd: a Debian 12
# root made with debootstrap, onionmesh put into it with `make install
# DESTDIR=... PREFIX=/usr`, booted with systemd-nspawn and driven with
# nsenter. A second member runs outside the container, in a network
# namespace of its own, under the build tree's `onionmesh up`.
#
#   ns out (supervisor)         veth 192.0.2.1 <--> 192.0.2.2 veth  ns in
#   home: out  10.78.0.1  TCP                     in  10.78.0.2 (container:
#   tor1: t2   10.80.0.2  onions                  t1  10.80.0.1  systemd)
#
# The private Tor network (tests/tornet/tornet.sh) runs in ns in, on the
# loopback the container shares: the container's own tor (Debian's
# package, tor@default as shipped plus the private network's
# authorities) reaches it there, and t2 outside uses tornet's client0 by
# its Unix sockets.
#
# Checked: every unit passes `systemd-analyze verify`; `systemctl enable
# --now onionmesh@home.target` enables the units and brings the four
# daemons up, each under its own user; a link to the member outside over
# TCP, ping both ways over IPv4 and IPv6; kill -9 of each daemon is
# restarted by systemd alone; `systemctl restart onionmesh-linkd@home`
# restarts linkd and nothing else; the journal has linkd's lines with
# their levels; a daemon that hangs (SIGSTOP) is restarted by the
# watchdog; `onionmesh up/down` inside act through systemctl and never
# start a second set; `systemd-analyze security` of each unit is at most
# 2.0 ("OK"); in onion mode, keyd gets tor's group from the drop-in `up`
# writes and publishes through Debian's tor, and t1 and t2 link over
# onions and ping.
#
# The base root is cached under /var/cache/onionmesh-test/, keyed by its
# package list (about a minute the first time, from Debian's archive);
# each run works on a copy of it in its own temporary folder, removed at
# the end with the container, the namespaces and the outside member.
# Environment: OM_BUILD (make's B=, default build); the installed copy is
# built in $OM_BUILD/usr with PREFIX=/usr. OM_TEST_CACHE, the cache folder;
# OM_DEBIAN_MIRROR, the archive debootstrap uses.
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}
OM=$PWD/$OM_BUILD/onionmesh
TORNET=$PWD/tests/tornet/tornet.sh

. tests/netns/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root"; exit 1; }
for c in debootstrap systemd-nspawn nsenter ip ping jq timeout tor; do
	command -v "$c" >/dev/null ||
		{ echo "not ok - $c is missing (make deps)"; exit 1; }
done

CACHE=${OM_TEST_CACHE:-/var/cache/onionmesh-test}
PKGLIST=systemd,systemd-sysv,dbus,iproute2,iputils-ping,procps,tor
PKGLIST=$PKGLIST,libev4,libjansson4,libnng1,libseccomp2,libsodium23
PKGLIST=$PKGLIST,libsystemd0
KEY=$(printf %s "$PKGLIST" | sha256sum | cut -c1-12)
BASE=$CACHE/bookworm-systemd-$KEY
MIRROR=${OM_DEBIAN_MIRROR:-http://deb.debian.org/debian}

T=$(mktemp -d /tmp/onionmesh-systemd.XXXXXX)
chmod 755 "$T"
R=$T/root
nsout=omsd$$-out
nsin=omsd$$-in
dout=$T/out
dt2=$T/t2
TN=$T/tornet
U1=192.0.2.1
U2=192.0.2.2
V4OUT=10.78.0.1
V4IN=10.78.0.2
NET=home
nspawn_pid=
cpid=

nout() { ip netns exec "$nsout" "$@"; }
omout() { nout "$OM" -n "$NET" -d "$dout" "$@"; }
omt2() { nout "$OM" -n tor1 -d "$dt2" "$@"; }
# A command inside the booted container (its namespaces and root).
cin() { timeout 60 nsenter -t "$cpid" -a "$@"; }
sctl() { cin systemctl "$@"; }

dump_logs() {
	local f
	local d
	for d in keyd routed linkd tund; do
		echo "# ----- journal of onionmesh-$d@$NET (last 25 lines)"
		[ -n "$cpid" ] && cin journalctl --no-pager -n 25 \
		    -u "onionmesh-$d@$NET.service" 2>&1 | sed 's/^/# /'
	done
	for f in "$dout"/run/*.log "$T/nspawn.log" "$T/commands.log"; do
		[ -f "$f" ] || continue
		echo "# ----- ${f#"$T"/} (last 40 lines)"
		tail -n 40 "$f" | sed 's/^/# /'
	done
}

cleanup() {
	local rc=$? p pids
	set +e
	if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
		not_ok "the test script stopped early (exit status $rc)"
	fi
	[ $failed -eq 0 ] || dump_logs
	timeout 15 "$OM" -n "$NET" -d "$dout" down >/dev/null 2>&1
	timeout 15 "$OM" -n tor1 -d "$dt2" down >/dev/null 2>&1
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		[ -n "$cpid" ] && timeout 10 nsenter -t "$cpid" -a \
		    systemctl poweroff >/dev/null 2>&1
		for _ in $(seq 1 100); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -TERM "$nspawn_pid" 2>/dev/null
		sleep 1
		kill -KILL "$nspawn_pid" 2>/dev/null
		wait "$nspawn_pid" 2>/dev/null
	fi
	for p in $(member_pids "$dout") $(member_pids "$dt2"); do
		kill -KILL "$p" 2>/dev/null
	done
	[ -d "$TN" ] && timeout 30 "$TORNET" stop "$TN" >/dev/null 2>&1
	for ns in "$nsout" "$nsin"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	# The copy of the root only; the cached base stays. Never across a
	# mount point, should the container have left one behind.
	rm -rf --one-file-system -- "$T"
	echo "systemd: $passed passed, $failed failed"
	[ $failed -eq 0 ] || exit 1
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x "$OM" ]; then
	must "build onionmesh ($OM_BUILD)" make -j2 B="$OM_BUILD" all
fi

# ---------------------------------------------------------------------------
# `up` and the daemons' folders (no daemon starts: up refuses first)

reach_refused() { # up under a 0700 parent: refused, naming that folder
	local out
	out=$("$OM" -d "$T/priv/m0" up 2>&1) && return 1
	echo "$out"
	echo "$out" | grep -q "$T/priv is owner 0 group 0 mode 0700" &&
	    echo "$out" | grep -q "onionmesh-keyd.*onionmesh-routed"
}
mkdir -m 0700 "$T/priv"
must "init a member under a 0700 folder" \
    "$OM" -d "$T/priv/m0" init m0 --ipv4 10.79.0.1/16 --tcp 127.0.0.1:6551
check "up refuses it: the daemon users cannot pass through $T/priv" \
    reach_refused
check "... and starts no daemon" test -z "$(member_pids "$T/priv/m0")"

# ---------------------------------------------------------------------------
# The root: cached base, a copy of it, onionmesh installed into the copy

if [ ! -x "$BASE/lib/systemd/systemd" ]; then
	mkdir -p "$CACHE"
	rm -rf --one-file-system -- "$BASE.tmp"
	echo "# debootstrap bookworm into $BASE (once; about a minute)"
	must "debootstrap a Debian 12 root ($PKGLIST)" timeout 900 \
	    debootstrap --variant=minbase --include="$PKGLIST" bookworm \
	    "$BASE.tmp" "$MIRROR"
	mv "$BASE.tmp" "$BASE"
fi
must "copy the cached root" cp -a --reflink=auto "$BASE" "$R"
must "build onionmesh with PREFIX=/usr ($OM_BUILD/usr)" \
    make -j2 B="$OM_BUILD/usr" PREFIX=/usr all
must "make install DESTDIR=<root> PREFIX=/usr" \
    make B="$OM_BUILD/usr" PREFIX=/usr DESTDIR="$R" install
# Debian's tor runs as shipped (tor@default, /run/tor/control and its
# cookie, group debian-tor). The container has no way out, so it never
# bootstraps; its control port answers all the same, which is what keyd
# needs to publish the onion service.
echo onionmesh-test >"$R/etc/hostname"
# A short watchdog for routed, to see a hung daemon restarted quickly.
mkdir -p "$R/etc/systemd/system/onionmesh-routed@$NET.service.d"
printf '[Service]\nWatchdogSec=4s\n' \
    >"$R/etc/systemd/system/onionmesh-routed@$NET.service.d/50-test.conf"

# ---------------------------------------------------------------------------
# Two hosts: the container's namespace and the outside member's

ip netns add "$nsout"
ip netns add "$nsin"
ip -n "$nsout" link set lo up
ip -n "$nsin" link set lo up
ip -n "$nsout" link add veth0 type veth peer name veth0 netns "$nsin"
ip -n "$nsout" addr add $U1/24 dev veth0
ip -n "$nsin" addr add $U2/24 dev veth0
ip -n "$nsout" link set veth0 up
ip -n "$nsin" link set veth0 up
must "underlay $U1 <-> $U2 is up" wait_for 10 nout ping -c 1 -W 1 $U2

# The private Tor network, in the container's namespace; it bootstraps
# while the TCP part runs.
must "private Tor network starts in ns in (1 client, for t2 outside)" \
    ip netns exec "$nsin" "$TORNET" start "$TN" 1
# The container's tor: Debian's, as shipped, told where this network's
# authorities are (what any tor on a private network needs).
{
	echo "# onionmesh test: the private Tor network (tests/tornet)"
	echo "TestingTorNetwork 1"
	echo "AssumeReachable 1"
	echo "PathsNeededToBuildCircuits 0.25"
	echo "V3AuthNIntervalsValid 2"
	echo "ShutdownWaitLength 0"
	cat "$TN/dirauths"
} >>"$R/etc/tor/torrc"

systemd-nspawn -D "$R" -b --register=no --keep-unit -M "omsd$$" \
    --network-namespace-path="/run/netns/$nsin" \
    --capability=CAP_NET_ADMIN \
    --console=read-only </dev/null >"$T/nspawn.log" 2>&1 &
nspawn_pid=$!
container_pid() {
	local p
	for p in $(pgrep -P "$nspawn_pid" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] &&
		    { cpid=$p; return 0; }
	done
	return 1
}
must "systemd-nspawn started the container's systemd" \
    wait_for 30 container_pid
booted() {
	local s
	s=$(nsenter -t "$cpid" -a systemctl is-system-running 2>/dev/null)
	[ "$s" = running ] || [ "$s" = degraded ]
}
must "the container's systemd reached running within 60 s" \
    wait_for 60 booted
# nspawn makes the container's /dev/net/tun (CAP_NET_ADMIN) with this
# host's mode; on a Debian host udev makes it 0666 (50-udev-default.rules,
# static_node=tun), which tund, a user with CAP_NET_ADMIN but no
# CAP_DAC_OVERRIDE, needs. The container has no udev: do what it does.
must "the container's /dev/net/tun is 0666, as udev makes it" \
    cin chmod 0666 /dev/net/tun
check "no unit failed while booting" \
    test -z "$(sctl --failed --plain --no-legend 2>&1)"

# ---------------------------------------------------------------------------
# The units, as installed

units="onionmesh@$NET.target"
for d in keyd routed linkd tund; do
	units="$units onionmesh-$d@$NET.service"
done
verify_clean() { # UNIT: verify exits 0 and says nothing
	local out
	# --man=no: the root has no man(1); the pages are checked below.
	out=$(cin systemd-analyze verify --man=no "$1" 2>&1) ||
	    { echo "$out"; return 1; }
	echo "$out"
	[ -z "$out" ]
}
for u in $units; do
	check "systemd-analyze verify $u" verify_clean "$u"
done

for m in man8/onionmesh.8 man8/onionmesh-daemons.8; do
	check "the units' Documentation= page $m is installed" \
	    test -s "$R/usr/share/man/$m"
done

must "systemd-sysusers made the daemon users" \
    cin sh -c 'systemd-sysusers && id onionmesh-keyd && id onionmesh-tund'

# ---------------------------------------------------------------------------
# Two members: one inside (systemd), one outside (supervisor)

must "init the member outside" omout init out --ipv4 $V4OUT/16 \
    --tcp $U1:6550
chmod 755 "$dout"
must "init the member inside" cin onionmesh -n $NET init in \
    --ipv4 $V4IN/16 --tcp $U2:6550 --root "$(conf_root "$dout")"
# Debug lines too, to see every level reach the journal.
sed -i 's/^loglevel *=.*//' "$R/etc/onionmesh/$NET/onionmesh.conf"
echo "loglevel = debug" >>"$R/etc/onionmesh/$NET/onionmesh.conf"
must "export the outside record" omout export "$T/out.record"
must "export the inside record" cin onionmesh -n $NET export /root/in.record
cp "$T/out.record" "$R/root/out.record"
must "import the inside record outside" omout import "$R/root/in.record"
must "import the outside record inside" \
    cin onionmesh -n $NET import /root/out.record

must "systemctl enable --now onionmesh@$NET.target" \
    sctl enable --now "onionmesh@$NET.target"
for u in $units; do
	check "$u is enabled" test "$(sctl is-enabled "$u" 2>&1)" = enabled
done

main_pid() { # DAEMON: MainPID of its unit, or nothing
	local p
	p=$(sctl show -p MainPID --value "onionmesh-$1@$NET.service" \
	    2>/dev/null)
	[ -n "$p" ] && [ "$p" != 0 ] && echo "$p"
	return 0
}
all_active() {
	local d
	for d in keyd routed linkd tund; do
		sctl is-active --quiet "onionmesh-$d@$NET.service" || return 1
	done
}
must "the four daemons are active within 30 s" wait_for 30 all_active
# /proc of the container's pid namespace, seen from here through its
# systemd: ps inside.
for d in keyd routed linkd tund; do
	p=$(main_pid $d)
	check "onionmesh-$d runs as user onionmesh-$d (pid $p)" test \
	    "$(cin ps -o user= -p "$p" | tr -d ' ')" = "onionmesh-$d"
done
tund_caps() { # CapEff of tund: CAP_NET_ADMIN (bit 12) and nothing else
	local c
	# shellcheck disable=SC2016 # awk's $2, not the shell's
	c=$(cin awk '/^CapEff/ { print $2 }' "/proc/$(main_pid tund)/status")
	echo "tund CapEff $c"
	[ "$c" = 0000000000001000 ]
}
check "tund has CAP_NET_ADMIN and no other capability" tund_caps
no_caps() { # DAEMON: no capability in any set
	local c
	c=$(cin grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' \
	    "/proc/$(main_pid "$1")/status")
	echo "$c"
	! echo "$c" | grep -qv '0000000000000000$'
}
for d in keyd routed linkd; do
	check "onionmesh-$d has no capability at all" no_caps $d
done

# ---------------------------------------------------------------------------
# The link, both ways

must "up the member outside" omout up
must "a link outside -> inside carries IPv4 within 40 s" \
    wait_for 40 nout ping -c 1 -W 1 $V4IN
check "ping inside -> outside over IPv4" \
    cin ping -c 3 -i 0.2 -W 2 $V4OUT
V6IN=$(conf_ipv6 "$R/etc/onionmesh/$NET")
V6OUT=$(conf_ipv6 "$dout")
check "ping outside -> inside over IPv6 ($V6IN)" \
    wait_for 10 nout ping -6 -c 1 -W 1 "$V6IN"
check "ping inside -> outside over IPv6 ($V6OUT)" \
    cin ping -6 -c 3 -i 0.2 -W 2 "$V6OUT"

# ---------------------------------------------------------------------------
# Restarts: kill -9, restart of one unit, the watchdog

pids_now() {
	local d
	for d in keyd routed linkd tund; do printf '%s ' "$(main_pid $d)"; done
}
new_pid() { # DAEMON OLDPID: active again with another pid
	local p
	p=$(main_pid "$1")
	[ -n "$p" ] && [ "$p" != "$2" ] &&
	    sctl is-active --quiet "onionmesh-$1@$NET.service"
}
for d in keyd routed linkd tund; do
	old=$(main_pid $d)
	cin kill -KILL "$old"
	check "kill -9 of $d (pid $old): systemd restarts it within 20 s" \
	    wait_for 20 new_pid $d "$old"
done
must "the four daemons are active again" wait_for 20 all_active
check "the link carries IPv4 again within 40 s after the kills" \
    wait_for 40 nout ping -c 1 -W 1 $V4IN

before=$(pids_now)
old=$(main_pid linkd)
must "systemctl restart onionmesh-linkd@$NET" \
    sctl restart "onionmesh-linkd@$NET.service"
after=$(pids_now)
check "restart of linkd: linkd has a new pid" new_pid linkd "$old"
only_linkd() {
	echo "before: $before after: $after"
	# shellcheck disable=SC2086
	set -- $before
	local k=$1 r=$2 t=$4
	# shellcheck disable=SC2086
	set -- $after
	[ "$1" = "$k" ] && [ "$2" = "$r" ] && [ "$4" = "$t" ]
}
check "restart of linkd: keyd, routed and tund keep their pids" only_linkd
check "the link carries IPv4 again within 40 s after the restart" \
    wait_for 40 nout ping -c 1 -W 1 $V4IN

old=$(main_pid routed)
cin kill -STOP "$old"
check "routed hung by SIGSTOP: its watchdog (4 s) restarts it within 30 s" \
    wait_for 30 new_pid routed "$old"
check "the journal says the watchdog fired" eval \
    "cin journalctl --no-pager -u onionmesh-routed@$NET.service |
    grep -i watchdog"

# ---------------------------------------------------------------------------
# The journal: linkd's lines, with their levels

jlinkd() { cin journalctl --no-pager -u "onionmesh-linkd@$NET.service" "$@"; }
check "journalctl -u onionmesh-linkd@$NET shows linkd's lines" eval \
    "jlinkd -o cat | grep -q ."
levels() { # the PRIORITY= values of linkd's lines, debug ones included
	jlinkd -p debug -o verbose | sed -n 's/^ *PRIORITY=//p' | sort -u |
	    tr '\n' ' '
}
check "linkd's lines carry their levels (info and debug: $(levels))" \
    eval 'levels | grep -q 6 && levels | grep -q 7'
check "no '<N>' prefix is left in linkd's messages" eval \
    "! jlinkd -o cat | grep -q '^<[0-7]>'"

# ---------------------------------------------------------------------------
# onionmesh up/down on a network systemd runs

count_keyd() { cin pgrep -c -x onionmesh-keyd || true; }
check "onionmesh up on an enabled network goes through systemctl" eval \
    "cin onionmesh -n $NET up 2>&1 | tee -a \"$T/commands.log\" |
    grep -q systemctl"
check "... and starts no second daemon set (one keyd: $(count_keyd))" \
    test "$(count_keyd)" = 1
must "onionmesh down stops the units" cin onionmesh -n $NET down
check "after down, onionmesh@$NET.target is inactive" \
    test "$(sctl is-active "onionmesh@$NET.target" 2>&1)" = inactive
check "after down, no daemon runs" test "$(count_keyd)" = 0
must "onionmesh up starts the units again" cin onionmesh -n $NET up
check "after up, the four daemons are active" wait_for 30 all_active

# ---------------------------------------------------------------------------
# Exposure

for d in keyd routed linkd tund; do
	u=onionmesh-$d@$NET.service
	fig=$(cin systemd-analyze security --no-pager "$u" 2>&1 |
	    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
	echo "# systemd-analyze security $u: ${fig:-?}"
	check "systemd-analyze security $u: ${fig:-?} <= 2.0" \
	    awk -v f="${fig:-99}" 'BEGIN { exit !(f <= 2.0) }'
done

# ---------------------------------------------------------------------------
# Onion mode with Debian's tor: keyd gets tor's group from the drop-in `up`
# writes, and publishes the service through /run/tor/control

must "Debian's tor is active in the container" \
    wait_for 30 sctl is-active --quiet tor@default.service
must "init t1 inside, founder of network tor1, finding Debian's tor" \
    cin onionmesh -n tor1 init t1 --ipv4 10.80.0.1/16
check "init found /run/tor/control" \
    grep -q '^tor_control = unix:/run/tor/control' \
    "$R/etc/onionmesh/tor1/onionmesh.conf"
tn_line=$("$TORNET" client "$TN" 0)
tn_control=${tn_line#control=}
tn_control=${tn_control%% *}
tn_socks=${tn_line#* socks=}
tn_socks=${tn_socks%% *}
must "init t2 outside, with tornet's client0" omt2 init t2 \
    --ipv4 10.80.0.2/16 --tor-control "unix:$tn_control" \
    --tor-socks "unix:$tn_socks" \
    --root "$(conf_root "$R/etc/onionmesh/tor1")"
chmod 755 "$dt2"
# Their own TUN device names, whatever init chose: home's run beside them.
sed -i 's/^interface = .*/interface = om-tor1/' \
    "$R/etc/onionmesh/tor1/onionmesh.conf" "$dt2/onionmesh.conf"
must "export t1's record" cin onionmesh -n tor1 export /root/t1.record
check "t1's record carries its onion address" \
    grep -qE '^onion = [a-z2-7]{56}\.onion$' "$R/root/t1.record"
must "export t2's record" omt2 export "$T/t2.record"
cp "$T/t2.record" "$R/root/t2.record"
must "import t1's record outside" omt2 import "$R/root/t1.record"
must "import t2's record inside" cin onionmesh -n tor1 import /root/t2.record
must "systemctl enable onionmesh@tor1.target" \
    sctl enable onionmesh@tor1.target
must "onionmesh -n tor1 up: writes keyd's drop-in and starts the units" \
    cin onionmesh -n tor1 up
dropin=$R/etc/systemd/system/onionmesh-keyd@tor1.service.d/50-tor.conf
check "the drop-in gives keyd SupplementaryGroups=debian-tor" \
    grep -qx 'SupplementaryGroups=debian-tor' "$dropin"
keyd_groups() { # keyd of tor1 has onionmesh and debian-tor, nothing else
	local p g
	p=$(sctl show -p MainPID --value onionmesh-keyd@tor1.service)
	g=$(cin sh -c "grep ^Groups: /proc/$p/status | cut -f2" |
	    tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
	echo "keyd groups: $g"
	[ "$g" = "$(cin sh -c 'getent group debian-tor onionmesh' |
	    cut -d: -f3 | sort -n | tr '\n' ' ')" ]
}
check "keyd of tor1 runs with groups onionmesh and debian-tor" keyd_groups
linkd_groups() { # and linkd only with onionmesh
	local p
	p=$(sctl show -p MainPID --value onionmesh-linkd@tor1.service)
	[ "$(cin sh -c "grep ^Groups: /proc/$p/status | cut -f2" |
	    tr -d ' \t')" = "$(cin getent group onionmesh | cut -d: -f3)" ]
}
check "linkd of tor1 gets no tor group" linkd_groups
check "keyd authenticated to Debian's tor with SAFECOOKIE" wait_for 20 \
    eval "cin journalctl --no-pager -u onionmesh-keyd@tor1.service |
    grep -q 'authenticated to tor.*SAFECOOKIE'"
check "keyd published the onion service" wait_for 20 eval \
    "cin journalctl --no-pager -u onionmesh-keyd@tor1.service |
    grep -q 'onion service .*\\.onion published'"
must "tornet's client bootstraps within 120 s" "$TORNET" wait "$TN" 120
tor_ready() {
	cin journalctl --no-pager -u tor@default.service |
	    grep -q 'Bootstrapped 100%'
}
must "the container's tor bootstraps on the private network within 120 s" \
    wait_for 120 tor_ready
must "up t2 outside (supervisor)" omt2 up
t=$(took 120 cin ping -c 1 -W 2 10.80.0.2) || true
check "t1 (systemd) -> t2 over onions: first reply within 120 s ($t s)" \
    test "$t" != never
check "t2 -> t1 over onions, IPv4" \
    wait_for 30 nout ping -c 1 -W 2 10.80.0.1
check "t2 -> t1 over onions, IPv6" \
    wait_for 30 nout ping -6 -c 1 -W 2 "$(conf_ipv6 "$R/etc/onionmesh/tor1")"
all_onion() {
	omt2 links --json | jq -e '[.. | objects | select(has("transport"))]
	    | length > 0 and all(.transport == "onion")'
}
check "t2's links are all onion links" all_onion
check "the network home ran on beside it" all_active
