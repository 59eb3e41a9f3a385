#!/bin/sh
# report-bench.sh - aggregate report generation over a large history, on
# SQLite and on PostgreSQL: `dmarcctl report --dry-run` for one day of
# ROWS history rows (20 policy domains, 200 source IPs, one DKIM
# signature each, 1 in 7 SPF fails), timed with /usr/bin/time.  Prints,
# per store and size: the fill time, the report time, rows/s and
# dmarcctl's peak RSS.  Figures only; it asserts nothing.
#
#   sh bench/report-bench.sh [ROWS...]       default: 1000000 10000000
#
# Run as root from a configured build tree after `make` (a plain -O2
# build: the sanitizers would measure themselves).  DMARCCTL overrides
# the binary; STORES="sqlite pgsql" picks the stores.  The rows are
# generated in the database itself (a recursive CTE in SQLite,
# generate_series() in PostgreSQL), in one transaction: fast, and the
# fill time is not what is measured.  PostgreSQL is a private cluster
# (tests/store/pgsql-fixture.sh) in a temporary directory.  About 500
# bytes of disk per row and store: 10M rows need ~5 GB each, under
# ${TMPDIR:-/tmp}.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}" "${top_builddir:=.}"
DMARCCTL=${DMARCCTL:-$top_builddir/dmarcctl}
STORES=${STORES:-sqlite pgsql}
[ $# -gt 0 ] || set -- 1000000 10000000
DAY0=1711497600		# 2024-03-27 00:00 UTC
DAY=2024-03-27

for t in "$DMARCCTL" /usr/bin/time; do
	[ -x "$t" ] || { echo "report-bench: $t not found" >&2; exit 1; }
done
command -v sqlite3 >/dev/null 2>&1 || { echo "report-bench: sqlite3 not installed" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/report-bench.XXXXXX") || exit 1
chmod 755 "$W"
PG_DIR=
cleanup() {
	[ -n "$PG_DIR" ] && pg_fixture_stop
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

case " $STORES " in
*" pgsql "*)
	. "$top_srcdir/tests/store/pgsql-fixture.sh"
	pg_fixture_require
	pg_fixture_start || { echo "report-bench: PostgreSQL did not start" >&2; exit 1; }
	trap cleanup EXIT
	;;
esac

# The column values of row i, in SQL common to both (i is the row number,
# N the row count): what bench/report_bench.c stores.
cols="node, message_key, author_index, received, day, client_ip, helo,
    mail_from_domain, header_from, policy_domain, p, pct, rua, spf_result,
    spf_domain, spf_scope, spf_aligned, ndkim, dkim, eval_dkim, eval_spf,
    dmarc_result, policy, disposition, action"
# vals HEX-EXPR: the SELECT list; HEX-EXPR is the message key.
vals() {
	cat <<EOF
'mx1', $1, 0, $DAY0 + i * 86400 / N, $((DAY0 / 86400)),
    '192.0.' || (i % 200 / 100) || '.' || (i % 100), 'mail.example',
    'd' || (i % 20) || '.example', 'd' || (i % 20) || '.example',
    'd' || (i % 20) || '.example', 'reject', -1,
    'mailto:dmarc@d' || (i % 20) || '.example',
    CASE WHEN i % 7 = 0 THEN 'fail' ELSE 'pass' END,
    'd' || (i % 20) || '.example', 'mfrom', 1, 1,
    'd=d' || (i % 20) || '.example;s=s1;r=pass;a=1', 'pass',
    CASE WHEN i % 7 = 0 THEN 'fail' ELSE 'pass' END, 'pass', 'reject',
    'pass', 'accept'
EOF
}

# conf STORE-URI: a dmarcctl configuration.
conf() {
	printf 'HistoryDatabase %s\nReportEmail noreply-dmarc@bench.example\nReportOrgName Bench\n' \
	    "$1" >"$W/dmarcd.conf"
}

# measure STORE ROWS FILL-SECONDS: run the report, print one line.
measure() {
	rm -rf "$W/out"
	mkdir "$W/out"
	/usr/bin/time -f '%e %M' -o "$W/time" "$DMARCCTL" -c "$W/dmarcd.conf" \
	    report --dry-run --out "$W/out" --period "$DAY" >"$W/report.out" 2>&1
	rc=$?
	read -r secs kib <"$W/time" || { secs=0; kib=0; }
	if [ $rc != 0 ]; then
		echo "report-bench: $1: dmarcctl exited $rc:" >&2
		tail -n 5 "$W/report.out" >&2
		return 1
	fi
	rows=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rows=/) { sub(/rows=/, "", $i); n += $i } } END { print n + 0 }' "$W/report.out")
	reports=$(find "$W/out" -name '*.xml.gz' | wc -l | tr -d ' ')
	printf '%-7s %9s rows  fill %7.1f s  report %7.2f s  %8.0f rows/s  peak RSS %7.1f MiB  (%s reports, %s rows read)\n' \
	    "$1" "$2" "$3" "$secs" "$(echo "$rows $secs" | awk '{ print ($2 > 0 ? $1 / $2 : 0) }')" \
	    "$(echo "$kib" | awk '{ print $1 / 1024 }')" "$reports" "$rows"
}

now() { date +%s.%N; }
elapsed() { echo "$1 $(now)" | awk '{ printf "%.1f", $2 - $1 }'; }

echo "# report-bench: $(uname -m), $(nproc) CPUs, $DMARCCTL"
for n in "$@"; do
	for store in $STORES; do
		case $store in
		sqlite)
			db=$W/history.sqlite
			rm -f "$db" "$db-wal" "$db-shm"
			conf "$db"
			# dmarcctl creates the file and its schema.
			"$DMARCCTL" -c "$W/dmarcd.conf" report --dry-run \
			    --out "$W" --period "$DAY" >/dev/null 2>&1
			t0=$(now)
			sqlite3 "$db" >/dev/null <<EOF || exit 1
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c
    WHERE i < $n - 1), p(N) AS (SELECT $n)
INSERT INTO verdicts ($cols)
SELECT $(vals "printf('%032x', i)") FROM c, p;
COMMIT;
PRAGMA journal_mode = WAL;
ANALYZE;
EOF
			fill=$(elapsed "$t0")
			measure sqlite "$n" "$fill"
			rm -f "$db" "$db-wal" "$db-shm"
			;;
		pgsql)
			conf "$PG_URI"
			"$DMARCCTL" -c "$W/dmarcd.conf" report --dry-run \
			    --out "$W" --period "$DAY" >/dev/null 2>&1
			t0=$(now)
			pg_sql "SET synchronous_commit = off; TRUNCATE verdicts;
			    INSERT INTO verdicts ($cols)
			    SELECT $(vals "lpad(to_hex(i), 32, '0')")
			    FROM generate_series(0::bigint, $n - 1) AS s(i),
			    (SELECT $n::bigint AS N) AS p; ANALYZE verdicts;" \
			    >/dev/null || exit 1
			fill=$(elapsed "$t0")
			measure pgsql "$n" "$fill"
			pg_sql "TRUNCATE verdicts" >/dev/null
			;;
		*)
			echo "report-bench: unknown store $store" >&2
			exit 1
			;;
		esac
	done
done
