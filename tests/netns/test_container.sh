#!/usr/bin/env bash
# Container deployment (deploy/container/): members as podman pods of
# four containers each (keyd, routed, linkd, tund: one daemon each, from
# one image built from this tree), linked over TCP on a podman network
# of their own.
#
#   pod m1 (10.219.N.11)  <--- podman bridge --->  pod m2 (10.219.N.12)
#     om-ct 10.77.0.1 + IPv6                        10.77.0.2 + IPv6
#                           pod m3 (10.219.N.13), joined by invitation
#
# Checked: every profile gen_seccomp writes (on the host, and in the
# image's build) matches the compiled list, and --check notices one
# changed rule; the image builds from the Containerfile; each daemon
# runs as its own user, PID 1 of its container, under its OCI seccomp
# profile AND its own filter (Seccomp_filters 2), with no capability but
# tund's CAP_NET_ADMIN (/proc/1/status); the HEALTHCHECK answers for
# each and fails for a network that is not there; ping m1 <-> m2 both
# ways over IPv4 and IPv6; a probe run inside each daemon's container,
# under that container's profile: ptrace and fork are killed,
# socket(AF_PACKET) and open("/etc/shadow") refused, an IP socket
# refused in tund and routed; execve is killed once the daemon's own
# filter is on (the container's profile must let the runtime's one
# execve of the daemon through); `podman logs` shows each daemon's
# lines; a stopped daemon fails its HEALTHCHECK; linkd, tund and routed
# killed with -9 are restarted by their restart policy and traffic
# comes back; only the config and runtime folders are mounted, the
# config read-only, the state for keyd alone; m1 invites m3 and m3 joins, each from a throw-away
# container, and m3's pod reaches m1; at the end every other daemon is
# still the process it was at the start. Then over onions: pods o1 and o2
# with no network but lo, each using a tor client of a private Tor
# network on the host (tests/tornet/) through its sockets, keyd with
# tor's group and no other, linkd and keyd under the -unix profiles (an
# IP socket refused), ping both ways over IPv4 and IPv6.
#
# The image: the Containerfile's two stages, as a user builds it, on
# bases made from Debian's archive by deploy/container/mkbase.sh (run
# image) and mkbase.sh --build (build stage: the build dependencies
# already in), cached as tarballs in
# /var/cache/onionmesh-test/container-base: the first run takes a
# minute or two more for debootstrap; after that the build needs no
# network. The profiles the test runs with are the image's own (made by
# the build stage) and are checked against this tree's compiled list.
# OM_CONTAINER_BIN=prebuilt takes binaries built on the host instead of
# the build stage (make install-container; --build-arg BIN=prebuilt).
#
# podman here: runc and cgroupfs (crun refuses this host's hybrid
# cgroups) and explicit nofile/nproc limits (the kernel will not let
# them be raised), in a containers.conf of the test's own
# (CONTAINERS_CONF), so the infra containers get them too.
#
# Environment: OM_BUILD, the build dir (make's B=, default build);
# OM_CONTAINER_BIN=prebuilt, see above. First run: about two minutes
# more for the two debootstraps (from Debian's archive); then about
# 1.5 minutes, with no network.
set -u
cd "$(dirname "$0")/../.." || exit 1
OM_BUILD=${OM_BUILD:-build}
ROOT=$PWD

. tests/netns/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root"; exit 1; }
for c in podman runc debootstrap nsenter ping jq timeout; do
	command -v "$c" >/dev/null ||
		{ echo "not ok - $c is missing (make deps)"; exit 1; }
done

T=$(mktemp -d /tmp/onionmesh-container.XXXXXX)
chmod 755 "$T"
id=omct$$
img=localhost/$id-img
net=$id-net
N=$(( $$ % 200 + 20 ))
SUB=10.219.$N
IP1=$SUB.11
IP2=$SUB.12
IP3=$SUB.13
V41=10.77.0.1
V42=10.77.0.2
NET=ct
BASE=onionmesh-base
BUILD_BASE=onionmesh-build-base
BASE_CACHE=/var/cache/onionmesh-test/container-base
DAEMONS="keyd routed linkd tund"
ext_before=$T/external.before
tornet_up=
img_before=$T/images.before

