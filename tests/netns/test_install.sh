#!/usr/bin/env bash
# `make install` and the man pages (issue 11).
#
# Docs: every config key of proto/conf.c's table is a ".BI "KEY = "" entry
# of man/onionmesh.conf.5; every command of ctl/onionmesh.c's table and
# every option of every command's parser (ctl/cmd_*.c) is a .B/.BI entry
# of man/onionmesh.8; every daemon has its section in
# man/onionmesh-daemons.8. The lists come from the code with grep/sed, so
# a key or command added without its man page entry fails here.
#
# Install: `make install PREFIX=/usr DESTDIR=TMP` puts exactly the files
# of notes/layout.md (deploy/README.md) where they belong, runs nothing
# on this host (no systemctl, no systemd-sysusers: a fake of each in PATH
# records calls), leaves no @VAR@ and no /usr/local in any file; the
# installed command says its version, finds the installed daemons in
# the /usr/libexec/onionmesh it was compiled for (checked in a private
# mount namespace where that folder is the installed one), and every man
# page renders with man -l and groff -ww without a warning. `make
# uninstall` with the same variables leaves no file behind.
#
# Needs no network namespace; runs as the other suites do.
# Prints "ok - ..." / "not ok - ..." and "install: N passed, M failed".
# Environment: OM_BUILD (make's B=, default build).
set -eu
cd "$(dirname "$0")/../.."
OM_BUILD=${OM_BUILD:-build}

T=$(mktemp -d /tmp/onionmesh-install.XXXXXX)
. tests/netns/lib.sh

cleanup() {
	local rc=$?
	set +e
	rm -rf "$T"
	echo "install: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ] || exit 1
}
trap cleanup EXIT

for c in make groff man sed grep unshare mount; do
	command -v "$c" >/dev/null ||
		{ not_ok "$c is missing (make deps)"; exit 1; }
done

# ---------------------------------------------------------------------------
# The man pages against the code.

M8=man/onionmesh.8
M5=man/onionmesh.conf.5
MD=man/onionmesh-daemons.8
for f in "$M8" "$M5" "$MD"; do
	[ -f "$f" ] || { not_ok "$f is missing"; exit 1; }
done

# roff spells '-' as '\-' in names and options.
roff() { sed 's/-/\\\\-/g' <<<"$1"; }

# Keys: the lines {"key", set_..., N} of conf_keys[].
keys=$(sed -n '/conf_keys\[\] = {/,/^};/p' proto/conf.c |
    sed -n 's/^[[:space:]]*{"\([a-z0-9_]*\)", set_.*/\1/p')
nkeys=$(wc -w <<<"$keys")
check "proto/conf.c's table gives the keys ($nkeys, want >= 20)" \
    test "$nkeys" -ge 20
missing=
for k in $keys; do
	grep -qE "^\.BI? \"?$(roff "$k") = " "$M5" || missing="$missing $k"
done
if [ -z "$missing" ]; then
	ok "every config key has its entry in onionmesh.conf(5)"
else
	not_ok "keys without an entry in onionmesh.conf(5):$missing"
fi
# Each entry gives a default (or says it is required) and an example.
nodef=
for k in $keys; do
	entry=$(sed -n "/^\.BI \"$(roff "$k") = /,/^\.\(TP\|SH\)/p" "$M5")
	grep -qE '^(Default|Required)' <<<"$entry" &&
	    grep -q '^Example' <<<"$entry" || nodef="$nodef $k"
done
if [ -z "$nodef" ]; then
	ok "every key's entry names its default and an example"
else
	not_ok "key entries without a default or an example:$nodef"
fi

# Commands: the rows { "name", cmd_..., of subcommands[].
cmds=$(sed -n 's/^[[:space:]]*{ "\([a-z]*\)", cmd_[a-z_]*,.*/\1/p' \
    ctl/onionmesh.c)
ncmds=$(wc -w <<<"$cmds")
check "ctl/onionmesh.c's table gives the commands ($ncmds, want >= 12)" \
    test "$ncmds" -ge 12
missing=
for c in $cmds; do
	grep -qE "^\.B $c( |$)" "$M8" || missing="$missing $c"
done
if [ -z "$missing" ]; then
	ok "every command has its entry in onionmesh(8)"
else
	not_ok "commands without an entry in onionmesh(8):$missing"
fi

# Options: every { "name", METAVAR|NULL, NULL } of a command's parser.
opts=$(grep -ohE '\{ "[a-z][a-z0-9-]*", (NULL|"[^"]*"), NULL \}' \
    ctl/cmd_*.c | sed 's/^{ "\([^"]*\)".*/\1/' | sort -u)
nopts=$(wc -w <<<"$opts")
check "ctl/cmd_*.c give the commands' options ($nopts, want >= 15)" \
    test "$nopts" -ge 15
