#!/usr/bin/env bash
# Install what building, testing, the demo and the benchmark need, on a
# fresh Debian 12 machine, and create the privilege-separation users.
# Quiet and quick when everything is already there.
set -euo pipefail

PKGS=(gcc clang make pkg-config libc6-dev libclang-rt-14-dev
      libsodium-dev libev-dev libnng-dev libjansson-dev libcmocka-dev
      libseccomp-dev
      iproute2 iputils-ping iperf3 procps psmisc python3 jq nftables
      tor tinc wireguard-go wireguard-tools
      groff-base man-db
      debootstrap systemd-container
      podman runc netavark)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	as_root apt-get -o DPkg::Lock::Timeout=300 update -qq
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" \
		>/dev/null
fi

# Debian starts a system tor on install; onionmesh's tests and demo run
# their own private Tor network and must not talk to the public one.
if command -v systemctl >/dev/null 2>&1 &&
   systemctl is-active --quiet tor 2>/dev/null; then
	as_root systemctl stop tor || true
fi

# One user per daemon, all in group onionmesh (deploy/sysusers.d does the
# same on systemd machines).
if ! getent group onionmesh >/dev/null; then
	as_root groupadd --system onionmesh
fi
for d in tund linkd keyd routed; do
	if ! getent passwd "onionmesh-$d" >/dev/null; then
		as_root useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --gid onionmesh "onionmesh-$d"
	fi
done