cat >"$T/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF=$T/containers.conf

pm() { podman "$@" 2>>"$T/podman.log"; }

dump_logs() {
	local c
	echo "# ----- podman ps -a"
	podman ps -a --format '{{.Names}} {{.Status}} restarts={{.Restarts}}' \
	    2>/dev/null | grep "^$id-" | sed 's/^/# /'
	for c in $(podman ps -a --format '{{.Names}}' 2>/dev/null |
	    grep "^$id-"); do
		echo "# ----- podman logs $c (last 30 lines)"
		podman logs "$c" 2>&1 | tail -n 30 | sed 's/^/# /'
	done
	for f in "$T/commands.log" "$T/podman.log"; do
		[ -s "$f" ] || continue
		echo "# ----- ${f#"$T"/} (last 40 lines)"
		grep -v 'systemd connection' "$f" | tail -n 40 | sed 's/^/# /'
	done
}

cleanup() {
	local rc=$? c
	set +e
	if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
		not_ok "the test script stopped early (exit status $rc)"
	fi
	[ $failed -eq 0 ] || dump_logs
	# Only what this test made: names start with $id.
	for c in m1 m2 m3 o1 o2; do
		timeout 60 podman pod rm -f -t 2 "$id-$c" >/dev/null 2>&1
	done
	[ -z "$tornet_up" ] || timeout 60 "$ROOT/tests/tornet/tornet.sh" \
	    stop "$T/tornet" >/dev/null 2>&1
	for c in $(podman ps -a --format '{{.Names}}' 2>/dev/null |
	    grep "^$id-"); do
		podman rm -f -t 0 "$c" >/dev/null 2>&1
	done
	for c in $(podman volume ls --format '{{.Name}}' 2>/dev/null |
	    grep "^$id-"); do
		podman volume rm -f "$c" >/dev/null 2>&1
	done
	podman network rm -f "$net" >/dev/null 2>&1
	podman rmi -f "$img" >/dev/null 2>&1
	# The build's intermediate images (stages, layers): the ones that
	# were not there before it. The base stays, as the cache.
	if [ -f "$img_before" ]; then
		for c in $(podman images -a -q --no-trunc 2>/dev/null); do
			grep -qx "$c" "$img_before" ||
				podman rmi -f "$c" >/dev/null 2>&1
		done
	fi
	# Build containers the build may leave behind (not there before).
	if [ -f "$ext_before" ]; then
		for c in $(podman ps -a --external --format '{{.ID}}' \
		    2>/dev/null); do
			grep -qx "$c" "$ext_before" ||
				podman rm -f "$c" >/dev/null 2>&1
		done
	fi
	rm -rf -- "$T"
	echo "container: $passed passed, $failed failed"
	[ $failed -eq 0 ] || exit 1
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Profiles: made from the compiled list, and checked against it

BIN=${OM_CONTAINER_BIN:-build}
must "make all seccomp (B=$OM_BUILD: the generator, the probe)" \
    make -s -j2 B="$OM_BUILD" all seccomp
GEN=$ROOT/$OM_BUILD/gen_seccomp
PROBE=$ROOT/$OM_BUILD/tools/seccomp_probe
SECCOMP=$ROOT/$OM_BUILD/seccomp
check "every profile make seccomp wrote matches the compiled list" \
    "$GEN" --check "$SECCOMP"
drift_noticed() { # a changed rule (AF_PACKET allowed) must be named
	local d=$T/drift out
	mkdir -p "$d"
	cp "$SECCOMP"/*.json "$d"/
	jq '(.syscalls[] | select(.names == ["socket"] and
	    .args[0].value == 17 and (.args | length) == 1)) |= (.action =
	    "SCMP_ACT_ALLOW" | del(.errnoRet))' \
	    "$SECCOMP/onionmesh-tund.json" \
	    >"$d/onionmesh-tund.json" || return 1
	cmp -s "$SECCOMP/onionmesh-tund.json" "$d/onionmesh-tund.json" &&
	    return 1 # jq changed nothing: the test itself is wrong
	if out=$("$GEN" --check "$d"); then return 1; fi
	echo "$out"
	echo "$out" | grep -q 'onionmesh-tund.json: entry .* drifted'
}
check "gen_seccomp --check fails when a profile drifts (AF_PACKET allowed)" \
    drift_noticed
check "each profile's default action kills, as the daemon's filter" \
    test "$(jq -r .defaultAction "$SECCOMP"/*.json | sort -u)" = \
    SCMP_ACT_KILL_PROCESS

# ---------------------------------------------------------------------------
# Image

must "base image $BASE (deploy/container/mkbase.sh, cached in $BASE_CACHE)" \
    timeout 900 deploy/container/mkbase.sh "$BASE_CACHE" "$BASE"
ctx=$ROOT
if [ "$BIN" = prebuilt ]; then
	must "make install-container into the build context" \
	    make -s -j2 B="$OM_BUILD" install-container PREFIX=/usr \
	    DESTDIR="$T/ctx/out"
	ctx=$T/ctx
else
	must "build base image $BUILD_BASE (mkbase.sh --build)" \
	    timeout 900 deploy/container/mkbase.sh --build "$BASE_CACHE" \
	    "$BUILD_BASE"
fi
podman ps -a --external --format '{{.ID}}' >"$ext_before" 2>/dev/null
podman images -a -q --no-trunc >"$img_before" 2>/dev/null
must "podman build the image (Containerfile, BIN=$BIN)" \
    timeout 600 podman build --network none --format docker \
    --build-arg BASE="$BASE" \
    --build-arg BUILD_BASE="$BUILD_BASE" --build-arg BIN="$BIN" \
    -t "$img" -f deploy/container/Containerfile "$ctx"
# The image's own profiles, made by its build (or make install-container).
SECCOMP=$T/seccomp
mkdir -p "$SECCOMP"
podman run --rm --network none "$img" tar -C /usr/share/onionmesh/seccomp \
    -cf - . 2>>"$T/podman.log" | tar -C "$SECCOMP" -xf -
check "the image's profiles match this tree's compiled list" \
    "$GEN" --check "$SECCOMP"
check "the image has its HEALTHCHECK (onionmesh-health)" eval \
    "podman image inspect '$img' | jq -e '[.. | objects |
     .Healthcheck? // empty | .Test] | flatten |
     index(\"/usr/libexec/onionmesh/onionmesh-health\") != null'"

# ---------------------------------------------------------------------------
# Two members: volumes, init, records

must "podman network $net ($SUB.0/24)" \
    pm network create --subnet "$SUB.0/24" "$net"

# oneshot M CMD...: a command in a throw-away container with M's config
# and state (root, podman's defaults: init and import write as root and
# drop to onionmesh-keyd themselves).
oneshot() {
	local m=$1
	shift
	pm run --rm --network none -v "$id-$m-etc:/etc/onionmesh" \
	    -v "$id-$m-lib:/var/lib/onionmesh" -v "$T/x:/x" "$img" "$@"
}
mkdir -p "$T/x"
for m in m1 m2 m3; do
	pm volume create "$id-$m-etc" >/dev/null
	pm volume create "$id-$m-lib" >/dev/null
	# The runtime folder: a tmpfs shared by the pod's containers,
	# gone with the pod, as /run.
	pm volume create --opt type=tmpfs --opt device=tmpfs \
	    --opt o=nodev,nosuid "$id-$m-run" >/dev/null
done
must "init m1 in a container" oneshot m1 onionmesh -n $NET init m1 \
    --ipv4 $V41/16 --tcp $IP1:6550
ROOTID=$(oneshot m1 sed -n 's/^root = //p' \
    /etc/onionmesh/$NET/onionmesh.conf)
must "init m2 in a container (root $ROOTID)" oneshot m2 onionmesh -n $NET \
    init m2 --ipv4 $V42/16 --tcp $IP2:6550 --root "$ROOTID"
must "export m1's record" oneshot m1 onionmesh -n $NET export /x/m1.record
must "export m2's record" oneshot m2 onionmesh -n $NET export /x/m2.record
must "import m2's record into m1" oneshot m1 onionmesh -n $NET import \
    /x/m2.record
must "import m1's record into m2" oneshot m2 onionmesh -n $NET import \
    /x/m1.record
conf_v6() { oneshot "$1" sed -n 's/^ipv6 = \(.*\)\/.*/\1/p' \
    /etc/onionmesh/$NET/onionmesh.conf; }
V61=$(conf_v6 m1)
V62=$(conf_v6 m2)
must "each member has an IPv6 address ($V61, $V62)" \
    test -n "$V61" -a -n "$V62" -a "$V61" != "$V62"

# tund's device. Debian makes /dev/net/tun 0666 and then the device
# itself will do; this host has it 0600 root, and podman copies the
# host node's owner and mode into the container, so tund's user could
# not open it: a node of our own, c 10:200, root:onionmesh 0660 (the
# image's fixed gid), handed to tund's container as /dev/net/tun.
OM_GID=$(podman run --rm --network none "$img" getent group onionmesh |
    cut -d: -f3)
if [ "$(stat -c %a /dev/net/tun)" = 666 ]; then
	TUN=/dev/net/tun
else
	TUN=$T/tun
	mknod "$TUN" c 10 200 && chown "root:$OM_GID" "$TUN" &&
	    chmod 0660 "$TUN"
fi
must "a TUN device node tund's user can open ($TUN, gid $OM_GID)" \
    test -c "$TUN"

# start_member M IP: the pod, the runtime folder (root:onionmesh 03771,
# made before any daemon, as the units' ExecStartPre does), then one
# container per daemon: its user, no capability (tund: CAP_NET_ADMIN),
# its profile, a read-only root, restarted when it dies. The probe is
# mounted for the test only.
start_member() {
	local m=$1 ip=$2 d extra
	podman pod exists "$id-$m" ||
	    pm pod create --name "$id-$m" --network "$net" --ip "$ip" \
	    >/dev/null || return 1
	pm run --rm --pod "$id-$m" --cap-drop all --cap-add CHOWN,FSETID \
	    -v "$id-$m-run:/run/onionmesh" "$img" \
	    install -d -o root -g onionmesh -m 3771 "/run/onionmesh/$NET" ||
	    return 1
	for d in $DAEMONS; do
		extra=()
		case $d in
		keyd) extra=(-v "$id-$m-lib:/var/lib/onionmesh") ;;
		tund) extra=(--cap-add NET_ADMIN
		    --device "$TUN:/dev/net/tun:rw") ;;
		esac
		pm run -d --name "$id-$m-$d" --pod "$id-$m" \
		    --restart always --user "onionmesh-$d:onionmesh" \
		    --cap-drop all --security-opt no-new-privileges \
		    --security-opt "seccomp=$SECCOMP/onionmesh-$d.json" \
		    --read-only \
		    -e ONIONMESH_DAEMON=$d -e ONIONMESH_NET=$NET \
		    -v "$id-$m-etc:/etc/onionmesh:ro" \
		    -v "$id-$m-run:/run/onionmesh" \
		    -v "$PROBE:/usr/local/sbin/seccomp_probe:ro" \
		    "${extra[@]}" "$img" \
		    "/usr/libexec/onionmesh/onionmesh-$d" -n $NET -f \
		    >/dev/null || return 1
	done
}
must "pod m1: four daemon containers" start_member m1 $IP1
must "pod m2: four daemon containers" start_member m2 $IP2

