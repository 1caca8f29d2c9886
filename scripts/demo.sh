#!/usr/bin/env bash
# The demo: members of one onionmesh network, each in its own network
# namespace with its own TUN device, linked over plain TCP on a veth
# bridge, pinging each other. Runs until Ctrl-C (or pass --once to stop
# after the first round), then removes every process, namespace and file
# it made.
set -euo pipefail
cd "$(dirname "$0")/.."

ONCE=0
[ "${1:-}" = "--once" ] && ONCE=1
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (network namespaces)"; exit 1; }

make -s -j2 all
OM=$PWD/build/onionmesh
TAG=omd$$
WORK=$(mktemp -d /tmp/onionmesh-demo.XXXXXX)
# The daemons run as their own users: they must be able to enter it.
chmod 0755 "$WORK"
MEMBERS=(alice bob carol)
BR=${TAG}br

cleanup() {
	set +e
	for m in "${MEMBERS[@]}"; do
		[ -f "$WORK/$m/onionmesh.conf" ] &&
			ip netns exec "$TAG-$m" "$OM" -d "$WORK/$m" down >/dev/null 2>&1
		ip netns del "$TAG-$m" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
	rm -rf "$WORK"
	echo "demo: cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A bridge in the root namespace joins one veth per member; each member
# gets 192.168.77.N inside its own namespace (no traffic leaves them).
ip link add "$BR" type bridge
ip link set "$BR" up
i=1
for m in "${MEMBERS[@]}"; do
	ns=$TAG-$m
	ip netns add "$ns"
	ip link add "${TAG}v$i" type veth peer name eth0 netns "$ns"
	ip link set "${TAG}v$i" master "$BR" up
	ip -n "$ns" addr add "192.168.77.$i/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	ip netns exec "$ns" "$OM" -d "$WORK/$m" init "$m" \
		--ipv4 "10.77.0.$i/16" --tcp "192.168.77.$i:6550" >/dev/null
	"$OM" -d "$WORK/$m" export "$WORK/$m.host"
	i=$((i + 1))
done
# tinc 1.0 style: every member imports every other's host record.
for m in "${MEMBERS[@]}"; do
	for o in "${MEMBERS[@]}"; do
		[ "$m" = "$o" ] || "$OM" -d "$WORK/$m" import "$WORK/$o.host" >/dev/null
	done
done
for m in "${MEMBERS[@]}"; do
	ip netns exec "$TAG-$m" "$OM" -d "$WORK/$m" up
done

echo
echo "demo: waiting for links..."
for _ in $(seq 1 30); do
	ip netns exec "$TAG-alice" ping -c1 -W1 10.77.0.3 >/dev/null 2>&1 && break
done
echo "demo: alice pings carol (10.77.0.3) through the mesh:"
ip netns exec "$TAG-alice" ping -c 3 10.77.0.3
v6=$(sed -n 's/^ipv6 = \(.*\)\/.*/\1/p' "$WORK/carol/onionmesh.conf")
echo "demo: and over IPv6 ($v6):"
ip netns exec "$TAG-alice" ping -c 3 "$v6"
echo
ip netns exec "$TAG-alice" "$OM" -d "$WORK/alice" status
echo
ip netns exec "$TAG-alice" "$OM" -d "$WORK/alice" links
[ $ONCE -eq 1 ] && exit 0
echo
echo "demo: running; try: ip netns exec $TAG-bob ping 10.77.0.1"
echo "demo: Ctrl-C to stop and clean up"
while sleep 3600; do :; done
