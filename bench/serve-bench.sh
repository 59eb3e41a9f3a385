#!/bin/sh
# serve-bench.sh - requests per second of dmarcctl serve over the corpus:
# imports the aggregate samples into a fresh SQLite file, starts the
# server on a free loopback port, and runs bench/serve_load.pl (8
# keep-alive clients) against the report list, a summary, the sources
# and the domain list.  Prints figures and the server's peak RSS; asserts
# nothing.  Usage: bench/serve-bench.sh [REQUESTS-PER-CLIENT] (default 200)
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"	# pf_free_port only
N=${1:-200}
CTL=$top_builddir/dmarcctl
AGG=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}/aggregate
D=$(mktemp -d "${TMPDIR:-/tmp}/serve-bench.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$D"' EXIT
"$CTL" -c /dev/null import --any-domain --no-rdns --database "$D/h.sqlite" "$AGG/cry-inc" \
    "$AGG/parsedmarc" >/dev/null 2>&1 || true
TOK=$("$CTL" -c /dev/null token add bench --domains '*' --database "$D/h.sqlite" 2>/dev/null)
printf 'RunAsRoot yes\n' > "$D/c.conf"
PORT=$(pf_free_port)
"$CTL" -c "$D/c.conf" serve --listen "127.0.0.1:$PORT" --database "$D/h.sqlite" \
    --threads "${SERVE_THREADS:-2}" > "$D/log" 2>&1 &
PID=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$PORT/metrics"; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$D/log"; exit 1; }; sleep 0.1
done
echo "# $(sqlite3 "$D/h.sqlite" 'SELECT COUNT(*) || " reports, " || (SELECT SUM(count) FROM agg_records) || " messages" FROM agg_reports'), ${SERVE_THREADS:-2} server threads"
R=/api/exchange/dmarc-reports
for p in "$R?from=2000-01-01&per_page=50" "$R/example.com/summary?from=2000-01-01" \
    "$R/example.com/sources?from=2000-01-01&per_page=50" "/api/v1/domains"; do
	perl "$top_srcdir/bench/serve_load.pl" "$PORT" "$TOK" "$p" "$N" 8
done
echo "# server peak RSS: $(awk '/^VmHWM/ { print $2, $3 }' "/proc/$PID/status")"