pid_of() { podman inspect -f '{{.State.Pid}}' "$id-$1" 2>/dev/null; }
healthy() { pm healthcheck run "$id-$1" >/dev/null; }
for m in m1 m2; do
	for d in $DAEMONS; do
		check "$m $d answers its HEALTHCHECK within 30 s" \
		    wait_for 30 healthy "$m-$d"
	done
done
declare -A pid0
for m in m1 m2; do
	for d in $DAEMONS; do
		pid0[$m-$d]=$(pid_of "$m-$d")
	done
done

# ---------------------------------------------------------------------------
# Each container: user, capabilities, filters

# status_is M D FIELD VALUE: /proc/1/status of the container says so
# (read with cat: no shell, which would fork under the profile).
status_is() {
	local got
	got=$(pm exec "$id-$1-$2" cat /proc/1/status |
	    sed -n "s/^$3:[[:space:]]*//p" | tr -s ' \t' ' ' | sed 's/ $//')
	echo "$1 $2 $3: '$got' (want '$4')"
	[ "$got" = "$4" ]
}
CAP_NET_ADMIN=0000000000001000
NONE=0000000000000000
for m in m1 m2; do
	for d in $DAEMONS; do
		uid=$(podman run --rm --network none "$img" id -u \
		    "onionmesh-$d")
		want=$NONE
		[ $d = tund ] && want=$CAP_NET_ADMIN
		check "$m $d: PID 1 is onionmesh-$d" \
		    status_is $m $d Name "onionmesh-${d:0:5}"
		check "$m $d: runs as onionmesh-$d ($uid), group onionmesh" \
		    eval "status_is $m $d Uid '$uid $uid $uid $uid' &&
		    status_is $m $d Gid '$OM_GID $OM_GID $OM_GID $OM_GID' &&
		    status_is $m $d Groups '$OM_GID'"
		check "$m $d: capabilities effective/permitted/bounding $want, none inheritable or ambient" \
		    eval "status_is $m $d CapEff $want &&
		    status_is $m $d CapPrm $want &&
		    status_is $m $d CapBnd $want &&
		    status_is $m $d CapInh $NONE &&
		    status_is $m $d CapAmb $NONE"
		check "$m $d: no new privileges, two seccomp filters (the container's and its own)" \
		    eval "status_is $m $d NoNewPrivs 1 &&
		    status_is $m $d Seccomp 2 &&
		    status_is $m $d Seccomp_filters 2"
	done
