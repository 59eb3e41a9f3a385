# pgsql-fixture.sh - a private PostgreSQL cluster on 127.0.0.1 for tests.
#
# Source it from a TAP test script:
#
#   . "$top_srcdir/tests/store/pgsql-fixture.sh"
#   pg_fixture_require          # skip (or fail under CI=true)
#   pg_fixture_start            # sets PG_PORT, PG_URI, PG_DIR
#   pg_fixture_stop_server      # pg_ctl stop -m fast (an outage)
#   pg_fixture_start_server     # and back
#
# The cluster lives in a temporary directory (initdb refuses root, so as
# root it runs as the "postgres" user), listens on 127.0.0.1 only at a
# free high port, with trust authentication for the test role "dmarcd"
# and the database "dmarc_test".  An EXIT trap stops it and removes its
# files, also when the test fails.  PG_BINDIR overrides the server
# directory (default: the newest /usr/lib/postgresql/*/bin).

PG_DIR=
PG_PORT=
PG_URI=
PG_RUNAS=

pg_fixture_missing() {
	if [ "${CI:-}" = "true" ]; then
		echo "1..1"
		echo "not ok 1 - $1 (apt-get install $2): required when CI=true"
		exit 1
	fi
	echo "1..0 # SKIP $1 (apt-get install $2)"
	exit 0
}

pg_fixture_require() {
	if [ -z "${PG_BINDIR:-}" ]; then
		PG_BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null |
		    sort -V | tail -n 1)
	fi
	if [ -z "$PG_BINDIR" ] || [ ! -x "$PG_BINDIR/initdb" ] ||
	    [ ! -x "$PG_BINDIR/pg_ctl" ]; then
		pg_fixture_missing "PostgreSQL server (initdb, pg_ctl) not found" postgresql
	fi
	if [ "$(id -u)" = 0 ]; then
		if ! id postgres >/dev/null 2>&1; then
			pg_fixture_missing "no postgres user to run the server as root" postgresql
		fi
		PG_RUNAS=postgres
	fi
}

# Run a server program as the cluster's owner.
_pg_run() {
	if [ -n "$PG_RUNAS" ]; then
		runuser -u "$PG_RUNAS" -- "$@"
	else
		"$@"
	fi
}

pg_fixture_stop() {
	if [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ]; then
		_pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate \
		    stop >/dev/null 2>&1
	fi
	if [ -n "$PG_DIR" ]; then
		rm -rf "$PG_DIR"
	fi
	PG_DIR=
}

pg_fixture_start_server() {
	_pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
	    -t 30 -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR" \
	    start >/dev/null 2>&1 || return 1
	_i=0
	while [ $_i -lt 100 ]; do
		if "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

pg_fixture_stop_server() {
	_pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop \
	    >/dev/null 2>&1
}

# Run SQL in the test database; prints unaligned tuples.
pg_sql() {
	"$PG_BINDIR/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U dmarcd \
	    -d dmarc_test -c "$1"
}

pg_fixture_start() {
	trap pg_fixture_stop EXIT
	trap 'exit 1' INT TERM
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dmarcd-pg.XXXXXX") || return 1
	chmod 0755 "$PG_DIR"
	if [ -n "$PG_RUNAS" ]; then
		chown "$PG_RUNAS" "$PG_DIR"
	fi
	if ! _pg_run "$PG_BINDIR/initdb" -D "$PG_DIR/data" -A trust \
	    -U dmarcd -E UTF8 --no-locale --no-sync >"$PG_DIR/initdb.log" 2>&1; then
		echo "# initdb failed:"
		sed 's/^/#   /' "$PG_DIR/initdb.log"
		return 1
	fi
	# A free port in 10000-31999 (below the ephemeral range, so no
	# outgoing connection holds it): try a few random ones.
	_tries=0
	while :; do
		PG_PORT=$(( (($$ * 7919 + _tries * 104729 + $(date +%N | sed 's/^0*//;s/^$/0/')) % 22000) + 10000 ))
		if pg_fixture_start_server; then
			break
		fi
		_tries=$((_tries + 1))
		if [ $_tries -ge 10 ]; then
			echo "# postgres did not start:"
			sed 's/^/#   /' "$PG_DIR/log" 2>/dev/null | tail -n 20
			return 1
		fi
	done
	"$PG_BINDIR/createdb" -h 127.0.0.1 -p "$PG_PORT" -U dmarcd dmarc_test ||
	    return 1
	PG_URI="postgresql://dmarcd@127.0.0.1:$PG_PORT/dmarc_test"
	return 0
}