missing=
for o in $opts; do
	grep -qE "^\.BI? \\\\-\\\\-$(roff "$o")( |$)" "$M8" ||
	    missing="$missing --$o"
done
for o in '\\-n' '\\-d' '\\-V' '\\-\\-version' '\\-\\-help'; do
	grep -qE "^\.(BI?|BR) (.* )?$o( |\"|$)" "$M8" ||
	    missing="$missing $o"
done
if [ -z "$missing" ]; then
	ok "every option of every command has its entry in onionmesh(8)"
else
	not_ok "options without an entry in onionmesh(8):$missing"
fi

missing=
for d in keyd routed linkd tund; do
	grep -qx "\.SS onionmesh\\\\-$d" "$MD" || missing="$missing $d"
	[ -f "$d/$d.c" ] || missing="$missing ($d/$d.c?)"
done
if [ -z "$missing" ]; then
	ok "every daemon has its section in onionmesh-daemons(8)"
else
	not_ok "daemons without a section in onionmesh-daemons(8):$missing"
fi

# ---------------------------------------------------------------------------
# make install into a DESTDIR, and what it left there.

R=$T/root
mkdir -p "$T/fakebin"
for c in systemctl systemd-sysusers systemd-tmpfiles; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/ran"\n' "$c" "$T" \
	    >"$T/fakebin/$c"
	chmod +x "$T/fakebin/$c"
done
if PATH=$T/fakebin:$PATH make -s B="$OM_BUILD" -j2 install PREFIX=/usr \
    DESTDIR="$R" >"$T/install.log" 2>&1; then
	ok "make install PREFIX=/usr DESTDIR=$R"
else
	not_ok "make install PREFIX=/usr DESTDIR=...: $(tail -n 5 \
	    "$T/install.log")"
	exit 1
fi
if [ ! -e "$T/ran" ]; then
	ok "install with DESTDIR ran nothing on this host (no systemctl," \
	    "systemd-sysusers, systemd-tmpfiles)"
else
	not_ok "install with DESTDIR ran: $(cat "$T/ran")"
fi

# What layout.md says, from what the tree has.
want=(/usr/sbin/onionmesh /usr/lib/sysusers.d/onionmesh.conf
    /usr/share/man/man8/onionmesh.8 /usr/share/man/man8/onionmesh-daemons.8
    /usr/share/man/man5/onionmesh.conf.5
    /usr/share/doc/onionmesh/anonymous.nft
    /usr/share/doc/onionmesh/README.md)
for d in keyd routed linkd tund; do
	want+=("/usr/libexec/onionmesh/onionmesh-$d")