done

# read_only M D PATH: the daemon's container cannot write there.
read_only() {
	local out
	out=$(podman exec "$id-$1-$2" touch "$3/probe" 2>&1)
	echo "touch $3/probe in $1 $2: $? '$out'"
	case $out in *"Read-only file system"*) return 0 ;; esac
	return 1
}
for d in $DAEMONS; do
	check "m1 $d cannot write its config (read-only mount)" \
	    read_only m1 $d /etc/onionmesh/$NET
	[ $d = keyd ] && continue
	check "m1 $d has no state folder and cannot make one (keyd's alone)" \
	    eval "read_only m1 $d /var/lib &&
	    ! podman exec $id-m1-$d test -e /var/lib/onionmesh"
done

# ---------------------------------------------------------------------------
# Traffic

infra_pid() {
	local c
	c=$(podman pod inspect "$id-$1" --format '{{.InfraContainerID}}') &&
	    podman inspect -f '{{.State.Pid}}' "$c"
}
P1=$(infra_pid m1)
P2=$(infra_pid m2)
in1() { nsenter -t "$P1" -n "$@"; }
in2() { nsenter -t "$P2" -n "$@"; }
must "pods reach each other on $net ($IP1 <-> $IP2)" \
    wait_for 10 in1 ping -c 1 -W 1 $IP2
