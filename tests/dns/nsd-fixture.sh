# nsd-fixture.sh - a private NSD on 127.0.0.1 for integration tests.
#
# Source it from a TAP test script, declare zones, start, query, and let
# the EXIT trap stop NSD and remove its files, also when the test fails:
#
#   . "$top_srcdir/tests/dns/nsd-fixture.sh"
#   nsd_fixture_require                 # skip (or fail under CI=true)
#   zone_add example.test <<'EOF'
#   @        300 IN TXT "v=spf1 -all"
#   _dmarc   300 IN TXT "v=DMARC1; p=reject"
#   EOF
#   zone_rr example.test 'www 300 IN A 192.0.2.1'
#   nsd_fixture_start                   # sets NSD_PORT and NSD_SERVER
#   dnsq -s "$NSD_SERVER" TXT _dmarc.example.test
#
# Zones: zone_add ZONE reads zone-file lines on stdin (relative names are
# under ZONE); zone_rr ZONE 'LINE'... adds lines one by one.  Each zone
# gets its SOA (MINIMUM and TTL: $NSD_ZONE_NEGTTL, default 300) and NS
# record.  Add every record before nsd_fixture_start.
#
# Variables a test may set before sourcing: NSD_FIXTURE_USER (default
# "nobody" when root; NSD runs as that user after binding),
# NSD_FIXTURE_PORT (a fixed port instead of a random one: only inside a
# private network namespace, as bench/compare.sh does for port 53).
# After nsd_fixture_start: NSD_PORT, NSD_SERVER ("127.0.0.1:PORT"),
# NSD_DIR (the private directory), NSD_PID.
#
# If the test script needs its own EXIT trap, call nsd_fixture_stop from
# it.  Uses only POSIX sh, nsd, nsd-checkzone and (to probe) the dnsq test
# driver, or drill/dig when present.

NSD_FIXTURE_USER=${NSD_FIXTURE_USER-}
NSD_FIXTURE_PORT=${NSD_FIXTURE_PORT-}
NSD_ZONE_NEGTTL=${NSD_ZONE_NEGTTL:-300}
NSD_DIR=
NSD_PID=
NSD_PORT=
NSD_SERVER=
_nsd_zones=

# Find a program in PATH or the sbin directories (not in a user's PATH).
_nsd_find() {
	for _d in $(echo "$PATH" | tr ':' ' ') /usr/sbin /usr/local/sbin /sbin; do
		if [ -x "$_d/$1" ]; then
			echo "$_d/$1"
			return 0
		fi
	done
	return 1
}

# Skip the whole test when a needed program is missing; under CI=true
# the same situation fails, so CI cannot pass with the test unrun.
# Usage: nsd_fixture_missing "what is missing" "package"
nsd_fixture_missing() {
	if [ "${CI:-}" = "true" ]; then
		echo "1..1"
		echo "not ok 1 - $1 (apt-get install $2): required when CI=true"
		exit 1
	fi
	echo "1..0 # SKIP $1 (apt-get install $2)"
	exit 0
}

nsd_fixture_require() {
	NSD_BIN=$(_nsd_find nsd) || nsd_fixture_missing "nsd not installed" nsd
	NSD_CHECKZONE=$(_nsd_find nsd-checkzone) ||
	    nsd_fixture_missing "nsd-checkzone not installed" nsd
	NSD_DNSQ=${top_builddir:-.}/tests/dns/dnsq
	_nsd_system_service_stop
}

# Debian's package starts a system NSD on port 53.  It does not disturb
# a fixture on its own port, but the tests must not depend on, or leave
# behind, a system service: stop it when we are root.  Without systemd
# (containers) there is only the pid file to go by.
_nsd_system_service_stop() {
	[ "$(id -u)" = 0 ] || return 0
	_pidf=/run/nsd/nsd.pid
	[ -f "$_pidf" ] || return 0
	_p=$(cat "$_pidf" 2>/dev/null)
	[ -n "$_p" ] && kill -0 "$_p" 2>/dev/null || return 0
	echo "# stopping the system nsd service (pid $_p)"
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		systemctl stop nsd >/dev/null 2>&1
	elif command -v service >/dev/null; then
		service nsd stop >/dev/null 2>&1
	fi
	if kill -0 "$_p" 2>/dev/null; then
		kill "$_p" 2>/dev/null
		sleep 1
	fi
}

_nsd_mkdir() {
	[ -n "$NSD_DIR" ] && return 0
	# Under /tmp: the unprivileged NSD user must reach it, and the
	# build tree's parents may be closed to it.
	NSD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dmarcd-nsd.XXXXXX") || {
		echo "Bail out! mktemp failed"
		exit 1
	}
	chmod 755 "$NSD_DIR"
	mkdir "$NSD_DIR/zones"
	trap nsd_fixture_stop EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

_nsd_zonefile() {
	echo "$NSD_DIR/zones/$1.zone"
}

# Start a zone file with its SOA and NS once.
_nsd_zone_init() {
	_nsd_mkdir
	_zf=$(_nsd_zonefile "$1")
	[ -f "$_zf" ] && return 0
	cat >"$_zf" <<EOF
\$ORIGIN $1.
\$TTL 300
@ $NSD_ZONE_NEGTTL IN SOA ns.$1. hostmaster.$1. 1 3600 600 86400 $NSD_ZONE_NEGTTL
@ 300 IN NS ns.$1.
EOF
	_nsd_zones="$_nsd_zones $1"
}

zone_add() {
	_nsd_zone_init "$1"
	cat >>"$(_nsd_zonefile "$1")"
}

