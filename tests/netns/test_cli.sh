#!/usr/bin/env bash
# The onionmesh command facing bad input: every command and option given
# something wrong must exit with the documented status (2: the command line
# is wrong; 1: it is well formed but cannot be done), say why on stderr
# naming the offending value, and leave the disk as it was. Each check
# compares a listing of the directory (names, sizes, modes and a hash of
# every file) before and after the command.
#
# Also the good paths the bad ones need (init, export, import), a forced
# failure in the middle of init (nothing may be left behind), and up /
# status / down in a network namespace of its own (tund makes a TUN
# device there, not on the host).
#
# Prints "ok - ..." / "not ok - ..." per check and "cli: N passed, M
# failed" at the end; exits non-zero when anything failed.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
OM=${OM:-$ROOT/$B/onionmesh}
T=$(mktemp -d /tmp/om-cli.XXXXXX)
NS=om-cli-$$
pass=0
fail=0
# Daemons under privsep run as their own users: they must reach $T.
chmod 755 "$T"
unset ONIONMESH_LIBEXEC

cleanup() {
	set +e
	for d in "$T"/*/; do
		[ -e "$d/run/supervisor.pid" ] || continue
		if ip netns list 2>/dev/null | grep -qw "$NS"; then
			ip netns exec "$NS" "$OM" -d "$d" down >/dev/null 2>&1
		else
			"$OM" -d "$d" down >/dev/null 2>&1
		fi
	done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

notok() {
	fail=$((fail + 1))
	echo "not ok - $*"
}

# Names, sizes, modes and content hashes of everything under a dir
# (nothing when it does not exist).
snapshot() {
	[ -e "$1" ] || return 0
	(cd "$1" && find . -printf '%p %y %s %m\n' | LC_ALL=C sort &&
	    find . -type f -exec sha256sum {} + | LC_ALL=C sort)
}

# check STATUS DESCRIPTION NEEDLES DIR -- COMMAND...
# NEEDLES: strings separated by '|' that stderr must all contain.
check() {
	local want=$1 desc=$2 needles=$3 dir=$4 rc before after n
	shift 5
	before=$(snapshot "$dir")
	set +e
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	after=$(snapshot "$dir")
	if [ "$rc" -ne "$want" ]; then
		notok "$desc: exit status $rc, want $want:" \
		    "$(head -c 400 "$T/err")"
		return 0
	fi
	IFS='|' read -r -a nl <<<"$needles"
	for n in "${nl[@]}"; do
		if ! grep -qF -- "$n" "$T/err"; then
			notok "$desc: message does not name \`$n':" \
			    "$(head -c 400 "$T/err")"
			return 0
		fi
	done
	if [ "$before" != "$after" ]; then
		notok "$desc: $dir changed"
		diff <(echo "$before") <(echo "$after") | head -n 10 || true
		return 0
	fi
	ok "$desc"
}

# must DESCRIPTION COMMAND...: a command that has to succeed.
must() {
	local desc=$1 rc
	shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		notok "$desc: exit status $rc: $(head -c 400 "$T/err")"
		return 1
	fi
	ok "$desc"
}

valid_json() {
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" \
	    2>/dev/null
}

if [ ! -x "$OM" ]; then
	notok "no onionmesh binary at $OM (make first, or set B= or OM=)"
	echo "cli: $pass passed, $fail failed"
	exit 1
fi

W=$T/w          # stays empty: the target of every init that must fail
mkdir -p "$W"
M=$W/m

# --- the command line itself ------------------------------------------
check 2 "no command" "no command" "$W" -- "$OM"
check 2 "unknown command" "frobnicate" "$W" -- "$OM" -d "$M" frobnicate
check 2 "unknown global option" "-x" "$W" -- "$OM" -x status
check 2 "-n without a value" "-n" "$W" -- "$OM" -n
check 2 "-d without a value" "-d" "$W" -- "$OM" -d
check 2 "bad network name" "Bad!Net" "$W" -- \
    "$OM" -n 'Bad!Net' -d "$M" status
check 2 "empty -d" "directory" "$W" -- "$OM" -d '' status
check 2 "help for an unknown command" "nosuch" "$W" -- "$OM" help nosuch
if "$OM" --help | grep -q "usage: onionmesh"; then
	ok "--help prints usage, exit 0"
else
	notok "--help"
fi
for v in --version -V; do
	if out=$("$OM" $v) && grep -qE '^onionmesh [0-9]+\.[0-9]+\.[0-9]+' \
	    <<<"$out"; then
		ok "$v prints \"$out\", exit 0"
	else
		notok "$v printed \"${out:-}\""
	fi
done
VERSION=$("$OM" --version | awk '{ print $2 }')
if "$OM" init --help | grep -q -- "--ipv4"; then
	ok "init --help names its options"
else
	notok "init --help"
fi

# --- init: every option with a bad value ---------------------------------
check 2 "init without NAME" "NAME" "$W" -- "$OM" -d "$M" init
check 2 "init upper-case NAME" "Alice" "$W" -- "$OM" -d "$M" init Alice
check 2 "init NAME with a dot" "a.b" "$W" -- "$OM" -d "$M" init a.b
check 2 "init NAME too long" "$(printf 'a%.0s' {1..33})" "$W" -- \
    "$OM" -d "$M" init "$(printf 'a%.0s' {1..33})"
check 2 "init two names" "bob" "$W" -- "$OM" -d "$M" init alice bob
check 2 "init --ipv4 prefix 40" "10.1.2.3/40" "$W" -- \
    "$OM" -d "$M" init alice --ipv4 10.1.2.3/40
check 2 "init --ipv4 octet 300" "300.1.1.1/24" "$W" -- \
    "$OM" -d "$M" init alice --ipv4 300.1.1.1/24
check 2 "init --ipv4 without /LEN" "10.1.2.3" "$W" -- \
    "$OM" -d "$M" init alice --ipv4 10.1.2.3
check 2 "init --ipv4 network address" "10.1.2.0/24|network" "$W" -- \
    "$OM" -d "$M" init alice --ipv4 10.1.2.0/24
check 2 "init --ipv4 broadcast address" "10.1.2.255/24|broadcast" "$W" -- \
    "$OM" -d "$M" init alice --ipv4 10.1.2.255/24
check 2 "init --ipv4 given IPv6" "fd00::1/64" "$W" -- \
    "$OM" -d "$M" init alice --ipv4 fd00::1/64
check 2 "init --ipv4 without a value" "--ipv4" "$W" -- \
    "$OM" -d "$M" init alice --ipv4
check 2 "init --ipv4 twice" "--ipv4|twice" "$W" -- \
    "$OM" -d "$M" init alice --ipv4 10.1.2.3/24 --ipv4 10.1.2.4/24
check 2 "init --tcp without port" "foo" "$W" -- \
    "$OM" -d "$M" init alice --tcp foo
check 2 "init --tcp port 0" "1.2.3.4:0" "$W" -- \
    "$OM" -d "$M" init alice --tcp 1.2.3.4:0
check 2 "init --tcp port 70000" "1.2.3.4:70000" "$W" -- \
    "$OM" -d "$M" init alice --tcp 1.2.3.4:70000
check 2 "init --tcp empty" "--tcp" "$W" -- \
    "$OM" -d "$M" init alice --tcp=
check 2 "init --listen bad" "nowhere" "$W" -- \
    "$OM" -d "$M" init alice --listen nowhere
check 2 "init --listen port 0" "0.0.0.0:0|--listen" "$W" -- \
    "$OM" -d "$M" init alice --tcp 1.2.3.4:6550 --listen 0.0.0.0:0
check 2 "init --listen IPv6 without brackets" "::1:6550|--listen" "$W" -- \
    "$OM" -d "$M" init alice --listen ::1:6550
check 2 "init --tor-control bad" "nope" "$W" -- \
    "$OM" -d "$M" init alice --tor-control nope
check 2 "init --tor-socks relative unix path" "unix:relative" "$W" -- \
    "$OM" -d "$M" init alice --tor-socks unix:relative
check 2 "init --netns with a slash" "a/b" "$W" -- \
    "$OM" -d "$M" init alice --netns a/b
check 2 "init --anonymous with --tcp" "1.2.3.4:5|anonymous" "$W" -- \
    "$OM" -d "$M" init alice --anonymous --tcp 1.2.3.4:5
check 2 "init flag given a value" "--anonymous=yes" "$W" -- \
    "$OM" -d "$M" init alice --anonymous=yes
check 2 "init unknown option" "--frob" "$W" -- \
    "$OM" -d "$M" init alice --frob
check 2 "init short option" "-x" "$W" -- "$OM" -d "$M" init alice -x

# --- init that fails half way leaves nothing ----------------------------
FK=$T/fakekeyd
mkdir -p "$FK"
# A keyd that makes a key file, then fails.
cat >"$FK/onionmesh-keyd" <<'EOF'
#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = -d ] && dir=$2; shift; done
mkdir -p "$dir/keys" && echo secret >"$dir/keys/identity"
echo "fake keyd: refusing" >&2
exit 3
EOF
chmod +x "$FK/onionmesh-keyd"
check 1 "init when keyd fails" "onionmesh-keyd|3" "$W" -- \
    env ONIONMESH_LIBEXEC="$FK" "$OM" -d "$M" init alice
# A keyd that prints garbage instead of a key.
cat >"$FK/onionmesh-keyd" <<'EOF'
#!/bin/sh
echo "not-a-key"
EOF
check 1 "init when keyd prints no key" "not-a-key" "$W" -- \
    env ONIONMESH_LIBEXEC="$FK" "$OM" -d "$M" init alice
# A keyd that works once (config not yet written), then fails.
cat >"$FK/onionmesh-keyd" <<'EOF'
#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = -d ] && dir=$2; shift; done
[ -e "$dir/onionmesh.conf" ] && { echo "fake keyd: no record" >&2; exit 4; }
mkdir -p "$dir/keys" && echo secret >"$dir/keys/identity"
echo 0101010101010101010101010101010101010101010101010101010101010101
EOF
check 1 "init when signing our record fails" "onionmesh-keyd|4" "$W" -- \
    env ONIONMESH_LIBEXEC="$FK" "$OM" -d "$M" init alice
check 1 "init without a keyd binary" "$T/nonexistent" "$W" -- \
    env ONIONMESH_LIBEXEC="$T/nonexistent" "$OM" -d "$M" init alice

# --- a working pair of members ------------------------------------------
A=$T/a
BD=$T/b
must "init alice" "$OM" -d "$A" init alice --tcp 127.0.0.1:7001 || true
if grep -q "^id " "$T/out" && [ -f "$A/onionmesh.conf" ] &&
    [ -f "$A/hosts/alice" ]; then
	ok "init wrote config and own record, printed the id"
else
	notok "init output or files missing: $(cat "$T/out")"
fi
ROOT=$(sed -n 's/^root = //p' "$A/onionmesh.conf")
if [ "${#ROOT}" = 64 ] && grep -q "^id  *$ROOT$" "$T/out"; then
	ok "init wrote root = its own id"
else
	notok "init's root: \`$ROOT'"
fi
check 2 "init --root not an id" "xyz|hex" "$W" -- \
    "$OM" -d "$M" init alice --root xyz
check 2 "init --root upper-case" "--root" "$W" -- \
    "$OM" -d "$M" init alice --root "$(echo "$ROOT" | tr a-f A-F)"
must "init bob" "$OM" -d "$BD" init bob --no-privsep \
    --ipv4 10.77.9.9/16 --root "$ROOT" || true
if grep -q "^root = $ROOT$" "$BD/onionmesh.conf"; then
	ok "init --root wrote the founder's id as root"
else
	notok "init --root: $(grep root "$BD/onionmesh.conf")"
fi
check 1 "init twice" "$A/onionmesh.conf" "$A" -- "$OM" -d "$A" init alice
# --tcp is the address peers reach; linkd listens on every address at
# its port (behind NAT the public address cannot be bound), unless
# --listen says where.
if grep -qx 'tcp = 127.0.0.1:7001' "$A/onionmesh.conf" &&
    grep -qx 'listen = 0.0.0.0:7001' "$A/onionmesh.conf"; then
	ok "init --tcp 127.0.0.1:7001 listens on 0.0.0.0:7001"
else
	notok "init --tcp: $(grep -E '^(tcp|listen)' "$A/onionmesh.conf")"
fi
must "init --tcp [2001:db8::7]:6551" "$OM" -d "$T/v6" init v6 --no-privsep \
    --tcp '[2001:db8::7]:6551' || true
if grep -qx 'listen = \[::\]:6551' "$T/v6/onionmesh.conf" 2>/dev/null; then
	ok "init --tcp with an IPv6 address listens on [::]:6551"
else
	notok "init --tcp IPv6: $(grep -E '^(tcp|listen)' \
	    "$T/v6/onionmesh.conf" 2>&1)"
fi
must "init --tcp with --listen" "$OM" -d "$T/nat" init nat --no-privsep \
    --tcp 198.51.100.7:6550 --listen 127.0.0.1:16550 || true
if grep -qx 'tcp = 198.51.100.7:6550' "$T/nat/onionmesh.conf" 2>/dev/null &&
    grep -qx 'listen = 127.0.0.1:16550' "$T/nat/onionmesh.conf"; then
	ok "init --tcp PUBLIC --listen LOCAL writes both as given"
else
	notok "init --tcp --listen: $(grep -E '^(tcp|listen)' \
	    "$T/nat/onionmesh.conf" 2>&1)"
fi
check 1 "init twice, another name" "$A/onionmesh.conf" "$A" -- \
    "$OM" -d "$A" init carol

# --- export ---------------------------------------------------------------
must "export alice" "$OM" -d "$A" export || true
cp "$T/out" "$T/alice.host"
if grep -q "^name = alice$" "$T/alice.host"; then ok "export prints the record"
else notok "export printed: $(head -c 200 "$T/alice.host")"; fi
must "export bob to a file" "$OM" -d "$BD" export "$T/bob.host" || true
[ -f "$T/bob.host" ] && ok "export FILE wrote it" || notok "export FILE"
check 2 "export two files" "two" "$A" -- "$OM" -d "$A" export one two
check 2 "export unknown option" "--json" "$A" -- "$OM" -d "$A" export --json
check 1 "export without a config" "$M/onionmesh.conf" "$W" -- \
    "$OM" -d "$M" export

# --- import -------------------------------------------------------------
echo "this is not a host record" >"$T/garbage.host"
sed 's/^ipv4 = .*/ipv4 = 10.77.200.200/' "$T/alice.host" >"$T/tampered.host"
head -c 20000 /dev/zero | tr '\0' 'x' >"$T/huge.host"
check 2 "import without FILE" "FILE" "$BD" -- "$OM" -d "$BD" import
check 2 "import unknown option" "--force" "$BD" -- \
    "$OM" -d "$BD" import --force "$T/alice.host"
check 1 "import garbage" "$T/garbage.host" "$BD" -- \
    "$OM" -d "$BD" import "$T/garbage.host"
check 1 "import a tampered record" "$T/tampered.host|verify" "$BD" -- \
    "$OM" -d "$BD" import "$T/tampered.host"
check 1 "import a huge file" "$T/huge.host" "$BD" -- \
    "$OM" -d "$BD" import "$T/huge.host"
check 1 "import a missing file" "$T/nonexistent.host" "$BD" -- \
    "$OM" -d "$BD" import "$T/nonexistent.host"
check 1 "import our own record" "alice" "$A" -- \
    "$OM" -d "$A" import "$T/alice.host"
check 1 "import good and garbage together writes nothing" \
    "$T/garbage.host" "$BD" -- \
    "$OM" -d "$BD" import "$T/alice.host" "$T/garbage.host"
# A record signed for another network.
must "init carol in network other" "$OM" -n other -d "$T/o" init carol \
    --no-privsep || true
"$OM" -n other -d "$T/o" export "$T/carol-other.host" 2>/dev/null || true
if grep -qx 'interface = om-other' "$T/o/onionmesh.conf" 2>/dev/null; then
	ok "init -n other names the TUN device om-other"
else
	notok "init -n other: $(grep interface "$T/o/onionmesh.conf" 2>&1)"
fi
check 1 "import a record of another network" \
    "$T/carol-other.host|verify" "$BD" -- \
    "$OM" -d "$BD" import "$T/carol-other.host"
must "import alice into bob" "$OM" -d "$BD" import "$T/alice.host" || true
[ -f "$BD/hosts/alice" ] && ok "import wrote hosts/alice" ||
    notok "import did not write hosts/alice"
must "import bob into alice" "$OM" -d "$A" import "$T/bob.host" || true
# Another member that also calls itself bob.
must "init a second bob" "$OM" -d "$T/b2" init bob --no-privsep \
    --root "$ROOT" || true
"$OM" -d "$T/b2" export "$T/bob2.host" 2>/dev/null || true
check 1 "import a known name with another id" "bob|$A/hosts/bob" "$A" -- \
    "$OM" -d "$A" import "$T/bob2.host"

# A network with the same name ("default") but another root.
must "init xavier, founding another network" "$OM" -d "$T/x" init xavier \
    --no-privsep || true
"$OM" -d "$T/x" export "$T/xavier.host" 2>/dev/null || true
check 1 "import a record of another root" "$T/xavier.host|verify" "$BD" -- \
    "$OM" -d "$BD" import "$T/xavier.host"
# A revoked member cannot be imported (keyd keeps STATE/revoked/<id>).
BOB2=$(sed -n 's/^id = //p' "$T/bob2.host")
mkdir -p "$A/revoked" && : >"$A/revoked/$BOB2"
check 1 "import a revoked member" "revoked" "$A" -- \
    "$OM" -d "$A" import "$T/bob2.host"
rm -f "$A/revoked/$BOB2"

# --- invite and revoke: the command line -------------------------------
check 2 "invite without NAME" "NAME" "$A" -- "$OM" -d "$A" invite
check 2 "invite upper-case NAME" "Carol" "$A" -- "$OM" -d "$A" invite Carol
check 2 "invite --expires 3x" "3x|90m" "$A" -- \
    "$OM" -d "$A" invite carol --expires 3x
check 2 "invite --expires 10s (below 30s)" "10s|30s" "$A" -- \
    "$OM" -d "$A" invite carol --expires 10s
check 2 "invite --expires 31d" "31d|30d" "$A" -- \
    "$OM" -d "$A" invite carol --expires 31d
check 2 "invite --ipv4 with a length" "10.77.0.9/16" "$A" -- \
    "$OM" -d "$A" invite carol --ipv4 10.77.0.9/16
check 2 "invite --admin=yes" "--admin" "$A" -- \
    "$OM" -d "$A" invite carol --admin=yes
check 1 "invite while keyd is down" "not running" "$A" -- \
    "$OM" -d "$A" invite carol
check 2 "revoke without NAME" "NAME" "$A" -- "$OM" -d "$A" revoke
check 2 "revoke two names" "dave" "$A" -- "$OM" -d "$A" revoke carol dave
check 1 "revoke while keyd is down" "not running" "$A" -- \
    "$OM" -d "$A" revoke bob

# --- join: the command line and the URL (nothing is dialled) -------------
J=$T/joiner     # does not exist: a refused join must not create it
JK=0123456789abcdef0123456789abcdef JI=0123456789abcdef
JS=0123456789abcdef0123456789abcdef01234567
JU="onionmesh://default/$JK/$JI/$JS"
check 2 "join without URL" "URL" "$J" -- "$OM" -d "$J" join
check 2 "join https://x" "onionmesh://" "$J" -- "$OM" -d "$J" join https://x
check 2 "join with a 41-digit secret" "secret|41" "$J" -- \
    "$OM" -d "$J" join "$JU"x?tcp=127.0.0.1:6550
check 2 "join with onion=abc.onion" "abc.onion" "$J" -- \
    "$OM" -d "$J" join "$JU?onion=abc.onion"
check 2 "join with an unknown URL parameter" "colour" "$J" -- \
    "$OM" -d "$J" join "$JU?tcp=127.0.0.1:6550&colour=1"
check 2 "join a tcp-only invitation without --tcp" "--tcp" "$J" -- \
    "$OM" -d "$J" join "$JU?tcp=127.0.0.1:6550"
check 2 "join --tor-control without --tor-socks" "--tor-socks" "$J" -- \
    "$OM" -d "$J" join --tcp --tor-control unix:/x "$JU?tcp=127.0.0.1:6550"
check 2 "join --endpoint without a port" "nowhere|--endpoint" "$J" -- \
    "$OM" -d "$J" join --tcp --endpoint nowhere "$JU?tcp=127.0.0.1:6550"
check 2 "join --endpoint port 70000" "192.0.2.7:70000|--endpoint" "$J" -- \
    "$OM" -d "$J" join --tcp --endpoint 192.0.2.7:70000 \
    "$JU?tcp=127.0.0.1:6550"
check 2 "join --endpoint without a value" "--endpoint" "$J" -- \
    "$OM" -d "$J" join --tcp "$JU?tcp=127.0.0.1:6550" --endpoint
check 2 "join --listen bad" "here:x|--listen" "$J" -- \
    "$OM" -d "$J" join --tcp --endpoint 192.0.2.7:6550 --listen here:x \
    "$JU?tcp=127.0.0.1:6550"
check 2 "join - with nothing on stdin" "standard input" "$J" -- \
    "$OM" -d "$J" join - </dev/null
check 1 "join where a network is already set up" "already exists" "$A" -- \
    "$OM" -d "$A" join --tcp "$JU?tcp=127.0.0.1:6550"
if [ ! -e "$J" ]; then ok "refused joins created nothing"; else
	notok "refused joins created $J"; fi

# --- a config with a bad key or value ------------------------------------
C=$T/badconf
mkdir -p "$C"
cp -a "$A/." "$C/" 2>/dev/null || true
echo "colour = blue" >>"$C/onionmesh.conf"
check 1 "status with an unknown config key" "colour" "$C" -- \
    "$OM" -d "$C" status
check 1 "up with an unknown config key" "colour" "$C" -- "$OM" -d "$C" up
check 1 "export with an unknown config key" "colour" "$C" -- \
    "$OM" -d "$C" export
check 1 "import with an unknown config key" "colour" "$C" -- \
    "$OM" -d "$C" import "$T/bob.host"
sed -i -e '/^colour/d' -e 's/^mtu = .*/mtu = 99/' "$C/onionmesh.conf"
check 1 "status with mtu 99" "99" "$C" -- "$OM" -d "$C" status

# --- read commands while nothing runs -----------------------------------
for cmd in status peers links routes; do
	check 1 "$cmd --json while down" "not running" "$A" -- \
	    "$OM" -d "$A" "$cmd" --json
	if valid_json "$T/out"; then
		ok "$cmd --json prints valid JSON while down"
	else
		notok "$cmd --json output is not JSON: $(head -c 200 "$T/out")"
	fi
	check 2 "$cmd with an unknown option" "--frob" "$A" -- \
	    "$OM" -d "$A" "$cmd" --frob
	check 2 "$cmd with an argument" "extra" "$A" -- \
	    "$OM" -d "$A" "$cmd" extra
done
check 2 "status --json=1" "--json" "$A" -- "$OM" -d "$A" status --json=1
check 1 "down while not up" "not up" "$A" -- "$OM" -d "$A" down
check 2 "down with an argument" "now" "$A" -- "$OM" -d "$A" down now
check 2 "up with an unknown option" "--background" "$A" -- \
    "$OM" -d "$A" up --background

# --- up / status / down in a namespace of our own --------------------------
if ip netns add "$NS" 2>/dev/null; then
	ip -n "$NS" link set lo up
	N() { ip netns exec "$NS" "$@"; }
	if must "up" N "$OM" -d "$BD" up; then
		check 1 "second up" "already up" "$BD/hosts" -- \
		    N "$OM" -d "$BD" up
		if N "$OM" -d "$BD" status --json >"$T/st.json" 2>"$T/err" &&
		    valid_json "$T/st.json"; then
			ok "status --json with every daemon up"
			if [ "$(jq -r .version "$T/st.json")" = "$VERSION" ]
			then
				ok "status --json says version $VERSION"
			else
				notok "status --json version:" \
				    "$(jq -c .version "$T/st.json")"
			fi
		else
			notok "status while up: $(head -c 300 "$T/err")"
		fi
		for cmd in peers links routes; do
			N "$OM" -d "$BD" "$cmd" --json >"$T/out" 2>"$T/err" ||
			    true
			if valid_json "$T/out"; then
				ok "$cmd --json while up"
			else
				notok "$cmd --json while up:" \
				    "$(head -c 300 "$T/err")"
			fi
		done
		must "down" N "$OM" -d "$BD" down || true
		if [ ! -e "$BD/run/supervisor.pid" ]; then
			ok "down removed the pid file"
		else
			notok "supervisor.pid left after down"
		fi
		check 1 "down twice" "not up" "$BD/hosts" -- \
		    N "$OM" -d "$BD" down
	else
		N "$OM" -d "$BD" down >/dev/null 2>&1 || true
		tail -n 5 "$BD"/run/*.log 2>/dev/null || true
	fi
else
	notok "cannot create network namespace $NS (root needed)"
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