must "link m1 <-> m2 carries IPv4 within 40 s" \
    wait_for 40 in1 ping -c 1 -W 1 $V42
check "ping m1 -> m2 over IPv4" in1 ping -c 3 -i 0.2 -W 2 $V42
check "ping m2 -> m1 over IPv4" in2 ping -c 3 -i 0.2 -W 2 $V41
check "ping m1 -> m2 over IPv6 ($V62)" \
    wait_for 10 in1 ping -6 -c 3 -i 0.2 -W 2 "$V62"
check "ping m2 -> m1 over IPv6 ($V61)" \
    wait_for 10 in2 ping -6 -c 3 -i 0.2 -W 2 "$V61"

# ---------------------------------------------------------------------------
# The seccomp probe, inside each daemon's container

# probe M D WANT TEST [ARGS]: WANT killed (SIGSYS: status 159) or
# refused (the call failed, status 0).
probe() {
	local m=$1 d=$2 want=$3 rc out
	shift 3
	out=$(podman exec "$id-$m-$d" /usr/local/sbin/seccomp_probe "$@" \
	    2>&1)
	rc=$?
	echo "probe $m $d $*: status $rc, '$out' (want $want)"
	case $want in
	killed) [ $rc -eq 159 ] ;;
	refused) [ $rc -eq 0 ] && [ "${out#refused}" != "$out" ] ;;
	esac
}
for d in $DAEMONS; do
	check "m1 $d's profile: ptrace is killed" probe m1 $d killed ptrace
	check "m1 $d's profile: fork is killed" probe m1 $d killed fork
	check "m1 $d's profile: socket(AF_PACKET) is refused" \
	    probe m1 $d refused packet
	check "m1 $d's profile: open(/etc/shadow) is refused" \
	    probe m1 $d refused shadow
	check "m1 $d's profile + its own filter: execve is killed" \
	    probe m1 $d killed execve $d
	case $d in
	tund|routed)
		check "m1 $d's profile: an IP socket is refused" \
		    probe m1 $d refused inet ;;
	esac
