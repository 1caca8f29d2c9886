#!/bin/sh
# mkbase.sh [--build] [CACHE_DIR [IMAGE]]: make a Debian 12 base image
# without a container registry, from Debian's package archive:
# debootstrap a minbase root with the run-time libraries of onionmesh
# (with --build: its build dependencies instead, for the Containerfile's
# build stage), pack it as CACHE_DIR/IMAGE.tar and `podman import` it as
# IMAGE (default onionmesh-base, or onionmesh-build-base with --build).
# The tarball is kept, so a second run (or one after `podman rmi`)
# takes seconds, and the image build needs no network after it. With a
# registry, the Containerfile's default base (debian:12-slim) needs
# none of this.
#
# Several test runs may call this at once: a lock on CACHE_DIR keeps
# them from writing the same files.
set -eu

build=0
if [ "${1:-}" = --build ]; then
	build=1
	shift
fi
dir=${1:-/var/cache/onionmesh-test/container-base}
img=${2:-onionmesh-base}
[ $build -eq 0 ] || img=${2:-onionmesh-build-base}
mirror=${OM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What the run image needs (deploy/container/Containerfile, stage run):
# checked there again, so a base without them still works with a
# registry and network.
pkgs=libsodium23,libev4,libnng1,libjansson4,libseccomp2,iproute2
# ... and what its build stage needs (checked there the same way).
if [ $build -eq 1 ]; then
	pkgs=gcc,make,pkg-config,libc6-dev,libsodium-dev,libev-dev
	pkgs=$pkgs,libnng-dev,libjansson-dev,libseccomp-dev
fi
tar=$dir/$img.tar
tmp=$dir/$img.tmp

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock -w 900 9 || { echo "mkbase: $dir/.lock is held for 15 min" >&2; exit 1; }

if podman image exists "$img"; then
	exit 0
fi
if [ ! -s "$tar" ]; then
	rm -rf "$tmp" "$tar.tmp"
	echo "mkbase: debootstrap bookworm into $tmp (once)" >&2
	debootstrap --variant=minbase --include="$pkgs" bookworm \
	    "$tmp" "$mirror" >"$dir/$img.debootstrap.log" 2>&1 || {
		echo "mkbase: debootstrap failed:" \
		    "see $dir/$img.debootstrap.log" >&2
		exit 1
	}
	# No package lists or caches in the image, as debian:12-slim.
	rm -rf "$tmp/var/lib/apt/lists/"* \
	    "$tmp/var/cache/apt/"*.bin \
	    "$tmp/var/cache/apt/archives/"*.deb
	tar --numeric-owner -C "$tmp" -cf "$tar.tmp" .
	mv -f "$tar.tmp" "$tar"
	rm -rf "$tmp"
fi
podman import --quiet "$tar" "$img" >/dev/null