zone_rr() {
	_z=$1
	shift
	_nsd_zone_init "$_z"
	for _l in "$@"; do
		printf '%s\n' "$_l" >>"$(_nsd_zonefile "$_z")"
	done
}

_nsd_write_conf() {
	{
		echo "server:"
		echo "  ip-address: 127.0.0.1@$NSD_PORT"
		echo "  port: $NSD_PORT"
		echo "  do-ip6: no"
		echo "  server-count: 1"
		echo "  username: \"$NSD_FIXTURE_USER\""
		echo "  chroot: \"\""
		echo "  zonesdir: \"$NSD_DIR/zones\""
		echo "  database: \"\""
		echo "  zonelistfile: \"$NSD_DIR/zone.list\""
		echo "  xfrdfile: \"$NSD_DIR/xfrd.state\""
		echo "  xfrdir: \"$NSD_DIR\""
		echo "  pidfile: \"$NSD_DIR/nsd.pid\""
		echo "  logfile: \"$NSD_DIR/nsd.log\""
		echo "  verbosity: 1"
		echo "  hide-version: yes"
		echo "  rrl-ratelimit: 0"
		echo "  refuse-any: no"
		echo "  tcp-count: 20"
		echo "remote-control:"
		echo "  control-enable: no"
		for _z in $_nsd_zones; do
			echo "zone:"
			echo "  name: \"$_z\""
			echo "  zonefile: \"$_z.zone\""
		done
	} >"$NSD_DIR/nsd.conf"
}

# Is our NSD answering?  A query for the first zone's apex must get an
# authoritative answer (another server on the port would refuse it).
_nsd_probe() {
	_z=$(echo $_nsd_zones | cut -d' ' -f1)
	if [ -x "$NSD_DNSQ" ]; then
		"$NSD_DNSQ" -s "$NSD_SERVER" -t 200 -r 0 --no-cache A "$_z" \
		    2>/dev/null | grep -q "^A $_z: \(ok\|nodata\)"
	elif _d=$(_nsd_find drill); then
		"$_d" -p "$NSD_PORT" "$_z" SOA @127.0.0.1 >/dev/null 2>&1
	elif _d=$(_nsd_find dig); then
		dig +time=1 +tries=1 -p "$NSD_PORT" @127.0.0.1 "$_z" SOA \
		    >/dev/null 2>&1
	else
		grep -q "nsd started" "$NSD_DIR/nsd.log" 2>/dev/null
	fi
}

nsd_fixture_start() {
	[ -n "$_nsd_zones" ] || zone_rr fixture.test
	if [ "$(id -u)" = 0 ]; then
		NSD_FIXTURE_USER=${NSD_FIXTURE_USER:-nobody}
		# NSD writes its state files after dropping privileges.
		chown -R "$NSD_FIXTURE_USER" "$NSD_DIR"
	else
		NSD_FIXTURE_USER=
	fi
	chmod -R a+rX "$NSD_DIR"
	for _z in $_nsd_zones; do
		if ! _out=$("$NSD_CHECKZONE" "$_z" "$(_nsd_zonefile "$_z")" 2>&1); then
			echo "Bail out! zone $_z: $_out"
			exit 1
		fi
	done
	# A random high port; another test may hold it, so try a few.
	for _try in 1 2 3 4 5 6 7 8; do
		_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		# Below the ephemeral range (32768-60999), see postfix-fixture.sh.
		NSD_PORT=$(( 10000 + (_r + _try * 7919) % 22000 ))
		NSD_PORT=${NSD_FIXTURE_PORT:-$NSD_PORT}
		NSD_SERVER="127.0.0.1:$NSD_PORT"
		_nsd_write_conf
		: >"$NSD_DIR/nsd.log"
		"$NSD_BIN" -d -c "$NSD_DIR/nsd.conf" >>"$NSD_DIR/nsd.log" 2>&1 &
		NSD_PID=$!
		_i=0
		while [ $_i -lt 100 ]; do
			if ! kill -0 "$NSD_PID" 2>/dev/null; then
				break
			fi
			if _nsd_probe; then
				echo "# nsd $NSD_PID answering on $NSD_SERVER"
				return 0
			fi
			sleep 0.1
			_i=$((_i + 1))
		done
		nsd_fixture_stop_server
		if grep -qi "address already in use\|can't bind" \
		    "$NSD_DIR/nsd.log" 2>/dev/null; then
			continue
		fi
		break
	done
	echo "Bail out! nsd did not start; its log:"
	sed 's/^/# /' "$NSD_DIR/nsd.log"
	exit 1
}

nsd_fixture_stop_server() {
	[ -n "$NSD_PID" ] || return 0
	if kill -0 "$NSD_PID" 2>/dev/null; then
		kill -TERM "$NSD_PID" 2>/dev/null || :
		_i=0
		while kill -0 "$NSD_PID" 2>/dev/null && [ $_i -lt 50 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		# Usually gone by now: never let that fail a 'set -e' caller.
		kill -KILL "$NSD_PID" 2>/dev/null || :
	fi
	wait "$NSD_PID" 2>/dev/null || :
	NSD_PID=
}

# The EXIT trap: stop NSD (and its children) and remove the directory.
nsd_fixture_stop() {
	_rc=$?
	nsd_fixture_stop_server
	if [ -n "$NSD_DIR" ] && [ -d "$NSD_DIR" ]; then
		if [ "$_rc" != 0 ] && [ -f "$NSD_DIR/nsd.log" ]; then
			echo "# nsd log:"
			sed 's/^/#   /' "$NSD_DIR/nsd.log"
		fi
		rm -rf "$NSD_DIR"
	fi
	NSD_DIR=
	return $_rc
}