done

# ---------------------------------------------------------------------------
# Health, logs, restart

check "the HEALTHCHECK fails for a network that is not there" eval \
    "! podman exec -e ONIONMESH_NET=nosuchnet $id-m1-keyd \
    /usr/libexec/onionmesh/onionmesh-health"
for d in $DAEMONS; do
	check "podman logs shows m1 $d's lines" eval \
	    "podman logs $id-m1-$d 2>&1 | grep -q '$d: running as uid'"
done

restarted() { # M D OLDPID: a new process, running
	local p
	p=$(pid_of "$1-$2")
	[ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$3" ] &&
	    [ "$(podman inspect -f '{{.State.Status}}' "$id-$1-$2")" = \
	    running ]
}
# A daemon that hangs: the HEALTHCHECK says so; restarting it (what
# podman 4.6's --health-on-failure=restart, or a person, does) brings it
# back. (Continuing it is not enough today: a ctl request whose client
# gave up before the answer leaves the daemon's ctl socket deaf for
# good, with or without containers; reported, see proto/ipc.c.)
p=$(pid_of m2-routed)
kill -STOP "$p"
check "m2 routed, stopped (SIGSTOP), fails its HEALTHCHECK" \
    eval "! timeout 30 podman healthcheck run $id-m2-routed"
kill -CONT "$p"
kill -KILL "$p"
check "m2 routed, killed, is restarted and answers its HEALTHCHECK" \
    eval "wait_for 20 restarted m2 routed $p && wait_for 20 healthy m2-routed"

for d in linkd tund; do
	old=$(pid_of m1-$d)
	must "m1's $d has a pid ($old)" test -n "$old" -a "$old" != 0
	kill -KILL "$old"
	check "m1's $d, killed with -9, is restarted by its restart policy within 20 s" \
	    wait_for 20 restarted m1 $d "$old"
	check "traffic m1 -> m2 is back within 30 s after $d's restart" \
	    wait_for 30 in1 ping -c 1 -W 1 $V42
	check "m1 $d answers its HEALTHCHECK after the restart" \
	    wait_for 20 healthy m1-$d
	check "ping m2 -> m1 over IPv6 after $d's restart" \
	    wait_for 10 in2 ping -6 -c 2 -i 0.2 -W 2 "$V61"
done

# ---------------------------------------------------------------------------
# Invite and join, each in a throw-away container (README.md)

# inpod M CMD...: as oneshot, in M's pod and with its runtime folder, so
# the command reaches M's daemons.
inpod() {
	local m=$1
	shift
	pm run --rm --pod "$id-$m" -v "$id-$m-etc:/etc/onionmesh" \
	    -v "$id-$m-lib:/var/lib/onionmesh" \
	    -v "$id-$m-run:/run/onionmesh" "$img" "$@"
}
URL=$(inpod m1 onionmesh -n $NET invite m3 --ipv4 10.77.0.3 | head -n 1)
check "m1 invites m3 from a container in its pod" eval \
    "echo '$URL' | grep -q 'tcp='"
pm pod create --name "$id-m3" --network "$net" --ip "$IP3" >/dev/null
must "m3 joins with the invitation from a container in its pod" \
    timeout 90 podman run --rm --pod "$id-m3" \
    -v "$id-m3-etc:/etc/onionmesh" -v "$id-m3-lib:/var/lib/onionmesh" \
    "$img" onionmesh -n $NET join "$URL" --tcp --no-up \
    --endpoint "$IP3:6550"
must "pod m3: four daemon containers" start_member m3 $IP3
P3=$(infra_pid m3)
in3() { nsenter -t "$P3" -n "$@"; }
check "ping m3 -> m1 over IPv4 within 40 s" \
    wait_for 40 in3 ping -c 1 -W 1 $V41
check "ping m1 -> m3 over IPv4" wait_for 10 in1 ping -c 2 -i 0.2 -W 2 10.77.0.3
check "ping m3 -> m1 over IPv6 ($V61)" \
    wait_for 10 in3 ping -6 -c 2 -i 0.2 -W 2 "$V61"
# (Not m3 <-> m2: m2 came in by export/import with init --root, with no
# admission, and a member that joined by invitation takes only admitted
# records; that is the trust model, tests/netns/test_join.sh.)

# Every daemon but the one killed ran the whole test under its profile.
for m in m1 m2; do
	for d in $DAEMONS; do
		case $m-$d in m1-linkd|m1-tund|m2-routed) continue ;; esac
		check "$m $d ran the whole test as one process under its profile" \
		    test "$(pid_of $m-$d)" = "${pid0[$m-$d]}" -a \
		    "$(podman inspect -f '{{.RestartCount}}' "$id-$m-$d")" = 0
	done