done
nunits=0
for f in deploy/systemd/*; do
	[ -f "$f" ] || continue
	n=$(basename "$f" .in)
	want+=("/usr/lib/systemd/system/$n")
	nunits=$((nunits + 1))
done
for f in deploy/tmpfiles.d/*.conf; do
	[ -f "$f" ] && want+=("/usr/lib/tmpfiles.d/$(basename "$f")")
done
check "deploy/systemd/ has units to install ($nunits)" test "$nunits" -ge 1
printf '%s\n' "${want[@]}" | LC_ALL=C sort >"$T/want"
(cd "$R" && find . -type f -o -type l | sed 's/^\.//' | LC_ALL=C sort) \
    >"$T/have"
if diff "$T/want" "$T/have" >"$T/layout.diff"; then
	ok "the installed files are exactly the layout's (${#want[@]} files)"
else
	not_ok "installed files differ from the layout (< missing," \
	    "> extra): $(grep '^[<>]' "$T/layout.diff" | tr '\n' ' ')"
fi
bad=
for f in sbin/onionmesh libexec/onionmesh/onionmesh-keyd \
    libexec/onionmesh/onionmesh-routed libexec/onionmesh/onionmesh-linkd \
    libexec/onionmesh/onionmesh-tund; do
	[ "$(stat -c %a "$R/usr/$f" 2>/dev/null)" = 755 ] || bad="$bad $f"
done
for f in $(cd "$R" && find usr/lib usr/share -type f); do
	[ "$(stat -c %a "$R/$f")" = 644 ] || bad="$bad $f"
done
if [ -z "$bad" ]; then
	ok "programs are mode 755, everything else 644"
else
	not_ok "wrong modes:$bad"
fi

# No placeholder, no /usr/local, and the units run what was installed.
if ! grep -rlE '@(SBINDIR|LIBEXECDIR)@' "$R" >"$T/subst"; then
	ok "no @SBINDIR@ or @LIBEXECDIR@ left in an installed file"
else
	not_ok "placeholders left in: $(cat "$T/subst")"
fi
if ! grep -rla /usr/local "$R" >"$T/local"; then
	ok "no installed file (binaries included) holds /usr/local"
else
	not_ok "/usr/local in: $(tr '\n' ' ' <"$T/local")"
fi
bad=
n=0
for u in "$R"/usr/lib/systemd/system/*.service; do
	[ -f "$u" ] || continue
	for p in $(sed -n 's/^Exec[A-Za-z]*=[-+@!:]*\([^ ]*\).*/\1/p' "$u"); do
		case "$p" in
		/usr/sbin/onionmesh*|/usr/libexec/onionmesh/*)
			n=$((n + 1))
			[ -x "$R$p" ] || bad="$bad $(basename "$u"):$p" ;;
		esac
	done
done
if [ -z "$bad" ] && [ "$n" -ge 1 ]; then
	ok "every onionmesh program the units run is installed ($n Exec lines)"
else
	not_ok "units run what was not installed ($n Exec lines):$bad"
fi

# The installed command.
v_build=$("$OM_BUILD/onionmesh" --version 2>&1) || v_build=
v_inst=$("$R/usr/sbin/onionmesh" --version 2>&1) || v_inst="failed: $v_inst"
if grep -qE '^onionmesh [0-9]+\.[0-9]+\.[0-9]+' <<<"$v_inst" &&
    [ "$v_inst" = "$v_build" ]; then
	ok "the installed onionmesh --version says \"$v_inst\""
else
	not_ok "installed --version: \"$v_inst\" (build: \"$v_build\")"
fi
if grep -qa /usr/libexec/onionmesh "$R/usr/sbin/onionmesh"; then
	ok "the installed command was compiled with /usr/libexec/onionmesh"
else
	not_ok "the installed command does not name /usr/libexec/onionmesh"
fi
# Where it finds the daemons: not next to itself (sbin has none), so in
# /usr/libexec/onionmesh, here the installed folder bound over it in a
# mount namespace of its own (the host's /usr stays as it is).
if env -u ONIONMESH_LIBEXEC unshare -m --propagation private sh -c '
    mount --bind "$1/usr/libexec" /usr/libexec &&
    "$1/usr/sbin/onionmesh" -d "$2" init inst --no-privsep' sh \
    "$R" "$T/m" >"$T/init.out" 2>&1 &&
    grep -q '^id ' "$T/init.out" && [ -f "$T/m/hosts/inst" ]; then
	ok "the installed command runs the daemons from /usr/libexec/onionmesh" \
	    "(init made a key and a signed record)"
else
	not_ok "the installed command with its daemons in" \
	    "/usr/libexec/onionmesh: $(head -c 400 "$T/init.out")"
fi
if env -u ONIONMESH_LIBEXEC "$R/usr/sbin/onionmesh" -d "$T/m2" init x \
    --no-privsep >"$T/init2.out" 2>&1; then
	# This host has onionmesh installed in /usr: that is where it ran.
	check "without the mount, init used this host's /usr/libexec/onionmesh" \
	    test -x /usr/libexec/onionmesh/onionmesh-keyd
else
	check "without daemons there, the error names /usr/libexec/onionmesh/onionmesh-keyd" \
	    grep -q /usr/libexec/onionmesh/onionmesh-keyd "$T/init2.out"
fi

# The man pages as installed.
for p in "$R"/usr/share/man/man*/*; do
	[ -f "$p" ] || continue
	name=${p#"$R"/usr/share/man/}
	if ! w=$(groff -man -Tutf8 -ww -z "$p" 2>&1) || [ -n "$w" ]; then
		not_ok "groff -ww $name: $(head -c 300 <<<"$w")"
	else
		ok "groff -man -ww renders $name without a warning"
	fi
	out=$(MANWIDTH=80 man -l "$p" 2>"$T/man.err") || out=
	if [ -s "$T/man.err" ] || ! grep -q '^NAME' <<<"$out"; then
		not_ok "man -l $name: $(head -c 300 "$T/man.err")"
	else
		ok "man -l $name renders ($(wc -l <<<"$out") lines)"
	fi
done

# ---------------------------------------------------------------------------
# make uninstall with the same variables.
if PATH=$T/fakebin:$PATH make -s B="$OM_BUILD" uninstall PREFIX=/usr \
    DESTDIR="$R" >"$T/uninstall.log" 2>&1; then
	ok "make uninstall PREFIX=/usr DESTDIR=$R"
else
	not_ok "make uninstall: $(tail -n 5 "$T/uninstall.log")"
fi
left=$(cd "$R" && find . -type f -o -type l)
if [ -z "$left" ]; then
	ok "uninstall left no file behind"
else
	not_ok "uninstall left: $(tr '\n' ' ' <<<"$left")"
fi
check "nor our own folders (libexec/onionmesh, share/doc/onionmesh)" \
    test ! -e "$R/usr/libexec/onionmesh" -a ! -e "$R/usr/share/doc/onionmesh"
if [ ! -e "$T/ran" ]; then
	ok "uninstall with DESTDIR ran nothing on this host"
else
	not_ok "uninstall with DESTDIR ran: $(cat "$T/ran")"
fi
