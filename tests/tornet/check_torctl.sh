#!/usr/bin/env bash
# keyd's tor control client and linkd's SOCKS5 client against a private
# Tor network: builds tests/tornet/torctl_probe.c by hand (it is not a
# unit test: it needs tor), starts a network with two clients, waits for
# it, runs the probe and always stops the network.
#
#   tests/tornet/check_torctl.sh        (B=build-dir, default build;
#                                        CC and CFLAGS as for make, e.g.
#                                        sanitizers)
#
# With OM_TORNET_DIR already set (a network someone else started), it
# only builds and runs the probe against that one.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
B=${B:-build}
CC=${CC:-cc}
probe=$root/$B/tests/torctl_probe

if ! command -v tor >/dev/null; then
	echo "check_torctl: tor is not installed" >&2
	exit 1
fi
make -C "$root" B="$B" CC="$CC" "$B/libkeyd.a" "$B/libproto.a" >/dev/null
mkdir -p "$root/$B/tests"
# shellcheck disable=SC2046,SC2086  # CC and CFLAGS split on purpose
(cd "$root" && $CC ${CFLAGS:--O1 -g} -std=c11 -D_GNU_SOURCE -Wall -Wextra \
	-Werror -Wshadow -I. \
	$(pkg-config --cflags libsodium jansson 2>/dev/null) \
	-o "$probe" tests/tornet/torctl_probe.c "$B/libkeyd.a" \
	"$B/libproto.a" -lsodium -ljansson -lev -lnng -lseccomp -lpthread)

if [ -n "${OM_TORNET_DIR:-}" ]; then
	exec "$probe"
fi

net=$(mktemp -d /tmp/om-tornet-torctl.XXXXXX)
rmdir "$net"
cleanup() { "$here/tornet.sh" stop "$net" >/dev/null 2>&1 || true; }
trap cleanup EXIT

"$here/tornet.sh" start "$net" 2
"$here/tornet.sh" wait "$net" 120
OM_TORNET_DIR=$net "$probe"