done

# ---------------------------------------------------------------------------
# Over onions: two more members, o1 and o2, in pods with no network but
# lo, each with a tor client of a private Tor network on this host
# (tests/tornet/tornet.sh: set up as Debian's tor package sets up the
# system tor) reached through its sockets, as a pod reaches the host's
# tor (README.md, "Over onions"). Paths are the same inside and out:
# keyd hands tor the path of linkd.onion, which tor (on the host) must
# find, so each member lives in a folder of the host (-d DIR), mounted
# at the same path, and so does its tor client's /run/tor.

TORNET=$ROOT/tests/tornet/tornet.sh
TN=$T/tornet
must "a private Tor network with two clients (tornet.sh)" \
    timeout 60 "$TORNET" start "$TN" 2
tornet_up=1
must "both tor clients bootstrapped within 120 s" \
    timeout 130 "$TORNET" wait "$TN" 120
TOR_GID=$(getent group debian-tor | cut -d: -f3)
declare -A OD=() OV4=() OV6=() OTOR=()
for i in 1 2; do
	OD[$i]=$T/o$i
	OV4[$i]=10.78.0.$i
	OTOR[$i]=$TN/client$((i - 1))/run
done

# odo I CMD...: a throw-away container (root, podman's defaults) with
# o$I's folder and tor client's sockets.
odo() {
	local i=$1
	shift
	pm run --rm --network none -v "${OD[$i]}:${OD[$i]}" \
	    -v "${OTOR[$i]}:${OTOR[$i]}" -v "$T/x:/x" "$img" "$@"
}
for i in 1 2; do
	mkdir -p "${OD[$i]}"
	chmod 755 "${OD[$i]}"
	root=
	[ $i = 1 ] || root="--root $(sed -n 's/^root = //p' \
	    "${OD[1]}/onionmesh.conf")"
	# shellcheck disable=SC2086 # $root: two words or none
	must "init o$i with tor client $((i - 1)) (unix: sockets)" \
	    odo $i onionmesh -d "${OD[$i]}" init o$i --ipv4 "${OV4[$i]}/16" \
	    --tor-control "unix:${OTOR[$i]}/control" \
	    --tor-socks "unix:${OTOR[$i]}/socks" $root
	chmod 755 "${OD[$i]}"
	must "export o$i's record" odo $i onionmesh -d "${OD[$i]}" export \
	    /x/o$i.record
	OV6[$i]=$(sed -n 's/^ipv6 = \(.*\)\/.*/\1/p' \
	    "${OD[$i]}/onionmesh.conf")
done
must "import o2's record into o1" odo 1 onionmesh -d "${OD[1]}" import \
    /x/o2.record
must "import o1's record into o2" odo 2 onionmesh -d "${OD[2]}" import \
    /x/o1.record

# start_onion I: the pod (no network but lo), the runtime folder, the
# daemons; linkd and keyd get the -unix profiles (no IP socket at all),
# keyd tor's group for the control cookie.
start_onion() {
	local i=$1 d dir=${OD[$1]} extra prof
	pm pod create --name "$id-o$i" --network none >/dev/null || return 1
	install -d -o root -g "$OM_GID" -m 3771 "$dir/run" || return 1
	for d in $DAEMONS; do
		extra=()
		prof=onionmesh-$d.json
		case $d in
		keyd) extra=(-v "${OTOR[$i]}:${OTOR[$i]}"
		    --group-add "$TOR_GID")
		    prof=onionmesh-keyd-unix.json ;;
		linkd) extra=(-v "${OTOR[$i]}:${OTOR[$i]}")
		    prof=onionmesh-linkd-unix.json ;;
		tund) extra=(--cap-add NET_ADMIN
		    --device "$TUN:/dev/net/tun:rw") ;;
		esac
		pm run -d --name "$id-o$i-$d" --pod "$id-o$i" \
		    --restart always --user "onionmesh-$d:onionmesh" \
		    --cap-drop all --security-opt no-new-privileges \
		    --security-opt "seccomp=$SECCOMP/$prof" --read-only \
		    -v "$dir:$dir" \
		    -v "$PROBE:/usr/local/sbin/seccomp_probe:ro" \
		    "${extra[@]}" "$img" \
		    "/usr/libexec/onionmesh/onionmesh-$d" -d "$dir" -f \
		    >/dev/null || return 1
	done
}
must "pod o1 (onion mode): four daemon containers" start_onion 1
must "pod o2 (onion mode): four daemon containers" start_onion 2
PO1=$(infra_pid o1)
PO2=$(infra_pid o2)
ino1() { nsenter -t "$PO1" -n "$@"; }
ino2() { nsenter -t "$PO2" -n "$@"; }
check "o1's pod has no interface but lo and its TUN device" eval \
    "[ \"\$(nsenter -t $PO1 -n ip -o link show | awk '{print \$2}' |
    tr -d : | sort | tr '\n' ' ')\" = 'lo om-default ' ]"
for i in 1 2; do
	for d in keyd linkd; do
		check "o$i $d: Unix sockets only (its log says so)" eval \
		    "podman logs $id-o$i-$d 2>&1 | grep -q 'Unix sockets only'"
		check "o$i $d's -unix profile: an IP socket is refused" \
		    probe o$i $d refused inet
	done
	# The kernel lists groups sorted.
	check "o$i keyd: groups onionmesh and tor's ($TOR_GID), no other" \
	    status_is o$i keyd Groups "$(printf '%s\n' "$OM_GID" "$TOR_GID" |
	    sort -n | tr '\n' ' ' | sed 's/ $//')"
done
check "ping o1 -> o2 over onions within 120 s" \
    wait_for 120 ino1 ping -c 1 -W 2 "${OV4[2]}"
check "ping o2 -> o1 over onions (IPv4)" \
    wait_for 30 ino2 ping -c 2 -i 0.3 -W 3 "${OV4[1]}"
check "ping o1 -> o2 over onions (IPv6)" \
    wait_for 30 ino1 ping -6 -c 2 -i 0.3 -W 3 "${OV6[2]}"
